"""Data: what is done with generated records, never with agents.

Modules: :mod:`.sources` (where benchmark datasets come from), :mod:`.benchmarks` (HumanEval(+),
MBPP), :mod:`.curate` (verified, decontaminated, deduplicated), :mod:`.export` (training formats
and cards), :mod:`.reverify` (re-run stored samples), :mod:`.audit` (label a run against a benchmark; its
numbers and Markdown in :mod:`.audit_report`), :mod:`.benchmark_seeds` (benchmark tasks as seeds).
"""
