"""Throughput over time: dialogues and verified samples finished per interval of a run.

Kept apart from ``build_report`` (whose figures ``report.json`` holds): a time series is for
charts, drawn by ``aiev report``'s images and ``aiev view``'s overview.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .stats import as_instant

DEFAULT_BUCKETS = 24


def throughput(records: Iterable[Mapping[str, Any]], *, buckets: int = DEFAULT_BUCKETS) -> dict[str, Any]:
    """Dialogues and verified ones ended per interval, over the span from the first to the last end.

    Returns:
        ``interval_s`` (the width of one interval) and ``points``: one per interval, ``minute``
        (minutes from the first end to the interval's start), ``dialogues`` and ``verified``.
        No points when no record has a readable ``timings.ended_at``.
    """
    ends = []
    for record in records:
        timings = record.get("timings")
        moment = as_instant(timings.get("ended_at")) if isinstance(timings, Mapping) else None
        if moment is not None:
            ends.append((moment, record.get("verified") is True))
    if not ends:
        return {"interval_s": None, "points": []}
    first = min(moment for moment, _ in ends)
    span_s = max((moment - first).total_seconds() for moment, _ in ends)
    width_s = max(span_s / buckets, 1.0)
    count = min(buckets, int(span_s // width_s) + 1)
    dialogues, verified = [0] * count, [0] * count
    for moment, ok in ends:
        slot = min(count - 1, int((moment - first).total_seconds() // width_s))
        dialogues[slot] += 1
        verified[slot] += ok
    points = [
        {"minute": round(slot * width_s / 60, 3), "dialogues": dialogues[slot], "verified": verified[slot]}
        for slot in range(count)
    ]
    return {"interval_s": round(width_s, 3), "points": points}
