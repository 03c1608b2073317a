"""Benchmark evaluation: HumanEval, HumanEval+ and MBPP, scored in the Docker sandbox.

The steps are modules of their own, each usable alone (as in evalplus):

* load: :func:`load_tasks` (over :mod:`aiev_agents.data.benchmarks`);
* prompt: :func:`build_prompt` (AutoCoder's evaluation prompts);
* sanitize: :func:`sanitize` (a model's reply → the code the tests need);
* execute: :func:`checker_for` → a checker that runs one candidate in a sandbox;
* score: :func:`pass_at_k` (the unbiased estimator).

:class:`Evaluation` ties them together for ``aiev eval``; :mod:`.audit` uses the same checkers
to measure a generate run's ``verified`` against ground truth (``aiev audit``). Nothing here
imports AG2 except
:class:`~aiev_agents.evaluate.model.ModelCandidates` (imported on use).
"""

from __future__ import annotations

from .candidates import Candidate, CandidateSource, CompletionsFile, code_for
from .evaluation import EvalOptions, Evaluation, LoadedBenchmark, SampleResult, build_summary, load_tasks
from .execute import DEFAULT_TIMEOUT_S, Verdict, checker_for, eval_sandbox_settings
from .prompts import build_messages, build_prompt
from .sanitize import extract_code, prune, sanitize
from .score import mean_pass_at_k, pass_at_k

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Candidate",
    "CandidateSource",
    "CompletionsFile",
    "EvalOptions",
    "Evaluation",
    "LoadedBenchmark",
    "SampleResult",
    "Verdict",
    "build_messages",
    "build_prompt",
    "build_summary",
    "checker_for",
    "code_for",
    "eval_sandbox_settings",
    "extract_code",
    "load_tasks",
    "mean_pass_at_k",
    "pass_at_k",
    "prune",
    "sanitize",
]
