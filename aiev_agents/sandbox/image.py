"""Build the sandbox image: from a Python base image, or offline from a debootstrap rootfs.

The sandbox needs ``python3`` (3.8 or later; the warm runner and the harness run on it), a
working ``pip`` for package installs and ``sh`` for the installer; any Debian-based Python
image, ``python:3.12-slim`` included, has them. Our image also has ``python``, coreutils
``timeout`` and ``/workspace`` (AG2's own Docker executor needs the first two). Its label
``aiev-agents.image-recipe`` names the recipe that built it, so :func:`image_is_current`
lets CI skip a rebuild.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import requests
from docker.utils import parse_repository_tag

from aiev_agents.errors import SandboxUnavailable
from aiev_agents.sandbox.languages import GO_CACHE_DIR, GO_ENV
from aiev_agents.sandbox.node_release import NODE_VERSION, install_node

logger = logging.getLogger(__name__)

RECIPE_LABEL = "aiev-agents.image-recipe"
IMAGE_RECIPE = "aiev-sandbox/1"
DEFAULT_TAG = "aiev-sandbox:latest"
DEBOOTSTRAP_PACKAGES = ("python3", "python3-pip", "python3-venv", "python-is-python3", "ca-certificates")
#: The image with every toolchain the sandbox runs (``aiev_agents.sandbox.languages``), and its recipe.
POLYGLOT_TAG = "aiev-sandbox-polyglot:latest"
TOOLCHAIN_PACKAGES = ("g++", "openjdk-17-jdk-headless", "libjavatuples-java", "rustc", "golang-go")
#: Where the toolchains image's Node.js comes from: an official build (``node_release``), or
#: Debian's ``nodejs`` package (18, about 70 ms slower to start every program).
POLYGLOT_RECIPE = f"aiev-sandbox-polyglot/3+node-{NODE_VERSION}"
POLYGLOT_RECIPES = {"official": POLYGLOT_RECIPE, "debian": "aiev-sandbox-polyglot/3+node-debian"}
NODE_SOURCES = tuple(POLYGLOT_RECIPES)
VENV = "/opt/venv"
_PATH = f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Progress = Callable[[str], None]
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def build_image(
    tag: str = DEFAULT_TAG,
    *,
    offline: bool,
    base_image: str = "python:3.12-slim",
    suite: str = "bookworm",
    mirror: str | None = None,
    rootfs: str | Path | None = None,
    toolchains: bool = False,
    node: str = "official",
    client: Any = None,
    on_progress: Progress | None = None,
) -> str:
    """Build the sandbox image and tag it.

    Args:
        tag: Name:tag given to the image.
        offline: True: no image registry; the rootfs comes from ``debootstrap`` (Debian
            package mirrors only) and is imported. False: build ``FROM base_image``.
        base_image: Base of the online build; it must have ``python`` and ``timeout``.
        suite: Debian suite for debootstrap.
        mirror: Debian mirror URL for debootstrap; its default if None.
        rootfs: An existing debootstrap rootfs to import instead of making one (it is
            completed in place: venv, ``/workspace``, with ``toolchains`` the official Node.js);
            offline only.
        toolchains: Offline only: add the Node.js, C++, Java, Rust and Go toolchains
            (``TOOLCHAIN_PACKAGES`` and Node.js, about 1.9 GB more) and label the image with
            its recipe (``POLYGLOT_RECIPES``).
        node: With ``toolchains``: ``"official"`` (a pinned official Node.js build from the npm
            registry, ``node_release``) or ``"debian"`` (Debian's ``nodejs`` package).
        client: A ``docker.DockerClient``; ``docker.from_env()`` if None.
        on_progress: Called with each line of build progress.

    Returns:
        The id of the new image.

    Raises:
        SandboxUnavailable: Docker, debootstrap or the build failed; the message says why.
    """
    if node not in NODE_SOURCES:
        raise SandboxUnavailable(f"Unknown Node.js source {node!r}: use one of {', '.join(NODE_SOURCES)}.")
    progress = on_progress or (lambda line: logger.info("%s", line))
    client = client or connect(timeout=600)
    if not offline:
        if toolchains:
            raise SandboxUnavailable("The toolchains image is built offline only: add --offline.")
        return _build_online(client, tag, base_image, progress)
    recipe = POLYGLOT_RECIPES[node] if toolchains else IMAGE_RECIPE
    official_node = toolchains and node == "official"
    if rootfs is not None:
        if official_node:
            install_node(Path(rootfs), progress)
        if toolchains:
            warm_go_cache(Path(rootfs), progress)
        return _import_rootfs(client, Path(rootfs), tag, f"debootstrap:{suite}", progress, recipe)
    packages = DEBOOTSTRAP_PACKAGES
    if toolchains:
        packages += TOOLCHAIN_PACKAGES + (("nodejs",) if node == "debian" else ())
    with tempfile.TemporaryDirectory(prefix="aiev-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        _debootstrap(root, suite, mirror, progress, packages)
        if official_node:
            install_node(root, progress)
        if toolchains:
            warm_go_cache(root, progress)
        return _import_rootfs(client, root, tag, f"debootstrap:{suite}", progress, recipe)


def image_is_current(tag: str = DEFAULT_TAG, client: Any = None, *, recipe: str | None = None) -> bool:
    """True when the engine has ``tag`` and it was built by this version's recipe
    (``recipe``; default: the toolchains recipe for ``POLYGLOT_TAG``, else the Python one)."""
    client = client or connect()
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    wanted = recipe or (POLYGLOT_RECIPE if tag == POLYGLOT_TAG else IMAGE_RECIPE)
    return (image.labels or {}).get(RECIPE_LABEL) == wanted


def connect(docker_host: str | None = None, *, timeout: int | None = None) -> docker.DockerClient:
    """Connect to the engine at ``docker_host`` (default: DOCKER_HOST or the local socket).

    Raises:
        SandboxUnavailable: No engine answers; the message says to start Docker or set DOCKER_HOST.
    """
    options = {"timeout": timeout} if timeout else {}
    try:
        if docker_host:
            client = docker.DockerClient(base_url=docker_host, **options)
        else:
            client = docker.from_env(**options)
        client.ping()
    except ENGINE_ERRORS as exc:
        where = docker_host or os.environ.get("DOCKER_HOST") or "the local socket"
        raise SandboxUnavailable(
            f"Cannot reach the Docker engine at {where} ({exc}). Start Docker, or set "
            "DOCKER_HOST (or sandbox.docker_host) to a running engine."
        ) from exc
    return client


def ensure_image(client: docker.DockerClient, image: str, *, pull: bool) -> None:
    """Make sure the engine has ``image``, pulling it if allowed.

    Raises:
        SandboxUnavailable: The image is missing and cannot be pulled; the message says
            to build it offline or pull it.
    """
    hint = f"Run `aiev sandbox build --offline` or `docker pull {image}`."
    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        if not pull:
            raise SandboxUnavailable(f"The sandbox image {image} is missing. {hint}") from None
    except ENGINE_ERRORS as exc:
        raise SandboxUnavailable(f"Cannot inspect the sandbox image {image}: {exc}") from exc
    logger.info("Pulling sandbox image %s", image)
    try:
        client.images.pull(image)
    except ENGINE_ERRORS as exc:
        raise SandboxUnavailable(f"Cannot pull the sandbox image {image} ({exc}). {hint}") from exc


def _build_online(client: Any, tag: str, base_image: str, progress: Progress) -> str:
    dockerfile = "\n".join(
        [
            f"FROM {base_image}",
            f'LABEL {RECIPE_LABEL}="{IMAGE_RECIPE}" aiev-agents.image-source="docker:{base_image}"',
            "RUN python --version && timeout --version >/dev/null && mkdir -p /workspace",
            "WORKDIR /workspace",
            'CMD ["python3"]',
            "",
        ]
    )
    try:
        image, logs = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise SandboxUnavailable(
            f"Building {tag} from {base_image} failed: {exc}. Without registry access, "
            "run `aiev sandbox build --offline`."
        ) from exc
    for entry in logs:
        if entry.get("stream", "").strip():
            progress(entry["stream"].rstrip())
    return image.id


def _debootstrap(
    root: Path, suite: str, mirror: str | None, progress: Progress, packages: tuple[str, ...] = DEBOOTSTRAP_PACKAGES
) -> None:
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("debootstrap is not installed: run `apt-get install debootstrap`.")
    if os.geteuid() != 0:
        raise SandboxUnavailable("debootstrap needs root: run the offline build as root.")
    command = ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}"]
    command += [suite, str(root)] + ([mirror] if mirror else [])
    _run(command, progress, what="debootstrap")


#: Built into the image's Go cache besides the standard library: what ``go run`` and
#: ``go test`` add for a program of each kind (the test main and its packages).
_GO_WARM_UP = {
    "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("warm") }\n',
    "warm_test.go": 'package main\n\nimport "testing"\n\nfunc TestWarm(t *testing.T) {}\n',
}


def warm_go_cache(root: Path, progress: Progress) -> None:
    """Fill ``GO_CACHE_DIR`` in the rootfs (which has Go) as the sandbox's builds use it, then
    make it read-only: the standard library (``go build std``), a ``go run`` and a ``go test``."""
    if not (root / "usr" / "bin" / "go").exists():
        return
    cache = root / GO_CACHE_DIR.lstrip("/")
    work = root / "tmp" / "aiev-go-warm-up"
    devnull = root / "dev" / "null"
    made_devnull = not devnull.exists()  # the go command opens /dev/null
    if made_devnull:
        devnull.parent.mkdir(exist_ok=True)
        os.mknod(devnull, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    env = dict(GO_ENV, GOCACHE=GO_CACHE_DIR, HOME="/tmp", PATH=_PATH)  # the image's PATH
    chroot = ["chroot", str(root), "env", "-i", *(f"{key}={value}" for key, value in env.items())]
    try:
        shutil.rmtree(cache, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        for name, source in _GO_WARM_UP.items():
            (work / name).write_text(source, encoding="utf-8")
        inside = "/" + str(work.relative_to(root))
        progress(f"Warming the Go build cache {GO_CACHE_DIR}")
        _run([*chroot, "go", "build", "std"], progress, what="go build std")
        _run([*chroot, "sh", "-c", f"cd {inside} && go run main.go"], progress, what="go run")
        _run([*chroot, "sh", "-c", f"cd {inside} && go test -count=1 warm_test.go"], progress, what="go test")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(root / GO_ENV["GOPATH"].lstrip("/"), ignore_errors=True)
        if made_devnull:
            devnull.unlink()
    for path in (cache, *cache.rglob("*")):
        os.chown(path, 0, 0, follow_symlinks=False)
        path.chmod(0o555 if path.is_dir() else 0o444)


def _complete_rootfs(root: Path, progress: Progress) -> None:
    """Make the venv (pip works despite PEP 668), ``/workspace``, and drop apt caches."""
    if not (root / VENV.lstrip("/") / "bin" / "python").exists():
        _run(["chroot", str(root), "python3", "-m", "venv", VENV], progress, what="python3 -m venv")
    (root / "workspace").mkdir(exist_ok=True)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (root / cache).glob("*"):
            if entry.is_file():
                entry.unlink()


def _import_rootfs(
    client: Any, root: Path, tag: str, source: str, progress: Progress, recipe: str = IMAGE_RECIPE
) -> str:
    if not (root / "usr" / "bin" / "python3").exists():
        raise SandboxUnavailable(f"{root} is not a rootfs with python3; run debootstrap first.")
    _complete_rootfs(root, progress)
    repository, version = parse_repository_tag(tag)
    changes = [
        f"ENV PATH={_PATH}",
        "WORKDIR /workspace",
        'CMD ["python3"]',
        f'LABEL {RECIPE_LABEL}="{recipe}" aiev-agents.image-source="{source}"',
    ]
    progress(f"Importing {root} as {tag}")
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*"]
        + ["-C", str(root), "-cf", "-", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        answer = client.api.import_image(
            src=_chunks(tar.stdout),
            repository=repository,
            tag=version or "latest",
            changes=changes,
            stream_src=True,
        )
    finally:
        tar.stdout.close()
        _, err = tar.communicate()
    if tar.returncode != 0:
        raise SandboxUnavailable(f"tar of {root} failed: {err.decode(errors='replace').strip()}")
    progress(str(answer).strip())
    return client.images.get(tag).id


def _chunks(stream: Any, size: int = 1 << 20) -> Iterator[bytes]:
    yield from iter(lambda: stream.read(size), b"")


def _run(command: list[str], progress: Progress, *, what: str) -> None:
    """Run a command, passing each output line to ``progress``; raise with its tail on failure."""
    tail: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            progress(line.rstrip())
            tail = (tail + [line.rstrip()])[-20:]
    if proc.returncode != 0:
        detail = "\n".join(tail)
        raise SandboxUnavailable(f"{what} failed with exit code {proc.returncode}:\n{detail}")
