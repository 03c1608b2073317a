"""Benchmark decontamination: does a sample overlap a HumanEval, HumanEval+ or MBPP task?

Two tests, each on the sample's problem text and on its final program:

* **n-gram overlap**: the sample shares a word n-gram (default 10 words) with a task's
  prompt, or holds at least half (``min_code_overlap``) of the n-grams of its reference
  code. Benchmark n-grams are indexed once in a dict keyed by the n-gram's hash, so a
  sample costs one lookup per n-gram of its own.
* **Levenshtein similarity** (the AutoCoder paper's rule): normalised similarity at or
  above a threshold (default 0.9) between the sample's problem and a task's prompt, or the
  sample's program and a task's reference code. Since similarity can not exceed
  ``min(len) / max(len)``, only tasks of compatible length (found by bisection over the
  sorted lengths) are scored, with ``rapidfuzz`` and a score cutoff.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import DatasetError
from ..benchmarks import BenchmarkTask
from .dedup import word_tokens
from .report import BenchmarkField, Match, MatchMethod, SampleField

_SPACE = re.compile(r"\s+")
EVIDENCE_CHARS = 160


def squeeze(text: str) -> str:
    """Whitespace runs made one space: layout must not decide a Levenshtein match."""
    return _SPACE.sub(" ", text).strip()


def ngrams(text: str, size: int) -> list[tuple[str, ...]]:
    """The word n-grams of ``text`` (lower-case word tokens), in order."""
    tokens = word_tokens(text)
    return [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


@dataclass(frozen=True)
class _Text:
    """One benchmark text of one kind (prompt or code), ready for length-bounded scoring."""

    length: int
    text: str
    task: int


class _LengthSortedTexts:
    """Benchmark texts sorted by length, so a query scores only compatible lengths."""

    def __init__(self, texts: Iterable[_Text]) -> None:
        self._items = sorted((t for t in texts if t.length), key=lambda t: t.length)
        self._lengths = [t.length for t in self._items]
        self._strings = [t.text for t in self._items]

    def candidates(self, length: int, threshold: float) -> tuple[int, int]:
        low = bisect.bisect_left(self._lengths, math.ceil(length * threshold))
        high = bisect.bisect_right(self._lengths, math.floor(length / threshold))
        return low, high

    def matches(self, query: str, threshold: float, process: Any, scorer: Any) -> list[tuple[int, float]]:
        """(task index, similarity) of every text at or above ``threshold``."""
        low, high = self.candidates(len(query), threshold)
        if low >= high:
            return []
        found = process.extract(query, self._strings[low:high], scorer=scorer, score_cutoff=threshold, limit=None)
        return [(self._items[low + position].task, float(score)) for _, score, position in found]


class DecontaminationIndex:
    """Every n-gram and text of a set of benchmark tasks, for fast overlap checks.

    N-gram rules: one shared n-gram with a task's *prompt* flags a sample; for a task's
    reference *code*, at least ``min_code_overlap`` of its n-grams must appear in the sample,
    because single n-grams of short solutions are common idioms (a prime test's loop).

    Args:
        tasks: The benchmark tasks to protect.
        ngram_size: Words per n-gram.
        levenshtein_threshold: Normalised Levenshtein similarity that counts as a match.
        min_code_overlap: Share of a reference solution's n-grams that flags a sample (0: any).

    Raises:
        DatasetError: ``rapidfuzz`` is not installed (the message gives the install command).
    """

    def __init__(
        self,
        tasks: Sequence[BenchmarkTask],
        ngram_size: int = 10,
        levenshtein_threshold: float = 0.9,
        min_code_overlap: float = 0.5,
    ) -> None:
        self._process, self._scorer = _import_rapidfuzz()
        self.tasks = list(tasks)
        self.ngram_size = ngram_size
        self.threshold = levenshtein_threshold
        self.min_code_overlap = min_code_overlap
        self._ngrams: dict[int, list[tuple[int, BenchmarkField]]] = {}
        self._totals: dict[tuple[int, BenchmarkField], int] = {}
        for index, task in enumerate(self.tasks):
            self._index_ngrams(index, "prompt", task.prompt)
            self._index_ngrams(index, "code", task.code)
        self._prompts = _LengthSortedTexts(self._texts(lambda t: t.prompt))
        self._codes = _LengthSortedTexts(self._texts(lambda t: t.code))

    @property
    def ngram_count(self) -> int:
        """Distinct benchmark n-grams indexed."""
        return len(self._ngrams)

    def matches(self, problem: str, code: str, fields: Iterable[str] = ("problem", "code")) -> list[Match]:
        """Every benchmark task the sample overlaps: the best match per task, method and field.

        Args:
            problem: The sample's problem statement.
            code: The sample's final program.
            fields: Which of the two to check (``problem``, ``code``).

        Returns:
            The matches, sorted; empty when the sample is clean.
        """
        wanted = set(fields)
        found: list[Match] = []
        if "problem" in wanted and problem.strip():
            found += self._ngram_matches("problem", problem)
            found += self._levenshtein_matches("problem", problem, self._prompts, "prompt")
        if "code" in wanted and code.strip():
            found += self._ngram_matches("code", code)
            found += self._levenshtein_matches("code", code, self._codes, "code")
        return _best_per_task(found)

    def _index_ngrams(self, index: int, kind: BenchmarkField, text: str) -> None:
        grams = set(ngrams(text, self.ngram_size))
        self._totals[(index, kind)] = len(grams)
        for gram in grams:
            self._ngrams.setdefault(hash(gram), []).append((index, kind))

    def _texts(self, pick: Any) -> list[_Text]:
        return [_Text(len(s), s, i) for i, s in ((i, squeeze(pick(t))) for i, t in enumerate(self.tasks))]

    def _ngram_matches(self, field: SampleField, text: str) -> list[Match]:
        shared: dict[tuple[int, BenchmarkField], list[Any]] = {}
        for gram in dict.fromkeys(ngrams(text, self.ngram_size)):
            for key in self._ngrams.get(hash(gram), ()):
                entry = shared.setdefault(key, [0, gram])
                entry[0] += 1
        found = []
        for (task, kind), (count, first) in shared.items():
            overlap = count / self._totals[(task, kind)]
            if kind == "code" and overlap < self.min_code_overlap:
                continue
            found.append(self._match(task, "ngram", field, kind, round(overlap, 4), " ".join(first), count))
        return found

    def _levenshtein_matches(
        self, field: SampleField, text: str, texts: _LengthSortedTexts, kind: BenchmarkField
    ) -> list[Match]:
        query = squeeze(text)
        return [
            self._match(task, "levenshtein", field, kind, round(score, 4), query)
            for task, score in texts.matches(query, self.threshold, self._process, self._scorer)
        ]

    def _match(
        self,
        task: int,
        method: MatchMethod,
        field: SampleField,
        kind: BenchmarkField,
        score: float,
        evidence: str,
        shared: int = 0,
    ) -> Match:
        item = self.tasks[task]
        return Match(
            benchmark=item.benchmark,
            task_id=item.task_id,
            method=method,
            field=field,
            benchmark_field=kind,
            score=score,
            shared_ngrams=shared,
            evidence=evidence[:EVIDENCE_CHARS],
        )


def _best_per_task(found: list[Match]) -> list[Match]:
    best: dict[tuple[str, str, str, str], Match] = {}
    for match in found:
        key = (match.benchmark, match.task_id, match.method, match.field)
        if key not in best or match.score > best[key].score:
            best[key] = match
    return sorted(best.values(), key=lambda m: (m.benchmark, m.task_id, m.method, m.field))


def _import_rapidfuzz() -> tuple[Any, Any]:
    try:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
    except ImportError as exc:
        raise DatasetError(
            "decontamination needs rapidfuzz: pip install 'aiev-agents[curate]' (or set curate.decontaminate: false)"
        ) from exc
    return process, Levenshtein.normalized_similarity
