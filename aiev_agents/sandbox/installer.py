"""``pip install`` for a sandbox, in a short-lived installer container that has network.

The program's container has no network (``settings.network`` is ``none`` by default), so
packages are installed next to it: a container from the same image, on
``settings.install_network``, runs ``pip install --target /opt/aiev-packages/gen-N`` into
the sandbox's packages volume, which the sandbox mounts read-only and the runner puts on
the program's ``sys.path`` (and ``PYTHONPATH``). The installer runs pip, and so the build
code of the packages it installs (``setup.py`` of an sdist) with network; it never runs the
model's program. It runs as root in its container (to write the volume) with all
capabilities dropped, ``no-new-privileges`` and the sandbox's memory, CPU and pid limits.

Generations: :meth:`DockerSandbox.reset` moves on to a new, empty ``gen-N`` folder, so a
sandbox reused from a pool does not carry the previous user's packages; older generations
are deleted by the next install.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from aiev_agents.codeblocks import is_requirement
from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.sandbox.container import (
    PACKAGES_DIR,
    ca_bundle_mount,
    ca_env,
    containment_options,
    owner_labels,
)
from aiev_agents.sandbox.image import ENGINE_ERRORS
from aiev_agents.sandbox.settings import SandboxSettings, normalise_name

logger = logging.getLogger(__name__)

PIP_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_INPUT": "1",
    "PIP_CACHE_DIR": f"{PACKAGES_DIR}/pip-cache",
    "PYTHONDONTWRITEBYTECODE": "1",
}
# $1: the generation folder to install into; older generations are removed first.
INSTALL_SCRIPT = (
    f'cd {PACKAGES_DIR} || exit 125; for old in gen-*; do [ "$old" = "$1" ] || rm -rf "$old"; done; '
    f'target="{PACKAGES_DIR}/$1"; shift; '
    'exec python3 -m pip install --no-input --progress-bar off --upgrade --target "$target" "$@" 2>&1'
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class InstallOutcome:
    """What one ``pip install`` for the sandbox produced."""

    exit_code: int
    output: str
    duration_s: float
    packages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def as_install_error(self, packages: list[str]) -> ExecutionResult:
        """The record of a program that never ran because this install (of ``packages``) failed."""
        return ExecutionResult(
            status="install_error",
            exit_code=self.exit_code,
            output=self.output,
            install_output=self.output,
            packages=packages,
            duration_s=self.duration_s,
        )


def generation_dir(generation: int) -> str:
    """Folder (inside the containers) of one generation of installed packages."""
    return f"{PACKAGES_DIR}/gen-{generation}"


def check_requirements(packages: list[str]) -> None:
    """Raise ValueError unless each entry is a plain requirement such as ``numpy==1.26``."""
    for package in packages:
        if not is_requirement(package):
            raise ValueError(f"not a plain requirement: {package!r}")


def refused(packages: list[str], allowed: list[str] | None) -> list[str]:
    """The requirements whose project is not in ``allowed`` (None allows everything)."""
    if allowed is None:
        return []
    names = set(allowed)
    return [p for p in packages if normalise_name(_NAME.match(p).group(0)) not in names]  # type: ignore[union-attr]


def install(
    client: Any, settings: SandboxSettings, volume: str, generation: int, packages: list[str]
) -> InstallOutcome:
    """Install ``packages`` into generation ``generation`` of ``volume``; pip's errors are data.

    Raises:
        ValueError: An entry is not a plain requirement.
    """
    check_requirements(packages)
    not_allowed = refused(packages, settings.allowed_packages)
    if not_allowed:
        text = f"Not installed: {', '.join(not_allowed)} (not in sandbox.allowed_packages)."
        return InstallOutcome(1, text, 0.0, packages)
    started = time.monotonic()
    options = _options(settings, volume, generation, packages)
    try:
        container = client.containers.run(**options)
    except ENGINE_ERRORS as exc:
        return InstallOutcome(-1, f"Cannot start the installer container: {exc}", 0.0, packages)
    try:
        exit_code, note = _wait(container, settings.install_timeout_s)
        output = _output(container, settings.output_limit_bytes) + note
    finally:
        _remove(container)
    return InstallOutcome(exit_code, output, round(time.monotonic() - started, 3), packages)


def _options(settings: SandboxSettings, volume: str, generation: int, packages: list[str]) -> dict[str, Any]:
    mounts = ca_bundle_mount(settings)
    env = dict(PIP_ENV) | (ca_env() if mounts else {})
    index = ["--index-url", settings.pip_index_url] if settings.pip_index_url else []
    options: dict[str, Any] = {
        "image": settings.image,
        "entrypoint": ["sh", "-c", INSTALL_SCRIPT, "sh"],
        "command": [f"gen-{generation}", *index, *packages],
        "name": f"aiev-install-{secrets.token_hex(6)}",
        "detach": True,
        "user": "0:0",
        "working_dir": "/",
        "environment": env,
        "labels": owner_labels(),
        "mem_limit": settings.memory,
        "memswap_limit": settings.memory,
        "nano_cpus": int(settings.cpus * 1e9),
        "pids_limit": settings.pids_limit,
        "network_mode": settings.install_network,
        "volumes": {volume: {"bind": PACKAGES_DIR, "mode": "rw"}, **mounts},
    }
    return options | containment_options(settings, cap_add=[])


def _wait(container: Any, limit: float) -> tuple[int, str]:
    """Exit code of the installer and a note ("" unless it was killed at the time limit)."""
    try:
        return int(container.wait(timeout=limit)["StatusCode"]), ""
    except (requests.exceptions.RequestException, OSError):
        logger.warning("pip install in %s timed out after %g s", container.name, limit)
    try:
        container.kill()
    except ENGINE_ERRORS:
        pass
    return 137, f"\npip install timed out after {limit:g} s."


def _output(container: Any, limit: int) -> str:
    """pip's output, at most ``limit`` bytes of it: the end, where its errors are."""
    try:
        data = container.logs(stdout=True, stderr=True)
    except ENGINE_ERRORS as exc:
        return f"(installer output unavailable: {exc})"
    if len(data) <= limit:
        return data.decode("utf-8", errors="replace")
    kept = data[-limit:].decode("utf-8", errors="replace")
    return f"[pip output truncated: only the last {limit} bytes are kept]\n{kept}"


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except ENGINE_ERRORS as exc:
        logger.warning("Could not remove installer %s: %s", container.name, exc)
