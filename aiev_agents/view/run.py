"""A run as the viewer sees it: its ``dialogues.jsonl``, the index over it, the overview figures.

The overview is the run report's own figures (``build_report`` over ``read_run``), plus the
throughput series, computed once per state of the file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..generate.report import DIALOGUES_FILE, RunRecords, build_report, read_run
from ..generate.report.records import slim_record
from ..generate.report.throughput import throughput
from ..jsonl import numbered_records
from .dialogue import dialogue_page, malformed_page
from .index import RunIndex
from .query import Query, facets, page, seq_of


def find_dialogues(path: str | os.PathLike[str]) -> Path:
    """The ``dialogues.jsonl`` of a run folder (a ``generate`` output, a curated folder) or the file itself.

    Raises:
        DatasetError: The path is neither such a folder nor a JSONL file.
    """
    path = Path(path)
    if path.is_dir() and (path / DIALOGUES_FILE).is_file():
        return path / DIALOGUES_FILE
    if path.is_file() and path.suffix == ".jsonl":
        return path
    what = "folder" if path.is_dir() else "file" if path.exists() else "path"
    raise DatasetError(
        f"{path} is not a run: this {what} has no {DIALOGUES_FILE}; give the --out folder of `aiev generate`, "
        "a curated folder, or a dialogues.jsonl file"
    )


class ViewedRun:
    """One run opened for viewing; :meth:`refresh` follows a file that is still being written."""

    def __init__(self, path: str | os.PathLike[str], *, index_path: str | os.PathLike[str] | None = None) -> None:
        self.dialogues = find_dialogues(path)
        self.index = RunIndex(self.dialogues, index_path)
        self._overview: tuple[int, dict[str, Any]] | None = None
        self._facets: tuple[int, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Index lines added since the last call; returns how many were read."""
        return self.index.refresh()

    def list_page(self, query: Query) -> dict[str, Any]:
        """One page of the list, with the filters' values."""
        with self._lock:
            if self._facets is None or self._facets[0] != self.index.generation:
                self._facets = (self.index.generation, facets(self.index))
            values = self._facets[1]
        return {**page(self.index, query), "facets": values}

    def dialogue(self, dialogue_id: str | None = None, *, seq: int | None = None) -> dict[str, Any]:
        """The page of one dialogue, by id or by its row."""
        if seq is None:
            seq = seq_of(self.index, dialogue_id or "")
        row, record, raw = self.index.record_at(seq)
        shown = malformed_page(row, raw) if record is None else dialogue_page(record)
        return {**shown, "seq": seq, "line_no": row["line_no"]}

    def overview(self) -> dict[str, Any]:
        """Counts and the run report's figures, with throughput over time.

        Kept in the index until ``dialogues.jsonl`` changes (a big run takes seconds to read whole).
        """
        with self._lock:
            generation = self.index.generation
            if self._overview is None or self._overview[0] != generation:
                overview = self.index.saved("overview")
                if overview is None:
                    overview = self._build_overview()
                    self.index.save("overview", overview)
                self._overview = (generation, overview)
            return self._overview[1]

    def _build_overview(self) -> dict[str, Any]:
        run = self._records()
        report = build_report(run.dialogues, run.errors, skipped_lines=run.skipped_lines)
        return {
            "source": str(self.dialogues),
            "report": report,
            "throughput": throughput(run.dialogues),
        }

    def _records(self) -> RunRecords:
        if self.dialogues.name == DIALOGUES_FILE:
            return read_run(self.dialogues.parent)
        run = RunRecords(dialogues=[], errors=[])
        for _, record in numbered_records(self.dialogues, errors="replace", warn=False):
            if record is None:
                run.skipped_lines += 1
            else:
                run.dialogues.append(slim_record(record))
        return run
