"""The figures of a run report from its records: counts, rates by round, failures, usage, timings.

``build_report`` is a pure function over record dicts. Rates are over all dialogues, model
errors included: a dialogue lost to a model error is a dialogue that yielded no sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .checks import checks_summary
from .failures import FAILURE_CATEGORIES, classify_failure, failure_message, model_error_message
from .records import rounds_of, slim_record
from .stats import as_instant, mean, ratio

REPORT_SCHEMA = 1
DEFAULT_TOP_ERRORS = 10

_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "cost")


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
    records = [slim_record(record) for record in dialogues]
    done = {str(record.get("id")) for record in records}
    keyed = {str(error.get("id", f"#{index}")): dict(error) for index, error in enumerate(errors)}
    lost = [error for key, error in keyed.items() if key not in done]
    total = len(records) + len(lost)
    verified = [record for record in records if record.get("verified") is True]
    failures = [(classify_failure(record), failure_message(record)) for record in records if not record.get("verified")]
    failures += [("model_error", model_error_message(error)) for error in lost]
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
        "verified_rate": ratio(len(verified), total),
        "pass_at_round": _pass_at_round(records, total),
        "rounds_histogram": _rounds_histogram(records),
        "mean_rounds": mean([rounds_of(record) for record in records]),
        "statuses": dict(sorted(Counter(str(record.get("status")) for record in records).items())),
        "failures": _failure_counts(category for category, _ in failures),
        "top_errors": _top_messages((message for _, message in failures), top_errors),
        "usage": _usage_summary([*records, *lost], len(verified)),
        "timings": _timings(records),
        "checks": checks_summary(records),
    }


def _pass_at_round(records: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    verified_at = Counter(rounds_of(record) for record in records if record.get("verified") is True)
    last = max((rounds_of(record) for record in records), default=0)
    rows, running = [], 0
    for round_no in range(1, last + 1):
        running += verified_at[round_no]
        rows.append({"round": round_no, "verified": running, "rate": ratio(running, total)})
    return rows


def _rounds_histogram(records: list[dict[str, Any]]) -> list[dict[str, int]]:
    everyone = Counter(rounds_of(record) for record in records)
    verified = Counter(rounds_of(record) for record in records if record.get("verified") is True)
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
    starts = [t for t in (as_instant(timing.get("started_at")) for timing in timings) if t is not None]
    ends = [t for t in (as_instant(timing.get("ended_at")) for timing in timings) if t is not None]
    return {
        **sums,
        "span_s": round((max(ends) - min(starts)).total_seconds(), 3) if starts and ends else None,
        "started_at": min(starts).isoformat() if starts else None,
        "ended_at": max(ends).isoformat() if ends else None,
    }
