"""Why a dialogue yielded no sample: its failure category and the error message it ended on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...tracebacks import exception_line
from .records import last_output

FAILURE_CATEGORIES = (
    "syntax_error",
    "assertion",
    "timeout",
    "import_error",
    "no_tests",
    "vacuous_tests",
    "hidden_tests_failed",
    "low_coverage",
    "no_code",
    "context_exceeded",
    "model_error",
    "runtime_error",
)
_STATUS_CATEGORY = {
    "timeout": "timeout",
    "install_error": "import_error",
    "no_tests": "no_tests",
    "vacuous_tests": "vacuous_tests",
    "hidden_tests_failed": "hidden_tests_failed",
    "low_coverage": "low_coverage",
    "no_code": "no_code",
    "context_exceeded": "context_exceeded",
    "error": "model_error",
}
_EXCEPTION_CATEGORY = {
    **dict.fromkeys(("SyntaxError", "IndentationError", "TabError"), "syntax_error"),
    **dict.fromkeys(("ModuleNotFoundError", "ImportError"), "import_error"),
    "AssertionError": "assertion",
}
_PIP_ERROR_LINE = re.compile(r"^ERROR: .+$")
_MESSAGE_CHARS = 160


def classify_failure(record: Mapping[str, Any]) -> str:
    """The failure category of a non-verified dialogue (one of ``FAILURE_CATEGORIES``).

    From the status first (timeout, install error, no tests, no code, context exceeded,
    model error), else from the exception that ended the last run's output (syntax,
    assertion, import), else ``runtime_error``.
    """
    category = _STATUS_CATEGORY.get(str(record.get("status")))
    if category is not None:
        return category
    line = exception_line(last_output(record))
    if line is None:
        return "runtime_error"
    name = line.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    return _EXCEPTION_CATEGORY.get(name, "runtime_error")


def failure_message(record: Mapping[str, Any]) -> str | None:
    """The normalized error message that ended a dialogue, None when there is none.

    The exception line of the last run's last traceback; for a failed ``pip install`` its
    last ``ERROR:`` line; for a model error, the error; for an exceeded context, its error
    if the record has one; for a timeout or a dialogue without tests or code, None (their
    category says it all).
    """
    status = record.get("status")
    if status == "error":
        return model_error_message(record)
    if status == "context_exceeded":
        error = record.get("error") or (record.get("checks") or {}).get("context_exceeded")
        return normalize_message(str(error)) if error else None
    if status in ("timeout", "no_tests", "no_code", "vacuous_tests", "low_coverage"):
        return None
    output = last_output(record)
    if status == "hidden_tests_failed":
        hidden = ((record.get("executions") or [{}])[-1] or {}).get("hidden_tests") or {}
        output = str(hidden.get("output") or "")
    if status == "install_error":
        lines = [line.strip() for line in output.splitlines() if _PIP_ERROR_LINE.match(line.strip())]
        return normalize_message(lines[-1]) if lines else "pip install failed"
    line = exception_line(output)
    return normalize_message(line) if line is not None else None


def normalize_message(message: str) -> str:
    """One error message in a form that groups alike ones: numbers and addresses masked, short."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", message.strip())
    text = re.sub(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)", "N", text)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def model_error_message(error: Mapping[str, Any]) -> str:
    """The normalized message of a model error (a record of ``errors.jsonl``, or of status ``error``)."""
    return normalize_message(str(error.get("error") or "model error"))
