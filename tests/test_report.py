"""The run report: exact numbers from records built with the real Transcript model."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.cli_tools import add_commands
from aiev_agents.errors import DatasetError
from aiev_agents.report import (
    REPORT_SCHEMA,
    build_report,
    classify_failure,
    exception_line,
    failure_message,
    normalize_message,
    read_run,
    render_markdown,
    write_report,
)
from aiev_agents.transcript import Execution, Timings, Transcript, Usage

START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)


def traceback(last_line: str) -> str:
    return f'Traceback (most recent call last):\n  File "/w/main.py", line 3, in <module>\n    f()\n{last_line}\n'


UNITTEST_FAILURE = (
    "F\n" + "=" * 70 + "\nFAIL: test_add (__main__.T.test_add)\n" + "-" * 70 + "\n"
    + traceback("AssertionError: 3 != 4")
    + "\n" + "-" * 70 + "\nRan 1 test in 0.001s\n\nFAILED (failures=1)\n"
)  # fmt: skip
SYNTAX_ERROR = "  File \"/w/main.py\", line 2\n    def f(:\n         ^\nSyntaxError: '(' was never closed\n"
PIP_FAILURE = (
    "Collecting nosuchpkg\nERROR: Could not find a version that satisfies the requirement nosuchpkg\n"
    "ERROR: No matching distribution found for nosuchpkg\n"
)

# id, last status, rounds, last output
DIALOGUES = [
    ("a", "pass", 1, "ok\n"),
    ("b", "pass", 3, ""),
    ("c", "fail", 3, traceback("AssertionError: 1 != 2")),
    ("d", "fail", 1, SYNTAX_ERROR),
    ("e", "timeout", 2, ""),
    ("f", "install_error", 1, PIP_FAILURE),
    ("g", "fail", 2, traceback("ModuleNotFoundError: No module named 'numpy'")),
    ("h", "no_tests", 1, "hello\n"),
    ("i", "fail", 1, traceback("ZeroDivisionError: division by zero")),
    ("j", "fail", 2, UNITTEST_FAILURE),
    ("l", "no_code", 1, ""),
]
ERRORS = [
    {"id": "m", "error": "model 'teacher' failed: Error code: 500"},
    {"id": "m", "error": "model 'teacher' failed: Error code: 500"},  # the same dialogue twice
    {"id": "n", "error": "model 'teacher' failed: Error code: 502"},
    {"id": "a", "error": "model 'teacher' failed: timeout"},  # retried later: it has a record
]


def record(index: int, dialogue_id: str, status: str, rounds: int, output: str) -> dict[str, Any]:
    earlier = [
        Execution(round=n, status="fail", exit_code=1, output=traceback("ValueError: early")) for n in range(1, rounds)
    ]
    last = Execution(round=rounds, status=status, exit_code=0 if status in ("pass", "no_tests") else 1, output=output)
    start = START + timedelta(seconds=10 * index)
    return Transcript(
        id=dialogue_id,
        stage="teaching",
        verified=status == "pass",
        status=status,
        rounds=rounds,
        seed={"id": dialogue_id, "problem": "Write f."},
        problem="Write f.",
        models={"questioner": "teacher", "programmer": "teacher"},
        messages=[],
        executions=[*earlier, last],
        final_program="",
        usage={
            "questioner": Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, cost=0.01),
            "programmer": Usage(prompt_tokens=20, completion_tokens=10, total_tokens=30, cost=0.02),
        },
        timings=Timings(
            started_at=start.isoformat(timespec="milliseconds"),
            ended_at=(start + timedelta(seconds=2.5)).isoformat(timespec="milliseconds"),
            wall_s=2.5,
            model_s=1.5,
            execution_s=0.5,
        ),
    ).to_dict()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return [record(index, *dialogue) for index, dialogue in enumerate(DIALOGUES)]


@pytest.fixture(scope="module")
def report(records: list[dict[str, Any]]) -> dict[str, Any]:
    return build_report(records, ERRORS)


def test_counts_include_dialogues_lost_to_model_errors_once(report: dict[str, Any]) -> None:
    assert report["schema"] == REPORT_SCHEMA
    assert report["counts"] == {
        "dialogues": 13,
        "records": 11,
        "model_error_records": 2,
        "verified": 2,
        "not_verified": 11,
        "skipped_lines": 0,
    }
    assert report["verified_rate"] == 0.153846  # 2 / 13


def test_pass_rate_by_round_is_cumulative_over_all_dialogues(report: dict[str, Any]) -> None:
    assert report["pass_at_round"] == [
        {"round": 1, "verified": 1, "rate": 0.076923},
        {"round": 2, "verified": 1, "rate": 0.076923},
        {"round": 3, "verified": 2, "rate": 0.153846},
    ]


def test_rounds_histogram_statuses_and_mean_rounds(report: dict[str, Any]) -> None:
    assert report["rounds_histogram"] == [
        {"rounds": 1, "dialogues": 6, "verified": 1},
        {"rounds": 2, "dialogues": 3, "verified": 0},
        {"rounds": 3, "dialogues": 2, "verified": 1},
    ]
    assert report["mean_rounds"] == 1.636364  # 18 / 11
    assert report["statuses"] == {
        "fail": 5,
        "install_error": 1,
        "no_code": 1,
        "no_tests": 1,
        "pass": 2,
        "timeout": 1,
    }


def test_failures_are_classified_from_the_last_execution(report: dict[str, Any]) -> None:
    assert report["failures"] == {
        "syntax_error": 1,
        "assertion": 2,
        "timeout": 1,
        "import_error": 2,
        "no_tests": 1,
        "vacuous_tests": 0,
        "no_code": 1,
        "model_error": 2,
        "runtime_error": 1,
    }


def test_a_sample_rejected_by_the_vacuity_check_is_its_own_category() -> None:
    record = {"status": "vacuous_tests", "verified": False, "executions": [{"status": "pass", "output": "ok"}]}
    assert classify_failure(record) == "vacuous_tests"
    assert failure_message(record) is None


def test_top_errors_are_normalized_counted_and_ranked(report: dict[str, Any]) -> None:
    assert report["top_errors"] == [
        {"message": "AssertionError: N != N", "count": 2},
        {"message": "model 'teacher' failed: Error code: N", "count": 2},
        {"message": "ERROR: No matching distribution found for nosuchpkg", "count": 1},
        {"message": "ModuleNotFoundError: No module named 'numpy'", "count": 1},
        {"message": "SyntaxError: '(' was never closed", "count": 1},
        {"message": "ZeroDivisionError: division by zero", "count": 1},
    ]
    assert build_report([], ERRORS, top_errors=1)["top_errors"] == [
        {"message": "model 'teacher' failed: Error code: N", "count": 2}
    ]


def test_usage_is_summed_per_role_and_divided_per_verified_sample(report: dict[str, Any]) -> None:
    assert report["usage"] == {
        "roles": {
            "programmer": {"prompt_tokens": 220, "completion_tokens": 110, "total_tokens": 330, "cost": 0.22},
            "questioner": {"prompt_tokens": 110, "completion_tokens": 55, "total_tokens": 165, "cost": 0.11},
        },
        "total": {"prompt_tokens": 330, "completion_tokens": 165, "total_tokens": 495, "cost": 0.33},
        "per_verified_sample": {
            "prompt_tokens": 165.0,
            "completion_tokens": 82.5,
            "total_tokens": 247.5,
            "cost": 0.165,
        },
    }


def test_usage_of_model_error_records_is_counted_too() -> None:
    lost = {"id": "z", "error": "boom", "usage": {"questioner": {"prompt_tokens": 7, "total_tokens": 7}}}

    usage = build_report([], [lost])["usage"]

    assert usage["total"] == {"prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7, "cost": 0.0}
    assert usage["per_verified_sample"] is None


def test_timings_sum_wall_time_and_span_the_run(report: dict[str, Any]) -> None:
    assert report["timings"] == {
        "wall_s": 27.5,
        "model_s": 16.5,
        "execution_s": 5.5,
        "span_s": 102.5,  # first start 10:00:00, last end 10:01:42.5
        "started_at": "2024-05-01T10:00:00+00:00",
        "ended_at": "2024-05-01T10:01:42.500000+00:00",
    }


@pytest.mark.parametrize(
    ("output", "line"),
    [
        (traceback("KeyError: 'x'"), "KeyError: 'x'"),
        (traceback("ValueError: a") + "\nDuring handling of the above exception, another exception occurred:\n\n"
         + traceback("RuntimeError"), "RuntimeError"),
        (UNITTEST_FAILURE, "AssertionError: 3 != 4"),
        (SYNTAX_ERROR, "SyntaxError: '(' was never closed"),
        ("all good\n", None),
    ],
)  # fmt: skip
def test_exception_line_is_the_last_tracebacks_exception(output: str, line: str | None) -> None:
    assert exception_line(output) == line


def test_normalize_message_masks_numbers_and_addresses_and_bounds_length() -> None:
    assert normalize_message("  IndexError:  list index 12 out of range at 0x7f3a  ") == (
        "IndexError: list index N out of range at 0x…"
    )
    assert normalize_message("NameError: name 'x2' is not defined") == "NameError: name 'x2' is not defined"
    assert len(normalize_message("E: " + "y" * 500)) == 160


def test_an_empty_run_has_no_rates_and_renders(tmp_path: Path) -> None:
    (tmp_path / "dialogues.jsonl").write_text("")

    report = build_report(read_run(tmp_path).dialogues)

    assert (report["verified_rate"], report["mean_rounds"], report["pass_at_round"]) == (None, None, [])
    assert report["timings"]["span_s"] is None
    assert "- verified: 0 (n/a)" in render_markdown(report)


def test_write_report_skips_torn_lines_and_writes_json_and_markdown(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    lines = [json.dumps(r) for r in records[:3]] + ["[1, 2]", '{"id": "torn", "ver']
    (tmp_path / "dialogues.jsonl").write_text("\n".join(lines))
    (tmp_path / "errors.jsonl").write_text(json.dumps(ERRORS[2]) + "\n")

    report = write_report(tmp_path)

    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert report["counts"] == {
        "dialogues": 4,
        "records": 3,
        "model_error_records": 1,
        "verified": 2,
        "not_verified": 2,
        "skipped_lines": 2,
    }
    markdown = (tmp_path / "report.md").read_text()
    assert markdown == render_markdown(report)
    assert "- verified: 2 (50.0%)" in markdown and "| 1 | `AssertionError: N != N` |" in markdown
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "dialogues.jsonl",
        "errors.jsonl",
        "report.json",
        "report.md",
    ]


def test_a_folder_without_records_raises_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="has no dialogues.jsonl"):
        write_report(tmp_path)


def test_report_command_writes_the_files_and_prints_the_markdown(
    records: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dialogues.jsonl").write_text(json.dumps(records[0]) + "\n")
    parser = argparse.ArgumentParser(prog="aiev")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", str(tmp_path)])

    assert args.func(args) == 0

    printed = capsys.readouterr().out
    assert printed.startswith("# AIEV run report\n")
    assert printed.endswith(f"wrote {tmp_path / 'report.json'} and {tmp_path / 'report.md'}\n")
