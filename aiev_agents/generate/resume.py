"""A run folder taken up again: its manifest checked against the config, the seeds already
done skipped, and the folder's totals recounted from its records, the source of truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .._version import __version__
from ..clock import utc_now
from ..config import AievConfig
from ..errors import ConfigError
from .job import GenerationEvents, GenerationOptions, GenerationSummary, notify
from .manifest import RunManifest, Session, load_manifest, save_manifest
from .seeds import Seed
from .store import DialogueStore, ErrorLog


def open_manifest(
    out: Path, store: DialogueStore, errors: ErrorLog, config: AievConfig, options: GenerationOptions
) -> RunManifest:
    """The folder's manifest for a new session of ``config``, recounted from the records and saved.

    Raises:
        ConfigError: The folder holds data made with another config (and not ``options.force``).
    """
    manifest = load_manifest(out)
    config_hash = config.config_hash()
    # A folder with no dialogue yet holds no data of the other config (a first run that
    # failed before any record: Docker down, a wrong model name): the corrected config takes it.
    holds_data = manifest is not None and next(store.records(), None) is not None
    if holds_data and manifest.config_hash != config_hash and not options.force:
        raise ConfigError(
            f"{out} holds data made with another config (hash {manifest.config_hash}, this one "
            f"{config_hash}); use a new --out, or --force to add to it anyway"
        )
    if manifest is None or manifest.config_hash != config_hash:
        previous = manifest
        manifest = RunManifest(
            config_hash=config_hash,
            code_version=__version__,
            stage=config.stage,
            models=config.models_by_role(),
        )
        if previous is not None:  # forced: keep the history of the folder
            manifest.sessions = previous.sessions
    manifest.recount(store.records(), errors.count())
    kept = {k: v for k, v in vars(options).items() if v is not None and k != "cache_path"}
    manifest.sessions.append(Session(started_at=utc_now("milliseconds"), options=kept))
    save_manifest(manifest, out)
    return manifest


def close_session(manifest: RunManifest, out: Path, store: DialogueStore, errors: ErrorLog, stop_reason: str) -> None:
    """End the session with ``stop_reason`` and save the manifest.

    A run that did not end ``done`` recounts first: a record may have landed between the
    store and the counts.
    """
    manifest.sessions[-1].ended_at = utc_now("milliseconds")
    manifest.sessions[-1].status = stop_reason
    if stop_reason != "done":
        manifest.recount(store.records(), errors.count())
    save_manifest(manifest, out)


def pending_seeds(
    seeds: Iterator[Seed],
    done: set[str],
    summary: GenerationSummary,
    events: GenerationEvents,
    max_dialogues: int | None,
) -> list[Seed]:
    """The seeds without a record in the folder, at most ``max_dialogues``; the others are counted as skipped."""
    pending = []
    for seed in seeds:
        if seed.id in done:
            summary.skipped_existing += 1
            notify(events.on_skip, seed)
        else:
            pending.append(seed)
    if max_dialogues is not None:
        pending = pending[:max_dialogues]
    return pending
