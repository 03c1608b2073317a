"""``aiev compare``'s held-out tests: the record's test code only (``sandbox.guest.testcode``), never its solution."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aiev_agents.config import load_config
from aiev_agents.sandbox.guest import testcode
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.stage.compare import Comparison, HeldOut, held_out, held_out_tests, solution_code

from helpers import write_config


def program(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


#: A verified record whose solution checks its own precondition with ``assert``.
PRECONDITION = program(
    """
    import math


    def isqrt(n):
        assert n >= 0, "n must be non-negative"
        return math.isqrt(n)


    def check():
        assert isqrt(16) == 4
        assert isqrt(17) == 4


    def main():
        check()
        print("ok")


    if __name__ == "__main__":
        main()
    """
)
RIGHT = "```python\ndef isqrt(n):\n    return int(n ** 0.5)\n\n\nprint(isqrt(9))\n```"
WRONG = "```python\ndef isqrt(n):\n    return n // 2\n```"
FUTURE = (
    "```python\nfrom __future__ import annotations\n\n\n"
    "def isqrt(n: int) -> int:\n    return int(n ** 0.5)\n\n\nassert isqrt(9) == 3\n```"
)


def top_level_definitions(code: str) -> set[str]:
    return {node.name for node in ast.parse(code).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


# -- what a record's held-out tests are -------------------------------------------------------


def test_a_solution_with_a_precondition_assert_stays_out_of_the_held_out_tests() -> None:
    tests = held_out_tests(PRECONDITION)
    assert top_level_definitions(tests) == {"check", "main"}  # no `isqrt`: the record's solution does not leak
    assert tests.startswith("import math\n") and 'if __name__ == "__main__":' in tests


def test_held_out_tests_are_the_statements_tests_only_keeps() -> None:
    def dumps(code: str) -> list[str]:
        return [ast.dump(node) for node in ast.parse(code).body]

    assert dumps(held_out_tests(PRECONDITION)) == dumps(testcode.tests_only(PRECONDITION))


def test_held_out_tests_keep_the_assignments_the_tests_read_and_no_others() -> None:
    record = program(
        """
        MOD = 10 ** 9 + 7
        square = lambda x: x * x
        CASES = [(2, 4), (3, 9)]
        EXPECTED = dict(CASES)


        def power(x):
            return square(x) % MOD


        def test_power():
            for x, wanted in EXPECTED.items():
                assert power(x) == wanted


        test_power()
        """
    )
    tests = held_out_tests(record)
    assert "CASES = [(2, 4), (3, 9)]" in tests and "EXPECTED = dict(CASES)" in tests  # test data, transitively
    assert "MOD" not in tests and "lambda" not in tests and "def power" not in tests


def test_a_record_whose_test_code_never_runs_is_not_scorable() -> None:
    assert held_out_tests("def f():\n    return 1\n") == ""
    assert held_out_tests("def f(x):\n    return x\n\n\ndef test_f():\n    assert f(1) == 1\n") == ""
    assert held_out_tests("def broken(:\n") == ""
    problems, skipped = held_out([{"id": "r1", "problem": "Write f.", "final_program": "def f():\n    return 1\n"}])
    assert (problems, skipped) == ([], ["r1"])


def test_a_candidates_solution_keeps_its_precondition_asserts_and_loses_its_tests() -> None:
    assert solution_code(PRECONDITION) == program(
        """
        import math

        def isqrt(n):
            assert n >= 0, "n must be non-negative"
            return math.isqrt(n)
        """
    )


# -- a candidate against the held-out tests (programs run on the host: they are the test's own) -----


class HostPool:
    """Stands in for a SandboxPool: runs each program with this Python and keeps it."""

    def __init__(self) -> None:
        self.programs: list[str] = []

    @contextmanager
    def session(self) -> Iterator[Any]:
        yield self

    def execute(self, code: str, packages: list[str]) -> Any:
        self.programs.append(code)
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
        return SimpleNamespace(status="pass" if run.returncode == 0 else "fail", output=run.stdout + run.stderr)


@pytest.fixture()
def comparison(tmp_path: Path) -> Comparison:
    return Comparison(load_config(write_config(tmp_path, "http://127.0.0.1:9/v1", "img")), ["teacher"])


def answering(comparison: Comparison, reply: str) -> Comparison:
    comparison._answer = lambda name, problem: reply  # type: ignore[method-assign]
    return comparison


@pytest.mark.parametrize(("reply", "status"), [(RIGHT, "pass"), (WRONG, "fail"), (FUTURE, "pass")])
def test_only_a_right_candidate_passes_the_held_out_tests(comparison: Comparison, reply: str, status: str) -> None:
    pool = HostPool()
    problem = HeldOut("r1", "Write isqrt(n).", held_out_tests(PRECONDITION))
    assert answering(comparison, reply).solve(problem, "teacher", pool) == status
    assert "n must be non-negative" not in pool.programs[0]


def test_future_imports_of_the_candidate_and_the_record_go_first(comparison: Comparison) -> None:
    record = "from __future__ import annotations\n\n" + PRECONDITION
    pool = HostPool()
    problem = HeldOut("r1", "Write isqrt(n).", held_out_tests(record))
    assert answering(comparison, FUTURE).solve(problem, "teacher", pool) == "pass"
    (combined,) = pool.programs
    assert combined.startswith("from __future__ import annotations\n")
    assert combined.count("from __future__") == 1
    compile(combined, "<compare>", "exec")


# -- in the sandbox -----------------------------------------------------------------------------


@pytest.mark.docker
def test_in_the_sandbox_the_held_out_tests_of_a_precondition_record_tell_right_from_wrong(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    from aiev_agents.sandbox.pool import SandboxPool

    comparison = Comparison(
        load_config(write_config(tmp_path, "http://127.0.0.1:9/v1", sandbox_settings.image)),
        ["teacher"],
        settings=sandbox_settings,
    )
    problem = HeldOut("r1", "Write isqrt(n).", held_out_tests("from __future__ import annotations\n" + PRECONDITION))
    with SandboxPool(sandbox_settings, size=1) as pool:
        verdicts = [answering(comparison, reply).solve(problem, "teacher", pool) for reply in (RIGHT, WRONG, FUTURE)]
    assert verdicts == ["pass", "fail", "pass"]
