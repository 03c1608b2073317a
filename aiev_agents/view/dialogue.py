"""A dialogue record laid out for its page: turns split into text and code, runs, diffs, checks.

Pure and tolerant: a record of an older schema or with a field missing gives a page with what
it has, and ``problems`` says what did not validate against the current ``Transcript``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..codeblocks import PYTHON_LABELS, SHELL_LABELS, fenced, split_program
from ..dialogue.transcript import Transcript

#: What each verdict check means, shown beside its figures.
CHECK_MEANINGS = {
    "tests_ran": "The last run's test code executed assertions or test cases, and they called the solution.",
    "hidden_tests": "Tests a test writer wrote from the problem alone, run against the solution without its own tests.",
    "mutation": "Mutants of the solution (small bugs put in on purpose) that the tests caught: "
    "a low score means tests that would pass a wrong solution.",
    "coverage": "Lines and branches of the solution's functions that the tests ran.",
    "context_exceeded": "A model's prompt did not fit its context window; the dialogue ended there.",
    "vacuous_tests": "The vacuity check of older records (replaced by mutation testing).",
}
_EXECUTION_KEYS = (
    "round", "status", "exit_code", "duration_s", "packages", "output", "truncated", "install_output",
    "assertions", "test_cases", "solution_assertions", "solution_functions", "solution_calls", "hidden_tests",
)  # fmt: skip


def dialogue_page(record: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the dialogue page shows of one record."""
    messages = _turns(record.get("messages"))
    programs = [turn["program"] for turn in messages if turn["role"] == "assistant" and turn["program"]]
    return {
        "id": str(record.get("id", "")),
        "verified": record.get("verified"),
        "status": record.get("status"),
        "rounds": record.get("rounds"),
        "stage": record.get("stage"),
        "schema": record.get("schema"),
        "problem": record.get("problem") if isinstance(record.get("problem"), str) else "",
        "seed": record.get("seed") if isinstance(record.get("seed"), Mapping) else {},
        "models": record.get("models") if isinstance(record.get("models"), Mapping) else {},
        "messages": messages,
        "side_turns": _turns(record.get("side_turns")),
        "executions": _executions(record.get("executions")),
        "diffs": program_diffs(programs),
        "checks": _checks(record.get("checks")),
        "final_program": record.get("final_program") if isinstance(record.get("final_program"), str) else "",
        "final_packages": record.get("final_packages") if isinstance(record.get("final_packages"), list) else [],
        "usage": record.get("usage") if isinstance(record.get("usage"), Mapping) else {},
        "timings": record.get("timings") if isinstance(record.get("timings"), Mapping) else {},
        "trace": _trace(record, messages),
        "problems": schema_problems(record),
    }


def malformed_page(row: Mapping[str, Any], raw: str) -> dict[str, Any]:
    """The page of a line that is not a whole record: what is wrong and its text."""
    return {"id": row.get("id"), "status": "malformed", "problems": [row.get("note") or "not a record"], "raw": raw}


def program_diffs(programs: list[str]) -> list[dict[str, Any]]:
    """The unified diff from each program to the next (round n to round n + 1)."""
    diffs = []
    for number, (before, after) in enumerate(zip(programs, programs[1:], strict=False), start=1):
        lines = difflib.unified_diff(
            before.splitlines(), after.splitlines(), f"round {number}", f"round {number + 1}", lineterm=""
        )
        diffs.append({"from_round": number, "to_round": number + 1, "diff": "\n".join(lines)})
    return diffs


def schema_problems(record: Mapping[str, Any]) -> list[str]:
    """What keeps the record from validating as a current ``Transcript`` ([] when it does)."""
    try:
        Transcript.model_validate(dict(record))
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}" for error in exc.errors()]
    return []


def segments(text: str) -> list[dict[str, str]]:
    """A markdown message as text and fenced code, in order (code labelled by its fence)."""
    lines = text.splitlines()
    parts: list[dict[str, str]] = []
    at = 0
    for fence in fenced(text):
        if fence.first > at:
            parts.append({"text": "\n".join(lines[at : fence.first])})
        parts.append({"code": fence.code, "lang": _highlight_language(fence.label)})
        at = fence.last + 1
    if at < len(lines):
        parts.append({"text": "\n".join(lines[at:])})
    return [part for part in parts if "code" in part or part["text"].strip()]


def _turns(turns: Any) -> list[dict[str, Any]]:
    out = []
    for turn in turns if isinstance(turns, list) else []:
        if not isinstance(turn, Mapping):
            continue
        content = turn.get("content") if isinstance(turn.get("content"), str) else ""
        role = str(turn.get("role", ""))
        out.append(
            {
                "role": role,
                "name": str(turn.get("name", role)),
                "call_id": turn.get("call_id"),
                "segments": segments(content),
                "program": split_program(content).python if role == "assistant" else "",
            }
        )
    return out


def _executions(executions: Any) -> list[dict[str, Any]]:
    out = []
    for number, run in enumerate(executions if isinstance(executions, list) else [], start=1):
        if isinstance(run, Mapping):
            shown = {key: run.get(key) for key in _EXECUTION_KEYS}
            shown["round"] = run.get("round", number)
            out.append(shown)
    return out


def _checks(checks: Any) -> list[dict[str, Any]]:
    if not isinstance(checks, Mapping):
        return []
    return [{"name": name, "meaning": CHECK_MEANINGS.get(name, ""), "value": value} for name, value in checks.items()]


def _trace(record: Mapping[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    trace = record.get("trace") if isinstance(record.get("trace"), Mapping) else {}
    return {
        "ag2_log_db": trace.get("ag2_log_db"),
        "ag2_session_id": trace.get("ag2_session_id"),
        "call_ids": [turn["call_id"] for turn in messages if turn.get("call_id")],
    }


def _highlight_language(label: str) -> str:
    """The highlighter's name for a fence label (``python3`` and ``py`` are ``python``, no label too)."""
    if not label or label in PYTHON_LABELS:
        return "python"
    return "bash" if label in SHELL_LABELS else label
