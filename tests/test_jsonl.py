"""The one JSONL reader/writer: numbered records, torn lines, atomic rewrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiev_agents.errors import DatasetError
from aiev_agents.jsonl import (
    append_record,
    numbered_records,
    read_all,
    read_records,
    repair_torn_tail,
    strict_records,
)


def test_append_then_read_skips_blank_and_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.jsonl"
    append_record(path, {"id": "1", "text": "é"})
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n[1, 2]\n{torn\n")
    append_record(path, {"id": "2"})
    assert [r["id"] for r in read_records(path)] == ["1", "2"]
    broken = [(n, r is None) for n, r in numbered_records(path, warn=False)]
    assert broken == [(1, False), (3, True), (4, True), (5, False)]
    assert "é" in path.read_text(encoding="utf-8")


def test_repair_cuts_only_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    assert repair_torn_tail(path) == 0
    path.write_text('{"id": "1"}\n{"id": "2", "x', encoding="utf-8")
    assert repair_torn_tail(path) == len('{"id": "2", "x')
    assert path.read_text(encoding="utf-8") == '{"id": "1"}\n'
    assert repair_torn_tail(path) == 0


def test_read_all_repairs_by_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    assert read_all(path) == []
    path.write_text('{"id": "1"}\n{"id": "2"', encoding="utf-8")
    assert read_all(path) == [{"id": "1"}]
    assert path.read_text(encoding="utf-8").endswith('"2"')
    assert read_all(path, repair=True) == [{"id": "1"}]
    assert path.read_text(encoding="utf-8") == '{"id": "1"}\n'


def test_unreadable_file_and_strict_lines_raise_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read"):
        list(read_records(tmp_path / "missing.jsonl"))
    with pytest.raises(DatasetError, match=r"f.jsonl:2 is not valid JSON"):
        list(strict_records(['{"a": 1}\n', "{nope\n"], "f.jsonl"))
    with pytest.raises(DatasetError, match=r"f.jsonl:1 is not a JSON object"):
        list(strict_records(["[1]\n"], "f.jsonl"))
