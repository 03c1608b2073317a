"""The programs evaluation builds around a candidate: a ``from __future__`` import of the candidate stays legal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aiev_agents.data.benchmarks import BenchmarkTask, load_humaneval
from aiev_agents.evaluate import humaneval_plus as plus
from aiev_agents.evaluate import sanitize
from aiev_agents.evaluate.execute import NOT_MAIN, PlusChecker, humaneval_program, mbpp_program
from aiev_agents.evaluate.sanitize import prune
from aiev_agents.sandbox.settings import SandboxSettings

FUTURE_CODE = "from __future__ import annotations\n\n\ndef add(a: int, b: int) -> Later:\n    return a + b\n"
HUMANEVAL_TASK = BenchmarkTask(
    benchmark="humaneval",
    task_id="Toy/0",
    prompt='def add(a: int, b: int) -> int:\n    """Sum."""\n',
    solution="    return a + b\n",
    entry_point="add",
    test="\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n",
)
MBPP_TASK = BenchmarkTask(
    benchmark="mbpp",
    task_id="Mbpp/0",
    prompt="Write a function to add two numbers.",
    solution="def add(a, b):\n    return a + b\n",
    entry_point="add",
    test="assert add(2, 3) == 5\nassert add(-1, 1) == 0\n",
)
PLUS_TASK = BenchmarkTask(
    benchmark="humaneval_plus",
    task_id="Toy/1",
    prompt=HUMANEVAL_TASK.prompt,
    solution=HUMANEVAL_TASK.solution,
    entry_point="add",
    test=HUMANEVAL_TASK.test,
    raw={"base_input": [[1, 2], [3, 4]], "plus_input": [[10, -10]]},
)


def run_on_host(program: str) -> subprocess.CompletedProcess[str]:
    """Run one of these toy programs with this Python (they are the test's own code)."""
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("build", "task"), [(humaneval_program, HUMANEVAL_TASK), (mbpp_program, MBPP_TASK)], ids=["humaneval", "mbpp"]
)
def test_a_program_built_around_future_importing_code_compiles_and_runs(build, task: BenchmarkTask) -> None:
    built = build(task, FUTURE_CODE)
    compile(built, "<program>", "exec")
    assert built.startswith("from __future__ import annotations\n" + NOT_MAIN)
    assert run_on_host(built).returncode == 0
    assert run_on_host(build(task, "def add(a, b):\n    return a - b\n")).returncode != 0


def test_a_program_without_future_imports_is_code_then_tests() -> None:
    built = humaneval_program(HUMANEVAL_TASK, "def add(a, b):\n    return a + b\n")
    assert built.startswith(NOT_MAIN)
    assert built.index("def add") < built.index("def check(candidate)") < built.index("check(add)")
    assert built.endswith("check(add)\n")


def test_sanitize_puts_prompt_context_after_the_codes_future_import() -> None:
    task = next(task for task in load_humaneval() if task.task_id == "HumanEval/0")
    reply = (
        "```python\nfrom __future__ import annotations\n\n\n"
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n    return False\n```"
    )
    code = sanitize(reply, task.entry_point, prompt=task.prompt)
    assert code.startswith("from __future__ import annotations\n")
    assert code.index("from typing import List") < code.index("def has_close_elements")
    compile(code, "<sanitized>", "exec")
    compile(humaneval_program(task, code), "<program>", "exec")


def test_sanitize_hoists_a_later_blocks_future_import() -> None:
    reply = (
        "```python\ndef helper(x):\n    return x\n```\n"
        "```python\nfrom __future__ import annotations\n\n\ndef f(x: int) -> int:\n    return helper(x)\n```"
    )
    code = sanitize(reply, "f")
    assert code.startswith("from __future__ import annotations\n") and "def helper" in code
    compile(code, "<sanitized>", "exec")


def test_humaneval_plus_passes_future_importing_code_as_a_literal_that_compiles_on_its_own() -> None:
    oracle_run = run_on_host(plus.oracle_program(PLUS_TASK, "MARK"))
    oracle = plus.oracle_from_output(oracle_run.stdout, "MARK")
    assert oracle is not None, oracle_run.stderr
    right = run_on_host(plus.check_program(PLUS_TASK, FUTURE_CODE, oracle, "MARK"))
    assert plus.parse_marker(right.stdout, "MARK") == {"phase": "done", "index": 0, "status": "pass", "error": ""}
    wrong = run_on_host(plus.check_program(PLUS_TASK, FUTURE_CODE.replace("a + b", "a - b"), oracle, "MARK"))
    assert (plus.parse_marker(wrong.stdout, "MARK") or {}).get("status") == "fail"


# -- pruning without an entry point: the project's test code definition ---------------------------


def test_pruning_without_an_entry_point_drops_what_testcode_calls_test_code() -> None:
    code = (
        "import math\n\n\ndef isqrt(n):\n    assert n >= 0\n    return math.isqrt(n)\n\n\n"
        "def check():\n    assert isqrt(4) == 2\n\n\ndef main():\n    check()\n\n\n"
        "class TestIsqrt:\n    def test_it(self):\n        assert isqrt(9) == 3\n\n\n"
        "def verify(limit=3):\n    assert isqrt(limit * limit) == limit\n\n\n"
        "RESULT = main()\nLIMIT = 10\n\nmain()\n"
    )
    kept = "import math\n\n\ndef isqrt(n):\n    assert n >= 0\n    return math.isqrt(n)\n\n\nLIMIT = 10\n"
    assert prune(code) == kept


def test_pruning_to_an_entry_point_keeps_it_whatever_its_name() -> None:
    code = "def check_char(s):\n    return s[:1] == s[-1:]\n\n\nassert check_char('aba')\n"
    assert prune(code, "check_char") == "def check_char(s):\n    return s[:1] == s[-1:]\n"


# -- in the sandbox -----------------------------------------------------------------------------


@pytest.mark.docker
def test_in_the_sandbox_future_importing_code_passes_and_the_oracle_run_is_accepted(
    sandbox_settings: SandboxSettings,
) -> None:
    from aiev_agents.evaluate.execute import ScriptChecker
    from aiev_agents.sandbox.pool import SandboxPool

    with SandboxPool(sandbox_settings, size=1) as pool:
        with pool.session() as sandbox:
            verdicts = [
                ScriptChecker(humaneval_program).check(sandbox, HUMANEVAL_TASK, FUTURE_CODE).status,
                ScriptChecker(mbpp_program).check(sandbox, MBPP_TASK, FUTURE_CODE).status,
            ]
        checker = PlusChecker()
        checker.prepare([PLUS_TASK], pool, workers=1)  # the oracle's own assert is solution code: no test counted
        assert isinstance(checker.oracles[PLUS_TASK.task_id], plus.Oracle), checker.oracles[PLUS_TASK.task_id]
        with pool.session() as sandbox:
            verdicts.append(checker.check(sandbox, PLUS_TASK, FUTURE_CODE).status)
            verdicts.append(checker.check(sandbox, PLUS_TASK, FUTURE_CODE.replace("a + b", "a - b")).status)
    assert verdicts == ["pass", "pass", "pass", "fail"]
