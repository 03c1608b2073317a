"""The index of a ``dialogues.jsonl``: one row per line (byte offset, list fields), in SQLite beside it.

Built once, then reused while the file keeps its size and modification time; a file that grew
(a run still writing) has only its new lines read, a file that changed otherwise is indexed
again. A line that is not a whole JSON object gets a ``malformed`` row rather than stopping the
index; a torn last line is read again once the writer finishes it. A full build writes a new
file and renames it into place, so a crash never leaves a half-written index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import DatasetError
from .scan import malformed_values, scan_parts

logger = logging.getLogger(__name__)

INDEX_SUFFIX = ".view-index.sqlite"
#: Bumped when the rows change meaning: an index of another version is built again.
INDEX_VERSION = 1
#: Bytes at the head of the file whose hash tells a grown file from a rewritten one.
_HEAD_BYTES = 4096
_BATCH = 2000
_COLUMNS = (
    "seq", "line_no", "offset", "length", "torn", "id", "verified", "status", "rounds", "models",
    "language", "source", "stage", "first_line", "ended_at", "note",
)  # fmt: skip
_SCHEMA = """
CREATE TABLE rows (seq INTEGER PRIMARY KEY, line_no INTEGER, offset INTEGER, length INTEGER, torn INTEGER,
    id TEXT, verified INTEGER, status TEXT, rounds INTEGER, models TEXT, language TEXT, source TEXT, stage TEXT,
    first_line TEXT, ended_at TEXT, note TEXT);
CREATE TABLE search (seq INTEGER PRIMARY KEY, text TEXT);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""
#: Made after a full build's rows are in (one sort instead of an update per row).
_ID_INDEX = "CREATE INDEX IF NOT EXISTS rows_id ON rows (id)"


class RunIndex:
    """Rows of one ``dialogues.jsonl``, kept in step with the file by :meth:`refresh`.

    Args:
        dialogues: The JSONL file.
        index_path: Where the index lives; default beside the file, or in the user's cache
            folder when that folder cannot be written.
    """

    def __init__(self, dialogues: str | os.PathLike[str], index_path: str | os.PathLike[str] | None = None) -> None:
        self.dialogues = Path(dialogues)
        self.index_path = Path(index_path) if index_path else default_index_path(self.dialogues)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self.generation = 0  # bumped whenever rows change, so callers can drop what they derived

    def refresh(self) -> int:
        """Bring the index up to date with the file; returns the lines read (0: it was current).

        Raises:
            DatasetError: The file cannot be read or the index cannot be written.
        """
        with self._lock:
            try:
                stat = self.dialogues.stat()
            except OSError as exc:
                raise DatasetError(f"cannot read {self.dialogues}: {exc.strerror or exc}") from exc
            state = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "head": self._head_hash()}
            meta = self._meta() if self._open_existing() else {}
            if meta.get("version") == str(INDEX_VERSION) and _same(meta, state):
                return 0
            if meta.get("version") == str(INDEX_VERSION) and _grown(meta, state):
                read = self._index_tail(int(meta["indexed_upto"]), state)
            else:
                read = self._rebuild(state)
            self.generation += 1
            return read

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """The rows of a query over tables ``rows`` and ``search`` (for the query layer)."""
        with self._lock:
            return list(self._conn().execute(sql, params))

    def saved(self, name: str) -> Any:
        """A value saved with :meth:`save` for the file as it is now; None when the file changed since."""
        with self._lock:
            meta = self._meta()
            stamp = f"{meta.get('size')}:{meta.get('mtime_ns')}"
            if meta.get(f"{name}_for") != stamp or f"{name}_json" not in meta:
                return None
            return json.loads(meta[f"{name}_json"])

    def save(self, name: str, value: Any) -> None:
        """Keep a value derived from the whole file (the overview) until the file changes."""
        with self._lock:
            meta = self._meta()
            stamp = f"{meta.get('size')}:{meta.get('mtime_ns')}"
            with self._conn() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [(f"{name}_for", stamp), (f"{name}_json", json.dumps(value, ensure_ascii=False))],
                )

    def record_at(self, seq: int) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
        """The index row of ``seq``, the parsed record (None for a malformed line) and its raw text."""
        found = self.rows(f"SELECT {', '.join(_COLUMNS)} FROM rows WHERE seq = ?", (seq,))
        if not found:
            raise DatasetError(f"no dialogue #{seq} in {self.dialogues}")
        row = dict(found[0])
        with self.dialogues.open("rb") as handle:
            handle.seek(row["offset"])
            raw = handle.read(row["length"]).decode("utf-8", errors="replace")
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            record = None
        return row, record if isinstance(record, dict) else None, raw

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- building -------------------------------------------------------------------------------

    def _rebuild(self, state: dict[str, Any]) -> int:
        self.close()
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.index_path.with_name(self.index_path.name + f".{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        try:
            db = sqlite3.connect(temporary)
            db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)  # renamed in whole
            read = _fill(db, self.dialogues, start=0, seq=0, line_no=0, state=state)
            db.execute(_ID_INDEX)
            db.close()
            os.replace(temporary, self.index_path)
        except (OSError, sqlite3.Error) as exc:
            temporary.unlink(missing_ok=True)
            raise DatasetError(f"cannot write the view index {self.index_path}: {exc}") from exc
        logger.info("indexed %d lines of %s into %s", read, self.dialogues, self.index_path)
        return read

    def _index_tail(self, upto: int, state: dict[str, Any]) -> int:
        db = self._conn()
        with db:
            db.execute("DELETE FROM search WHERE seq IN (SELECT seq FROM rows WHERE torn = 1)")
            db.execute("DELETE FROM rows WHERE torn = 1")
            seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM rows").fetchone()[0]
        line_no = int(self._meta().get("lines_upto", "0"))
        return _fill(db, self.dialogues, start=upto, seq=seq, line_no=line_no, state=state)

    def _open_existing(self) -> bool:
        if self._db is not None:
            return True
        if not self.index_path.is_file():
            return False
        try:
            self._conn().execute("SELECT 1 FROM meta LIMIT 1")
        except sqlite3.Error:
            self.close()
            return False
        return True

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.index_path, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
        return self._db

    def _meta(self) -> dict[str, str]:
        return {key: value for key, value in self._conn().execute("SELECT key, value FROM meta")}

    def _head_hash(self) -> str:
        with self.dialogues.open("rb") as handle:
            return hashlib.sha256(handle.read(_HEAD_BYTES)).hexdigest()


