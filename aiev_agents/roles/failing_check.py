"""The check that failed, read from a run's traceback: where it is, what it says, what it saw.

The questioner's feedback starts from it, so that a small model weighs the failing
expectation against the problem statement before blaming the code. The harness makes a
failed ``assert`` say what it compared (``clamp(-2, -5, 3) returned -2, expected -5``) and
``unittest`` does the same for its assertions (``'b a' != 'b a  '``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tracebacks import last_traceback

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
    traceback = last_traceback(output, _ERROR)
    if traceback is None:
        return None
    frames = [frame for frame in traceback.frames if _is_program_file(frame.file, program_file)]
    if not frames:
        return None
    frame = frames[-1]
    message = (_ERROR.match(traceback.exception)["message"] or "").strip()
    return FailingCheck(frame.line, frame.function, frame.source, message)


def _is_program_file(path: str, program_file: str) -> bool:
    if program_file:
        return path == program_file or path.endswith("/" + program_file.lstrip("/"))
    return "/lib/python" not in path and "site-packages" not in path and not path.startswith("<")
