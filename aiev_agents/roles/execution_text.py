"""The executor's turn as text: what the programmer reads after a run.

Kept apart from the agent (which imports AG2) so exports and tests can lay out turns the
same way without AG2.
"""

from __future__ import annotations

from ..transcript import ExecutionResult


def format_execution(execution: ExecutionResult, notes: list[str] | None = None) -> str:
    """The executor's turn as the programmer reads it (AG2's ``exitcode:`` style)."""
    verdict = "execution succeeded" if execution.exit_code == 0 else "execution failed"
    lines = [f"exitcode: {execution.exit_code} ({verdict})", *(notes or [])]
    if execution.packages:
        lines.append(f"Installed packages: {', '.join(execution.packages)}")
    if execution.status == "no_tests":
        lines.append("No test ran: the program executed no assertion or test case.")
    lines.append(f"Code output:\n{execution.output.rstrip()}")
    return "\n".join(lines)
