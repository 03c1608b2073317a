"""The curation run: stream a dataset through the filters, copy what is kept, write the report.

See :mod:`aiev_agents.data.curate` for the order of the filters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ...atomic import atomic_writer
from ...clock import utc_now
from ...dialogue.transcript import Transcript
from ...errors import DatasetError
from ...generate.store import DIALOGUES_FILE
from ...jsonl import dumps_line, numbered_records
from ..benchmarks import BenchmarkTask, load_benchmark
from ..multipl_e import described, is_multipl_e, load_multipl_e
from .report import BenchmarkInfo, CurateReport, FilterCount, Removal
from .settings import BenchmarkSources, CurateSettings

if TYPE_CHECKING:
    from .decontam import DecontaminationIndex
    from .dedup import ExactDuplicateIndex, NearDuplicateIndex

logger = logging.getLogger(__name__)

__all__ = ["Curator", "curate_dataset", "dataset_records", "load_benchmarks", "resolve_dataset"]


def resolve_dataset(path: str | Path) -> Path:
    """The JSONL file of a dataset: ``path`` itself, or ``path/dialogues.jsonl`` for a folder.

    Raises:
        DatasetError: Neither exists.
    """
    path = Path(path)
    file = path / DIALOGUES_FILE if path.is_dir() else path
    if not file.is_file():
        raise DatasetError(
            f"no dataset at {path}: expected a JSONL file or a folder holding {DIALOGUES_FILE} "
            "(the --out folder of `aiev generate` or `aiev curate`)"
        )
    return file


def dataset_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Stream ``(line number, record)`` from a dataset; ``record`` is None for a line that is not JSON.

    Raises:
        DatasetError: The dataset is missing or cannot be read.
    """
    return numbered_records(resolve_dataset(path))


def load_benchmarks(
    sources: BenchmarkSources, cache_dir: Path | None = None
) -> tuple[list[BenchmarkTask], list[BenchmarkInfo]]:
    """Load every enabled benchmark; return the tasks and one summary line per benchmark."""
    tasks: list[BenchmarkTask] = []
    infos: list[BenchmarkInfo] = []
    for name, source in sources.enabled().items():
        if is_multipl_e(name):
            loaded = [
                described(task) for task in load_multipl_e(name[len("multipl_e_") :], source, cache_dir=cache_dir)
            ]
        else:
            loaded = load_benchmark(name, source, cache_dir=cache_dir)
        tasks += loaded
        infos.append(BenchmarkInfo(name=name, source=source, tasks=len(loaded)))
        logger.info("loaded %d %s task(s) from %s", len(loaded), name, source)
    return tasks, infos


@dataclass
class _Candidate:
    """A sample under review and what the filters learned about it on the way."""

    line: int
    record: dict[str, Any] | None
    transcript: Transcript | None = None
    exact_key: str = ""
    signature: Any = None

    @property
    def sample(self) -> Transcript:
        if self.transcript is None:  # the first filter sets it; the others run only after it
            raise RuntimeError("the sample was not validated")
        return self.transcript


Step = Callable[[_Candidate], "Removal | None"]


class Curator:
    """Decides, sample by sample, what is kept; remembers the kept samples for deduplication.

    Args:
        settings: Thresholds and switches.
        tasks: Benchmark tasks to decontaminate against (ignored when decontamination is off).

    Raises:
        DatasetError: A filter needs a package that is not installed.
    """

    def __init__(self, settings: CurateSettings, tasks: Iterable[BenchmarkTask] = ()) -> None:
        from .decontam import DecontaminationIndex
        from .dedup import ExactDuplicateIndex, NearDuplicateIndex

        self.settings = settings
        self.read = 0
        self.config_hashes: set[str] = set()
        self._exact = ExactDuplicateIndex() if settings.exact_dedup else None
        self._near = (
            NearDuplicateIndex(settings.near_dup_threshold, settings.num_perm, settings.shingle_size)
            if settings.near_dedup
            else None
        )
        self._steps: list[tuple[str, Step]] = [("valid record", _valid), ("verified", _verified)]
        if settings.decontaminate:
            index = DecontaminationIndex(
                list(tasks), settings.ngram_size, settings.levenshtein_threshold, settings.min_code_overlap
            )
            self._steps.append(("decontamination", partial(_contaminated, index, settings.decontaminate_fields)))
        if self._exact is not None:
            self._steps.append(("exact dedup", partial(_exact_duplicate, self._exact)))
        if self._near is not None:
            self._steps.append(("near dedup", partial(_near_duplicate, self._near)))
        self._passed = dict.fromkeys((name for name, _ in self._steps), 0)

    def review(self, line: int, record: dict[str, Any] | None) -> Removal | None:
        """Judge one record; None means kept (and remembered). Otherwise, why it is removed."""
        self.read += 1
        candidate = _Candidate(line, record)
        for name, step in self._steps:
            removal = step(candidate)
            if removal is not None:
                return removal
            self._passed[name] += 1
        self._keep(candidate)
        return None

    def filter_counts(self) -> list[FilterCount]:
        """Before and after of each filter so far, in order."""
        counts, before = [], self.read
        for name, _ in self._steps:
            counts.append(FilterCount(name=name, before=before, after=self._passed[name]))
            before = self._passed[name]
        return counts

    def _keep(self, candidate: _Candidate) -> None:
        transcript = candidate.sample
        if self._exact is not None:
            self._exact.add(candidate.exact_key, transcript.id)
        if self._near is not None:
            self._near.add(transcript.id, candidate.signature)
        if transcript.config_hash:
            self.config_hashes.add(transcript.config_hash)


