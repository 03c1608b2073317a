"""The test writer: writes the unit tests from the problem alone, so the programmer does
not grade its own homework."""

from __future__ import annotations

from typing import ClassVar

from .base import AievRole


class TestWriterAgent(AievRole):
    """Writes hidden tests once per dialogue, from the problem statement only.

    After each round's run the dialogue runs these tests against the programmer's solution
    alone (see :mod:`aiev_agents.dialogue.verdict.hidden`); a failure shows up in the execution report
    the programmer reads, the tests themselves stay unseen.
    """

    __test__ = False  # not a pytest class
    role_name = "test_writer"
    place: ClassVar[str] = "tests"

    @staticmethod
    def tests_request(problem: str) -> str:
        """The message that asks for tests of ``problem``."""
        return f"Write the unit tests for this problem:\n\n{problem}"
