"""Reading a dialogue line's list fields without parsing its conversation: the index's fast path.

A record as ``Transcript.to_dict`` writes it puts ``id``, ``stage``, ``verified``, ``status``,
``rounds``, ``seed``, ``problem`` and ``models`` before ``messages``, and ``final_program`` and
``timings`` after them. The fields before are parsed as one small JSON object cut at
``, "messages": ``; ``final_program`` is decoded where its key stands, and of ``timings`` only
``ended_at`` is read. The conversation, most of a record's bytes, is never parsed: indexing
runs faster than one ``json.loads`` per line.

Why the cut is safe: inside a JSON string every ``"`` is escaped, so ``, "key": `` (comma,
space, bare quote) only occurs between values, never inside text. A line that does not have
this shape (another writer, key order, a missing field, a torn line) returns None and is
parsed whole by the caller.
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
_HEAD_KEYS = ("schema", "id", "stage", "verified", "status", "rounds", "seed", "problem", "models")


def list_fields(line: bytes) -> dict[str, Any] | None:
    """The record's fields before ``messages``, ``final_program`` and ``timings``; None when the
    line does not have the shape of a current record (the caller then parses it whole)."""
    if not line.endswith(b"}\n"):
        return None
    cut = line.find(b', "messages": ')
    if cut < 0 or line.find(b', "executions": ', cut) < 0:
        return None
    try:
        head = json.loads(line[:cut].decode("utf-8") + "}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(head, dict) or any(key not in head for key in _HEAD_KEYS):
        return None
    program = _value_between(line, cut, "final_program", "final_packages")
    if isinstance(program, str):
        head["final_program"] = program
    ended_at = _ended_at(line, cut)
    if ended_at is not None:
        head["timings"] = {"ended_at": ended_at}
    head["messages"] = head["executions"] = None  # present; their content is not read here
    return head


def _value_between(line: bytes, start: int, key: str, next_key: str) -> Any:
    """The value of ``key``, cut at the key written after it (or decoded to its end without one)."""
    marker = f', "{key}": '.encode()
    at = line.find(marker, start)
    if at < 0:
        return None
    at += len(marker)
    end = line.find(f', "{next_key}": '.encode(), at)
    try:
        if end >= 0:
            return json.loads(line[at:end].decode("utf-8"))
        return _DECODER.raw_decode(line[at:].decode("utf-8"))[0]
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _ended_at(line: bytes, start: int) -> str | None:
    """``timings.ended_at``, a plain ISO 8601 string (no escapes), read where it stands."""
    at = line.find(b', "timings": {', start)
    if at < 0:
        return None
    at = line.find(b'"ended_at": "', at)
    end = line.find(b'"', at + 13) if at >= 0 else -1
    return line[at + 13 : end].decode("ascii", errors="replace") if end >= 0 else None
