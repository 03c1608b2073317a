"""The check that failed, read from a run's traceback: where it is, what it says, what it saw.

The questioner's feedback starts from it, so that a small model weighs the failing
expectation against the problem statement before blaming the code. The harness makes a
failed ``assert`` say what it compared (``clamp(-2, -5, 3) returned -2, expected -5``) and
``unittest`` does the same for its assertions (``'b a' != 'b a  '``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')
_ERROR = re.compile(r"^(?P<type>AssertionError)(?::\s?(?P<message>.*))?$")


@dataclass(frozen=True)
class FailingCheck:
    """The innermost frame of the program's last ``AssertionError`` traceback."""

    line: int
    function: str
    source: str
    message: str

    def describe(self) -> str:
        """One paragraph for the questioner: the check, where it is, what it reported."""
        where = f"line {self.line}" + ("" if self.function == "<module>" else f", in {self.function}")
        text = f"The failing check ({where}):\n    {self.source}"
        return text + (f"\nwhich reported: {self.message}" if self.message else "")


def failing_check(output: str, program_file: str = "") -> FailingCheck | None:
    """The failing check of the last ``AssertionError`` traceback in ``output``, or ``None``.

    The frame kept is the innermost one in the program's own file (``program_file``'s name, or
    any file outside the Python installation when it is empty), so a check inside a helper or
    a ``unittest`` method is found, never a line of ``unittest`` itself.
    """
    lines = output.splitlines()
    errors = [index for index, text in enumerate(lines) if _ERROR.match(text)]
    if not errors:
        return None
    end = errors[-1]
    start = max((i for i in range(end) if lines[i].startswith("Traceback (most recent call last)")), default=0)
    frame = None
    for index in range(start, end):
        found = _FRAME.match(lines[index])
        if found and _is_program_file(found["file"], program_file):
            source = lines[index + 1].strip() if index + 1 < end and not _FRAME.match(lines[index + 1]) else ""
            frame = (int(found["line"]), found["function"], source)
    if frame is None:
        return None
    message = (_ERROR.match(lines[end])["message"] or "").strip()
    return FailingCheck(frame[0], frame[1], frame[2], message)


def _is_program_file(path: str, program_file: str) -> bool:
    if program_file:
        return path == program_file or path.endswith("/" + program_file.lstrip("/"))
    return "/lib/python" not in path and "site-packages" not in path and not path.startswith("<")
