"""The verdict on one program, outside :func:`aiev_agents.run_dialogue`.

For code that drives the roles itself (an AG2 ``GroupChat``, a script): judge the last
program an executor ran as a dialogue's last round is judged, with the same checks
(evidence, hidden tests, mutation, coverage) and the same gates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..transcript import ExecutionResult
from .checks import RunAside, check_passing_program
from .gates import judge
from .settings import VerdictSettings


def verdict_of_program(
    executor: Any,
    program: str,
    packages: Sequence[str] = (),
    settings: VerdictSettings | None = None,
    *,
    last: ExecutionResult | None = None,
    hidden: Mapping[str, Any] | None = None,
    hidden_tests: Sequence[str] = (),
) -> tuple[bool, str, dict[str, Any]]:
    """Whether ``program`` is verified, its status and the checks, as ``run_dialogue`` decides.

    Args:
        executor: The ``ExecutorAgent`` that ran the program (its ``run_aside`` runs the
            mutants; its ``last_execution`` is the run judged unless ``last`` is given).
        program: The Python program that ran (``split_program(reply).python``).
        packages: Every package installed for it, earlier rounds' included
            (:func:`packages_installed`).
        settings: The gates; default ``VerdictSettings()``.
        last: The run to judge; default ``executor.last_execution``.
        hidden: The hidden tests' run against the solution, as a dialogue records it
            (``aiev_agents.dialogue.verdict.checks.hidden_result``), when a test writer wrote some.
        hidden_tests: Those hidden tests' code.

    Returns:
        ``(verified, status, checks)``: ``status`` is ``pass`` or the first failing gate's
        (``fail``, ``no_tests``, ``vacuous_tests``...); ``checks`` as in a record.
    """
    last = last if last is not None else executor.last_execution
    if last is None:
        return False, "no_code", {}
    chosen = list(packages)

    def run_aside(code: str, **options: Any) -> ExecutionResult:
        return executor.run_aside(code, chosen, **options)

    return judge_round(run_aside, program, last, settings, hidden, hidden_tests)


def judge_round(
    run_aside: RunAside,
    program: str,
    last: ExecutionResult,
    settings: VerdictSettings | None = None,
    hidden: Mapping[str, Any] | None = None,
    hidden_tests: Sequence[str] = (),
    language: str = "python",
) -> tuple[bool, str, dict[str, Any]]:
    """The verdict on a last round: its run, then the checks of a passing program
    (``run_aside(program, timeout_s=..., coverage=...)`` runs mutants and the coverage run).
    A ``language`` other than Python is recorded in the checks (``language``), where the
    ``tests_ran`` gate reads it."""
    settings = settings or VerdictSettings()
    checks: dict[str, Any] = {"language": language} if language != "python" else {}
    if hidden is not None:
        checks["hidden_tests"] = {key: value for key, value in hidden.items() if key != "output"}
    if round_passed(last, hidden):
        checks.update(check_passing_program(run_aside, program, last, settings, hidden, hidden_tests))
    verified, status = judge(last, checks, settings)
    return verified, status, checks


def round_passed(run: ExecutionResult, hidden: Mapping[str, Any] | None = None) -> bool:
    """A round passes when its run passed (or, with hidden tests, exited 0 without tests of
    its own) and the hidden tests passed (when they ran): the dialogue goes on otherwise."""
    if hidden is None or hidden.get("status") == "rejected":
        return run.passed
    return run.exit_code == 0 and run.status in ("pass", "no_tests") and hidden.get("status") == "pass"


def packages_installed(runs: Iterable[ExecutionResult], last_asked: Sequence[str] = ()) -> list[str]:
    """Every package installed for ``runs`` (a failed install leaves no trace), then
    ``last_asked``, deduplicated in order: the sandbox keeps them all, so a last program may
    rely on one an earlier program asked for."""
    packages: list[str] = []
    installed = (package for run in runs if run.status != "install_error" for package in run.packages)
    for name in [*installed, *last_asked]:
        if name not in packages:
            packages.append(name)
    return packages
