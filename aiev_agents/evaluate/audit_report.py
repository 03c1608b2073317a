"""The numbers of an audit and its Markdown: precision, recall, false-verified rate, tables.

Rates are None where undefined (no verified, no correct or no wrong record).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audit import AuditRow


def summarize(rows: Sequence[AuditRow], invalid: int = 0) -> dict[str, Any]:
    """Counts, rates and the per-status breakdown of labelled rows (rates are None when undefined)."""
    labelled = [row for row in rows if row.correct is not None]
    correct = sum(1 for row in labelled if row.correct)
    verified = sum(1 for row in labelled if row.verified)
    verified_and_correct = sum(1 for row in labelled if row.verified and row.correct)
    truths = Counter(row.ground_truth for row in rows)
    by_status: dict[str, dict[str, int]] = {}
    for row in sorted(labelled, key=lambda item: item.status):
        entry = by_status.setdefault(row.status, {"count": 0, "correct": 0})
        entry["count"] += 1
        entry["correct"] += int(bool(row.correct))
    return {
        "records": len(rows),
        "invalid": invalid,
        "unmatched": truths["unmatched"],
        "no_program": truths["no_program"],
        "unlabelled": truths["install_error"] + truths["error"],
        "labelled": len(labelled),
        "correct": correct,
        "verified": verified,
        "verified_and_correct": verified_and_correct,
        "verified_and_wrong": verified - verified_and_correct,
        "precision": _ratio(verified_and_correct, verified),
        "recall": _ratio(verified_and_correct, correct),
        "false_verified_rate": _ratio(verified - verified_and_correct, len(labelled) - correct),
        "by_status": by_status,
    }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def render_summary(result: dict[str, Any]) -> str:
    """The summary table and the per-status table, as Markdown (what ``aiev audit`` prints)."""
    lines = [
        f"Audit of {result['run_dir']} against {result['benchmark']}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| records | {result['records']} |",
        f"| unmatched (no {result['benchmark']} task) | {result['unmatched']} |",
        f"| no final program | {result['no_program']} |",
        f"| not labelled (install or reference failed) | {result['unlabelled']} |",
        f"| labelled | {result['labelled']} |",
        f"| correct (passes the benchmark's tests) | {result['correct']} |",
        f"| verified | {result['verified']} |",
        f"| verified and correct | {result['verified_and_correct']} |",
        f"| precision (verified and correct / verified) | {_rate(result['precision'])} |",
        f"| recall (verified and correct / correct) | {_rate(result['recall'])} |",
        f"| false-verified rate (verified and wrong / wrong) | {_rate(result['false_verified_rate'])} |",
    ]
    if result["invalid"]:
        lines.insert(5, f"| invalid lines (skipped) | {result['invalid']} |")
    lines += ["", "Labelled records by recorded status:", "", "| status | labelled | correct |", "|---|---|---|"]
    lines += [f"| {status} | {n['count']} | {n['correct']} |" for status, n in result["by_status"].items()]
    return "\n".join(lines) + "\n"


def render_markdown(result: dict[str, Any]) -> str:
    """``audit.md``: the summary, then the records where ``verified`` and the ground truth disagree."""
    rows = result["rows"]
    parts = ["# " + render_summary(result)]
    sections = (
        ("Verified but wrong", [row for row in rows if row["verified"] and row["correct"] is False]),
        ("Correct but not verified", [row for row in rows if not row["verified"] and row["correct"]]),
        (
            "Not labelled",
            [row for row in rows if row["correct"] is None and row["ground_truth"] != "unmatched"],
        ),
    )
    for title, chosen in sections:
        if chosen:
            parts.append(_row_table(title, chosen))
    unmatched = [row["id"] for row in rows if row["ground_truth"] == "unmatched"]
    if unmatched:
        parts.append("## Unmatched records\n\n" + ", ".join(f"`{name}`" for name in unmatched) + "\n")
    parts.append(
        f"Benchmark file: {result['dataset_source']} (hash {result['dataset_hash']}); sandbox image "
        f"{result['sandbox_image']}, {result['timeout_s']:g} s per program.\n"
    )
    return "\n".join(parts)


def _row_table(title: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"## {title}", "", "| id | task | recorded status | ground truth |", "|---|---|---|---|"]
    for row in rows:
        truth = f"{row['ground_truth']}: {row['error']}" if row["error"] else row["ground_truth"]
        lines.append(f"| `{row['id']}` | {row['task_id']} | {row['status']} | {_cell(truth)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
