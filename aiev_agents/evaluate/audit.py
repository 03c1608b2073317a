"""Audit a run against a benchmark: how often is a dialogue's ``verified`` actually correct?

A run whose seeds are benchmark problems (``aiev seeds benchmark`` writes them) can be
checked against ground truth: each record's final program, its own test code removed
(:func:`~aiev_agents.sandbox.guest.testcode.solution_only`), runs against the benchmark's own
tests in the sandbox, exactly as ``aiev eval`` scores a sample (HumanEval+'s base and plus
inputs, MBPP's assertions), after its ``final_packages`` are installed. Set beside the
record's ``verified``, that gives the verifier's precision (verified and correct / verified),
recall (verified and correct / correct) and false-verified rate (verified and wrong /
wrong).

A record maps to a task by its seed's ``task_id``, else the seed's ``id``, else the record's
``id`` (the first that names a task of the benchmark; MBPP's bare integer ids count as
``Mbpp/N``). Records that name no task are ``unmatched``, records without a final program
``no_program``; records whose ground truth cannot be computed (a refused or failed package
install, a reference solution that fails in the sandbox) are ``unlabelled``. Only labelled
records enter the rates.

:func:`audit` writes ``audit.json`` and ``audit.md`` into the run folder, atomically. No AG2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..atomic import write_output
from ..clock import utc_now
from ..data.benchmark_seeds import benchmark_seeds, write_benchmark_seeds
from ..data.benchmarks import BenchmarkTask
from ..errors import DatasetError
from ..jsonl import numbered_records
from ..sandbox.guest.testcode import solution_only
from ..sandbox.settings import SandboxSettings
from .audit_report import render_markdown, render_summary, summarize
from .evaluation import LoadedBenchmark, load_tasks
from .execute import DEFAULT_TIMEOUT_S, Checker, checker_for, eval_sandbox_settings
from .humaneval_plus import default_oracle_cache_dir

__all__ = [
    "AUDIT_JSON",
    "AUDIT_MARKDOWN",
    "AuditRow",
    "audit",
    "benchmark_seeds",
    "label",
    "plan",
    "render_markdown",
    "render_summary",
    "summarize",
    "task_of",
    "write_benchmark_seeds",
]

AUDIT_SCHEMA = 1
AUDIT_JSON = "audit.json"
AUDIT_MARKDOWN = "audit.md"
DIALOGUES_FILE = "dialogues.jsonl"
#: Ground truths that label a record: the benchmark's tests ran on its solution.
CORRECT, WRONG = "pass", ("fail", "timeout", "no_tests", "no_code")
_DISPLAY_NAMES = {"humaneval_plus": "humaneval+"}
_ERROR_CHARS = 300


@dataclass
class AuditRow:
    """One record of the run and its ground truth.

    Attributes:
        id: The record's id.
        line: Its line in ``dialogues.jsonl``.
        task_id: The benchmark task it maps to; None when unmatched.
        verified: The record's ``verified``.
        status: The record's ``status``.
        correct: Whether its solution passes the benchmark's tests; None when not labelled.
        ground_truth: ``pass``, ``fail``, ``timeout``, ``no_tests`` (labelled); ``unmatched``,
            ``no_program``, ``install_error``, ``error`` (not labelled).
        error: Why the ground truth is not ``pass`` (the failing input, the exception line...).
    """

    id: str
    line: int
    task_id: str | None
    verified: bool
    status: str
    correct: bool | None = None
    ground_truth: str = ""
    error: str = ""


@dataclass
class _Job:
    row: AuditRow
    task: BenchmarkTask
    code: str
    packages: list[str]


def audit(
    run_dir: str | Path,
    benchmark: str,
    source: str | Path | None = None,
    settings: SandboxSettings | None = None,
    *,
    workers: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    oracle_cache_dir: Path | Literal["default"] | None = "default",
    on_row: Callable[[AuditRow, int, int], None] | None = None,
) -> dict[str, Any]:
    """Label every record of a run by the benchmark's tests; write ``audit.json`` and ``audit.md``.

    Args:
        run_dir: The ``--out`` folder of ``aiev generate`` (``dialogues.jsonl`` inside).
        benchmark: ``humaneval+`` (or ``humaneval_plus``), ``mbpp`` or ``humaneval``.
        source: The benchmark file (path or URL); default the public one (see :func:`load_tasks`).
        settings: The sandbox; made fit for scoring by ``eval_sandbox_settings``. Default ``SandboxSettings()``.
        workers: Programs checked at once, one sandbox each.
        timeout_s: Seconds per program (HumanEval+ adds 4x the reference's time).
        oracle_cache_dir: HumanEval+'s expected outputs: ``"default"`` is the folder ``aiev eval``
            uses, None recomputes them.
        on_row: Called with (row, done, total) as each program's check ends (progress).

    Returns:
        The audit (what ``audit.json`` holds).

    Raises:
        DatasetError: No ``dialogues.jsonl``, an unknown benchmark, an unreadable source, or
            the files cannot be written.
        SandboxUnavailable: Docker or the image cannot be used.
    """
    started, started_at = time.perf_counter(), utc_now()
    folder = Path(run_dir)
    dataset = _dialogues_file(folder)
    loaded = load_tasks(benchmark, source)
    rows, jobs, invalid = plan(dataset, {task.task_id: task for task in loaded.tasks})
    scoring = eval_sandbox_settings(settings or SandboxSettings(), timeout_s)
    if jobs:
        cache = default_oracle_cache_dir() if oracle_cache_dir == "default" else oracle_cache_dir
        checker = checker_for(loaded.name, timeout_s=timeout_s, cache_dir=cache, image=scoring.image)
        label(jobs, checker, scoring, workers, on_row)
    result = {
        **_audit_record(folder, loaded, scoring.image, timeout_s, rows, invalid),
        "started_at": started_at,
        "wall_s": round(time.perf_counter() - started, 3),
    }
    write_output(folder / AUDIT_JSON, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    write_output(folder / AUDIT_MARKDOWN, render_markdown(result))
    return result


def _dialogues_file(folder: Path) -> Path:
    dataset = folder / DIALOGUES_FILE
    if not dataset.is_file():
        raise DatasetError(f"no {DIALOGUES_FILE} in {folder}: give the --out folder of `aiev generate`")
    return dataset


def _audit_record(
    folder: Path, loaded: LoadedBenchmark, image: str, timeout_s: float, rows: list[AuditRow], invalid: int
) -> dict[str, Any]:
    """What ``audit.json`` holds but its times."""
    return {
        "schema": AUDIT_SCHEMA,
        "kind": "aiev-audit",
        "run_dir": str(folder),
        "benchmark": _DISPLAY_NAMES.get(loaded.name, loaded.name),
        "dataset_source": loaded.source,
        "dataset_hash": loaded.dataset_hash,
        "sandbox_image": image,
        "timeout_s": timeout_s,
        **summarize(rows, invalid),
        "rows": [asdict(row) for row in rows],
    }


def task_of(record: dict[str, Any], tasks: dict[str, Any]) -> str | None:
    """The task id a record maps to: its seed's ``task_id``, else the seed's ``id``, else its ``id``.

    The first of those that names a task in ``tasks`` wins; None when none does.
    """
    seed = record.get("seed") if isinstance(record.get("seed"), dict) else {}
    for key in (seed.get("task_id"), seed.get("id"), record.get("id")):
        for spelling in _spellings(key):
            if spelling in tasks:
                return spelling
    return None


def _spellings(key: Any) -> list[str]:
    if key is None or isinstance(key, bool):
        return []
    text = str(key).strip()
    if not text:
        return []
    return [text, f"Mbpp/{text}"] if text.isdigit() else [text]


def plan(dataset: Path, tasks: dict[str, BenchmarkTask]) -> tuple[list[AuditRow], list[_Job], int]:
    """Read the run: a row per record, a sandbox job per matched record with a program, and
    the number of lines that are no record (not JSON, not an object, no ``id``).

    Raises:
        DatasetError: The file cannot be read.
    """
    rows: list[AuditRow] = []
    jobs: list[_Job] = []
    invalid = 0
    for line_no, record in _records(dataset):
        if record is None:
            invalid += 1
            continue
        row = AuditRow(
            id=str(record["id"]),
            line=line_no,
            task_id=task_of(record, tasks),
            verified=record.get("verified") is True,
            status=str(record.get("status") or ""),
        )
        rows.append(row)
        program = record.get("final_program")
        if row.task_id is None:
            row.ground_truth = "unmatched"
        elif not isinstance(program, str) or not program.strip():
            row.ground_truth = "no_program"
        else:
            packages = [str(package) for package in record.get("final_packages") or []]
            jobs.append(_Job(row, tasks[row.task_id], solution_only(program), packages))
    return rows, jobs, invalid


def _records(dataset: Path) -> Iterable[tuple[int, dict[str, Any] | None]]:
    for line_no, record in numbered_records(dataset, warn=False):
        yield line_no, record if record is not None and record.get("id") not in (None, "") else None


def label(
    jobs: Sequence[_Job],
    checker: Checker,
    settings: SandboxSettings,
    workers: int,
    on_row: Callable[[AuditRow, int, int], None] | None = None,
) -> None:
    """Run every job's code against its task's tests, ``workers`` sandboxes at once; fill its row.

    Raises:
        SandboxUnavailable: Docker or the image cannot be used.
    """
    from ..sandbox.pool import SandboxPool

    size = max(1, min(workers, len(jobs)))
    with SandboxPool(settings, size=size) as pool:
        checker.prepare(list({job.task.task_id: job.task for job in jobs}.values()), pool, size)
        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="aiev-audit") as threads:
            futures = {threads.submit(_check, pool, checker, job): job for job in jobs}
            for done, future in enumerate(as_completed(futures), start=1):
                job = futures[future]
                job.row.ground_truth, job.row.error = future.result()
                job.row.correct = _correct(job.row.ground_truth)
                if on_row is not None:
                    on_row(job.row, done, len(jobs))


def _check(pool: Any, checker: Checker, job: _Job) -> tuple[str, str]:
    with pool.session() as sandbox:
        if job.packages:
            try:
                outcome = sandbox.install(job.packages)
            except ValueError as exc:  # a requirement the sandbox refuses, such as "-e ."
                return "install_error", str(exc)[:_ERROR_CHARS]
            if not outcome.ok:
                lines = outcome.output.strip().splitlines()
                return "install_error", (lines[-1] if lines else f"pip exited {outcome.exit_code}")[:_ERROR_CHARS]
        verdict = checker.check(sandbox, job.task, job.code)
    return verdict.status, verdict.error


def _correct(ground_truth: str) -> bool | None:
    if ground_truth == CORRECT:
        return True
    return False if ground_truth in WRONG else None
