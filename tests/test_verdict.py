"""The verdict: a sample is verified only when its tests really test its solution.

Each case is a whole scripted dialogue (a real OpenAI-compatible server on 127.0.0.1, the
real AG2 agents, the real Docker sandbox), as a user of ``teaching.yaml`` would meet it.
"""

from __future__ import annotations

from typing import Any

import pytest

from aiev_agents import ExecutorAgent, ProgrammerAgent, QuestionerAgent, run_dialogue
from aiev_agents.config import ModelSpec
from aiev_agents.dialogue.transcript import Transcript
from aiev_agents.dialogue.verdict import VerdictSettings
from aiev_agents.llm import llm_config_for
from aiev_agents.roles.test_writer import TestWriterAgent
from aiev_agents.testing import ScriptedServer, key_by_role

pytestmark = pytest.mark.docker


def fenced(code: str, packages: str = "") -> str:
    pip = f"```bash\npip install {packages}\n```\n\n" if packages else ""
    return f"{pip}```python\n{code.strip()}\n```\n"


def dialogue(executor: ExecutorAgent, script: dict[str, list[str]], **options: Any) -> Transcript:
    """One dialogue on a ready problem, the models answering from ``script`` by role."""
    script = {"questioner": ["The run failed: fix the code or the test that is wrong."] * 3, **script}
    with ScriptedServer(script, key=key_by_role) as server:
        config = llm_config_for(ModelSpec(backend="openai_compatible", model="t", base_url=server.base_url))
        extras = [TestWriterAgent(llm_config=config)] if "test_writer" in script else []
        return run_dialogue(
            {"id": "case", "problem": "Write the function the tests below need."},
            questioner=QuestionerAgent(llm_config=config),
            programmer=ProgrammerAgent(llm_config=config),
            executor=executor,
            max_rounds=options.pop("max_rounds", 1),
            extras=extras,
            **options,
        )


GOOD = """
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


assert clamp(-2, -5, 3) == -2
assert clamp(-9, -5, 3) == -5
assert clamp(7, -5, 3) == 3
assert clamp(-5, -5, 3) == -5
assert clamp(3, -5, 3) == 3
"""


def test_tests_that_check_the_solution_verify_it_with_the_evidence_recorded(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"programmer": [fenced(GOOD)]})
    assert (transcript.verified, transcript.status) == (True, "pass")
    ran = transcript.checks["tests_ran"]
    assert ran == {"test_assertions": 5, "test_cases": 0, "solution_assertions": 0,
                   "solution_functions": ["clamp"], "called": ["clamp"]}  # fmt: skip
    mutation = transcript.checks["mutation"]
    assert mutation["killed"] >= 1 and mutation["score"] >= VerdictSettings().min_mutation_score
    assert {m["operator"] for m in mutation["mutants"]} >= {"return_none", "raise", "swap_op"}
    coverage = transcript.checks["coverage"]
    assert coverage["lines"] == [5, 5] and coverage["line_rate"] == 1.0
    assert coverage["branches"] == [4, 4]


# -- case 1: the solution's own precondition assert is not a test -------------------------------

NO_TESTS = """
def factorial(n):
    assert n >= 0
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


print(factorial(5))
"""


def test_a_precondition_assert_and_a_print_are_not_tests(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"programmer": [fenced(NO_TESTS)]})
    assert (transcript.verified, transcript.status) == (False, "no_tests")
    run = transcript.executions[-1]
    assert (run.exit_code, run.assertions, run.solution_assertions) == (0, 0, 1)
    assert "mutation" not in transcript.checks  # nothing to measure without tests


# -- case 2: an assertion that never calls the solution -----------------------------------------

BEHIND_A_RUNNER = """
def triple(x):
    return 3 * x


def check():
    assert callable(triple)


def main():
    check()


main()
"""


def test_assertions_that_never_call_the_solution_do_not_verify(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"programmer": [fenced(BEHIND_A_RUNNER)]})
    assert (transcript.verified, transcript.status) == (False, "no_tests")
    ran = transcript.checks["tests_ran"]
    assert (ran["test_assertions"], ran["called"], ran["solution_functions"]) == (1, [], ["triple"])


# -- case 3: oracle tests that compare two solution functions -----------------------------------

ORACLE = """
def slow_fib(n):
    return n if n < 2 else slow_fib(n - 1) + slow_fib(n - 2)


def fast_fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


for n in range(15):
    assert fast_fib(n) == slow_fib(n)
assert fast_fib(10) == 55
"""


