"""The one clock of the records: the current UTC time as ISO 8601 text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal


def utc_now(timespec: Literal["seconds", "milliseconds"] = "seconds") -> str:
    """Now in UTC, e.g. ``2026-01-02T03:04:05+00:00`` (``milliseconds``: ``...05.123+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)
