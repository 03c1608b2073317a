"""The curate report: what was removed and why, as JSON (a versioned record) and Markdown."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...atomic import write_atomic as _write_atomically
from ...errors import DatasetError

REPORT_SCHEMA_VERSION = 1
REPORT_JSON = "curate_report.json"
REPORT_MARKDOWN = "curate_report.md"
MARKDOWN_ROWS = 200

RemovalReason = Literal["invalid", "not_verified", "contaminated", "exact_duplicate", "near_duplicate"]
MatchMethod = Literal["ngram", "levenshtein"]
SampleField = Literal["problem", "code"]
BenchmarkField = Literal["prompt", "code"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Record):
    """One overlap between a sample and a benchmark task.

    ``score`` is the Levenshtein similarity, or for ``ngram`` the share of the benchmark
    text's n-grams found in the sample; ``evidence`` is the first shared n-gram, or the
    start of the sample's text.
    """

    benchmark: str
    task_id: str
    method: MatchMethod
    field: SampleField
    benchmark_field: BenchmarkField
    score: float
    shared_ngrams: int = 0
    evidence: str = ""


class Removal(_Record):
    """One sample left out of the curated set."""

    id: str
    line: int = Field(description="Line of the sample in the source file (1-based).")
    reason: RemovalReason
    detail: str = ""
    duplicate_of: str | None = None
    similarity: float | None = None
    matches: list[Match] = Field(default_factory=list)


class FilterCount(_Record):
    """Samples before and after one filter, in the order the filters run."""

    name: str
    before: int
    after: int

    @property
    def removed(self) -> int:
        return self.before - self.after


class BenchmarkInfo(_Record):
    name: str
    source: str
    tasks: int


class CurateReport(_Record):
    """Everything ``aiev curate`` decided about one dataset."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(REPORT_SCHEMA_VERSION, alias="schema")
    kind: Literal["aiev-curate-report"] = "aiev-curate-report"
    created_at: str
    source: str
    output: str
    input_records: int
    kept: int
    filters: list[FilterCount]
    benchmarks: list[BenchmarkInfo] = Field(default_factory=list)
    removed: list[Removal] = Field(default_factory=list)
    config_hashes: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    wall_s: float = 0.0

    def removed_by_reason(self) -> dict[str, int]:
        """Reason → number of samples removed for it."""
        return dict(Counter(removal.reason for removal in self.removed))

    def contamination(self) -> dict[str, dict[str, int]]:
        """Benchmark → task id → number of removed samples that matched it."""
        summary: dict[str, Counter[str]] = {}
        for removal in self.removed:
            for task in {(m.benchmark, m.task_id) for m in removal.matches}:
                summary.setdefault(task[0], Counter())[task[1]] += 1
        return {name: dict(sorted(tasks.items())) for name, tasks in sorted(summary.items())}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def save(self, folder: Path) -> tuple[Path, Path]:
        """Write ``curate_report.json`` and ``curate_report.md`` into ``folder``; return both paths."""
        folder.mkdir(parents=True, exist_ok=True)
        json_path, markdown_path = folder / REPORT_JSON, folder / REPORT_MARKDOWN
        _write_atomically(json_path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")
        _write_atomically(markdown_path, render_markdown(self))
        return json_path, markdown_path


def load_report(path: Path) -> CurateReport:
    """Read a ``curate_report.json``.

    Raises:
        DatasetError: The file is missing, not JSON, or not a curate report of a known schema.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return CurateReport.model_validate(data)
    except (OSError, ValueError, ValidationError) as exc:
        raise DatasetError(f"{path} is not a readable curate report ({exc}); run `aiev curate` again") from exc


def render_markdown(report: CurateReport) -> str:
    """The report for people: counts per filter, then contaminated and duplicate samples."""
    lines = [
        "# Curate report",
        "",
        f"Source `{report.source}` → `{report.output}`: {report.input_records} record(s) read, "
        f"{report.kept} kept ({report.wall_s:.1f} s, {report.created_at}).",
        "",
        "| filter | before | after | removed |",
        "|---|---:|---:|---:|",
        *(f"| {f.name} | {f.before} | {f.after} | {f.removed} |" for f in report.filters),
        "",
    ]
    if report.benchmarks:
        lines += ["## Benchmarks", "", "| benchmark | tasks | source |", "|---|---:|---|"]
        lines += [f"| {b.name} | {b.tasks} | `{b.source}` |" for b in report.benchmarks]
        lines.append("")
    lines += _contaminated_section(report)
    lines += _duplicates_section(report)
    return "\n".join(lines).rstrip() + "\n"


def _contaminated_section(report: CurateReport) -> list[str]:
    rows = [r for r in report.removed if r.reason == "contaminated"]
    if not rows:
        return ["## Contamination", "", "No sample overlaps a benchmark task.", ""]
    lines = [
        "## Contamination",
        "",
        "| sample | benchmark | task | method | sample field | benchmark field | score |",
        "|---|---|---|---|---|---|---:|",
    ]
    for removal in rows[:MARKDOWN_ROWS]:
        for m in removal.matches:
            lines.append(
                f"| {_cell(removal.id)} | {m.benchmark} | {m.task_id} | {m.method} | {m.field} "
                f"| {m.benchmark_field} | {m.score:g} |"
            )
    return lines + _more(len(rows)) + [""]


def _duplicates_section(report: CurateReport) -> list[str]:
    rows = [r for r in report.removed if r.reason in ("exact_duplicate", "near_duplicate")]
    if not rows:
        return ["## Duplicates", "", "No duplicates.", ""]
    lines = ["## Duplicates", "", "| sample | kind | duplicate of | similarity |", "|---|---|---|---:|"]
    for removal in rows[:MARKDOWN_ROWS]:
        similarity = "" if removal.similarity is None else f"{removal.similarity:.3f}"
        lines.append(f"| {_cell(removal.id)} | {removal.reason} | {_cell(removal.duplicate_of or '')} | {similarity} |")
    return lines + _more(len(rows)) + [""]


def _more(count: int) -> list[str]:
    return ["", f"… and {count - MARKDOWN_ROWS} more in {REPORT_JSON}."] if count > MARKDOWN_ROWS else []


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
