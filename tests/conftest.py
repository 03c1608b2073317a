"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from aiev_agents.sandbox.settings import SandboxSettings

# ---------------------------------------------------------------------------------------
# Sandbox fixtures (owned by the sandbox work; keep other fixtures outside this block).
# Tests marked `docker` take `sandbox_settings`; they skip, saying why, when no Docker
# engine is reachable or the sandbox image (env AIEV_SANDBOX_IMAGE) is missing.
# ---------------------------------------------------------------------------------------

SANDBOX_IMAGE = os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker-py client of the engine at DOCKER_HOST or the local socket; skip if none."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # docker-py raises several unrelated types when no engine answers
        pytest.skip(f"no Docker engine reachable ({exc}); start Docker or set DOCKER_HOST")
    yield client
    client.close()


@pytest.fixture(scope="session")
def sandbox_settings(docker_client: Any) -> SandboxSettings:
    """Settings for a sandbox from the local image SANDBOX_IMAGE; skip if it is missing."""
    return _local_image(docker_client, SANDBOX_IMAGE, "sandbox image", "", "AIEV_SANDBOX_IMAGE", timeout_s=10)


def _local_image(client: Any, image: str, what: str, flags: str, variable: str, timeout_s: float) -> SandboxSettings:
    """Settings for a sandbox from ``image``, which must be on this machine (the test skips otherwise)."""
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        build = f"aiev sandbox build --offline{flags}"
        pytest.skip(f"{what} {image} is missing; build it with `{build}` (or set {variable})")
    return SandboxSettings(image=image, pull=False, timeout_s=timeout_s)


POLYGLOT_IMAGE = os.environ.get("AIEV_POLYGLOT_IMAGE", "aiev-sandbox-polyglot:latest")


@pytest.fixture(scope="session")
def polyglot_settings(docker_client: Any) -> SandboxSettings:
    """Settings for a sandbox from the toolchains image POLYGLOT_IMAGE; skip if it is missing."""
    return _local_image(
        docker_client, POLYGLOT_IMAGE, "toolchains image", " --toolchains", "AIEV_POLYGLOT_IMAGE", timeout_s=30
    )


# ---------------------------------------------------------------------------------------
# End of sandbox fixtures.
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[Any]:
    """One started sandbox shared by the tests of a module; a module that needs other limits
    overrides ``sandbox_settings``."""
    from aiev_agents.sandbox import DockerSandbox

    with DockerSandbox(sandbox_settings) as box:
        yield box


@pytest.fixture(scope="module")
def executor(sandbox_settings: SandboxSettings) -> Iterator[Any]:
    """One executor agent, and so one container, shared by the dialogues of a test module; it
    installs packages through this machine's CA bundle (a TLS-inspecting proxy)."""
    from aiev_agents import ExecutorAgent

    from helpers import host_ca_bundle

    agent = ExecutorAgent(sandbox=sandbox_settings.model_copy(update={"ca_bundle": host_ca_bundle()}))
    try:
        yield agent
    finally:
        agent.close()


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory, sandbox_settings: SandboxSettings) -> Any:
    """A real run folder made by `aiev generate` against the scripted teacher (see tests/view_runs.py)."""
    from view_runs import make_scripted_run

    return make_scripted_run(tmp_path_factory.mktemp("scripted-run"), sandbox_settings.image)
