"""The programmer: answers with a complete program, solution plus unit tests."""

from __future__ import annotations

from .base import AievRole
from .prompts import fill


class ProgrammerAgent(AievRole):
    """Writes the solution and its unit tests as one runnable program; may ask for packages."""

    role_name = "programmer"

    @staticmethod
    def task_message(problem: str) -> str:
        """The turn that hands ``problem`` to the programmer, with what a complete answer holds.

        Small models follow the user turn more than the system prompt: without this line
        they often answer with the solution alone.
        """
        return fill("task", problem=problem.strip())
