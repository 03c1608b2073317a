"""Lifecycle of one sandbox container: host folder, packages volume, container, runner, sweep.

Each container gets a private host folder (``aiev-sandbox-<owner pid>-<random>`` in the
temp folder or ``settings.state_dir``) with two subfolders bind-mounted into it:

* ``code/`` -> ``/opt/aiev`` (read-only): the runner, the harness and their helpers;
* ``ctl/`` -> ``/run/aiev``: the runner's Unix socket, which the host connects to.

and a Docker volume (``/opt/aiev-packages``, read-only in the sandbox) into which the
installer container pip-installs. Containers, volumes and folders carry the owner's pid and
host name; :func:`sweep_orphans` removes those whose owner is gone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import docker

from aiev_agents.errors import SandboxUnavailable
from aiev_agents.sandbox.image import ENGINE_ERRORS
from aiev_agents.sandbox.runner_client import RunnerClient, RunnerGone
from aiev_agents.sandbox.settings import SandboxSettings

logger = logging.getLogger(__name__)

LABEL_SANDBOX = "aiev-agents.sandbox"
LABEL_PID = "aiev-agents.owner-pid"
LABEL_HOST = "aiev-agents.owner-host"
CODE_DIR = "/opt/aiev"
CTL_DIR = "/run/aiev"
PACKAGES_DIR = "/opt/aiev-packages"
CA_BUNDLE_PATH = "/etc/aiev/ca-bundle.crt"
SOCKET_NAME = "runner.sock"
RUNNER_FILES = ("runner.py", "harness.py", "testcode.py", "explain.py", "wire.py", "procs.py", "launch.py", "watch.py")
#: The toolchain drivers' helpers (``guest/toolchains/``), copied beside the runner.
TOOLCHAIN_FILES = ("count.js", "cxx/assert.h", "count.sh")
HOST_DIR_PREFIX = "aiev-sandbox-"
SCRATCH_DIRS = ("/tmp", "/dev/shm")
PROGRAM_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp"}
_HOST_DIR = re.compile(rf"^{HOST_DIR_PREFIX}(\d+)-[0-9a-z_]+$")


@dataclass
class SandboxContainer:
    """A started sandbox container and what belongs to it."""

    container: Any
    volume: str
    host_dir: Path
    runner: RunnerClient

    @property
    def name(self) -> str:
        return str(self.container.name)


def owner_labels() -> dict[str, str]:
    """Labels that tie a container or volume to this process, for :func:`sweep_orphans`."""
    return {LABEL_SANDBOX: "1", LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}


def ca_bundle_mount(settings: SandboxSettings) -> dict[str, dict[str, str]]:
    """The read-only mount of ``settings.ca_bundle``, or {} when unset.

    Raises:
        SandboxUnavailable: The bundle is not a file.
    """
    if settings.ca_bundle is None:
        return {}
    bundle = Path(settings.ca_bundle).expanduser().resolve()
    if not bundle.is_file():
        raise SandboxUnavailable(f"sandbox.ca_bundle {settings.ca_bundle} is not a file; fix the path.")
    return {str(bundle): {"bind": CA_BUNDLE_PATH, "mode": "ro"}}


def ca_env() -> dict[str, str]:
    return {"PIP_CERT": CA_BUNDLE_PATH, "SSL_CERT_FILE": CA_BUNDLE_PATH, "REQUESTS_CA_BUNDLE": CA_BUNDLE_PATH}


def start_sandbox(client: Any, settings: SandboxSettings) -> SandboxContainer:
    """Make the host folder and the volume, start the container and wait for its runner.

    Raises:
        SandboxUnavailable: Anything of it fails; what was made is removed again.
    """
    if os.geteuid() == settings.program_uid:
        raise SandboxUnavailable(f"sandbox.program_uid {settings.program_uid} is this process's uid.")
    mounts = ca_bundle_mount(settings)  # checked now, used by the installer; here only with network
    mounts = mounts if settings.network != "none" else {}
    host_dir = _make_host_dir(settings)
    volume, container = "", None
    try:
        volume = client.volumes.create(f"aiev-packages-{secrets.token_hex(6)}", labels=owner_labels()).name
        container = client.containers.run(**_container_options(settings, host_dir, volume, mounts))
        runner = _wait_for_runner(container, host_dir, settings.startup_timeout_s)
    except BaseException as exc:
        remove_sandbox(client, container, volume, host_dir)
        if isinstance(exc, ENGINE_ERRORS):
            raise SandboxUnavailable(f"Cannot start the sandbox container from {settings.image}: {exc}") from exc
        raise
    if os.geteuid() != 0:  # the socket exists: shut the folder for the container's root
        (host_dir / "ctl").chmod(0o711)
    return SandboxContainer(container, volume, host_dir, runner)


def remove_sandbox(client: Any, container: Any, volume: str, host_dir: Path | None) -> None:
    """Remove the container, then its volume and host folder; missing pieces are fine."""
    if container is not None:
        try:
            container.remove(force=True)
            logger.info("Sandbox %s removed", container.name)
        except docker.errors.NotFound:
            pass
        except ENGINE_ERRORS as exc:
            logger.warning("Could not remove sandbox %s: %s", container.name, exc)
    if volume:
        _remove_volume(client, volume)
    if host_dir is not None:
        shutil.rmtree(host_dir, ignore_errors=True)


def _remove_volume(client: Any, name: str) -> None:
    for attempt in range(20):  # the engine may still hold it for a moment after the removal
        try:
            client.volumes.get(name).remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except ENGINE_ERRORS as exc:
            if attempt == 19:
                logger.warning("Could not remove volume %s: %s", name, exc)
            time.sleep(0.05)


def _make_host_dir(settings: SandboxSettings) -> Path:
    parent = Path(settings.state_dir).expanduser() if settings.state_dir else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    host_dir = Path(tempfile.mkdtemp(prefix=f"{HOST_DIR_PREFIX}{os.getpid()}-", dir=parent))
    code = host_dir / "code"
    code.mkdir(mode=0o755)
    package = resources.files("aiev_agents.sandbox.guest")
    for name in RUNNER_FILES:
        (code / name).write_text(package.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
        (code / name).chmod(0o644)
    toolchains = package.joinpath("toolchains")
    for name in TOOLCHAIN_FILES:
        target = code / "toolchains" / name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        target.write_text(toolchains.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
        target.chmod(0o644)
    for folder in (code / "toolchains", code / "toolchains" / "cxx"):
        folder.chmod(0o755)
    code.chmod(0o755)
    ctl = host_dir / "ctl"
    ctl.mkdir()
    # Root on the host: the container's root owns the folder. Otherwise it may add the
    # socket only until the runner is up (then 0711, see start_sandbox).
    ctl.chmod(0o700 if os.geteuid() == 0 else 0o733)
    return host_dir


def _runner_config(settings: SandboxSettings) -> dict[str, Any]:
    host_root = os.geteuid() == 0
    return {
        "socket": f"{CTL_DIR}/{SOCKET_NAME}",
        "socket_mode": 0o600 if host_root else 0o666,
        "client_uid": os.geteuid(),
        "uid": settings.program_uid,
        "gid": settings.program_gid,
        "workdir": settings.workdir,
        "scratch": [settings.workdir, *SCRATCH_DIRS],
        "address_space": settings.address_space_bytes,
        "file_size": settings.file_size_bytes,
        "explain_assertions": settings.explain_assertions,
    }


def _container_options(
    settings: SandboxSettings, host_dir: Path, volume: str, mounts: dict[str, dict[str, str]]
) -> dict[str, Any]:
    s = settings
    env = dict(PROGRAM_ENV)
    if mounts:
        env.update(ca_env())
    options: dict[str, Any] = {
        "image": s.image,
        "entrypoint": ["python3", f"{CODE_DIR}/runner.py"],
        "command": [json.dumps(_runner_config(s))],
        "name": f"aiev-sandbox-{secrets.token_hex(6)}",
        "detach": True,
        "init": True,
        "user": "0:0",
        "working_dir": s.workdir,
        "environment": env,
        "labels": owner_labels(),
        "mem_limit": s.memory,
        "memswap_limit": s.memory,
        "nano_cpus": int(s.cpus * 1e9),
        "pids_limit": s.pids_limit,
        "network_mode": s.network,
        "read_only": s.read_only_rootfs,
        "tmpfs": {
            # exec: compiled languages run the binaries they build there (Python could run anything anyway)
            s.workdir: f"size={s.tmpfs_size},uid={s.program_uid},gid={s.program_gid},mode=0755,exec",
            "/tmp": f"size={s.tmpfs_size},mode=1777,exec",
        },
        "volumes": {
            str(host_dir / "code"): {"bind": CODE_DIR, "mode": "ro"},
            str(host_dir / "ctl"): {"bind": CTL_DIR, "mode": "rw"},
            volume: {"bind": PACKAGES_DIR, "mode": "ro"},
            **mounts,
        },
    }
    return options | containment_options(s, cap_add=["SETUID", "SETGID"])


def containment_options(settings: SandboxSettings, *, cap_add: list[str]) -> dict[str, Any]:
    """Capabilities and security options shared by the sandbox and installer containers."""
    options: dict[str, Any] = {}
    if settings.drop_capabilities:
        options["cap_drop"] = ["ALL"]
        if cap_add:
            options["cap_add"] = cap_add
    if settings.no_new_privileges:
        options["security_opt"] = ["no-new-privileges"]
    return options


def _wait_for_runner(container: Any, host_dir: Path, timeout: float) -> RunnerClient:
    """Ping the runner until it answers; raise with the container's log if it never does."""
    runner = RunnerClient(host_dir / "ctl" / SOCKET_NAME)
    deadline = time.monotonic() + timeout
    for attempt in range(1_000_000):
        if runner.socket_path.exists():
            try:
                runner.request({"op": "ping"}, timeout=min(5.0, timeout))
                return runner
            except RunnerGone:
                pass
        if time.monotonic() > deadline or (attempt % 50 == 49 and not _running(container)):
            break
        time.sleep(0.002 if attempt < 500 else 0.02)
    log = _log_tail(container)
    raise SandboxUnavailable(
        f"The sandbox runner in {container.name} did not start within {timeout:g} s; "
        f"the image needs `python3` (3.8 or later). Container log:\n{log}"
    )


