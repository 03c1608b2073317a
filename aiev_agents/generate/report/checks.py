"""The checks of the passing programs in the run report: what each gate stopped, mutation
score and coverage distributions, hidden tests' outcomes."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .stats import as_count, as_number, mean

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
        **{key: sum(as_count(report.get(key)) for report in reports) for key in ("killed", "survived", "inconclusive")},
        "mutants_per_sample": mean([len(report.get("mutants") or []) for report in reports]),
        "seconds_per_sample": mean([as_number(report.get("duration_s")) for report in reports]),
        "surviving_operators": [{"operator": op, "survived": count, "run": run[op]} for op, count in ranked],
    }


def _coverage_summary(measured: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "samples": len(measured),
        "line_rate": _distribution([entry.get("line_rate") for entry in measured]),
        "branch_rate": _distribution([entry.get("branch_rate") for entry in measured]),
        "seconds_per_sample": mean([as_number(entry.get("duration_s")) for entry in measured]),
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
        "mean": mean(rates),
        "median": round(statistics.median(rates), 6) if rates else None,
        "histogram": [
            {"bucket": label, "samples": sum(1 for rate in rates if low <= rate and (high is None or rate < high))}
            for label, low, high in RATE_BUCKETS
        ],
    }
