"""Benchmark tasks as problem seeds (``aiev seeds benchmark``): a run of them can be audited.

Each seed keeps its task's ``benchmark`` and ``task_id``; they travel into every record's
``seed``, which is how :func:`~aiev_agents.evaluate.audit.audit` finds the task again.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..atomic import write_atomic
from ..errors import SeedError
from ..jsonl import dumps_line
from .benchmarks import BenchmarkTask, problem_statement


def benchmark_seeds(tasks: Iterable[BenchmarkTask]) -> list[dict[str, str]]:
    """One problem seed per task: ``id`` and ``task_id`` the task's id, ``problem`` its statement.

    ``benchmark`` is the loader's name (``humaneval``, ``humaneval_plus`` or ``mbpp``); both
    ``benchmark`` and ``task_id`` travel into each record's ``seed``, which is how
    :func:`~aiev_agents.evaluate.audit.audit` finds the task again.
    """
    return [
        {"id": task.task_id, "problem": problem_statement(task), "benchmark": task.benchmark, "task_id": task.task_id}
        for task in tasks
    ]


def write_benchmark_seeds(tasks: Iterable[BenchmarkTask], out: str | Path) -> int:
    """Write :func:`benchmark_seeds` as JSONL, atomically; return how many lines were written.

    Raises:
        SeedError: The file cannot be written.
    """
    path = Path(out)
    seeds = benchmark_seeds(tasks)
    text = "".join(dumps_line(seed) for seed in seeds)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    except OSError as exc:
        raise SeedError(f"cannot write seeds file {path}: {exc.strerror or exc}; check the path") from exc
    return len(seeds)
