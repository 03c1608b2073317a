"""The store: whole records, one per line, a torn tail repaired before appending."""

from __future__ import annotations

import json
from pathlib import Path

from aiev_agents.generate.store import DialogueStore


def test_append_writes_one_whole_line_per_record(tmp_path: Path) -> None:
    store = DialogueStore(tmp_path / "out")
    store.append({"id": "a", "text": "line\nbreak"})
    store.append({"id": "b"})
    lines = store.path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]
    assert store.existing_ids() == {"a", "b"}


def test_repair_cuts_a_torn_last_line(tmp_path: Path) -> None:
    store = DialogueStore(tmp_path)
    store.append({"id": "a"})
    with store.path.open("a") as handle:
        handle.write('{"id": "b", "mess')
    assert store.existing_ids() == {"a"}
    assert store.repair() == len('{"id": "b", "mess')
    store.append({"id": "c"})
    assert [r["id"] for r in store.records()] == ["a", "c"]


def test_repair_of_a_clean_or_missing_file_changes_nothing(tmp_path: Path) -> None:
    store = DialogueStore(tmp_path)
    assert store.repair() == 0
    store.append({"id": "a"})
    assert store.repair() == 0
