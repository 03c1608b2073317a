"""The gates a passing program must also pass, each a pure function of what was recorded.

Each gate reads the last run and the ``checks`` section of a record and answers ``None``
(holds) or the status the sample gets when it does not. :func:`judge` applies the gates a
config enables, in order; the verifier benchmark and ``aiev audit`` apply any combination
of them to the same records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..transcript import ExecutionResult
from .settings import VerdictSettings

Gate = Callable[[ExecutionResult, Mapping[str, Any], VerdictSettings], "str | None"]


def exit_zero(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """AutoCoder's rule: the program exited 0."""
    return None if run.exit_code == 0 else "fail"


def any_assert(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """The rule before test code was told from solution code: exit 0 and any assert or test case ran."""
    if run.exit_code != 0 or run.status in ("timeout", "install_error", "no_code"):
        return run.status if run.status != "pass" else "fail"
    if run.status == "fail":  # exit 0 but unittest failures
        return "fail"
    return None if run.assertions + run.solution_assertions + run.test_cases > 0 else "no_tests"


def tests_ran(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """Test code executed ``min_tests`` assertions or test cases (one by default), none failed,
    and the solution was called: the program's own tests, or the hidden tests when the program
    has none of its own. In another language than Python (``checks["language"]``) the
    language's counted assertions or test cases are the evidence; no solution call is traced."""
    hidden = checks.get("hidden_tests") or {}
    hidden_ran = hidden.get("status") == "pass" and bool(hidden.get("called"))
    if run.exit_code == 0 and run.status == "no_tests" and hidden_ran:
        return None
    if run.status != "pass":
        return run.status
    if run.assertions + run.test_cases < settings.min_tests and not hidden_ran:
        return "no_tests"
    if checks.get("language", "python") != "python":  # no solution-call evidence outside Python
        return None
    return None if run.solution_calls or hidden_ran else "no_tests"


def hidden_tests(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """The test writer's hidden tests pass against the solution (holds when there are none, or
    when they were rejected for redefining the solution: the test writer's fault, recorded)."""
    hidden = checks.get("hidden_tests")
    if not hidden:
        return None
    return None if hidden.get("status") in ("pass", "rejected") else "hidden_tests_failed"


def mutation(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """The tests kill at least one mutant and a share of ``min_mutation_score`` of the judged ones."""
    report = checks.get("mutation")
    if not settings.mutation:
        return None
    if not report or not report.get("killed"):
        return "vacuous_tests"
    score = report.get("score")
    return None if score is not None and score >= settings.min_mutation_score else "vacuous_tests"


def coverage(run: ExecutionResult, checks: Mapping[str, Any], settings: VerdictSettings) -> str | None:
    """The tests run ``min_line_coverage`` of the solution's lines and ``min_branch_coverage`` of its branches."""
    if not settings.coverage or (settings.min_line_coverage <= 0 and settings.min_branch_coverage <= 0):
        return None
    measured = checks.get("coverage") or {}
    lines, branches = measured.get("line_rate"), measured.get("branch_rate")
    if lines is None or lines < settings.min_line_coverage:
        return "low_coverage"
    if branches is not None and branches < settings.min_branch_coverage:
        return "low_coverage"
    return None


#: Every gate by name, in the order :func:`judge` applies them.
GATES: dict[str, Gate] = {
    "exit_zero": exit_zero,
    "any_assert": any_assert,
    "tests_ran": tests_ran,
    "hidden_tests": hidden_tests,
    "mutation": mutation,
    "coverage": coverage,
}
#: The gates of the default verdict.
DEFAULT_GATES = ("tests_ran", "hidden_tests", "mutation", "coverage")


def judge(
    run: ExecutionResult,
    checks: Mapping[str, Any],
    settings: VerdictSettings | None = None,
    gates: Sequence[str] = DEFAULT_GATES,
) -> tuple[bool, str]:
    """Whether the sample is verified, and its status (``pass`` or the first failing gate's)."""
    settings = settings or VerdictSettings()
    for name in gates:
        failed = GATES[name](run, checks, settings)
        if failed is not None:
            return False, failed
    return True, "pass"


def rates(measured: Mapping[str, Any]) -> dict[str, Any]:
    """A coverage measurement with its line and branch rates (None where nothing to cover)."""
    lines = measured.get("lines") or [0, 0]
    branches = measured.get("branches") or [0, 0]
    return {
        **measured,
        "line_rate": round(lines[0] / lines[1], 4) if lines[1] else None,
        "branch_rate": round(branches[0] / branches[1], 4) if branches[1] else None,
    }
