"""A response cache for AG2 model calls, in SQLite (JSON values, never pickle).

AG2 computes the key from the whole request (model, messages and sampling parameters);
this class only stores and replays. A resumed or repeated dialogue therefore replays its
finished turns for free: AG2 counts a cache hit in ``total_usage`` but not in
``actual_usage``, which is what the dialogue records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from openai.types.chat import ChatCompletion

from ..errors import AievError

logger = logging.getLogger(__name__)

CACHE_FILE = "llm_cache.sqlite"
_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL)"
#: Attributes AG2 hangs on a response object that are code, not data.
_NOT_DATA = {"message_retrieval_function"}


class SqliteLLMCache:
    """AG2 ``AbstractCache`` over one SQLite file; safe to share between threads.

    Args:
        path: The database file; created with its folder when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._connection()  # fail early on a path that cannot hold a database

    def get(self, key: Any, default: Any | None = None) -> Any | None:
        row = self._connection().execute("SELECT value FROM responses WHERE key = ?", (_digest(key),)).fetchone()
        with self._lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        if row is None:
            return default
        return ChatCompletion.model_validate(json.loads(row[0]))

    def set(self, key: Any, value: Any) -> None:
        data = _to_json(value)
        if data is None:
            logger.debug("response of type %s is not cacheable; skipped", type(value).__name__)
            return
        connection = self._connection()
        with connection:
            connection.execute(
                "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, julianday('now'))",
                (_digest(key), data),
            )

    def close(self) -> None:
        """Close this thread's connection; the next use opens a new one."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def __len__(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def __enter__(self) -> SqliteLLMCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # AG2 enters and exits the cache around every call: keep the connection open.
        return None

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=30)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise AievError(
                    f"cannot open the LLM cache {self.path}: {exc}; pass --no-cache or fix the path"
                ) from exc
            self._local.connection = connection
        return connection


def _digest(key: Any) -> str:
    """A content hash of AG2's key (the request as JSON-ready data, secrets left out by AG2)."""
    text = key if isinstance(key, str) else json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _to_json(value: Any) -> str | None:
    dump = getattr(value, "model_dump", None)
    if dump is None:
        return None
    data = dump(mode="json", exclude=_NOT_DATA, warnings=False)
    return json.dumps(data, ensure_ascii=False)
