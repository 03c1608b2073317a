"""One list row of a dialogue record: what the list shows and filters on, read tolerantly.

Records of older schemas and records with missing or mistyped fields still give a row; what is
wrong with them goes into ``note``, which the list and the dialogue page show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..dialogue.transcript import SCHEMA_VERSION

#: The keys a current dialogue record must have (``docs/records.md``); a missing one is noted.
REQUIRED_KEYS = ("id", "stage", "verified", "status", "rounds", "seed", "problem", "models", "messages", "executions")
#: Characters of problem and code kept for the text search of one record.
SEARCH_CHARS = 8000
MALFORMED = "malformed"


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    """The row of one parsed record; ``search`` is its lower-cased problem and code.

    Called once per line of a run (100,000 lines: every microsecond counts), hence plain
    ``dict`` checks rather than ``Mapping`` ones.
    """
    seed = record.get("seed")
    seed = seed if type(seed) is dict else {}
    models = record.get("models")
    problem = record.get("problem")
    if type(problem) is not str:
        problem = _text(seed.get("problem")) or _text(seed.get("snippet"))
    verified = record.get("verified")
    program = record.get("final_program")
    return {
        "id": _text(record.get("id")),
        "verified": verified if type(verified) is bool else None,
        "status": _text(record.get("status")) or "unknown",
        "rounds": _rounds(record),
        "models": sorted({str(name) for name in models.values()}) if type(models) is dict else [],
        "language": _text(seed.get("language")) or "python",
        "source": _text(seed.get("source")) or ("snippet" if seed.get("snippet") else "problem"),
        "stage": _text(record.get("stage")),
        "first_line": problem.strip().split("\n", 1)[0].strip(),
        "ended_at": _ended_at(record),
        "note": record_note(record),
        "search": (problem[:SEARCH_CHARS] + "\n" + (program[:SEARCH_CHARS] if type(program) is str else "")).lower(),
    }


def malformed_row(line_no: int, reason: str) -> dict[str, Any]:
    """The row of a line that is not a whole JSON object (a torn last line, a hand edit)."""
    return {
        "id": f"line-{line_no}",
        "verified": None,
        "status": MALFORMED,
        "rounds": 0,
        "models": [],
        "language": "",
        "source": "",
        "stage": "",
        "first_line": "",
        "ended_at": "",
        "note": reason,
        "search": "",
    }


def record_note(record: Mapping[str, Any]) -> str:
    """What is off in a record, in words ("" when nothing a quick look can see)."""
    notes = []
    schema = record.get("schema")
    if schema != SCHEMA_VERSION:
        notes.append(f"schema {schema!r}, this version reads {SCHEMA_VERSION}: shown as far as it goes")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        notes.append("missing " + ", ".join(missing))
    return "; ".join(notes)


def _rounds(record: Mapping[str, Any]) -> int:
    rounds = record.get("rounds")
    if type(rounds) is int:
        return rounds
    executions = record.get("executions")
    return len(executions) if isinstance(executions, list) else 0


def _ended_at(record: Mapping[str, Any]) -> str:
    timings = record.get("timings")
    return _text(timings.get("ended_at")) if type(timings) is dict else ""


def _text(value: Any) -> str:
    return value if type(value) is str else ""
