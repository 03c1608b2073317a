"""Hidden tests: the test writer's tests, run against the programmer's solution alone.

They run as a program of their own: the solution (the program without its test and driver
code, so a ``unittest.main()`` or ``sys.exit()`` of the programmer cannot end the run
first) followed by the hidden tests. Hidden tests that define a name the solution defines
would replace the code they are meant to check: they are rejected, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...sandbox.guest.testcode import combine, redefined_names, solution_only


def hidden_program(program: str, tests: Sequence[str]) -> tuple[str | None, str]:
    """The program that runs ``tests`` against ``program``'s solution, or None and why not."""
    for block in tests:
        clash = redefined_names(program, block)
        if clash:
            return None, (
                f"the hidden tests define {', '.join(clash)}, which the solution defines: "
                "they would replace the code under test, so they were not run"
            )
    return combine(solution_only(program), *tests), ""
