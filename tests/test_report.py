"""The run report: exact numbers from records built with the real Transcript model."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.cli.report import add_commands
from aiev_agents.dialogue.transcript import Execution, Timings, Transcript, Usage
from aiev_agents.dialogue.verdict.checks import evidence
from aiev_agents.dialogue.verdict.gates import rates
from aiev_agents.dialogue.verdict.mutation import MutantResult, MutationReport
from aiev_agents.errors import DatasetError
from aiev_agents.generate.report import (
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

from transcripts import first_try, never_passed

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
        "hidden_tests_failed": 0,
        "low_coverage": 0,
        "no_code": 1,
        "context_exceeded": 0,
        "model_error": 2,
        "runtime_error": 1,
    }


def test_a_sample_rejected_by_mutation_testing_is_its_own_category() -> None:
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
    args = parser.parse_args(["report", str(tmp_path), "--no-charts"])

    assert args.func(args) == 0

    printed = capsys.readouterr().out
    assert printed.startswith("# AIEV run report\n")
    assert printed.endswith(f"wrote {tmp_path / 'report.json'} and {tmp_path / 'report.md'}\n")


# -- the checks of passing programs ----------------------------------------------------------------

OVERFLOW_MESSAGE = (
    "the prompt of 'programmer' is over its model's context: Error code: 400 - {'error': {'message': \"This "
    "model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens.\", "
    "'type': 'invalid_request_error', 'code': 'context_length_exceeded'}}"
)
HIDDEN_FAILURE = traceback("AssertionError: count_words('A a') should be {'a': 2}")
# Mutants as (operator, outcome); an inconclusive one timed out.
KILLED_ALL = [("return_none", "killed"), ("raise", "killed"), ("swap_op", "killed"), ("number", "killed")]
ONE_STRING_SURVIVES = [("return_none", "killed"), ("raise", "killed"), ("drop_statement", "killed"),
                       ("string", "survived")]  # fmt: skip
WEAK = [("return_none", "killed"), ("string", "survived"), ("number", "survived"), ("swap_op", "survived"),
        ("drop_statement", "inconclusive")]  # fmt: skip
NOTHING_KILLED = [("number", "survived"), ("arg_removal", "survived"), ("assignment", "survived")]


def mutation_check(mutants: list[tuple[str, str]], duration_s: float) -> dict[str, Any]:
    """``checks.mutation`` as ``check_passing_program`` writes it."""
    results = tuple(
        MutantResult(operator, "add", 2, f"line 2: {operator}", outcome,  # type: ignore[arg-type]
                     {"killed": "fail", "survived": "pass", "inconclusive": "timeout"}[outcome])
        for operator, outcome in mutants
    )  # fmt: skip
    return {**MutationReport(results, candidates=len(results) + 3, duration_s=duration_s).to_dict(), "budget": 16}


def coverage_check(lines: list[int], branches: list[int], duration_s: float = 0.1) -> dict[str, Any]:
    """``checks.coverage`` as ``check_passing_program`` writes it."""
    missing = list(range(10, 10 + lines[1] - lines[0]))
    return {**rates({"lines": lines, "branches": branches, "missing": missing}), "status": "pass",
            "duration_s": duration_s}  # fmt: skip


def gated(
    sample_id: str,
    status: str,
    *,
    mutants: list[tuple[str, str]] | None = None,
    mutation_s: float = 0.0,
    lines: list[int] | None = None,
    branches: list[int] | None = None,
    hidden: dict[str, Any] | None = None,
    called: bool = True,
) -> dict[str, Any]:
    """A record whose last run passed and that the gates judged ``status``, with its checks."""
    record = first_try(sample_id).to_dict()
    last = record["executions"][-1]
    last.update(solution_functions=["add"], solution_calls=["add"] if called else [], hidden_tests=hidden)
    checks: dict[str, Any] = {"tests_ran": evidence(Execution.model_validate(last))}
    if hidden is not None:
        checks["hidden_tests"] = {key: value for key, value in hidden.items() if key != "output"}
    if mutants is not None:
        checks["mutation"] = mutation_check(mutants, mutation_s)
    if lines is not None:
        checks["coverage"] = coverage_check(lines, branches or [0, 0])
    record.update(status=status, verified=status == "pass", checks=checks)
    return Transcript.from_dict(record).to_dict()


def hidden_run(status: str, output: str = "") -> dict[str, Any]:
    return {"status": status, "exit_code": 0 if status == "pass" else 1, "output": output, "assertions": 2,
            "test_cases": 0}  # fmt: skip


def overflowed(sample_id: str, after_a_pass: bool) -> dict[str, Any]:
    """A dialogue whose prompt overflowed: at once, or after a round whose hidden tests failed."""
    record = (first_try(sample_id) if after_a_pass else never_passed(sample_id)).to_dict()
    if after_a_pass:
        record["executions"][-1]["hidden_tests"] = hidden_run("fail", HIDDEN_FAILURE)
    else:
        record.update(rounds=0, executions=[], messages=record["messages"][:2])
    record.update(status="context_exceeded", verified=False, checks={"context_exceeded": OVERFLOW_MESSAGE})
    return Transcript.from_dict(record).to_dict()


def failed_with_hidden_tests(sample_id: str) -> dict[str, Any]:
    """Never passed; its last round's hidden tests failed too (not judged: they do not count)."""
    record = never_passed(sample_id).to_dict()
    hidden = record["executions"][-1]["hidden_tests"] = hidden_run("timeout")
    record["checks"] = {"hidden_tests": {key: value for key, value in hidden.items() if key != "output"}}
    return Transcript.from_dict(record).to_dict()