def _running(container: Any) -> bool:
    try:
        container.reload()
    except ENGINE_ERRORS:
        return False
    return container.status in ("created", "running")


def _log_tail(container: Any) -> str:
    try:
        return container.logs(tail=20).decode("utf-8", errors="replace").strip() or "(empty)"
    except ENGINE_ERRORS as exc:
        return f"(unavailable: {exc})"


# -- sweeping ------------------------------------------------------------------------------


def sweep_orphans(client: Any, state_dir: Path | None = None) -> None:
    """Remove the containers, volumes and host folders of this host whose owner process is gone."""
    labels = [f"{LABEL_SANDBOX}=1", f"{LABEL_HOST}={socket.gethostname()}"]
    try:
        containers = client.containers.list(all=True, filters={"label": labels})
        volumes = client.volumes.list(filters={"label": labels})
    except ENGINE_ERRORS as exc:
        logger.warning("Cannot list old sandboxes: %s", exc)
        return
    for container in containers:
        if not pid_alive(container.labels.get(LABEL_PID, "")):
            logger.info("Removing orphaned sandbox %s", container.name)
            try:
                container.remove(force=True)
            except ENGINE_ERRORS as exc:  # another process may be sweeping it right now
                logger.debug("Could not remove %s: %s", container.name, exc)
    for volume in volumes:
        if not pid_alive((volume.attrs.get("Labels") or {}).get(LABEL_PID, "")):
            try:
                volume.remove(force=True)
            except ENGINE_ERRORS as exc:  # still in use by a live container, or being swept
                logger.debug("Could not remove volume %s: %s", volume.name, exc)
    _sweep_host_dirs(Path(state_dir).expanduser() if state_dir else Path(tempfile.gettempdir()))


def _sweep_host_dirs(parent: Path) -> None:
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        found = _HOST_DIR.match(entry.name)
        if found and not pid_alive(found.group(1)) and _owned_dir(entry):
            logger.info("Removing orphaned sandbox folder %s", entry)
            shutil.rmtree(entry, ignore_errors=True)


def _owned_dir(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return path.is_dir() and not path.is_symlink() and info.st_uid == os.geteuid()


def pid_alive(pid_text: str) -> bool:
    """Whether the process ``pid_text`` exists on this host (False for junk)."""
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
