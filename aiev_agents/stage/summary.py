"""The stage switch in the run report: ``stage.json`` as report data and as Markdown lines."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .state import STAGE_FILE, UNREADABLE_STATE, read_stage_state

__all__ = ["stage_markdown", "stage_summary"]

logger = logging.getLogger(__name__)


def stage_summary(out_dir: str | Path) -> dict[str, Any] | None:
    """The stage decisions, trainings and postponed comparisons of a run folder for its report.

    None when it has no ``stage.json``.
    """
    path = Path(out_dir) / STAGE_FILE
    if not path.exists():
        return None
    try:
        state = read_stage_state(path)
    except UNREADABLE_STATE as exc:
        logger.warning("%s is not a readable stage file: %s", path, exc)
        return None
    trainings = [run.model_dump(mode="json", exclude={"command", "started_at"}) for run in state.trainings]
    return {
        "stage": state.stage,
        "decisions": [d.model_dump(mode="json") for d in state.decisions],
        "trainings": trainings,
        "postponed": [p.model_dump(mode="json") for p in state.postponed],
    }


def stage_markdown(summary: dict[str, Any] | None) -> list[str]:
    """Report lines: one table row per decision, then the trainings and postponed comparisons."""
    if not summary:
        return []
    lines = ["", "## Stage switch", "", f"Stage now: {summary['stage']}", ""]
    lines += ["| block | problems | teacher pass@1 | student pass@1 | margin | decision |", "|---|---|---|---|---|---|"]
    for d in summary["decisions"]:
        verdict = "switch to student" if d["switched"] else "keep teacher"
        lines.append(
            f"| {d['block']} | {d['problems']} | {d['teacher_pass_at_1']:.3f} | {d['student_pass_at_1']:.3f} "
            f"| {d['margin']:g} | {verdict} |"
        )
    return lines + _trainings_markdown(summary.get("trainings") or []) + _postponed_markdown(summary)


def _trainings_markdown(trainings: list[dict[str, Any]]) -> list[str]:
    if not trainings:
        return []
    lines = ["", "Train command:", "", "| block | status | exit | seconds | error |", "|---|---|---|---|---|"]
    for run in trainings:
        code = "" if run["exit_code"] is None else run["exit_code"]
        error = _cell(run.get("error") or "")
        lines.append(f"| {run['block']} | {run['status']} | {code} | {run['duration_s']:.1f} | {error} |")
    failed = [run for run in trainings if run["status"] != "ok"]
    if failed and failed[-1] is trainings[-1] and failed[-1]["output_tail"].strip():
        tail = failed[-1]["output_tail"].rstrip().splitlines()[-10:]
        lines += ["", f"Last lines of the failed training ({failed[-1]['log_path']}):", "", "```text", *tail, "```"]
    return lines


def _postponed_markdown(summary: dict[str, Any]) -> list[str]:
    lines = []
    for entry in summary.get("postponed") or []:
        then = entry["decided_at_block"]
        outcome = f"decided at block {then}" if then is not None else "not decided yet"
        lines.append(f"* comparison of block {entry['block']} postponed ({_cell(entry['error'])}); {outcome}")
    return ["", "Postponed comparisons:", "", *lines] if lines else []


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")[:300]
