"""The records of a run folder as the report reads them: slimmed, torn lines counted and skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import DatasetError
from ...jsonl import numbered_records

DIALOGUES_FILE = "dialogues.jsonl"
ERRORS_FILE = "errors.jsonl"

_SLIM_KEYS = ("id", "verified", "status", "error", "usage", "timings")
_CHECKS_SUMMARY_KEYS = ("score", "killed", "survived", "inconclusive", "duration_s")


@dataclass
class RunRecords:
    """What a run folder holds: dialogue records, model-error records, lines not read."""

    dialogues: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    skipped_lines: int = 0


def read_run(out_dir: str | os.PathLike[str]) -> RunRecords:
    """The records of a run folder; lines that are not whole JSON objects are counted and skipped.

    Raises:
        DatasetError: The folder holds neither ``dialogues.jsonl`` nor ``errors.jsonl``.
    """
    folder = Path(out_dir)
    paths = [folder / DIALOGUES_FILE, folder / ERRORS_FILE]
    if not any(path.is_file() for path in paths):
        raise DatasetError(f"{folder} has no {DIALOGUES_FILE}; give the --out folder of an `aiev generate` run")
    run = RunRecords(dialogues=[], errors=[])
    run.dialogues = [slim_record(record) for record in _json_lines(paths[0], run)]
    run.errors = list(_json_lines(paths[1], run))
    return run


def slim_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the report reads of a record: a big run's messages and programs stay out of memory."""
    slim = {key: record[key] for key in _SLIM_KEYS if key in record}
    slim["rounds"] = rounds_of(record)
    slim["executions"] = list(record.get("executions") or [])[-1:]
    if isinstance(record.get("checks"), Mapping):
        slim["checks"] = _slim_checks(record["checks"])
    return slim


def rounds_of(record: Mapping[str, Any]) -> int:
    """The record's rounds; for a record without them, its executions."""
    rounds = record.get("rounds")
    return rounds if isinstance(rounds, int) else len(record.get("executions") or [])


def last_output(record: Mapping[str, Any]) -> str:
    """The output of the record's last run ("" when it has none)."""
    executions = record.get("executions") or []
    last = executions[-1] if executions and isinstance(executions[-1], Mapping) else {}
    return str(last.get("output") or "")


def _json_lines(path: Path, run: RunRecords) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    for _, record in numbered_records(path, errors="replace"):
        if record is None:
            run.skipped_lines += 1
        else:
            yield record


def _slim_checks(checks: Mapping[str, Any]) -> dict[str, Any]:
    """The checks without what the report does not read (mutants' descriptions, missing lines)."""
    slim = {key: value for key, value in checks.items() if key not in ("mutation", "coverage")}
    mutation = checks.get("mutation")
    if isinstance(mutation, Mapping):
        slim["mutation"] = {key: mutation[key] for key in _CHECKS_SUMMARY_KEYS if key in mutation}
        mutants = mutation.get("mutants")
        mutants = mutants if isinstance(mutants, list) else []
        slim["mutation"]["mutants"] = [
            {"operator": m.get("operator"), "outcome": m.get("outcome")} for m in mutants if isinstance(m, Mapping)
        ]
    coverage = checks.get("coverage")
    if isinstance(coverage, Mapping):
        slim["coverage"] = {key: coverage[key] for key in ("line_rate", "branch_rate", "duration_s") if key in coverage}
    return slim
