"""Blocks of verified samples split 1:9 into held-out test and train parts: counts, determinism, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.stage.splits import BlockSplitter, held_out_size, split_file, split_records


def record(i: int, verified: bool = True) -> dict[str, Any]:
    return {"id": f"s{i:03d}", "verified": verified, "problem": f"problem {i}", "final_program": "assert True\n"}


def ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_a_full_block_splits_into_exact_test_and_train_counts(tmp_path: Path) -> None:
    splitter = BlockSplitter(tmp_path, block_size=20, test_fraction=0.1)
    finished = [splitter.add(record(i)) for i in range(45)]
    blocks = [block for block in finished if block is not None]
    assert [(b.index, b.test_count, b.train_count) for b in blocks] == [(1, 2, 18), (2, 2, 18)]
    assert finished.index(blocks[0]) == 19 and finished.index(blocks[1]) == 39
    assert (len(ids(blocks[0].test_path)), len(ids(blocks[0].train_path))) == (2, 18)
    assert sorted(ids(blocks[0].test_path) + ids(blocks[0].train_path)) == [f"s{i:03d}" for i in range(20)]
    assert splitter.pending == 5 and (tmp_path / "block-0003.pending.jsonl").exists()
    assert not (tmp_path / "block-0001.pending.jsonl").exists()


def test_the_default_split_holds_out_200_of_2000() -> None:
    assert held_out_size(2000, 0.1) == 200
    assert held_out_size(10, 0.01) == 1  # never an empty test part
    assert held_out_size(2, 0.9) == 1  # never an empty train part


def test_unverified_and_repeated_records_are_not_taken(tmp_path: Path) -> None:
    splitter = BlockSplitter(tmp_path, block_size=4)
    results = [splitter.add(record(1)), splitter.add(record(2, verified=False)), splitter.add(record(1))]
    assert results == [None, None, None] and splitter.pending == 1


def test_the_split_depends_on_the_ids_not_their_order() -> None:
    records = [record(i) for i in range(30)]
    test_a, _ = split_records(records, 0.2)
    test_b, train_b = split_records(list(reversed(records)), 0.2)
    assert sorted(r["id"] for r in test_a) == sorted(r["id"] for r in test_b)
    assert len(test_b) == 6 and len(train_b) == 24
    assert [r["id"] for r in train_b] == [r["id"] for r in reversed(records) if r not in test_b]  # order kept


def test_a_rerun_over_the_same_records_gives_the_same_files(tmp_path: Path) -> None:
    for folder in ("first", "second"):
        splitter = BlockSplitter(tmp_path / folder, block_size=10)
        for i in range(10):
            splitter.add(record(i))
    for name in ("block-0001.test.jsonl", "block-0001.train.jsonl"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_a_new_splitter_resumes_from_the_files_on_disk(tmp_path: Path) -> None:
    first = BlockSplitter(tmp_path, block_size=10)
    for i in range(13):
        first.add(record(i))
    with (tmp_path / "block-0002.pending.jsonl").open("a") as handle:
        handle.write('{"id": "torn", "verif')  # a crash in the middle of a line
    second = BlockSplitter(tmp_path, block_size=10)
    assert (second.next_index, second.pending) == (2, 3)
    assert second.add(record(5)) is None  # already in block 1
    blocks = [second.add(record(i)) for i in range(13, 20)]
    assert blocks[-1] is not None and blocks[-1].index == 2 and blocks[-1].size == 10
    assert [b.index for b in second.blocks()] == [1, 2]


def test_a_stale_pending_file_of_a_split_block_is_removed(tmp_path: Path) -> None:
    splitter = BlockSplitter(tmp_path, block_size=4)
    for i in range(4):
        splitter.add(record(i))
    (tmp_path / "block-0001.pending.jsonl").write_text(json.dumps(record(0)) + "\n")  # crash before the unlink
    resumed = BlockSplitter(tmp_path, block_size=4)
    assert (resumed.next_index, resumed.pending) == (2, 0)
    assert not (tmp_path / "block-0001.pending.jsonl").exists()


def test_catch_up_takes_only_records_it_has_not_seen(tmp_path: Path) -> None:
    splitter = BlockSplitter(tmp_path, block_size=5)
    for i in range(3):
        splitter.add(record(i))
    blocks = splitter.catch_up(record(i) for i in range(8))
    assert [b.index for b in blocks] == [1] and splitter.pending == 3


def test_split_file_splits_a_finished_store(tmp_path: Path) -> None:
    store = tmp_path / "dialogues.jsonl"
    store.write_text("".join(json.dumps(record(i, verified=i % 4 != 0)) + "\n" for i in range(40)))
    blocks = split_file(store, tmp_path / "splits", block_size=10, test_fraction=0.1)
    assert [(b.test_count, b.train_count) for b in blocks] == [(1, 9), (1, 9), (1, 9)]


@pytest.mark.parametrize(("size", "fraction"), [(1, 0.1), (10, 0.0), (10, 1.0)])
def test_impossible_settings_are_refused(tmp_path: Path, size: int, fraction: float) -> None:
    with pytest.raises(ValueError):
        BlockSplitter(tmp_path, block_size=size, test_fraction=fraction)
