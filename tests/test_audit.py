"""`aiev audit` and `aiev seeds benchmark`: a run's `verified` checked against HumanEval+'s own tests."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.cli import main
from aiev_agents.data.benchmarks import BenchmarkTask, load_benchmark, problem_statement
from aiev_agents.data.multipl_e import load_multipl_e
from aiev_agents.dialogue.conversation import _task_message
from aiev_agents.evaluate.audit import AUDIT_JSON, AUDIT_MARKDOWN, AuditRow, audit, render_markdown, summarize, task_of
from aiev_agents.roles.programmer import ProgrammerAgent
from aiev_agents.sandbox.settings import SandboxSettings

import transcripts as t
from helpers import HUMANEVAL_PLUS_SUBSET, write_config

ROOT = Path(__file__).resolve().parents[1]
TASKS = {task.task_id: task for task in load_benchmark("humaneval_plus", HUMANEVAL_PLUS_SUBSET)}
#: The audit's benchmark: HumanEval+, its tasks read from the shipped subset.
BENCHMARK = ["--benchmark", "humaneval+", "--source", str(HUMANEVAL_PLUS_SUBSET)]

FIB = (
    "def fib(n: int):\n"
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n\n\n"
    "assert fib(0) == 0\nassert fib(1) == 1\nassert fib(10) == 55\n"
)
FIB_OFF_BY_ONE = (  # starts at 1, 1: fails its own first test and the benchmark's
    "def fib(n: int):\n"
    "    a, b = 1, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n\n\n"
    "assert fib(0) == 0\nassert fib(10) == 55\n"
)
SUM_RIGHT = (
    "def sum_to_n(n: int):\n    return n * (n + 1) // 2\n\n\nassert sum_to_n(5) == 15\nassert sum_to_n(1) == 1\n"
)
SUM_EXCLUSIVE = (  # wrong (1..n-1), and its own tests agree with it: verified, yet wrong
    "def sum_to_n(n: int):\n    return sum(range(n))\n\n\nassert sum_to_n(1) == 0\nassert sum_to_n(5) == 10\n"
)
CARS_BAD_TEST = (  # right solution, wrong expectation in its test
    "def car_race_collision(n: int):\n    return n * n\n\n\nassert car_race_collision(2) == 2\n"
)
CARS_SLOW_TEST = (  # right solution, a test that sleeps past the limit
    "import time\n\n\n"
    "def car_race_collision(n: int):\n    return n ** 2\n\n\n"
    "def test_collisions():\n    time.sleep(60)\n    assert car_race_collision(3) == 9\n\n\n"
    "test_collisions()\n"
)
ASSERTION_ERROR = (
    'Traceback (most recent call last):\n  File "/workspace/main.py", line 8, in <module>\nAssertionError\n'
)
TIMED_OUT = "Timed out after 30 s; the program was stopped."


def seed(record_id: str, task_id: str | None) -> dict[str, Any]:
    """A seed as `aiev seeds benchmark` writes it (task_id None: a seed with no task_id)."""
    data: dict[str, Any] = {"id": record_id, "problem": "(the task's statement)"}
    if task_id is not None:
        data.update(benchmark="humaneval_plus", task_id=task_id)
    return data


def record(record_id: str, task_id: str | None, program: str, result: Any) -> dict[str, Any]:
    key = task_id or record_id
    problem = problem_statement(TASKS[key]) if key in TASKS else t.ADD_PROBLEM
    transcript = t.build(record_id, problem, [(t.python_answer(program), result)], seed=seed(record_id, task_id))
    return transcript.to_dict()


def run_records() -> list[Any]:
    """Nine records and a broken line of a run seeded with HumanEval/41, /55 and /60."""
    install_refused = record("he55-install", "HumanEval/55", FIB, t.passed("", 3))
    install_refused["final_packages"] = ["-e ."]  # not a plain requirement: the sandbox refuses it
    no_code = t.build(
        "he41-nocode",
        problem_statement(TASKS["HumanEval/41"]),
        [("I need more details about the cars.", t.failed("no Python code block in the reply", 0, "no_code"))],
        seed=seed("he41-nocode", "HumanEval/41"),
    ).to_dict()
    return [
        record("he55-a", "HumanEval/55", FIB, t.passed("", 3)),  # verified, correct
        record("he60-a", "HumanEval/60", SUM_EXCLUSIVE, t.passed("", 2)),  # verified, wrong
        record("HumanEval/60", None, SUM_RIGHT, t.passed("", 2)),  # verified, correct; task from the seed id
        record("he41-a", "HumanEval/41", CARS_BAD_TEST, t.failed(ASSERTION_ERROR, assertions=0)),  # correct
        record("he41-b", "HumanEval/41", CARS_SLOW_TEST, t.failed(TIMED_OUT, 124, "timeout")),  # correct
        record("he55-b", "HumanEval/55", FIB_OFF_BY_ONE, t.failed(ASSERTION_ERROR)),  # not verified, wrong
        record("snippet-7", None, t.ADD_PROGRAM, t.passed("all tests passed\n", 2)),  # unmatched
        no_code,  # no final program
        install_refused,  # not labelled
        "{this line is not JSON",
    ]


# -- pure logic ------------------------------------------------------------------------------------


def test_a_record_maps_by_seed_task_id_then_seed_id_then_record_id() -> None:
    tasks = {"HumanEval/1": 1, "HumanEval/2": 2, "Mbpp/12": 12}
    assert task_of({"id": "x", "seed": {"id": "HumanEval/2", "task_id": "HumanEval/1"}}, tasks) == "HumanEval/1"
    assert task_of({"id": "x", "seed": {"id": "HumanEval/2", "task_id": "gone"}}, tasks) == "HumanEval/2"
    assert task_of({"id": "HumanEval/1", "seed": {"id": "s"}}, tasks) == "HumanEval/1"
    assert task_of({"id": "HumanEval/1"}, tasks) == "HumanEval/1"
    assert task_of({"id": "r", "seed": {"id": 12}}, tasks) == "Mbpp/12"  # MBPP's integer ids
    assert task_of({"id": "r", "seed": {"id": "s", "task_id": None}}, tasks) is None


def test_rates_count_labelled_records_only_and_are_none_when_undefined() -> None:
    def row(verified: bool, correct: bool | None, status: str = "pass", truth: str = "pass") -> AuditRow:
        return AuditRow(
            id="r", line=1, task_id="T", verified=verified, status=status, correct=correct, ground_truth=truth
        )

    rows = [
        row(True, True),
        row(True, False, truth="fail"),
        row(False, True, "fail"),
        row(True, None, truth="install_error"),
        AuditRow(id="u", line=2, task_id=None, verified=True, status="pass", ground_truth="unmatched"),
    ]
    summary = summarize(rows, invalid=2)
    assert summary["records"] == 5 and summary["invalid"] == 2
    assert [summary[key] for key in ("labelled", "correct", "verified", "verified_and_correct")] == [3, 2, 2, 1]
    assert (summary["unmatched"], summary["unlabelled"], summary["no_program"]) == (1, 1, 0)
    assert summary["precision"] == 0.5 and summary["recall"] == 0.5 and summary["false_verified_rate"] == 1.0
    assert summary["by_status"] == {"fail": {"count": 1, "correct": 1}, "pass": {"count": 2, "correct": 1}}
    empty = summarize([])
    assert empty["precision"] is None and empty["recall"] is None and empty["false_verified_rate"] is None


def test_problem_statement_of_humaneval_and_mbpp() -> None:
    fib = problem_statement(TASKS["HumanEval/55"])
    assert fib.startswith("Implement the Python function `fib` as its signature and docstring describe:\n\n```python\n")
    assert "def fib(n: int):" in fib and fib.endswith("\n```")
    mbpp = BenchmarkTask(
        benchmark="mbpp",
        task_id="Mbpp/2",
        prompt="Write a function to find the shared elements from the given two lists.",
        solution="",
        entry_point="similar_elements",
        test="",
        test_list=("assert set(similar_elements((3, 4), (4, 5))) == set((4,))",),
    )
    assert problem_statement(mbpp) == (
        "Write a function to find the shared elements from the given two lists.\n\n"
        "The function is used like this: `assert set(similar_elements((3, 4), (4, 5))) == set((4,))`"
    )


def _verifier_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("verifier_corpus", ROOT / "benchmarks" / "verifier_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verifier_corpus_uses_the_package_problem_statement() -> None:
    module = _verifier_corpus()
    assert module.problem_statement is problem_statement
    task = next(iter(TASKS.values()))
    assert module.task_turn(task) == ProgrammerAgent.task_message(problem_statement(task))


def test_verifier_corpus_asks_for_a_multipl_e_problem_as_a_dialogue_in_its_language_would() -> None:
    task = load_multipl_e("js", ROOT / "tests" / "data" / "multipl_e" / "humaneval-js-tiny.jsonl")[0]
    turn = _verifier_corpus().task_turn(task)
    statement = (
        f"Implement the JavaScript function `{task.entry_point}` as its signature and comment describe:\n\n"
        f"```javascript\n{task.prompt.rstrip()}\n```"
    )
    assert turn == _task_message(ProgrammerAgent, statement, "javascript")
    assert "Node's `assert` module" in turn


# -- aiev seeds benchmark ---------------------------------------------------------------------------


def test_seeds_benchmark_writes_one_problem_seed_per_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seeds" / "humaneval_plus.jsonl"
    source = HUMANEVAL_PLUS_SUBSET
    code = main(["seeds", "benchmark", "humaneval+", "--source", str(source), "--limit", "2", "--out", str(out)])
    assert code == 0
    assert f"2 seed(s) from humaneval_plus ({source}) -> {out}" in capsys.readouterr().out
    seeds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert seeds == [
        {
            "id": task_id,
            "problem": problem_statement(TASKS[task_id]),
            "benchmark": "humaneval_plus",
            "task_id": task_id,
        }
        for task_id in ("HumanEval/1", "HumanEval/2")
    ]
    from aiev_agents.generate.seeds import read_seeds

    errors: list[Any] = []
    read = list(read_seeds(out, errors.append))
    assert not errors and [s.id for s in read] == ["HumanEval/1", "HumanEval/2"]
    assert read[0].model_dump()["task_id"] == "HumanEval/1"  # extra keys travel into the record's seed


def test_seeds_benchmark_unknown_name_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["seeds", "benchmark", "apps", "--out", str(tmp_path / "s.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "unknown benchmark" in err and "Traceback" not in err
    assert not (tmp_path / "s.jsonl").exists()


# -- aiev audit: errors ------------------------------------------------------------------------------


def test_audit_of_a_missing_folder_exits_2_with_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["audit", str(tmp_path / "nowhere"), *BENCHMARK])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: no dialogues.jsonl in ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_audit_unknown_benchmark_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t.write_dataset(tmp_path / "run", [t.first_try()])
    code = main(["audit", str(tmp_path / "run"), "--benchmark", "apps"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: unknown benchmark 'apps'") and "Traceback" not in err
    assert not (tmp_path / "run" / AUDIT_JSON).exists()


def test_audit_with_docker_down_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path, "http://127.0.0.1:9/v1", "aiev-sandbox:latest", docker_host=f"unix://{tmp_path}/no-docker.sock"
    )
    t.write_dataset(tmp_path / "run", [record("he55-a", "HumanEval/55", FIB, t.passed("", 3))])
    args = ["audit", str(tmp_path / "run"), *BENCHMARK]
    code = main([*args, "--config", str(config), "--no-oracle-cache"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Docker" in err and "Traceback" not in err
    assert not (tmp_path / "run" / AUDIT_JSON).exists()


def test_a_run_without_benchmark_seeds_needs_no_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t.write_dataset(tmp_path / "run", [t.first_try(), t.repaired_assertion()])
    code = main(["audit", str(tmp_path / "run"), *BENCHMARK])
    out = capsys.readouterr().out
    assert code == 0
    assert "| unmatched (no humaneval+ task) | 2 |" in out
    assert "| precision (verified and correct / verified) | n/a |" in out
    result = json.loads((tmp_path / "run" / AUDIT_JSON).read_text())
    assert (result["records"], result["unmatched"], result["labelled"], result["precision"]) == (2, 2, 0, None)


# -- aiev audit in the sandbox ------------------------------------------------------------------------


@pytest.mark.docker
def test_audit_measures_precision_recall_and_false_verified_rate(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    run = tmp_path / "run"
    t.write_dataset(run, run_records())
    seen: list[tuple[str, int, int]] = []
    result = audit(
        run,
        "humaneval+",
        HUMANEVAL_PLUS_SUBSET,
        sandbox_settings,
        workers=2,
        timeout_s=5.0,
        oracle_cache_dir=tmp_path / "oracle",
        on_row=lambda row, done, total: seen.append((row.id, done, total)),
    )
    rows = {row["id"]: row for row in result["rows"]}
    truth = {name: (row["task_id"], row["ground_truth"], row["correct"]) for name, row in rows.items()}
    assert truth == {
        "he55-a": ("HumanEval/55", "pass", True),
        "he60-a": ("HumanEval/60", "fail", False),
        "HumanEval/60": ("HumanEval/60", "pass", True),
        "he41-a": ("HumanEval/41", "pass", True),
        "he41-b": ("HumanEval/41", "pass", True),
        "he55-b": ("HumanEval/55", "fail", False),
        "snippet-7": (None, "unmatched", None),
        "he41-nocode": ("HumanEval/41", "no_program", None),
        "he55-install": ("HumanEval/55", "install_error", None),
    }
    assert rows["he60-a"]["verified"] is True and "input" in rows["he60-a"]["error"]
    assert "-e ." in rows["he55-install"]["error"]
    assert sorted(done for _, done, _ in seen) == list(range(1, 8)) and {total for *_, total in seen} == {7}

    counts = ("records", "invalid", "unmatched", "no_program", "unlabelled", "labelled", "correct", "verified")
    assert {key: result[key] for key in counts} == {
        "records": 9,
        "invalid": 1,
        "unmatched": 1,
        "no_program": 1,
        "unlabelled": 1,
        "labelled": 6,
        "correct": 4,
        "verified": 3,
    }
    assert (result["verified_and_correct"], result["verified_and_wrong"]) == (2, 1)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(0.5)
    assert result["false_verified_rate"] == pytest.approx(1 / 2)  # of the 2 wrong programs, 1 verified
    assert result["by_status"] == {
        "fail": {"count": 2, "correct": 1},
        "pass": {"count": 3, "correct": 2},
        "timeout": {"count": 1, "correct": 1},
    }
    assert result["benchmark"] == "humaneval+" and result["sandbox_image"] == sandbox_settings.image

    assert json.loads((run / AUDIT_JSON).read_text(encoding="utf-8")) == result
    markdown = (run / AUDIT_MARKDOWN).read_text(encoding="utf-8")
    assert markdown == render_markdown(result)
    assert "| precision (verified and correct / verified) | 0.6667 |" in markdown
    assert "## Verified but wrong" in markdown and "| `he60-a` | HumanEval/60 | pass | fail: " in markdown
    assert "## Correct but not verified" in markdown and "| `he41-b` | HumanEval/41 | timeout | pass |" in markdown
    assert "## Unmatched records\n\n`snippet-7`" in markdown
    assert not list(run.glob(".*.tmp"))


@pytest.mark.docker
def test_audit_command_prints_the_summary(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    t.write_dataset(run, run_records()[:2])
    args = ["audit", str(run), *BENCHMARK, "--image", sandbox_settings.image]
    code = main([*args, "--no-oracle-cache", "--timeout", "5"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "[2/2]" in captured.err
    assert "| precision (verified and correct / verified) | 0.5000 |" in captured.out
    assert "| false-verified rate (verified and wrong / wrong) | 1.0000 |" in captured.out
    assert f"wrote {run / AUDIT_JSON} and {run / AUDIT_MARKDOWN}" in captured.out
