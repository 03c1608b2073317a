"""The report of a generation run: what ``dialogues.jsonl`` (and ``errors.jsonl``) add up to.

``build_report`` is a pure function over record dicts; ``write_report`` reads a run folder
and writes ``report.json`` and ``report.md`` (:mod:`aiev_agents.generate.report_markdown`) atomically.
Rates are over all dialogues, model errors included: a dialogue lost to a model error is a
dialogue that yielded no sample.
"""

from __future__ import annotations

import json
import logging
import os
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import DatasetError
from ..jsonl import numbered_records
from ..stage.summary import stage_summary
from ..tracebacks import exception_line
from .report_markdown import render_markdown

logger = logging.getLogger(__name__)

REPORT_SCHEMA = 1
DIALOGUES_FILE = "dialogues.jsonl"
ERRORS_FILE = "errors.jsonl"
REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
DEFAULT_TOP_ERRORS = 10

FAILURE_CATEGORIES = (
    "syntax_error",
    "assertion",
    "timeout",
    "import_error",
    "no_tests",
    "vacuous_tests",
    "hidden_tests_failed",
    "low_coverage",
    "no_code",
    "context_exceeded",
    "model_error",
    "runtime_error",
)
_STATUS_CATEGORY = {
    "timeout": "timeout",
    "install_error": "import_error",
    "no_tests": "no_tests",
    "vacuous_tests": "vacuous_tests",
    "hidden_tests_failed": "hidden_tests_failed",
    "low_coverage": "low_coverage",
    "no_code": "no_code",
    "context_exceeded": "context_exceeded",
    "error": "model_error",
}
_EXCEPTION_CATEGORY = {
    **dict.fromkeys(("SyntaxError", "IndentationError", "TabError"), "syntax_error"),
    **dict.fromkeys(("ModuleNotFoundError", "ImportError"), "import_error"),
    "AssertionError": "assertion",
}
_SLIM_KEYS = ("id", "verified", "status", "error", "usage", "timings")
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cost")
_PIP_ERROR_LINE = re.compile(r"^ERROR: .+$")
_MESSAGE_CHARS = 160
#: The gates of a passing program (``aiev_agents.dialogue.verdict.gates``) → the status a sample gets when one stops it.
GATE_STATUSES = {
    "tests_ran": "no_tests",
    "hidden_tests": "hidden_tests_failed",
    "mutation": "vacuous_tests",
    "coverage": "low_coverage",
}
#: Buckets of the mutation score and coverage histograms: (label, low, high) for [low, high), and 1.0 alone.
RATE_BUCKETS = (
    ("[0, 0.25)", 0.0, 0.25),
    ("[0.25, 0.5)", 0.25, 0.5),
    ("[0.5, 0.75)", 0.5, 0.75),
    ("[0.75, 1.0)", 0.75, 1.0),
    ("1.0", 1.0, None),
)
TOP_SURVIVING_OPERATORS = 5
_CHECKS_SUMMARY_KEYS = ("score", "killed", "survived", "inconclusive", "duration_s")


@dataclass
class RunRecords:
    """What a run folder holds: dialogue records, model-error records, lines not read."""

    dialogues: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    skipped_lines: int = 0


def build_report(
    dialogues: Iterable[Mapping[str, Any]],
    errors: Iterable[Mapping[str, Any]] = (),
    *,
    skipped_lines: int = 0,
    top_errors: int = DEFAULT_TOP_ERRORS,
) -> dict[str, Any]:
    """The report of one run as JSON-ready data (``schema`` holds its version).

    Args:
        dialogues: Records of ``dialogues.jsonl`` (``Transcript.to_dict()`` dicts).
        errors: Records of ``errors.jsonl`` (``{id, error, ...}``): dialogues lost to a
            model error. One whose id also has a dialogue record (a retry) is not counted.
        skipped_lines: Lines that were not whole records, reported as such.
        top_errors: How many of the most frequent error messages to list.

    Returns:
        Counts, verified rate, cumulative pass rate by round, rounds histogram, failure
        categories, top error messages, usage per role, timings and the checks of the
        passing programs (see ``checks_summary``).
    """
    records = [_slim(record) for record in dialogues]
    done = {str(record.get("id")) for record in records}
    keyed = {str(error.get("id", f"#{index}")): dict(error) for index, error in enumerate(errors)}
    lost = [error for key, error in keyed.items() if key not in done]
    total = len(records) + len(lost)
    verified = [record for record in records if record.get("verified") is True]
    failures = [(classify_failure(record), failure_message(record)) for record in records if not record.get("verified")]
    failures += [("model_error", _model_error_message(error)) for error in lost]
    return {
        "schema": REPORT_SCHEMA,
        "counts": {
            "dialogues": total,
            "records": len(records),
            "model_error_records": len(lost),
            "verified": len(verified),
            "not_verified": total - len(verified),
            "skipped_lines": skipped_lines,
        },
        "verified_rate": _ratio(len(verified), total),
        "pass_at_round": _pass_at_round(records, total),
        "rounds_histogram": _rounds_histogram(records),
        "mean_rounds": _mean([_rounds(record) for record in records]),
        "statuses": dict(sorted(Counter(str(record.get("status")) for record in records).items())),
        "failures": _failure_counts(category for category, _ in failures),
        "top_errors": _top_messages((message for _, message in failures), top_errors),
        "usage": _usage_summary([*records, *lost], len(verified)),
        "timings": _timings(records),
        "checks": checks_summary(records),
    }