def without_checks(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "checks"}


@pytest.fixture(scope="module")
def checked() -> list[dict[str, Any]]:
    return [
        gated("s1", "pass", mutants=KILLED_ALL, mutation_s=0.4, lines=[5, 5], branches=[2, 2],
              hidden=hidden_run("pass")),
        gated("s2", "pass", mutants=ONE_STRING_SURVIVES, mutation_s=0.6, lines=[4, 5], branches=[1, 2]),
        gated("s3", "vacuous_tests", mutants=WEAK, mutation_s=1.0, lines=[3, 6]),
        gated("s4", "vacuous_tests", mutants=NOTHING_KILLED, mutation_s=0.5, lines=[2, 4], branches=[1, 4]),
        gated("s5", "low_coverage", mutants=KILLED_ALL[:2], mutation_s=0.3, lines=[1, 4], branches=[0, 2]),
        gated("s6", "hidden_tests_failed", mutants=[*KILLED_ALL[:2], ("symmetric_string_methods_swap", "survived")],
              mutation_s=0.2, lines=[3, 3], hidden=hidden_run("fail", HIDDEN_FAILURE)),
        gated("s7", "no_tests", called=False),
        gated("s8", "pass", mutants=[("return_none", "killed"), ("drop_statement", "inconclusive")], mutation_s=5.2,
              lines=[2, 2], hidden={"status": "rejected", "reason": "the hidden tests define add"}),
        without_checks(first_try("older").to_dict()),  # a record of a run before the checks
        overflowed("c1", after_a_pass=False),
        overflowed("c2", after_a_pass=True),
        failed_with_hidden_tests("f1"),
    ]  # fmt: skip


def histogram(*samples: int) -> list[dict[str, Any]]:
    buckets = ["[0, 0.25)", "[0.25, 0.5)", "[0.5, 0.75)", "[0.75, 1.0)", "1.0"]
    return [{"bucket": bucket, "samples": count} for bucket, count in zip(buckets, samples, strict=True)]


def stopped(*, tests_ran: int, hidden_tests: int, mutation: int, coverage: int) -> list[dict[str, Any]]:
    """The checks' ``stopped`` rows: each gate in order, the status it gives, the samples it stopped."""
    gates = [("tests_ran", "no_tests", tests_ran), ("hidden_tests", "hidden_tests_failed", hidden_tests),
             ("mutation", "vacuous_tests", mutation), ("coverage", "low_coverage", coverage)]  # fmt: skip
    return [{"gate": gate, "status": status, "samples": samples} for gate, status, samples in gates]


def test_checks_count_what_each_gate_stopped_and_the_distributions(checked: list[dict[str, Any]]) -> None:
    assert build_report(checked)["checks"] == {
        "judged": 9,  # s1-s8 and the older record; not the overflows nor the failure
        "passed": 4,
        "stopped": stopped(tests_ran=1, hidden_tests=1, mutation=2, coverage=1),
        "mutation": {
            "samples": 7,
            # 1.0, 0.75, 0.25, 0.0, 1.0, 0.6667, 1.0
            "score": {"count": 7, "mean": 0.666671, "median": 0.75, "histogram": histogram(1, 1, 1, 1, 3)},
            "killed": 13,
            "survived": 8,
            "inconclusive": 2,
            "mutants_per_sample": 3.285714,  # 23 / 7
            "seconds_per_sample": 1.171429,  # 8.2 / 7
            "surviving_operators": [
                {"operator": "number", "survived": 2, "run": 3},
                {"operator": "string", "survived": 2, "run": 2},
                {"operator": "arg_removal", "survived": 1, "run": 1},
                {"operator": "assignment", "survived": 1, "run": 1},
                {"operator": "swap_op", "survived": 1, "run": 2},
            ],  # symmetric_string_methods_swap (1) is sixth
        },
        "coverage": {
            "samples": 7,
            # 1.0, 0.8, 0.5, 0.5, 0.25, 1.0, 1.0
            "line_rate": {"count": 7, "mean": 0.721429, "median": 0.8, "histogram": histogram(0, 1, 2, 1, 3)},
            # 1.0, 0.5, 0.25, 0.0 (three programs have no branch)
            "branch_rate": {"count": 4, "mean": 0.4375, "median": 0.375, "histogram": histogram(1, 1, 1, 0, 1)},
            "seconds_per_sample": 0.1,
        },
        "hidden_tests": {"samples": 3, "pass": 1, "fail": 1, "rejected": 1},
        "context_exceeded": 2,
    }


