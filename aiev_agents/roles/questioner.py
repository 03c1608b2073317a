"""The questioner: turns a seed into a problem, and a failed run into a request for a fix."""

from __future__ import annotations

from typing import Any

from ..config import AievConfig
from ..dialogue.transcript import ExecutionResult
from .base import AievRole
from .execution_text import DEFAULT_FEEDBACK_CHARS, cut_middle
from .failing_check import failing_check
from .prompts import fill
from .prose import FENCE, prose_before_code, with_stop

_VERDICTS = {
    "fail": "It failed with exit code {exit_code}.",
    "timeout": "It was stopped because it ran past the time limit.",
    "no_tests": "It exited with code 0, but no test ran: the program has no assertions or test cases.",
    "install_error": "Installing the requested packages failed, so the program did not run.",
    "no_code": "There was no program to run: the answer held no ```python code block.",
}


class QuestionerAgent(AievRole):
    """Proposes the problem from a seed and explains each failed run in plain language.

    A feedback request quotes at most ``feedback_chars`` characters of the run's output and,
    with ``point_at_check``, names the failing check (:mod:`.failing_check`) and asks which
    side of it, the expectation or the code, the problem statement contradicts.

    With ``stop_at_code`` the questioner's replies end where it opens a code block: its model
    is asked to stop at the fence (``stop`` in each ``llm_config`` entry, so no time is spent
    generating the block) and the reply is cut there whatever the backend did. A small model
    told not to write the program often writes it anyway, and the programmer then copies it,
    failed tests included (:mod:`.prose`).
    """

    role_name = "questioner"

    def __init__(
        self,
        *args: Any,
        feedback_chars: int = DEFAULT_FEEDBACK_CHARS,
        point_at_check: bool = True,
        stop_at_code: bool = False,
        **kwargs: Any,
    ) -> None:
        if stop_at_code and "llm_config" in kwargs:
            kwargs["llm_config"] = with_stop(kwargs["llm_config"], FENCE)
        super().__init__(*args, **kwargs)
        self.feedback_chars = feedback_chars
        self.point_at_check = point_at_check
        self.stop_at_code = stop_at_code

    def generate_reply(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> Any:
        """AG2's reply, cut before its first code block with ``stop_at_code``."""
        reply = super().generate_reply(messages=messages, sender=sender, **kwargs)
        if not self.stop_at_code:
            return reply
        if isinstance(reply, str):
            return prose_before_code(reply)
        if isinstance(reply, dict) and isinstance(reply.get("content"), str):
            return {**reply, "content": prose_before_code(reply["content"])}
        return reply

    @classmethod
    def from_config(cls, config: AievConfig, *, role: str | None = None, **kwargs: Any) -> QuestionerAgent:
        """Build the questioner as :meth:`AievRole.from_config` does; ``feedback_chars``, when
        neither given nor in the entry's ``options``, is ``dialogue.feedback_chars``."""
        entry = getattr(config.roles, role or cls.role_name, None)
        if "feedback_chars" not in (entry.options if entry is not None else {}):
            kwargs.setdefault("feedback_chars", config.dialogue.feedback_chars)
        return super().from_config(config, role=role, **kwargs)  # type: ignore[return-value]

    @staticmethod
    def proposal_request(snippet: str) -> str:
        """The message that asks for a problem inspired by ``snippet``."""
        return fill("proposal", snippet=snippet.strip("\n"))

    def feedback_request(self, execution: ExecutionResult, *, max_chars: int | None = None) -> str:
        """The message that shows a failed run and asks for an explanation and a fix.

        It quotes at most ``max_chars`` (default ``feedback_chars``) characters of the output.
        """
        verdict = _VERDICTS.get(execution.status, "It did not pass.").format(exit_code=execution.exit_code)
        output = cut_middle(execution.output.strip("\n"), max_chars or self.feedback_chars)
        check = failing_check(execution.output) if self.point_at_check else None
        pointer = "\n" + fill("failing_check", check=check.describe()) + "\n" if check else ""
        return fill("feedback", verdict=verdict, output=output or "(no output)", check=pointer)