def test_correct_oracle_tests_verify(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"programmer": [fenced(ORACLE)]})
    assert (transcript.verified, transcript.status) == (True, "pass")
    mutated = {m["function"] for m in transcript.checks["mutation"]["mutants"] if m["outcome"] == "killed"}
    assert mutated == {"slow_fib", "fast_fib"}  # one function broken at a time: each caught


# -- case 4: a failed install leaves no trace ---------------------------------------------------

TABLE = """
from tabulate import tabulate


def squares(numbers):
    return tabulate([[n, n * n] for n in numbers], headers=["n", "sq"], tablefmt="plain")


assert squares([3]).splitlines()[1].split() == ["3", "9"]
assert squares([2, 4]).splitlines()[2].split() == ["4", "16"]
"""


def test_a_failed_install_in_an_earlier_round_leaves_no_trace(executor: ExecutorAgent) -> None:
    script = {"programmer": [fenced(TABLE, "aiev-no-such-package-xq7"), fenced(TABLE, "tabulate==0.9.0")]}
    transcript = dialogue(executor, script, max_rounds=2)
    assert [e.status for e in transcript.executions] == ["install_error", "pass"]
    assert transcript.final_packages == ["tabulate==0.9.0"]
    assert transcript.verified is True
    assert transcript.checks["mutation"]["inconclusive"] == 0


# -- case 5: hidden tests run whatever the program does at exit ---------------------------------

WRONG_WITH_UNITTEST = """
import unittest


def add(a, b):
    return a * b


class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 2), 4)


unittest.main()
"""
HIDDEN = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"


def test_hidden_tests_run_after_unittest_main_and_decide(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"programmer": [fenced(WRONG_WITH_UNITTEST)], "test_writer": [fenced(HIDDEN)]})
    run = transcript.executions[-1]
    assert run.status == "pass"  # its own tests agree with its wrong solution
    assert run.hidden_tests["status"] == "fail"
    assert (transcript.verified, transcript.status) == (False, "hidden_tests_failed")
    assert "Hidden tests (written from the problem alone) failed" in transcript.messages[-1].content


def test_hidden_tests_that_redefine_the_solution_are_rejected(executor: ExecutorAgent) -> None:
    subverting = "def add(a, b):\n    return a + b\n\n\nassert add(2, 3) == 5\n"
    transcript = dialogue(executor, {"programmer": [fenced(GOOD)], "test_writer": [fenced(subverting)]})
    hidden = transcript.executions[-1].hidden_tests
    assert hidden is not None and hidden["status"] == "pass"  # no clash: `add` is not the solution here
    clashing = subverting.replace("add", "clamp").replace("clamp(2, 3) == 5", "clamp(2, 0, 5) == 2")
    transcript = dialogue(executor, {"programmer": [fenced(GOOD)], "test_writer": [fenced(clashing)]})
    hidden = transcript.executions[-1].hidden_tests
    assert hidden == {
        "status": "rejected",
        "reason": "the hidden tests define clamp, which the solution defines: "
        "they would replace the code under test, so they were not run",
    }


# -- case 7: combining code keeps `from __future__` imports first -------------------------------


def test_hidden_tests_after_a_future_import_still_compile(executor: ExecutorAgent) -> None:
    program = "from __future__ import annotations\n\n" + GOOD
    hidden = "from __future__ import annotations\n\nassert clamp(0, 1, 2) == 1\n"
    transcript = dialogue(executor, {"programmer": [fenced(program)], "test_writer": [fenced(hidden)]})
    assert transcript.executions[-1].hidden_tests["status"] == "pass"
    assert transcript.verified is True


# -- the gates can be set -----------------------------------------------------------------------


def test_mutation_testing_can_be_switched_off_and_coverage_required(executor: ExecutorAgent) -> None:
    weak = GOOD.split("assert")[0] + "assert clamp(0, -5, 3) == 0\n"
    transcript = dialogue(executor, {"programmer": [fenced(weak)]}, verdict=VerdictSettings(mutation=False))
    assert transcript.verified is True and "mutation" not in transcript.checks
    strict = VerdictSettings(mutation=False, min_branch_coverage=0.75)
    transcript = dialogue(executor, {"programmer": [fenced(weak)]}, verdict=strict)
    assert (transcript.verified, transcript.status) == (False, "low_coverage")
    assert transcript.checks["coverage"]["branch_rate"] == 0.5
