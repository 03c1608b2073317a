"""``aiev view``: a local, read-only browser over a run's dialogues, and its charts.

Modules: :mod:`.summary` (a record's list row), :mod:`.fastread` (a line's list fields without
its conversation), :mod:`.scan` (lines to rows, in worker processes for a big file),
:mod:`.index` (the JSONL's index, cached beside it), :mod:`.query` (filters, sorting, paging),
:mod:`.dialogue` (a record laid out for its page), :mod:`.run` (a run opened for viewing),
:mod:`.server` (the HTTP server on 127.0.0.1), :mod:`.html` (the one-file export),
:mod:`.assets` (the shipped page files).
"""

from __future__ import annotations

from .html import MAX_HTML_DIALOGUES, write_html
from .index import RunIndex
from .query import Query
from .run import ViewedRun, find_dialogues
from .server import DEFAULT_PORT, ViewServer

__all__ = [
    "DEFAULT_PORT",
    "MAX_HTML_DIALOGUES",
    "Query",
    "RunIndex",
    "ViewServer",
    "ViewedRun",
    "find_dialogues",
    "write_html",
]