def test_records_without_checks_are_judged_without_measurements(report: dict[str, Any]) -> None:
    empty = {"count": 0, "mean": None, "median": None, "histogram": histogram(0, 0, 0, 0, 0)}
    assert report["checks"] == {
        "judged": 2,  # a and b passed; h ran no test at all
        "passed": 2,
        "stopped": stopped(tests_ran=0, hidden_tests=0, mutation=0, coverage=0),
        "mutation": {
            "samples": 0,
            "score": empty,
            "killed": 0,
            "survived": 0,
            "inconclusive": 0,
            "mutants_per_sample": None,
            "seconds_per_sample": None,
            "surviving_operators": [],
        },
        "coverage": {"samples": 0, "line_rate": empty, "branch_rate": empty, "seconds_per_sample": None},
        "hidden_tests": {"samples": 0, "pass": 0, "fail": 0, "rejected": 0},
        "context_exceeded": 0,
    }
    assert "| mutation score | 0 | n/a | n/a | 0 | 0 | 0 | 0 | 0 |" in render_markdown(report)


def test_a_vacuity_check_of_an_older_run_counts_as_the_mutation_gate() -> None:
    older = without_checks(first_try("old-vacuous").to_dict())
    verdict = {"verdict": "vacuous", "reason": "the tests still pass", "variants": []}
    older.update(status="vacuous_tests", verified=False, checks={"vacuous_tests": verdict})

    checks = build_report([older])["checks"]

    assert (checks["judged"], checks["stopped"][2]) == (
        1,
        {"gate": "mutation", "status": "vacuous_tests", "samples": 1},
    )
    assert checks["mutation"]["samples"] == 0


def test_new_failure_categories_and_their_messages(checked: list[dict[str, Any]]) -> None:
    report = build_report(checked)

    assert {k: v for k, v in report["failures"].items() if v} == {
        "timeout": 1,
        "no_tests": 1,
        "vacuous_tests": 2,
        "hidden_tests_failed": 1,
        "low_coverage": 1,
        "context_exceeded": 2,
    }
    assert report["top_errors"] == [
        {"message": normalize_message(OVERFLOW_MESSAGE), "count": 2},
        {"message": "AssertionError: count_words('A a') should be {'a': N}", "count": 1},
    ]


def test_the_report_of_a_run_folder_reads_the_checks_it_needs(checked: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "dialogues.jsonl").write_text("".join(json.dumps(record) + "\n" for record in checked))

    report = write_report(tmp_path)

    assert report["checks"] == build_report(checked)["checks"]
    slim = read_run(tmp_path).dialogues[0]["checks"]
    assert slim["mutation"]["mutants"][0] == {"operator": "return_none", "outcome": "killed"}
    assert set(slim["coverage"]) == {"line_rate", "branch_rate", "duration_s"}


def test_markdown_shows_the_checks_section(checked: list[dict[str, Any]]) -> None:
    markdown = render_markdown(build_report(checked))

    section = markdown.split("## Checks of passing programs\n", 1)[1].split("\n## ", 1)[0]
    assert section == CHECKS_MARKDOWN


CHECKS_MARKDOWN = """
- judged (last run passed): 9, of which verified: 4
- mutants: 13 killed, 8 survived, 2 inconclusive (3.3 run per sample)
- seconds per sample: mutation 1.171, coverage 0.100
- hidden tests: 1 pass, 1 fail, 1 rejected
- dialogues over the model's context: 2

### Stopped by gate

| gate | status | samples |
|---|---|---|
| tests_ran | no_tests | 1 |
| hidden_tests | hidden_tests_failed | 1 |
| mutation | vacuous_tests | 2 |
| coverage | low_coverage | 1 |

### Mutation score and coverage

| measure | samples | mean | median | [0, 0.25) | [0.25, 0.5) | [0.5, 0.75) | [0.75, 1.0) | 1.0 |
|---|---|---|---|---|---|---|---|---|
| mutation score | 7 | 0.67 | 0.75 | 1 | 1 | 1 | 1 | 3 |
| line coverage | 7 | 0.72 | 0.80 | 0 | 1 | 2 | 1 | 3 |
| branch coverage | 4 | 0.44 | 0.38 | 1 | 1 | 1 | 0 | 1 |

### Surviving mutants by operator

| operator | survived | run |
|---|---|---|
| number | 2 | 3 |
| string | 2 | 2 |
| arg_removal | 1 | 1 |
| assignment | 1 | 1 |
| swap_op | 1 | 2 |
"""
