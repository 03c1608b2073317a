"""What a caller gives one ``generate`` call and gets back: its options, the event callbacks, the summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dialogue.transcript import Transcript, Turn
from ..errors import ConfigError, ModelUnavailable, SeedError
from .manifest import RunManifest
from .seeds import Seed


@dataclass
class GenerationOptions:
    """How one ``generate`` call runs; limits count the whole output folder unless noted."""

    workers: int = 1
    max_dialogues: int | None = None  # dialogues started by this call
    max_samples: int | None = None  # verified samples in the folder
    max_budget_usd: float | None = None  # cost recorded in the folder
    use_cache: bool = True
    cache_path: Path | None = None
    force: bool = False
    max_consecutive_model_errors: int = 5
    backend: str = "threads"  # threads | ray
    ray_address: str | None = None
    log_db: Path | None = None  # AG2's sqlite runtime log (threads backend)

    def __post_init__(self) -> None:
        """Limits that could never be met, or would stop a run before it starts, are errors."""
        counts = ("workers", "max_dialogues", "max_samples", "max_consecutive_model_errors")
        for name in counts:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        budget = self.max_budget_usd
        if budget is not None and not 0 < budget < float("inf"):
            raise ConfigError(f"max_budget_usd must be more than 0, got {budget}")


@dataclass
class GenerationEvents:
    """Callbacks a caller may set to watch a run; each is optional and runs on the calling thread."""

    on_bad_seed: Callable[[SeedError], None] | None = None
    on_plan: Callable[[int], None] | None = None  # dialogues planned for this call
    on_skip: Callable[[Seed], None] | None = None
    on_turn: Callable[[Turn], None] | None = None  # runs on a worker thread
    on_done: Callable[[Transcript, RunManifest], None] | None = None
    on_model_error: Callable[[Seed, ModelUnavailable], None] | None = None


@dataclass
class GenerationSummary:
    """What one call did."""

    out_path: Path
    dialogues: int = 0
    verified: int = 0
    model_errors: int = 0
    skipped_existing: int = 0
    bad_seeds: list[str] = field(default_factory=list)
    stop_reason: str = "done"
    report_path: Path | None = None


def notify(callback: Callable[..., None] | None, *values: Any) -> None:
    """Call an event callback the caller set; an unset one (None) is skipped."""
    if callback is not None:
        callback(*values)
