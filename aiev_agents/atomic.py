"""Atomic file writes: a temporary file beside the target, flushed, fsynced, then renamed over it.

A reader sees the previous file (or none) or the complete new one, never a torn file; an
exception while writing removes the temporary file and leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from .errors import DatasetError

FILE_MODE = 0o644


@overload
def atomic_writer(
    path: str | os.PathLike[str], *, binary: Literal[False] = False, temporary: str | os.PathLike[str] | None = None
) -> contextlib.AbstractContextManager[IO[str]]: ...


@overload
def atomic_writer(
    path: str | os.PathLike[str], *, binary: Literal[True], temporary: str | os.PathLike[str] | None = None
) -> contextlib.AbstractContextManager[IO[bytes]]: ...


def atomic_writer(
    path: str | os.PathLike[str], *, binary: bool = False, temporary: str | os.PathLike[str] | None = None
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Open a file that replaces ``path`` when the ``with`` block ends without an exception.

    Args:
        path: The file to write; its folder must exist.
        binary: Yield a binary handle; else a UTF-8 text handle.
        temporary: The temporary file to write (truncated if present); by default a fresh,
            hidden ``.<name>.<random>.tmp`` beside ``path``.

    Yields:
        The open handle. Raising inside the block discards what was written.
    """
    return _atomic_writer(Path(path), binary, None if temporary is None else Path(temporary))


@contextlib.contextmanager
def _atomic_writer(path: Path, binary: bool, temporary: Path | None) -> Iterator[IO[Any]]:
    if temporary is None:
        handle_fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        temporary = Path(name)
    else:
        handle_fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(handle_fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically (see :func:`atomic_writer`)."""
    if isinstance(data, bytes):
        with atomic_writer(path, binary=True) as handle:
            handle.write(data)
    else:
        with atomic_writer(path) as handle:
            handle.write(data)


def write_output(path: str | os.PathLike[str], data: str | bytes) -> None:
    """:func:`write_atomic` for a command's output file: a failed write is a ``DatasetError``
    that names the file (a user error the CLI prints), not a bare ``OSError``."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise DatasetError(f"cannot write {path}: {exc.strerror or exc}") from exc
