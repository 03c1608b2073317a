"""The sample store: an append-only JSONL file, one whole record per line.

Each record is written in one ``write`` of a complete line, then flushed and fsynced, so a
crash can leave at most a torn last line, never a half-written record in the middle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..clock import utc_now
from ..jsonl import append_record, read_records, repair_torn_tail

logger = logging.getLogger(__name__)

DIALOGUES_FILE = "dialogues.jsonl"
ERRORS_FILE = "errors.jsonl"
ERROR_SCHEMA = 1


class DialogueStore:
    """Durable sink for dialogue records under one output folder."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        self.path = self.dir / DIALOGUES_FILE

    def repair(self) -> int:
        """Cut a torn last line left by a crash; returns the bytes removed."""
        return repair_torn_tail(self.path)

    def existing_ids(self) -> set[str]:
        """Ids of the whole records already on disk (a torn last line is ignored)."""
        return {str(record["id"]) for record in self.records() if "id" in record}

    def records(self) -> Iterator[dict[str, Any]]:
        """The stored records in order; a line that is not a whole JSON object is skipped with a warning."""
        if not self.path.exists():
            return
        yield from read_records(self.path)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, flushed and fsynced before returning."""
        append_record(self.path, record)


class ErrorLog:
    """Dialogues that failed on a model, with the reason: kept apart so a resume retries them."""

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir) / ERRORS_FILE

    def count(self) -> int:
        """Lines in the log (each a dialogue that failed on a model; retries count again)."""
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())

    def append(self, seed: Any, error: Exception) -> None:
        seed_data = seed.model_dump(exclude_none=True) if hasattr(seed, "model_dump") else dict(seed)
        record = {
            "schema": ERROR_SCHEMA,
            "id": seed_data.get("id"),
            "seed": seed_data,
            "error_type": type(error).__name__,
            "error": str(error),
            "at": utc_now("milliseconds"),
        }
        append_record(self.path, record)
