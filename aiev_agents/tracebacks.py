"""The one reader of Python error output: which exception a program's output ends with, and its frames."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A line that names an exception: ``ValueError``, ``ValueError: message``, ``pkg.MyError: message``.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)(?: \[[A-Z_]+\])?(?::.*)?$")


def exception_line(output: str) -> str | None:
    """The line naming the exception of the last traceback in ``output`` (None if none).

    The first unindented line after a ``Traceback (most recent call last):`` header and
    its frames; when no header is there (a syntax error), the last line that looks like
    ``SomeError: message``.
    """
    found: str | None = None
    in_traceback = False
    for line in output.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line.strip() and not line[0].isspace():
            found, in_traceback = line.strip(), False
    if found is not None:
        return found
    lines = [line.strip() for line in output.splitlines() if EXCEPTION_LINE.match(line.strip())]
    return lines[-1] if lines else None


_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback: where it is and its source line (empty when not shown)."""

    file: str
    line: int
    function: str
    source: str


@dataclass(frozen=True)
class Traceback:
    frames: tuple[Frame, ...]
    exception: str  # the line naming the exception


def last_traceback(output: str, exception: re.Pattern[str]) -> Traceback | None:
    """The last traceback in ``output`` whose exception line matches ``exception``, or None."""
    lines = output.splitlines()
    ends = [index for index, text in enumerate(lines) if exception.match(text)]
    if not ends:
        return None
    end = ends[-1]
    start = max((i for i in range(end) if lines[i].startswith("Traceback (most recent call last)")), default=0)
    frames = []
    for index in range(start, end):
        found = _FRAME.match(lines[index])
        if found:
            shown = index + 1 < end and not _FRAME.match(lines[index + 1])
            source = lines[index + 1].strip() if shown else ""
            frames.append(Frame(found["file"], int(found["line"]), found["function"], source))
    return Traceback(tuple(frames), lines[end])