def checks_summary(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the gates did to the programs that passed their last run, from the records' ``checks``.

    ``judged`` counts the records whose last run passed and that the gates judged; ``stopped``
    how many of them each gate rejected, with the status it gave (``no_tests``,
    ``hidden_tests_failed``, ``vacuous_tests``, ``low_coverage``); then the distributions of
    the mutation score and coverage, the hidden tests' outcomes, and (over every record) the
    dialogues whose prompt overflowed the model's context. Records without ``checks`` (older
    runs) count as judged, without measurements.
    """
    records = list(records)
    judged = [record for record in records if _judged(record)]
    statuses = Counter(str(record.get("status")) for record in judged)
    checks = [record.get("checks") if isinstance(record.get("checks"), Mapping) else {} for record in judged]
    return {
        "judged": len(judged),
        "passed": statuses["pass"],
        "stopped": [
            {"gate": gate, "status": status, "samples": statuses[status]} for gate, status in GATE_STATUSES.items()
        ],
        "mutation": _mutation_summary([c["mutation"] for c in checks if isinstance(c.get("mutation"), Mapping)]),
        "coverage": _coverage_summary([c["coverage"] for c in checks if isinstance(c.get("coverage"), Mapping)]),
        "hidden_tests": _hidden_summary(
            [c["hidden_tests"] for c in checks if isinstance(c.get("hidden_tests"), Mapping)]
        ),
        "context_exceeded": sum(1 for record in records if record.get("status") == "context_exceeded"),
    }


def classify_failure(record: Mapping[str, Any]) -> str:
    """The failure category of a non-verified dialogue (one of ``FAILURE_CATEGORIES``).

    From the status first (timeout, install error, no tests, no code, context exceeded,
    model error), else from the exception that ended the last run's output (syntax,
    assertion, import), else ``runtime_error``.
    """
    category = _STATUS_CATEGORY.get(str(record.get("status")))
    if category is not None:
        return category
    line = exception_line(_last_output(record))
    if line is None:
        return "runtime_error"
    name = line.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    return _EXCEPTION_CATEGORY.get(name, "runtime_error")


def failure_message(record: Mapping[str, Any]) -> str | None:
    """The normalized error message that ended a dialogue, None when there is none.

    The exception line of the last run's last traceback; for a failed ``pip install`` its
    last ``ERROR:`` line; for a model error, the error; for an exceeded context, its error
    if the record has one; for a timeout or a dialogue without tests or code, None (their
    category says it all).
    """
    status = record.get("status")
    if status == "error":
        return _model_error_message(record)
    if status == "context_exceeded":
        error = record.get("error") or (record.get("checks") or {}).get("context_exceeded")
        return normalize_message(str(error)) if error else None
    if status in ("timeout", "no_tests", "no_code", "vacuous_tests", "low_coverage"):
        return None
    output = _last_output(record)
    if status == "hidden_tests_failed":
        hidden = ((record.get("executions") or [{}])[-1] or {}).get("hidden_tests") or {}
        output = str(hidden.get("output") or "")
    if status == "install_error":
        lines = [line.strip() for line in output.splitlines() if _PIP_ERROR_LINE.match(line.strip())]
        return normalize_message(lines[-1]) if lines else "pip install failed"
    line = exception_line(output)
    return normalize_message(line) if line is not None else None


def normalize_message(message: str) -> str:
    """One error message in a form that groups alike ones: numbers and addresses masked, short."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", message.strip())
    text = re.sub(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)", "N", text)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def read_run(out_dir: str | os.PathLike[str]) -> RunRecords:
    """The records of a run folder; lines that are not whole JSON objects are counted and skipped.

    Raises:
        DatasetError: The folder holds neither ``dialogues.jsonl`` nor ``errors.jsonl``.
    """
    folder = Path(out_dir)
    paths = [folder / DIALOGUES_FILE, folder / ERRORS_FILE]
    if not any(path.is_file() for path in paths):
        raise DatasetError(f"{folder} has no {DIALOGUES_FILE}; give the --out folder of an `aiev generate` run")
    run = RunRecords(dialogues=[], errors=[])
    run.dialogues = [_slim(record) for record in _json_lines(paths[0], run)]
    run.errors = list(_json_lines(paths[1], run))
    return run


