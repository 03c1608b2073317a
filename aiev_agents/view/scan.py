"""Reading a ``dialogues.jsonl`` into index rows: one byte range in one process, a big file in several.

A range is read in 4 MiB blocks whose lines are never copied whole (see :mod:`.fastread`). A big
file is split at line boundaries into ranges read by worker processes (started with ``spawn``:
the caller may be a threaded server), their rows handed back in file order. Line numbers inside
a range count from its start; the caller, who knows how many lines came before, makes them
whole-file numbers (and the ids of malformed lines with them).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from .fastread import list_fields
from .summary import malformed_row, summarize

#: Below this many bytes to read, one process reads them (starting workers costs about a second).
PARALLEL_MIN_BYTES = 64 << 20
_RANGE_BYTES = 32 << 20
_BLOCK_BYTES = 1 << 22
_BLANK = frozenset(b" \t\r\n")
_NEWLINE = ord("\n")


@dataclass
class Scanned:
    """The rows of one byte range: ``(line_no, offset, length, torn, values, search, malformed)``,
    ``line_no`` counted from the range's start and ``malformed`` the reason a line is not a record."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    lines: int = 0  # lines seen, blank ones included
    upto: int = 0  # the byte after the last whole line (the range's start when there is none)
    lines_upto: int = 0  # lines up to there


def scan(path: str | os.PathLike[str], start: int, stop: int | None = None) -> Scanned:
    """The rows of the lines from byte ``start`` to ``stop`` (the end of the file when None)."""
    result = Scanned(upto=start)
    for offset, block, begin, end in _lines(Path(path), start, stop):
        result.lines += 1
        if block[begin] in _BLANK and block[begin:end].isspace():
            result.upto, result.lines_upto = offset + end - begin, result.lines
            continue
        torn = block[end - 1] != _NEWLINE
        row, malformed = _row(block, begin, end, torn)
        result.rows.append((result.lines, offset, end - begin, int(torn), values(row), row["search"], malformed))
        if not torn:
            result.upto, result.lines_upto = offset + end - begin, result.lines
    return result


def scan_parts(path: Path, start: int, size: int) -> Iterator[Scanned]:
    """The rows from byte ``start`` to ``size``, range after range in file order; worker processes
    read them when there is much to read and cores to spare: this process keeps one (it unpickles
    and stores the rows), so on 2 cores one process reads (measured faster than two workers)."""
    workers = min((os.cpu_count() or 1) - 1, 8)
    if size - start < PARALLEL_MIN_BYTES or workers < 2:
        yield scan(path, start, size)
        return
    bounds = _ranges(path, start, size)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(bounds)), mp_context=context) as pool:
        yield from pool.map(scan, [str(path)] * len(bounds), *zip(*bounds, strict=True))


def values(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row's column values, from ``id`` to ``note`` (the order of the index's table)."""
    verified = None if row["verified"] is None else int(row["verified"])
    return (
        row["id"], verified, row["status"], row["rounds"], "\n".join(row["models"]), row["language"],
        row["source"], row["stage"], row["first_line"], row["ended_at"], row["note"],
    )  # fmt: skip


def malformed_values(line_no: int, reason: str) -> tuple[Any, ...]:
    """The column values of a line that is not a record, by its whole-file number."""
    return values(malformed_row(line_no, f"line {line_no}: {reason}"))


def _ranges(path: Path, start: int, size: int) -> list[tuple[int, int]]:
    """Byte ranges of about ``_RANGE_BYTES`` from ``start`` to ``size``, each ending after a newline."""
    bounds, at = [], start
    with path.open("rb") as handle:
        while at < size:
            handle.seek(min(at + _RANGE_BYTES, size))
            handle.readline()  # to the end of the line the cut fell in
            stop = min(handle.tell(), size) if at + _RANGE_BYTES < size else size
            bounds.append((at, stop))
            at = stop
    return bounds


def _lines(path: Path, start: int, stop: int | None) -> Iterator[tuple[int, bytes, int, int]]:
    """``(file offset, block, begin, end)`` of each line from byte ``start`` to ``stop``: the line,
    newline included, is ``block[begin:end]``; blocks are read whole and lines never copied."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            carry, base, left = b"", start, (stop - start if stop is not None else -1)
            while left != 0 and (data := handle.read(_BLOCK_BYTES if left < 0 else min(_BLOCK_BYTES, left))):
                left = left - len(data) if left > 0 else left
                block = carry + data if carry else data
                begin = 0
                while (newline := block.find(b"\n", begin)) >= 0:
                    yield base + begin, block, begin, newline + 1
                    begin = newline + 1
                carry, base = block[begin:], base + begin
            if carry:
                yield base, carry, 0, len(carry)  # a last line without its newline
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _row(block: bytes, begin: int, end: int, torn: bool) -> tuple[dict[str, Any], str | None]:
    """The row of one line, and why it is not a record (None when it is one)."""
    fields = list_fields(block, begin, end)
    if fields is not None:
        return summarize(fields), None
    try:
        record = json.loads(block[begin:end])
    except (json.JSONDecodeError, UnicodeDecodeError):
        record = None
    if isinstance(record, dict):
        return summarize(record), None
    reason = "a torn last line (the writer stopped mid-record)" if torn else "not a whole JSON object"
    return malformed_row(0, reason), reason