# -- the filters: each returns a Removal, or None to pass the sample on -------------------------


def _valid(candidate: _Candidate) -> Removal | None:
    record = candidate.record
    if record is None:
        return _removal(candidate, "invalid", "?", "not a JSON object")
    try:
        candidate.transcript = Transcript.from_dict(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return _removal(candidate, "invalid", str(record.get("id", "?")), f"{where}: {first['msg']}")
    return None


def _verified(candidate: _Candidate) -> Removal | None:
    sample = candidate.sample
    if sample.verified:
        return None
    return _removal(candidate, "not_verified", sample.id, f"last run: {sample.status}")


def _contaminated(index: DecontaminationIndex, fields: Sequence[str], candidate: _Candidate) -> Removal | None:
    sample = candidate.sample
    matches = index.matches(sample.problem, sample.final_program, fields)
    if not matches:
        return None
    tasks = sorted({f"{m.benchmark}:{m.task_id}" for m in matches})
    removal = _removal(candidate, "contaminated", sample.id, ", ".join(tasks))
    removal.matches = matches
    return removal


def _exact_duplicate(index: ExactDuplicateIndex, candidate: _Candidate) -> Removal | None:
    sample = candidate.sample
    candidate.exact_key, first = index.check(sample.problem, sample.final_program)
    if first is None:
        return None
    removal = _removal(candidate, "exact_duplicate", sample.id, f"same problem and code as {first}")
    removal.duplicate_of, removal.similarity = first, 1.0
    return removal


def _near_duplicate(index: NearDuplicateIndex, candidate: _Candidate) -> Removal | None:
    sample = candidate.sample
    candidate.signature = index.signature(f"{sample.problem}\n{sample.final_program}")
    found = index.check(candidate.signature)
    if found is None:
        return None
    removal = _removal(candidate, "near_duplicate", sample.id, f"Jaccard ~{found[1]:.2f} with {found[0]}")
    removal.duplicate_of, removal.similarity = found[0], round(found[1], 4)
    return removal


def _removal(candidate: _Candidate, reason: str, sample_id: str, detail: str) -> Removal:
    return Removal.model_validate({"id": sample_id, "line": candidate.line, "reason": reason, "detail": detail})


def curate_dataset(
    source: str | Path,
    out_dir: str | Path,
    settings: CurateSettings | None = None,
    *,
    overwrite: bool = False,
    tasks: list[BenchmarkTask] | None = None,
) -> CurateReport:
    """Curate a dataset into ``out_dir``: kept records, JSON report and Markdown report.

    Args:
        source: A dataset folder (holding ``dialogues.jsonl``) or a JSONL file.
        out_dir: The folder to write; it must differ from the source's folder.
        settings: Filters and thresholds; default ``CurateSettings()``.
        overwrite: Replace an existing ``out_dir/dialogues.jsonl``.
        tasks: Benchmark tasks to use instead of loading ``settings.benchmarks``.

    Returns:
        The report (also written to ``out_dir``).

    Raises:
        DatasetError: Missing source, output that would overwrite data, unreadable benchmark,
            or a missing optional package.
    """
    settings = settings or CurateSettings()
    started = time.perf_counter()
    source_file = resolve_dataset(source)
    out = Path(out_dir)
    target = out / DIALOGUES_FILE
    _check_output(source_file, target, overwrite)
    infos: list[BenchmarkInfo] = []
    if settings.decontaminate and tasks is None:
        tasks, infos = load_benchmarks(settings.benchmarks, settings.cache_dir)
    curator = Curator(settings, tasks or ())
    removed = _write_kept(curator, source_file, target)
    report = CurateReport(
        created_at=utc_now(),
        source=str(source_file),
        output=str(target),
        input_records=curator.read,
        kept=curator.read - len(removed),
        filters=curator.filter_counts(),
        benchmarks=infos or _infos_from(tasks or []),
        removed=removed,
        config_hashes=sorted(curator.config_hashes),
        settings=settings.model_dump(mode="json"),
        wall_s=round(time.perf_counter() - started, 3),
    )
    report.save(out)
    return report


def _write_kept(curator: Curator, source_file: Path, target: Path) -> list[Removal]:
    target.parent.mkdir(parents=True, exist_ok=True)
    removed: list[Removal] = []
    with atomic_writer(target) as handle:
        for line, record in dataset_records(source_file):
            removal = curator.review(line, record)
            if removal is None:
                handle.write(dumps_line(record))
            else:
                removed.append(removal)
    return removed


def _check_output(source_file: Path, target: Path, overwrite: bool) -> None:
    if target.resolve() == source_file.resolve():
        raise DatasetError(f"--out must differ from the source: {target} is the dataset being curated")
    if target.exists() and not overwrite:
        raise DatasetError(f"{target} already exists; choose another --out or pass --overwrite")


def _infos_from(tasks: list[BenchmarkTask]) -> list[BenchmarkInfo]:
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.benchmark] = counts.get(task.benchmark, 0) + 1
    return [BenchmarkInfo(name=name, source="(given)", tasks=count) for name, count in counts.items()]
