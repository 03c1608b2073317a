"""The executor's turn as text: what the programmer reads after a run.

Kept apart from the agent (which imports AG2) so exports and tests can lay out turns the
same way without AG2.
"""

from __future__ import annotations

from ..dialogue.transcript import ExecutionResult

#: Most characters of program output quoted to a model in one turn (``dialogue.feedback_chars``).
DEFAULT_FEEDBACK_CHARS = 4000


def cut_middle(text: str, max_chars: int) -> str:
    """``text`` in at most ``max_chars`` characters: whole if it fits, else its head and its
    tail around a line saying how many characters were cut from the middle.

    Cuts fall on line boundaries when one is near. A budget too small for the line keeps
    only the last ``max_chars`` characters (where a traceback ends).
    """
    if len(text) <= max_chars:
        return text
    reserved = len(_cut_line(len(text))) + 2  # the line and up to two newlines around it
    room = max_chars - reserved
    if room < 2:
        return text[len(text) - max_chars :]
    head = _to_line_end(text[: room // 2])
    tail = _from_line_start(text[len(text) - (room - room // 2) :])
    separator = "" if head.endswith("\n") or not head else "\n"
    return f"{head}{separator}{_cut_line(len(text) - len(head) - len(tail))}\n{tail}"


def _cut_line(chars: int) -> str:
    return f"[... {chars} characters cut from the middle ...]"


def _to_line_end(head: str) -> str:
    """``head`` up to its last newline, when that keeps at least half of it."""
    end = head.rfind("\n") + 1
    return head[:end] if end >= len(head) // 2 else head


def _from_line_start(tail: str) -> str:
    """``tail`` from just after its first newline, when that keeps at least half of it."""
    start = tail.find("\n") + 1
    return tail[start:] if 0 < start <= len(tail) // 2 else tail


def format_execution(
    execution: ExecutionResult, notes: list[str] | None = None, *, max_chars: int = DEFAULT_FEEDBACK_CHARS
) -> str:
    """The executor's turn as the programmer reads it (AG2's ``exitcode:`` style).

    The code output in it is cut to ``max_chars`` characters (head and tail kept);
    ``execution.output`` itself is left whole.
    """
    verdict = "execution succeeded" if execution.exit_code == 0 else "execution failed"
    lines = [f"exitcode: {execution.exit_code} ({verdict})", *(notes or [])]
    if execution.packages:
        lines.append(f"Installed packages: {', '.join(execution.packages)}")
    if execution.status == "no_tests":
        lines.append("No test ran: the program executed no assertion or test case.")
    elif execution.status == "fail" and execution.exit_code == 0:  # unittest.main(exit=False)
        lines.append("Tests failed: the program exited 0, but test cases failed (see the output).")
    lines.append(f"Code output:\n{cut_middle(execution.output.rstrip(), max_chars)}")
    return "\n".join(lines)
