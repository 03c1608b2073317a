"""Small number helpers of the run report: they read record values that may be missing or of another type."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` rounded; None for an empty whole."""
    return round(part / whole, 6) if whole else None


def mean(values: list[int] | list[float]) -> float | None:
    """The rounded mean; None for no values."""
    return round(sum(values) / len(values), 6) if values else None


def as_count(value: Any) -> int:
    """``value`` when it is an int (not a bool), else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def as_number(value: Any) -> float:
    """``value`` as a float when it is a number (not a bool), else 0.0."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def as_instant(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` allowed) as an aware datetime, UTC when it names no zone; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
