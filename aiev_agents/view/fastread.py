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

_PROGRAM = b', "final_program": '
_PACKAGES = b', "final_packages": '
_TIMINGS = b', "timings": {'
_ENDED_AT = b'"ended_at": "'
_HEAD_KEYS = ("schema", "id", "stage", "verified", "status", "rounds", "seed", "problem", "models")


def list_fields(buffer: bytes, begin: int = 0, end: int | None = None) -> dict[str, Any] | None:
    """The fields before ``messages``, ``final_program`` and ``timings.ended_at`` of the line
    ``buffer[begin:end]`` (newline included); None when the line does not have the shape of a
    current record (the caller then parses it whole).

    The line is searched where it lies in ``buffer`` (a block of the file), never copied whole,
    and each search starts where the one before stopped: one pass over its bytes.
    """
    end = len(buffer) if end is None else end
    if end - begin < 3 or buffer[end - 2 : end] != b"}\n":
        return None
    cut = buffer.find(b', "messages": ', begin, end)
    executions = buffer.find(b', "executions": ', cut, end) if cut >= 0 else -1
    if executions < 0:
        return None
    try:
        head = json.loads(buffer[begin:cut].decode("utf-8") + "}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if type(head) is not dict or any(key not in head for key in _HEAD_KEYS):
        return None
    head["messages"] = head["executions"] = None  # present; their content is not read here
    at = buffer.find(_PROGRAM, executions, end)
    stop = buffer.find(_PACKAGES, at, end) if at >= 0 else -1
    if stop >= 0:
        try:
            head["final_program"] = json.loads(buffer[at + len(_PROGRAM) : stop].decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    at = buffer.find(_TIMINGS, max(stop, executions), end)
    at = buffer.find(_ENDED_AT, at, end) if at >= 0 else -1
    stop = buffer.find(b'"', at + len(_ENDED_AT), end) if at >= 0 else -1
    if stop >= 0:
        head["timings"] = {"ended_at": buffer[at + len(_ENDED_AT) : stop].decode("ascii", errors="replace")}
    return head
