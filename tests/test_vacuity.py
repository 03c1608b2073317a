"""The vacuous-test check: tests that pass against a broken solution do not verify a sample."""

from __future__ import annotations

import pytest

from aiev_agents import ExecutorAgent, ProgrammerAgent, QuestionerAgent, run_dialogue
from aiev_agents.config import ModelSpec
from aiev_agents.llm import llm_config_for
from aiev_agents.testing import ScriptedServer, key_by_role
from aiev_agents.vacuity import broken_variants

import programs

PROGRAM = '''
import unittest


def add(a, b):
    """Sum."""
    return a + b


class Box:
    def size(self):
        return 3


def check_add():
    assert add(1, 2) == 3


class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 2), 4)

    def helper(self):
        return 1


def test_box():
    assert Box().size() == 3
'''

VACUOUS = """```python
def add(a, b):
    return a + b


result = add(2, 3)
assert result is not False
assert isinstance(str(result), str)
```
"""


def test_variants_break_solution_functions_and_keep_test_code() -> None:
    variants = broken_variants(PROGRAM)
    assert [v.name for v in variants] == ["return_none", "raise"]
    assert variants[0].functions == ("add", "Box.size")
    assert 'def add(a, b):\n    """Sum."""\n    return None' in variants[0].program
    assert "raise NotImplementedError('aiev: broken variant')" in variants[1].program
    assert "assert add(1, 2) == 3" in variants[0].program
    assert "self.assertEqual(add(2, 2), 4)" in variants[0].program
    assert "def helper(self):\n        return 1" in variants[0].program


def test_no_variant_for_a_program_without_solution_functions_or_with_a_syntax_error() -> None:
    assert broken_variants("assert 1 + 1 == 2\n") == []
    assert broken_variants("def broken(:\n") == []


def run(executor: ExecutorAgent, answer: str, **kw: object):
    with ScriptedServer({"programmer": [answer]}, key=key_by_role) as server:
        spec = ModelSpec(backend="openai_compatible", model="t", base_url=server.base_url)
        return run_dialogue(
            {"id": "v", "problem": programs.PROBLEM},
            questioner=QuestionerAgent(llm_config=llm_config_for(spec)),
            programmer=ProgrammerAgent(llm_config=llm_config_for(spec)),
            executor=executor,
            max_rounds=1,
            **kw,
        )


@pytest.mark.docker
def test_tests_that_pass_against_a_broken_solution_do_not_verify(executor: ExecutorAgent) -> None:
    transcript = run(executor, VACUOUS)
    assert transcript.executions[-1].status == "pass"
    assert transcript.verified is False
    assert transcript.status == "vacuous_tests"
    check = transcript.checks["vacuous_tests"]
    assert check["verdict"] == "vacuous"
    assert check["reason"] == "the tests still pass when the solution is broken (return_none)"
    assert check["variants"] == [{"name": "return_none", "status": "pass", "functions": ["add"]}]


@pytest.mark.docker
def test_meaningful_tests_fail_against_every_broken_variant(executor: ExecutorAgent) -> None:
    transcript = run(executor, programs.GOOD)
    assert transcript.verified is True
    check = transcript.checks["vacuous_tests"]
    assert check["verdict"] == "meaningful"
    assert [(v["name"], v["status"]) for v in check["variants"]] == [("return_none", "fail"), ("raise", "fail")]


@pytest.mark.docker
def test_the_check_can_be_switched_off(executor: ExecutorAgent) -> None:
    transcript = run(executor, VACUOUS, check_vacuity=False)
    assert transcript.verified is True
    assert transcript.checks == {}
