"""The run report as Markdown: a summary, then one table per statistic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...stage.summary import stage_markdown

_TOKEN_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: a summary, then one table per statistic."""
    counts = report["counts"]
    lines = [
        "# AIEV run report",
        "",
        f"- dialogues: {counts['dialogues']} ({counts['records']} records, "
        f"{counts['model_error_records']} lost to model errors)",
        f"- verified: {counts['verified']} ({_percent(report['verified_rate'])})",
        f"- mean rounds: {_number(report['mean_rounds'])}",
    ]
    if counts["skipped_lines"]:
        lines.append(f"- lines skipped (not whole records): {counts['skipped_lines']}")
    lines += _table(
        "Pass rate by round (cumulative)",
        ["round", "verified", "rate"],
        [[row["round"], row["verified"], _percent(row["rate"])] for row in report["pass_at_round"]],
    )
    lines += _table(
        "Rounds",
        ["rounds", "dialogues", "verified"],
        [[row["rounds"], row["dialogues"], row["verified"]] for row in report["rounds_histogram"]],
    )
    lines += _table("Failures", ["category", "dialogues"], [[k, v] for k, v in report["failures"].items() if v])
    lines += _table(
        "Top errors",
        ["count", "message"],
        [[e["count"], "`" + e["message"].replace("`", "'") + "`"] for e in report["top_errors"]],
    )
    lines += checks_markdown(report.get("checks"))
    lines += _usage_table(report["usage"])
    lines += _timings_lines(report["timings"])
    lines += stage_markdown(report.get("stage_switch"))
    return "\n".join(lines) + "\n"


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _number(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def checks_markdown(checks: Mapping[str, Any] | None) -> list[str]:
    """The checks of the passing programs: gates, mutation score and coverage, hidden tests."""
    if not checks:
        return []
    mutation, hidden = checks["mutation"], checks["hidden_tests"]
    lines = [
        "",
        "## Checks of passing programs",
        "",
        f"- judged (last run passed): {checks['judged']}, of which verified: {checks['passed']}",
        f"- mutants: {mutation['killed']} killed, {mutation['survived']} survived, "
        f"{mutation['inconclusive']} inconclusive ({_number(mutation['mutants_per_sample'], '.1f')} run per sample)",
        f"- seconds per sample: mutation {_number(mutation['seconds_per_sample'], '.3f')}, "
        f"coverage {_number(checks['coverage']['seconds_per_sample'], '.3f')}",
        f"- hidden tests: {hidden['pass']} pass, {hidden['fail']} fail, {hidden['rejected']} rejected",
        f"- dialogues over the model's context: {checks['context_exceeded']}",
    ]
    lines += _table(
        "Stopped by gate",
        ["gate", "status", "samples"],
        [[row["gate"], row["status"], row["samples"]] for row in checks["stopped"]],
        level=3,
    )
    distributions = [("mutation score", mutation["score"])]
    distributions += [(f"{kind} coverage", checks["coverage"][f"{kind}_rate"]) for kind in ("line", "branch")]
    buckets = [row["bucket"] for row in mutation["score"]["histogram"]]
    lines += _table(
        "Mutation score and coverage",
        ["measure", "samples", "mean", "median", *buckets],
        [[name, d["count"], _number(d["mean"]), _number(d["median"]), *(row["samples"] for row in d["histogram"])]
         for name, d in distributions],
        level=3,
    )  # fmt: skip
    lines += _table(
        "Surviving mutants by operator",
        ["operator", "survived", "run"],
        [[row["operator"], row["survived"], row["run"]] for row in mutation["surviving_operators"]],
        level=3,
    )
    return lines


def _table(title: str, header: list[str], rows: list[list[Any]], level: int = 2) -> list[str]:
    lines = ["", f"{'#' * level} {title}", ""]
    if not rows:
        return [*lines, "(none)"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _usage_table(usage: Mapping[str, Any]) -> list[str]:
    rows = [[role, *(_usage_cells(numbers))] for role, numbers in usage["roles"].items()]
    rows.append(["**total**", *(_usage_cells(usage["total"]))])
    if usage["per_verified_sample"] is not None:
        rows.append(["per verified sample", *(_usage_cells(usage["per_verified_sample"], ".1f"))])
    return _table("Tokens and cost", ["role", "prompt", "completion", "total", "cost"], rows)


def _usage_cells(numbers: Mapping[str, float], tokens_format: str = ",.0f") -> list[str]:
    tokens = [format(numbers[key], tokens_format) for key in _TOKEN_KEYS]
    return [*tokens, f"{numbers['cost']:.4f}"]


def _timings_lines(timings: Mapping[str, Any]) -> list[str]:
    span = "n/a" if timings["span_s"] is None else f"{timings['span_s']:.1f} s"
    return [
        "",
        "## Time",
        "",
        f"- wall time, summed over dialogues: {timings['wall_s']:.1f} s "
        f"(model {timings['model_s']:.1f} s, execution {timings['execution_s']:.1f} s)",
        f"- span: {span} (from {timings['started_at'] or 'n/a'} to {timings['ended_at'] or 'n/a'})",
    ]
