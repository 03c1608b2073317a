"""The questioner: turns a seed into a problem, and a failed run into a request for a fix."""

from __future__ import annotations

from ..transcript import ExecutionResult
from .base import AievRole
from .prompts import fill

_VERDICTS = {
    "fail": "It failed with exit code {exit_code}.",
    "timeout": "It was stopped because it ran past the time limit.",
    "no_tests": "It exited with code 0, but no test ran: the program has no assertions or test cases.",
    "install_error": "Installing the requested packages failed, so the program did not run.",
    "no_code": "There was no program to run: the answer held no ```python code block.",
}


class QuestionerAgent(AievRole):
    """Proposes the problem from a seed and explains each failed run in plain language."""

    role_name = "questioner"

    @staticmethod
    def proposal_request(snippet: str) -> str:
        """The message that asks for a problem inspired by ``snippet``."""
        return fill("proposal", snippet=snippet.strip("\n"))

    @staticmethod
    def feedback_request(execution: ExecutionResult) -> str:
        """The message that shows a failed run and asks for an explanation and a fix."""
        verdict = _VERDICTS.get(execution.status, "It did not pass.").format(exit_code=execution.exit_code)
        return fill("feedback", verdict=verdict, output=execution.output.strip("\n") or "(no output)")
