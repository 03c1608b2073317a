"""Check a model file against the catalog's size and sha256, and remember that it passed.

A verified file gets a small sidecar ``<file>.sha256-ok`` recording the hash, size and
mtime, so later checks only ``stat`` the file instead of hashing it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from aiev_agents.atomic import write_atomic
from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.models.catalog import KnownModel

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str], None]

SIDECAR_SUFFIX = ".sha256-ok"
BLOCK_SIZE = 1 << 20


def verify_model_file(path: str | os.PathLike[str], sha256: str, size: int) -> None:
    """Check that ``path`` has exactly ``size`` bytes and the given sha256.

    Args:
        path: File to check.
        sha256: Expected hex digest.
        size: Expected size in bytes.

    Raises:
        ModelUnavailable: The file is missing, has another size, or another hash.
    """
    path = Path(path)
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        raise ModelUnavailable(f"Model file {path} does not exist.") from None
    if actual_size != size:
        raise ModelUnavailable(_size_message(f"Model file {path}", actual_size, size))
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise ModelUnavailable(f"Model file {path} has sha256 {actual}, expected {sha256}; it is corrupt.")


def sha256_file(path: Path) -> str:
    """The hex sha256 of the file's content, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


def check_content(model: KnownModel, origin: str, sha256: str, size: int) -> None:
    """Raise unless a downloaded copy's ``size`` and ``sha256`` are the catalog's.

    Raises:
        ModelUnavailable: The copy from ``origin`` has another size or hash.
    """
    what = f"The copy of {model.name} from {origin}"
    if size != model.size_bytes:
        raise ModelUnavailable(_size_message(what, size, model.size_bytes) + " It was discarded.")
    if sha256 != model.sha256:
        raise ModelUnavailable(
            f"{what} has sha256 {sha256}, expected {model.sha256}. It was discarded and will "
            "not be loaded; the source may have changed or been tampered with."
        )


def sidecar_path(path: Path) -> Path:
    """The sidecar recording that ``path`` was verified."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, sha256: str) -> None:
    """Record that ``path``, as it is now, has the given sha256."""
    write_atomic(sidecar_path(path), json.dumps(_sidecar_record(path, sha256)))


def sidecar_says_verified(target: Path, model: KnownModel) -> bool:
    """Cheap check (two stats and a small read): ``target`` was verified and is unchanged."""
    try:
        ok = target.stat().st_size == model.size_bytes and _sidecar_ok(target, model.sha256)
    except FileNotFoundError:
        return False
    if ok:
        logger.debug("Using verified cached model %s", target)
    return ok


def cached_file_ok(target: Path, model: KnownModel, report: ProgressCallback) -> bool:
    """True when ``target`` is the verified model; a bad cached file is deleted.

    Only call it with the cache lock held, so deleting cannot race with another fetch.
    """
    if sidecar_says_verified(target, model):
        return True
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        return False
    if size == model.size_bytes:
        report(f"Verifying sha256 of cached {target.name} (once)")
        if sha256_file(target) == model.sha256:
            write_sidecar(target, model.sha256)
            return True
    logger.warning("Cached %s does not match the catalog (size %d); fetching it again", target, size)
    sidecar_path(target).unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    return False


def _sidecar_record(path: Path, sha256: str) -> dict[str, object]:
    st = path.stat()
    return {"sha256": sha256.lower(), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sidecar_ok(path: Path, sha256: str) -> bool:
    try:
        recorded = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
        return bool(recorded == _sidecar_record(path, sha256))
    except (OSError, ValueError):
        return False


def _size_message(what: str, actual: int, expected: int) -> str:
    state = "truncated" if actual < expected else "too large"
    return f"{what} is {state}: {actual} bytes, expected {expected}."
