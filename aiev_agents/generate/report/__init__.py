"""The report of a generation run: what ``dialogues.jsonl`` (and ``errors.jsonl``) add up to.

Modules: :mod:`.records` (reading a run folder's records), :mod:`.figures` (``build_report``,
a pure function over record dicts), :mod:`.failures` (failure categories and messages),
:mod:`.checks` (what the gates did to the passing programs), :mod:`.markdown` (the report as
Markdown), :mod:`.writer` (``write_report``: ``report.json`` and ``report.md`` in the folder),
:mod:`.stats` (number helpers).
"""

from __future__ import annotations

from ...tracebacks import exception_line
from .checks import GATE_STATUSES, RATE_BUCKETS, TOP_SURVIVING_OPERATORS, checks_summary
from .failures import FAILURE_CATEGORIES, classify_failure, failure_message, normalize_message
from .figures import DEFAULT_TOP_ERRORS, REPORT_SCHEMA, build_report
from .markdown import checks_markdown, render_markdown
from .records import DIALOGUES_FILE, ERRORS_FILE, RunRecords, read_run
from .writer import REPORT_JSON, REPORT_MARKDOWN, write_report

__all__ = [
    "DEFAULT_TOP_ERRORS",
    "DIALOGUES_FILE",
    "ERRORS_FILE",
    "FAILURE_CATEGORIES",
    "GATE_STATUSES",
    "RATE_BUCKETS",
    "REPORT_JSON",
    "REPORT_MARKDOWN",
    "REPORT_SCHEMA",
    "TOP_SURVIVING_OPERATORS",
    "RunRecords",
    "build_report",
    "checks_markdown",
    "checks_summary",
    "classify_failure",
    "exception_line",
    "failure_message",
    "normalize_message",
    "read_run",
    "render_markdown",
    "write_report",
]
