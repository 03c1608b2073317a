"""The run manifest beside the store: which config made the data, counts, costs, sessions.

Written whole to a temporary file and renamed over the old one, so a crash leaves either
the previous manifest or the new one, never a torn file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..atomic import write_atomic
from ..clock import utc_now
from ..dialogue.transcript import Usage
from ..errors import ConfigError

MANIFEST_FILE = "run.json"
MANIFEST_SCHEMA = 1


class Counts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dialogues: int = 0
    verified: int = 0
    model_errors: int = 0
    rounds: int = 0


class Session(BaseModel):
    """One invocation of ``generate`` on this folder (a resume adds one)."""

    model_config = ConfigDict(extra="forbid")

    started_at: str
    ended_at: str | None = None
    status: str = "running"
    options: dict[str, Any] = Field(default_factory=dict)
    counts: Counts = Field(default_factory=Counts)


class RunManifest(BaseModel):
    """What is in an output folder and how it was made."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(MANIFEST_SCHEMA, alias="schema")
    config_hash: str
    code_version: str
    stage: str
    models: dict[str, str]
    started_at: str = Field(default_factory=lambda: utc_now("milliseconds"))
    updated_at: str = Field(default_factory=lambda: utc_now("milliseconds"))
    counts: Counts = Field(default_factory=Counts)
    ledger: dict[str, dict[str, Usage]] = Field(default_factory=dict)
    sessions: list[Session] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Total cost in USD of every dialogue recorded here."""
        return sum(usage.cost for per_model in self.ledger.values() for usage in per_model.values())

    @property
    def tokens(self) -> int:
        return sum(usage.total_tokens for per_model in self.ledger.values() for usage in per_model.values())

    def add(self, record: dict[str, Any]) -> None:
        """Count one finished dialogue record and add its usage to the ledger (role → model → usage)."""
        self._count(record, self.sessions[-1].counts)
        self._include(record)

    def add_model_error(self) -> None:
        self.counts.model_errors += 1
        self.sessions[-1].counts.model_errors += 1

    def recount(self, records: Iterable[dict[str, Any]], model_errors: int) -> None:
        """Rebuild the folder's totals from its records, the source of truth (a crash may have
        written a record and died before the manifest caught up)."""
        self.counts, self.ledger = Counts(model_errors=model_errors), {}
        for record in records:
            self._include(record)

    def _include(self, record: dict[str, Any]) -> None:
        self._count(record, self.counts)
        for role, usage in record.get("usage", {}).items():
            model = record.get("models", {}).get(role, "unknown")
            per_model = self.ledger.setdefault(role, {})
            per_model[model] = per_model.get(model, Usage()) + Usage.model_validate(usage)

    @staticmethod
    def _count(record: dict[str, Any], counts: Counts) -> None:
        counts.dialogues += 1
        counts.verified += int(bool(record.get("verified")))
        counts.rounds += int(record.get("rounds", 0))


def load_manifest(out_dir: Path) -> RunManifest | None:
    """The folder's manifest, or None when there is none yet."""
    path = out_dir / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        return RunManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise ConfigError(f"{path} is not a readable run manifest ({exc}); move it away or use a new --out") from exc


def save_manifest(manifest: RunManifest, out_dir: Path) -> None:
    """Write the manifest atomically (temporary file, fsync, rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest.updated_at = utc_now("milliseconds")
    write_atomic(out_dir / MANIFEST_FILE, manifest.model_dump_json(by_alias=True, indent=2))
