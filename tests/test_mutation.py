"""Mutants: one fault in one solution function at a time, test code never touched."""

from __future__ import annotations

import ast

import pytest

from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.dialogue.verdict.mutation import MutationReport, all_mutants, mutants, outcome_of, run_mutants

PROGRAM = '''
import unittest


def clamp(x, lo, hi):
    """Keep x within [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def middle(items):
    return items[1:-1]


class ClampTest(unittest.TestCase):
    def test_low(self):
        self.assertEqual(clamp(-9, -5, 3), -5)


def check():
    assert middle([1, 2, 3]) == [2]


check()
'''


def test_every_mutant_changes_one_solution_function_and_compiles() -> None:
    found = all_mutants(PROGRAM)
    assert found and {m.function for m in found} == {"clamp", "middle"}
    for mutant in found:
        ast.parse(mutant.program)
        assert mutant.program != PROGRAM
        assert "self.assertEqual(clamp(-9, -5, 3), -5)" in mutant.program
        assert "assert middle([1, 2, 3]) == [2]" in mutant.program
        assert '"""Keep x within [lo, hi]."""' in mutant.program  # docstrings are never mutated


@pytest.mark.parametrize(
    ("operator", "description"),
    [
        ("return_none", "line 5: the function returns None"),
        ("raise", "line 5: the function raises"),
        ("swap_op", "line 7: `< lo` -> `<= lo`"),
        ("negate_condition", "line 7: `x < lo` negated"),
        ("drop_statement", "line 9: drops `if x > hi: return hi`"),
        ("number", "line 15: `1` -> `2`"),
    ],
)
def test_the_operators_named_in_the_issue_are_all_made(operator: str, description: str) -> None:
    made = {(m.operator, m.description) for m in all_mutants(PROGRAM)}
    assert (operator, description) in made


def test_a_budget_takes_every_function_and_operator_before_any_second_turn() -> None:
    chosen = mutants(PROGRAM, budget=4)
    assert [(m.function, m.operator) for m in chosen] == [
        ("clamp", "return_none"),
        ("middle", "return_none"),
        ("clamp", "raise"),
        ("middle", "raise"),
    ]
    assert mutants(PROGRAM, budget=4) == chosen  # stable


def test_no_mutants_without_a_solution_function_or_when_the_program_does_not_parse() -> None:
    assert all_mutants("assert 1 + 1 == 2\n") == []
    assert all_mutants("def broken(:\n") == []


@pytest.mark.parametrize(
    ("status", "exit_code", "outcome"),
    [
        ("fail", 1, "killed"),
        ("pass", 0, "survived"),
        ("timeout", -9, "inconclusive"),
        ("no_tests", 0, "inconclusive"),
        ("install_error", 1, "inconclusive"),
        ("fail", -1, "inconclusive"),
        ("fail", 137, "inconclusive"),
    ],
)
def test_how_a_mutant_run_counts(status: str, exit_code: int, outcome: str) -> None:
    assert outcome_of(ExecutionResult(status=status, exit_code=exit_code)) == outcome


def test_the_score_is_killed_over_judged_mutants() -> None:
    results = iter([("fail", 1), ("pass", 0), ("timeout", -9), ("fail", 1)])

    def run(program: str) -> ExecutionResult:
        status, code = next(results)
        return ExecutionResult(status=status, exit_code=code)

    report = run_mutants(run, mutants(PROGRAM, budget=4), candidates=20)
    assert (report.killed, report.survived, report.inconclusive, report.score) == (2, 1, 1, 0.6667)
    assert report.to_dict()["candidates"] == 20
    assert MutationReport((), 0).score is None
