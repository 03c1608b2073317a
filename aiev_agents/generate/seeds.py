"""Seeds: what each dialogue starts from, read from JSONL one object per line.

A line holds an ``id`` and either a ``snippet`` (code that inspires the problem,
OSS-Instruct style) or a ready ``problem``; other keys are kept as provenance.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from ..dialogue.seed import Seed, first_validation_message
from ..errors import SeedError

__all__ = ["Seed", "read_seed_files", "read_seeds"]


def read_seeds(
    path: str | Path, on_error: Callable[[SeedError], None], *, seen: set[str] | None = None
) -> Iterator[Seed]:
    """The valid seeds of a JSONL file, lazily; each bad line is reported through ``on_error``.

    A bad line (not JSON, not an object, missing fields, a repeated id) is reported with
    its line number and skipped; it never stops the iteration.

    Raises:
        SeedError: The file cannot be opened (raised at once, not on first iteration).
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read seeds file {path}: {exc.strerror}; check the path") from exc
    return _valid_seeds(handle, path, on_error, set() if seen is None else seen)


def read_seed_files(paths: Sequence[str | Path], on_error: Callable[[SeedError], None]) -> Iterator[Seed]:
    """The valid seeds of several files in order; an id repeated across files is a bad line.

    Raises:
        SeedError: One of the files cannot be opened (checked for all before any is read).
    """
    seen: set[str] = set()
    readers = [read_seeds(path, on_error, seen=seen) for path in paths]
    return itertools.chain.from_iterable(readers)


def _valid_seeds(handle: TextIO, path: Path, on_error: Callable[[SeedError], None], seen: set[str]) -> Iterator[Seed]:
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                seed = _parse_line(line)
                if seed.id in seen:
                    raise SeedError(f"id '{seed.id}' appears twice; ids must be unique")
            except SeedError as exc:
                on_error(SeedError(f"{path}:{line_no}: {exc}; line skipped"))
                continue
            seen.add(seed.id)
            yield seed


def _parse_line(line: str) -> Seed:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SeedError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise SeedError("a seed line must be a JSON object with `id` and `snippet` or `problem`")
    try:
        return Seed.model_validate(data)
    except ValidationError as exc:
        raise SeedError(first_validation_message(exc)) from exc
