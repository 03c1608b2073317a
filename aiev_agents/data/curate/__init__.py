"""Curation of generated samples: keep verified, decontaminated, deduplicated dialogues.

Filters run in this order, each on what the previous one kept: a valid record, verified,
no overlap with a benchmark task, no exact duplicate, no near-duplicate. The first sample
of a duplicate group (in file order) is kept. The source is streamed line by line; the
kept records are copied unchanged to ``OUT/dialogues.jsonl`` (so the result is itself a
dataset folder) and the decisions go to ``OUT/curate_report.json`` and ``.md``.

``datasketch`` and ``rapidfuzz`` are imported only when a filter that needs them is built.

Modules: :mod:`.settings` (the ``curate:`` schema; all ``import aiev_agents.data.curate`` loads),
:mod:`.curator` (the run), :mod:`.report`, :mod:`.decontam`, :mod:`.dedup`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .settings import BenchmarkSources, CurateSettings

if TYPE_CHECKING:
    from .curator import Curator, curate_dataset, dataset_records, load_benchmarks, resolve_dataset
    from .report import REPORT_JSON, CurateReport, Match, Removal, load_report

__all__ = [
    "BenchmarkSources",
    "CurateReport",
    "CurateSettings",
    "Curator",
    "REPORT_JSON",
    "Match",
    "Removal",
    "curate_dataset",
    "dataset_records",
    "load_benchmarks",
    "load_report",
    "resolve_dataset",
]

_LAZY = {
    "Curator": "curator",
    "curate_dataset": "curator",
    "dataset_records": "curator",
    "load_benchmarks": "curator",
    "resolve_dataset": "curator",
    "CurateReport": "report",
    "REPORT_JSON": "report",
    "Match": "report",
    "Removal": "report",
    "load_report": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
