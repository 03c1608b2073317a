"""``verdict_of_program`` judges a program as ``run_dialogue`` does, and the group-chat example
uses it: a passing run whose tests check nothing is not verified there either."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiev_agents import ExecutorAgent, ProgrammerAgent, QuestionerAgent, run_dialogue
from aiev_agents.config import ModelSpec
from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.dialogue.verdict.program import packages_installed, round_passed, verdict_of_program
from aiev_agents.dialogue.verdict.settings import VerdictSettings
from aiev_agents.llm import llm_config_for
from aiev_agents.testing import ScriptedServer, key_by_role

import programs

ROOT = Path(__file__).resolve().parents[1]

#: Its run passes (test code asserts, the solution runs), but no mutant of ``a + b`` fails it.
VACUOUS = """```python
def add(a, b):
    return a + b


total = add(2, 3)
assert True, "checked"
print("checked")
```
"""


def test_packages_installed_keeps_what_installed_and_drops_failed_installs() -> None:
    runs = [
        ExecutionResult(status="fail", exit_code=1, packages=["tabulate==0.9.0"]),
        ExecutionResult(status="install_error", exit_code=1, packages=["no-such-package"]),
        ExecutionResult(status="pass", exit_code=0, packages=["tabulate==0.9.0"]),
    ]
    assert packages_installed(runs, ["six"]) == ["tabulate==0.9.0", "six"]


def test_a_round_passes_on_its_run_or_with_hidden_tests_on_theirs() -> None:
    untested = ExecutionResult(status="no_tests", exit_code=0)
    assert round_passed(untested) is False
    assert round_passed(untested, {"status": "pass"}) is True
    assert round_passed(untested, {"status": "rejected"}) is False


@pytest.mark.docker
@pytest.mark.parametrize(
    ("answer", "verified", "status"), [(programs.GOOD, True, "pass"), (VACUOUS, False, "vacuous_tests")]
)
def test_it_judges_the_last_program_as_the_dialogue_does(
    executor: ExecutorAgent, answer: str, verified: bool, status: str
) -> None:
    with ScriptedServer({"programmer": [answer]}, key=key_by_role) as server:
        spec = ModelSpec(backend="openai_compatible", model="scripted", base_url=server.base_url)
        transcript = run_dialogue(
            {"id": "judged", "problem": programs.PROBLEM},
            questioner=QuestionerAgent(llm_config=llm_config_for(spec)),
            programmer=ProgrammerAgent(llm_config=llm_config_for(spec)),
            executor=executor,
            max_rounds=1,
        )
    assert (transcript.verified, transcript.status) == (verified, status)
    again = verdict_of_program(executor, transcript.final_program, transcript.final_packages, VerdictSettings())
    assert again[:2] == (verified, status)
    assert set(again[2]) == set(transcript.checks)
    assert again[2]["tests_ran"] == transcript.checks["tests_ran"]
    assert again[2]["mutation"]["killed"] == transcript.checks["mutation"]["killed"]


@pytest.mark.docker
def test_the_group_chat_example_does_not_verify_tests_that_check_nothing(sandbox_settings) -> None:  # noqa: ANN001
    with ScriptedServer({"programmer": [VACUOUS]}, key=key_by_role) as server:
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-test",
            "AIEV_TEACHER_MODEL": "scripted-teacher",
            "AIEV_SANDBOX_IMAGE": sandbox_settings.image,
        }
        command = [sys.executable, str(ROOT / "examples" / "04_group_chat.py"), "--problem", programs.PROBLEM]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "verdict: NOT VERIFIED (vacuous_tests)" in lines  # the run passed; the library's checks did not
    assert "last run: pass; checks: tests_ran, mutation, coverage" in lines
    assert "runs: 1" in lines
