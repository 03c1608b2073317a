"""JSON Lines, the one reader and writer of the package's record files.

Reading: lines are numbered from 1 and blank ones skipped; a line that is not a whole JSON
object (the torn last line a crash leaves, a hand edit) is handed back as None or skipped with a
warning, and a file that cannot be read raises :class:`~aiev_agents.errors.DatasetError`.
Writing: :func:`append_record` adds one record as one line in one write, flushed and fsynced,
so a crash leaves at most a torn last line, which :func:`repair_torn_tail` cuts;
:func:`write_records` replaces a whole file atomically.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .errors import DatasetError

logger = logging.getLogger(__name__)


def dumps_line(record: Mapping[str, Any]) -> str:
    """``record`` as one JSON line (UTF-8 kept as is), newline included."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def parse_object(line: str) -> dict[str, Any] | None:
    """The JSON object on ``line``; None when it is not JSON or not an object."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def numbered_lines(path: str | Path, *, errors: str = "strict") -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of the lines of ``path`` that are not blank.

    Args:
        errors: How undecodable bytes are handled (``open``'s ``errors``; ``replace`` never fails).

    Raises:
        DatasetError: The file cannot be read.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", errors=errors) as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    yield line_no, line
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def numbered_records(
    path: str | Path, *, errors: str = "strict", warn: bool = True
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(line number, record)`` of the non-blank lines; ``record`` is None for a line that is not a JSON object.

    ``warn`` logs a warning for each such line.

    Raises:
        DatasetError: The file cannot be read.
    """
    for line_no, line in numbered_lines(path, errors=errors):
        record = parse_object(line)
        if record is None and warn:
            logger.warning("%s:%d is not a whole record; skipped", path, line_no)
        yield line_no, record


def read_records(path: str | Path, *, errors: str = "strict") -> Iterator[dict[str, Any]]:
    """The JSON objects of ``path`` in order; other lines are skipped with a warning.

    Raises:
        DatasetError: The file cannot be read.
    """
    for _, record in numbered_records(path, errors=errors):
        if record is not None:
            yield record


def read_all(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The JSON objects of ``path`` (none if it is missing); ``repair`` rewrites a file whose last line is torn.

    Raises:
        DatasetError: The file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        return []
    records = list(read_records(path))
    if repair and not _ends_whole(path):
        write_records(path, records)
    return records


def strict_records(lines: Iterable[str], name: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of ``lines`` (an open file called ``name``), where every line must be one.

    Raises:
        DatasetError: A line is not valid JSON or not a JSON object (the message names ``name:N``).
    """
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{name}:{line_no} is not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"{name}:{line_no} is not a JSON object")
        yield row


def append_record(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` as one JSON line in one write, flushed and fsynced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = dumps_line(record)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def write_records(path: str | Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` with ``records``, one per line, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(dumps_line(record) for record in records))


def repair_torn_tail(path: str | Path) -> int:
    """Cut a torn last line (one without its newline) left by a crash; returns the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    with path.open("rb+") as handle:
        data = handle.read()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        handle.truncate(keep)
    logger.warning("%s ended in a torn line (%d bytes); removed", path, len(data) - keep)
    return len(data) - keep


def _ends_whole(path: Path) -> bool:
    """Whether ``path`` is empty or ends in a newline."""
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
