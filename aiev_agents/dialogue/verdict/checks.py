"""The checks run on a dialogue's passing program, recorded in the sample's ``checks``.

A sample's tests are the program's own tests plus, when a test writer wrote some, the hidden
tests (run against the solution alone, see :mod:`.hidden`). A mutant is killed when either
fails on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..transcript import ExecutionResult
from .gates import rates, tests_ran
from .hidden import hidden_program
from .mutation import all_mutants, run_mutants, select
from .settings import VerdictSettings

#: Runs a program aside: ``run(program, timeout_s=..., coverage=...)``.
RunAside = Callable[..., ExecutionResult]
_EXITED_CLEAN = ("pass", "no_tests")


def evidence(run: ExecutionResult) -> dict[str, Any]:
    """What the run's harness saw: test assertions and cases, and which solution functions ran."""
    return {
        "test_assertions": run.assertions,
        "test_cases": run.test_cases,
        "solution_assertions": run.solution_assertions,
        "solution_functions": list(run.solution_functions),
        "called": list(run.solution_calls),
    }


def hidden_result(run: ExecutionResult) -> dict[str, Any]:
    """The hidden tests' run as recorded with the round (``output`` is dropped from ``checks``)."""
    return {
        "status": run.status,
        "exit_code": run.exit_code,
        "output": run.output,
        "assertions": run.assertions,
        "test_cases": run.test_cases,
        "called": list(run.solution_calls),
    }


def check_passing_program(
    run_aside: RunAside,
    program: str,
    last: ExecutionResult,
    settings: VerdictSettings,
    hidden: Mapping[str, Any] | None = None,
    hidden_tests: Sequence[str] = (),
) -> dict[str, Any]:
    """Evidence, mutation testing and coverage of a program whose round passed.

    Mutation and coverage are skipped when no test ran against the solution (nothing to
    measure); each reports ``duration_s`` so their cost per dialogue is visible.
    """
    checks: dict[str, Any] = {"tests_ran": evidence(last)}
    if hidden:
        checks["hidden_tests"] = {key: value for key, value in hidden.items() if key != "output"}
    if tests_ran(last, checks, settings) is not None:
        return checks
    usable = list(hidden_tests) if hidden and hidden.get("status") == "pass" else []
    if settings.mutation:
        checks["mutation"] = mutation_check(run_aside, program, settings, usable)
    if settings.coverage:
        own_tests_ran = last.status == "pass"
        traced = program if own_tests_ran or not usable else hidden_program(program, usable)[0] or program
        checks["coverage"] = coverage_check(run_aside, traced)
    return checks


def mutation_check(
    run_aside: RunAside, program: str, settings: VerdictSettings, hidden_tests: Sequence[str] = ()
) -> dict[str, Any]:
    """Run up to ``settings.mutants`` mutants of ``program``; the report as recorded."""
    candidates = all_mutants(program)
    chosen = select(candidates, settings.mutants)

    def run(mutant: str) -> ExecutionResult:
        own = run_aside(mutant, timeout_s=settings.mutant_timeout_s)
        if not hidden_tests or own.exit_code != 0 or own.status not in _EXITED_CLEAN:
            return own
        combined, _ = hidden_program(mutant, hidden_tests)
        if combined is None:
            return own
        hidden = run_aside(combined, timeout_s=settings.mutant_timeout_s)
        return hidden if hidden.status != "pass" or own.status == "no_tests" else own

    report = run_mutants(run, chosen, len(candidates))
    return {**report.to_dict(), "budget": settings.mutants}


def coverage_check(run_aside: RunAside, program: str) -> dict[str, Any]:
    """Lines and branches of the solution that ``program``'s tests run (one traced run)."""
    traced = run_aside(program, coverage=True)
    measured = traced.coverage if traced.exit_code == 0 and traced.coverage else {}
    return {**rates(measured), "status": traced.status, "duration_s": traced.duration_s}