def default_index_path(dialogues: Path) -> Path:
    """Beside the file when its folder can be written, else in the user's cache folder."""
    beside = dialogues.with_name(dialogues.name + INDEX_SUFFIX)
    if os.access(dialogues.parent, os.W_OK):
        return beside
    digest = hashlib.sha256(str(dialogues.resolve()).encode()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("aiev-agents")) / "view" / f"{digest}{INDEX_SUFFIX}"


def _same(meta: dict[str, str], state: dict[str, Any]) -> bool:
    return meta.get("size") == str(state["size"]) and meta.get("mtime_ns") == str(state["mtime_ns"])


def _grown(meta: dict[str, str], state: dict[str, Any]) -> bool:
    """The file only had lines added: bigger, and its head unchanged (or it was shorter than the head)."""
    old_size = int(meta.get("size", "-1"))
    return 0 <= old_size < state["size"] and (meta.get("head") == state["head"] or old_size < _HEAD_BYTES)


def _fill(db: sqlite3.Connection, path: Path, *, start: int, seq: int, line_no: int, state: dict[str, Any]) -> int:
    """Index the lines of ``path`` from byte ``start`` to its size in ``state``; returns how many were read."""
    read = 0
    upto, lines_upto = start, line_no
    rows: list[tuple[Any, ...]] = []
    texts: list[tuple[int, str]] = []
    with db:
        for part in scan_parts(path, start, state["size"]):
            for number, offset, length, torn, values, search, malformed in part.rows:
                if malformed is not None:
                    values = malformed_values(line_no + number, malformed)
                rows.append((seq, line_no + number, offset, length, torn, *values))
                texts.append((seq, search))
                seq += 1
                if len(rows) >= _BATCH:
                    _insert(db, rows, texts)
            read += len(part.rows)
            if part.lines_upto:
                upto, lines_upto = part.upto, line_no + part.lines_upto
            line_no += part.lines
        _insert(db, rows, texts)
        meta = {**state, "indexed_upto": upto, "lines_upto": lines_upto, "version": INDEX_VERSION}
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
    return read


_INSERT_ROW = f"INSERT INTO rows ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


def _insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]], texts: list[tuple[int, str]]) -> None:
    db.executemany(_INSERT_ROW, rows)
    db.executemany("INSERT INTO search VALUES (?, ?)", texts)
    rows.clear()
    texts.clear()
