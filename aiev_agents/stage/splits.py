"""Blocks of new verified samples, each split 1:9 into a held-out test part and a train part.

The paper's stage-switch criterion: every 2,000 new entries are split 1:9 into test and
train; the student is fine-tuned on the train part, and teacher and student are scored on
the test part. :class:`BlockSplitter` does the bookkeeping as the pipeline collects records:

* only verified records count; a record id is taken once;
* records wait in ``block-NNNN.pending.jsonl`` (one appended, fsynced line each) until
  ``block_size`` have come; then ``block-NNNN.test.jsonl`` and ``block-NNNN.train.jsonl``
  are written (each atomically) and the pending file is removed;
* the test part is the ``round(block_size x test_fraction)`` records whose id hashes
  lowest (SHA-256), so a block's split depends on its ids alone, never on their order;
* all state is on disk: a new splitter on the same folder goes on where the last one
  stopped (a torn pending line from a crash is dropped), and :meth:`BlockSplitter.catch_up`
  feeds it the records of a store it has not seen, so a crash between the store and the
  splitter loses nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..jsonl import append_record, read_all, read_records, write_records

logger = logging.getLogger(__name__)

DEFAULT_BLOCK_SIZE = 2000
DEFAULT_TEST_FRACTION = 0.1
SPLITS_DIR = "splits"
_FILE = re.compile(r"^block-(\d{4,})\.(test|train|pending)\.jsonl$")


@dataclass(frozen=True)
class Block:
    """One finished block.

    Attributes:
        index: 1 for the first block.
        test_path: The held-out part.
        train_path: The train part.
        test_ids: Ids of the held-out records, in arrival order.
        train_count: Records in the train part.
    """

    index: int
    test_path: Path
    train_path: Path
    test_ids: tuple[str, ...]
    train_count: int

    @property
    def test_count(self) -> int:
        """Records held out."""
        return len(self.test_ids)

    @property
    def size(self) -> int:
        """Records in the block."""
        return self.test_count + self.train_count


def held_out_size(block_size: int, test_fraction: float) -> int:
    """Records held out of a block: ``round(block_size x test_fraction)``, at least 1 and leaving 1 to train."""
    count = round(block_size * test_fraction)
    return min(max(count, 1), block_size - 1) if block_size > 1 else count


def split_records(
    records: Sequence[Mapping[str, Any]], test_fraction: float
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split one block's records into (test, train), each in the given order.

    The test part is the ``held_out_size`` records whose id hashes lowest.
    """
    count = held_out_size(len(records), test_fraction)
    ranked = sorted(range(len(records)), key=lambda i: (_rank(records[i]), i))
    chosen = set(ranked[:count])
    test = [record for i, record in enumerate(records) if i in chosen]
    train = [record for i, record in enumerate(records) if i not in chosen]
    return test, train


class BlockSplitter:
    """Collects verified records into blocks under ``out_dir`` and splits each full block."""

    def __init__(
        self,
        out_dir: str | Path,
        block_size: int = DEFAULT_BLOCK_SIZE,
        test_fraction: float = DEFAULT_TEST_FRACTION,
    ) -> None:
        """Read the state left in ``out_dir`` (created on the first record).

        Raises:
            ValueError: ``block_size`` below 2 or ``test_fraction`` not in (0, 1).
        """
        if block_size < 2:
            raise ValueError(f"a block needs at least 2 records to split, not {block_size}")
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be between 0 and 1, not {test_fraction}")
        self.dir = Path(out_dir)
        self.block_size = block_size
        self.test_fraction = test_fraction
        self._seen: set[str] = set()
        self._pending: list[dict[str, Any]] = []
        self._index = 1
        self._load()

    @property
    def pending(self) -> int:
        """Records waiting for their block to fill."""
        return len(self._pending)

    @property
    def next_index(self) -> int:
        """The index of the block being filled."""
        return self._index

    def add(self, record: Mapping[str, Any]) -> Block | None:
        """Take one record; return the block it completes, if any.

        Unverified records and ids already taken are ignored (None).
        """
        record_id = str(record.get("id", ""))
        if record.get("verified") is not True or not record_id or record_id in self._seen:
            return None
        append_record(self._path(self._index, "pending"), dict(record))
        self._seen.add(record_id)
        self._pending.append(dict(record))
        if len(self._pending) >= self.block_size:
            return self._close()
        return None

    def catch_up(self, records: Iterable[Mapping[str, Any]]) -> list[Block]:
        """:meth:`add` every record not yet taken (the store's records at a resume); the blocks finished."""
        blocks = [self.add(record) for record in records]
        return [block for block in blocks if block is not None]

    def blocks(self) -> list[Block]:
        """The finished blocks on disk, in order."""
        return [self._block(index) for index in self._finished_indices()]

    # -- internals -----------------------------------------------------------------------

    def _path(self, index: int, part: str) -> Path:
        return self.dir / f"block-{index:04d}.{part}.jsonl"

    def _close(self) -> Block:
        test, train = split_records(self._pending, self.test_fraction)
        index = self._index
        write_records(self._path(index, "test"), test)
        write_records(self._path(index, "train"), train)
        self._path(index, "pending").unlink(missing_ok=True)
        self._pending = []
        self._index = index + 1
        logger.info("block %d split: %d test, %d train", index, len(test), len(train))
        return Block(index, self._path(index, "test"), self._path(index, "train"), _ids(test), len(train))

    def _finished_indices(self) -> list[int]:
        found: dict[int, set[str]] = {}
        for path in self.dir.glob("block-*.jsonl") if self.dir.is_dir() else ():
            match = _FILE.match(path.name)
            if match:
                found.setdefault(int(match.group(1)), set()).add(match.group(2))
        return sorted(index for index, parts in found.items() if {"test", "train"} <= parts)

    def _block(self, index: int) -> Block:
        test = read_all(self._path(index, "test"))
        train = read_all(self._path(index, "train"))
        return Block(index, self._path(index, "test"), self._path(index, "train"), _ids(test), len(train))

    def _load(self) -> None:
        finished = self._finished_indices()
        for index in finished:
            for part in ("test", "train"):
                self._seen.update(_ids(read_all(self._path(index, part))))
            self._path(index, "pending").unlink(missing_ok=True)  # a crash after the split, before this
        self._index = (finished[-1] + 1) if finished else 1
        pending_path = self._path(self._index, "pending")
        self._pending = read_all(pending_path, repair=True)
        self._seen.update(_ids(self._pending))


def split_file(
    dialogues: str | Path,
    out_dir: str | Path,
    block_size: int = DEFAULT_BLOCK_SIZE,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> list[Block]:
    """Split the verified records of a finished ``dialogues.jsonl`` into blocks (resumable).

    Returns:
        The blocks finished by this call; a last partial block stays pending.
    """
    splitter = BlockSplitter(out_dir, block_size, test_fraction)
    return splitter.catch_up(stream_records(dialogues))


def stream_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file, one at a time; lines that are not whole objects are skipped.

    Raises:
        DatasetError: The file cannot be read.
    """
    return read_records(path)


def read_split(path: str | Path) -> list[dict[str, Any]]:
    """The records of a split file (``block-NNNN.test.jsonl``).

    Raises:
        DatasetError: The file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"split file {path} does not exist; give a block-NNNN.test.jsonl file")
    return read_all(path)


def _rank(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(str(record.get("id", "")).encode("utf-8")).hexdigest()


def _ids(records: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(str(record.get("id", "")) for record in records)
