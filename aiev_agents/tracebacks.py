"""The one reader of Python error output: which exception a program's output ends with."""

from __future__ import annotations

import re

#: A line that names an exception: ``ValueError``, ``ValueError: message``, ``pkg.MyError: message``.
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)(?::.*)?$")


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