def write_report(out_dir: str | os.PathLike[str], *, top_errors: int = DEFAULT_TOP_ERRORS) -> dict[str, Any]:
    """Read a run folder and write ``report.json`` and ``report.md`` in it, each atomically.

    Returns:
        The report.

    Raises:
        DatasetError: The folder is not a run folder, or the report cannot be written.
    """
    folder = Path(out_dir)
    run = read_run(folder)
    report = build_report(run.dialogues, run.errors, skipped_lines=run.skipped_lines, top_errors=top_errors)
    stage = stage_summary(folder)
    if stage is not None:
        report["stage_switch"] = stage
    try:
        write_atomic(folder / REPORT_JSON, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        write_atomic(folder / REPORT_MARKDOWN, render_markdown(report))
    except OSError as exc:
        raise DatasetError(f"cannot write the report in {folder}: {exc.strerror or exc}") from exc
    return report


def _json_lines(path: Path, run: RunRecords) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    for _, record in numbered_records(path, errors="replace"):
        if record is None:
            run.skipped_lines += 1
        else:
            yield record


def _slim(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the report reads of a record: a big run's messages and programs stay out of memory."""
    slim = {key: record[key] for key in _SLIM_KEYS if key in record}
    slim["rounds"] = _rounds(record)
    slim["executions"] = list(record.get("executions") or [])[-1:]
    if isinstance(record.get("checks"), Mapping):
        slim["checks"] = _slim_checks(record["checks"])
    return slim


def _slim_checks(checks: Mapping[str, Any]) -> dict[str, Any]:
    """The checks without what the report does not read (mutants' descriptions, missing lines)."""
    slim = {key: value for key, value in checks.items() if key not in ("mutation", "coverage")}
    mutation = checks.get("mutation")
    if isinstance(mutation, Mapping):
        slim["mutation"] = {key: mutation[key] for key in _CHECKS_SUMMARY_KEYS if key in mutation}
        mutants = mutation.get("mutants")
        mutants = mutants if isinstance(mutants, list) else []
        slim["mutation"]["mutants"] = [
            {"operator": m.get("operator"), "outcome": m.get("outcome")} for m in mutants if isinstance(m, Mapping)
        ]
    coverage = checks.get("coverage")
    if isinstance(coverage, Mapping):
        slim["coverage"] = {key: coverage[key] for key in ("line_rate", "branch_rate", "duration_s") if key in coverage}
    return slim


def _rounds(record: Mapping[str, Any]) -> int:
    rounds = record.get("rounds")
    return rounds if isinstance(rounds, int) else len(record.get("executions") or [])


def _pass_at_round(records: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    verified_at = Counter(_rounds(record) for record in records if record.get("verified") is True)
    last = max((_rounds(record) for record in records), default=0)
    rows, running = [], 0
    for round_no in range(1, last + 1):
        running += verified_at[round_no]
        rows.append({"round": round_no, "verified": running, "rate": _ratio(running, total)})
    return rows


def _rounds_histogram(records: list[dict[str, Any]]) -> list[dict[str, int]]:
    everyone = Counter(_rounds(record) for record in records)
    verified = Counter(_rounds(record) for record in records if record.get("verified") is True)
    return [{"rounds": n, "dialogues": everyone[n], "verified": verified[n]} for n in sorted(everyone)]


def _failure_counts(categories: Iterable[str]) -> dict[str, int]:
    counts = Counter(categories)
    return {category: counts[category] for category in FAILURE_CATEGORIES}


def _top_messages(messages: Iterable[str | None], top: int) -> list[dict[str, Any]]:
    counts = Counter(message for message in messages if message)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"message": message, "count": count} for message, count in ranked[:top]]


def _usage_summary(records: list[dict[str, Any]], verified: int) -> dict[str, Any]:
    roles: dict[str, dict[str, float]] = {}
    for record in records:
        usage = record.get("usage")
        for role, numbers in usage.items() if isinstance(usage, Mapping) else ():
            if isinstance(numbers, Mapping):
                sums = roles.setdefault(str(role), dict.fromkeys(_USAGE_KEYS, 0))
                for key in _USAGE_KEYS:
                    sums[key] += numbers.get(key) or 0
    total = {key: sum(role[key] for role in roles.values()) for key in _USAGE_KEYS}
    per_sample = {key: round(value / verified, 6) for key, value in total.items()} if verified else None
    return {
        "roles": {role: _rounded(sums) for role, sums in sorted(roles.items())},
        "total": _rounded(total),
        "per_verified_sample": per_sample,
    }


def _rounded(usage: Mapping[str, float]) -> dict[str, float]:
    return {key: round(value, 6) if key == "cost" else int(value) for key, value in usage.items()}


def _timings(records: list[dict[str, Any]]) -> dict[str, Any]:
    timings = [record["timings"] for record in records if isinstance(record.get("timings"), Mapping)]
    sums = {key: round(sum(float(t.get(key) or 0) for t in timings), 3) for key in ("wall_s", "model_s", "execution_s")}
    starts = [t for t in (_instant(timing.get("started_at")) for timing in timings) if t is not None]
    ends = [t for t in (_instant(timing.get("ended_at")) for timing in timings) if t is not None]
    return {
        **sums,
        "span_s": round((max(ends) - min(starts)).total_seconds(), 3) if starts and ends else None,
        "started_at": min(starts).isoformat() if starts else None,
        "ended_at": max(ends).isoformat() if ends else None,
    }


def _judged(record: Mapping[str, Any]) -> bool:
    """The last run passed and the record's status is a gate's verdict (not an overflow after it)."""
    executions = record.get("executions") or []
    last = executions[-1] if executions and isinstance(executions[-1], Mapping) else {}
    return last.get("status") == "pass" and record.get("status") in ("pass", *GATE_STATUSES.values())


def _mutation_summary(reports: list[Mapping[str, Any]]) -> dict[str, Any]:
    mutants = [m for report in reports for m in report.get("mutants") or [] if isinstance(m, Mapping)]
    run = Counter(str(m.get("operator")) for m in mutants)
    survived = Counter(str(m.get("operator")) for m in mutants if m.get("outcome") == "survived")
    ranked = sorted(survived.items(), key=lambda item: (-item[1], item[0]))[:TOP_SURVIVING_OPERATORS]
    return {
        "samples": len(reports),
        "score": _distribution([report.get("score") for report in reports]),
        **{key: sum(_count(report.get(key)) for report in reports) for key in ("killed", "survived", "inconclusive")},
        "mutants_per_sample": _mean([len(report.get("mutants") or []) for report in reports]),
        "seconds_per_sample": _mean([_number(report.get("duration_s")) for report in reports]),
        "surviving_operators": [{"operator": op, "survived": count, "run": run[op]} for op, count in ranked],
    }


def _coverage_summary(measured: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "samples": len(measured),
        "line_rate": _distribution([entry.get("line_rate") for entry in measured]),
        "branch_rate": _distribution([entry.get("branch_rate") for entry in measured]),
        "seconds_per_sample": _mean([_number(entry.get("duration_s")) for entry in measured]),
    }


def _hidden_summary(runs: list[Mapping[str, Any]]) -> dict[str, int]:
    """Hidden tests' outcomes: ``pass``, ``rejected`` (they redefined the solution), or ``fail`` (any other)."""
    outcomes = Counter(str(run.get("status")) if run.get("status") in ("pass", "rejected") else "fail" for run in runs)
    return {"samples": len(runs), "pass": outcomes["pass"], "fail": outcomes["fail"], "rejected": outcomes["rejected"]}


def _distribution(values: Iterable[Any]) -> dict[str, Any]:
    """Count, mean, median and histogram (``RATE_BUCKETS``) of the rates in ``values`` that are numbers."""
    rates = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {
        "count": len(rates),
        "mean": _mean(rates),
        "median": round(statistics.median(rates), 6) if rates else None,
        "histogram": [
            {"bucket": label, "samples": sum(1 for rate in rates if low <= rate and (high is None or rate < high))}
            for label, low, high in RATE_BUCKETS
        ],
    }


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _last_output(record: Mapping[str, Any]) -> str:
    executions = record.get("executions") or []
    last = executions[-1] if executions and isinstance(executions[-1], Mapping) else {}
    return str(last.get("output") or "")


def _model_error_message(error: Mapping[str, Any]) -> str:
    return normalize_message(str(error.get("error") or "model error"))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _mean(values: list[int] | list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None
