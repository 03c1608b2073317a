"""Decontamination knows MultiPL-E's prompts when `curate.benchmarks` names their files."""

from __future__ import annotations

from pathlib import Path

from aiev_agents.data.curate.curator import load_benchmarks
from aiev_agents.data.curate.decontam import DecontaminationIndex
from aiev_agents.data.curate.settings import BenchmarkSources

TINY = Path(__file__).parent / "data" / "multipl_e"


def sources(**multipl_e: str) -> BenchmarkSources:
    return BenchmarkSources(humaneval=None, humaneval_plus=None, mbpp=None, **multipl_e)


def test_multipl_e_files_load_as_benchmarks_to_decontaminate_against():
    tasks, infos = load_benchmarks(sources(multipl_e_rs=str(TINY / "humaneval-rs-tiny.jsonl")))
    assert [task.task_id for task in tasks] == ["HumanEval_900_add", "HumanEval_901_is_palindrome"]
    assert [(info.name, info.tasks) for info in infos] == [("multipl_e_rs", 2)]


def test_a_sample_that_copies_a_multipl_e_prompt_is_flagged():
    tasks, _ = load_benchmarks(sources(multipl_e_java=str(TINY / "humaneval-java-tiny.jsonl")))
    index = DecontaminationIndex(tasks)
    copied = tasks[1].prompt  # its doc comment and signature: the imports every Java prompt repeats are left out
    assert {match.task_id for match in index.matches(copied, "")} == {"HumanEval_901_is_palindrome"}
    assert index.matches("Write a function that multiplies two matrices of floats.", "") == []


def test_multipl_e_sources_are_off_unless_named():
    assert not [name for name in BenchmarkSources().enabled() if name.startswith("multipl_e")]
