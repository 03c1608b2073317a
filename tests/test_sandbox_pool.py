"""SandboxPool: warm sandboxes started in parallel, cleaned between users, removed on close."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import pytest

from aiev_agents.sandbox import DockerSandbox, SandboxPool, SandboxSettings
from aiev_agents.sandbox.container import LABEL_HOST, LABEL_PID, LABEL_SANDBOX

LEAVE_TRACES = """
import os, subprocess
open("left.txt", "w").write("x")
open("/tmp/left.txt", "w").write("x")
subprocess.Popen(["sleep", "1000"], start_new_session=True)
assert True
"""
SEE_TRACES = """
import os
mine = [p for p in os.listdir("/proc") if p.isdigit() and os.stat("/proc/" + p).st_uid == os.getuid()]
print(sorted(os.listdir(".")), os.listdir("/tmp"), len(mine))
"""


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def pool_containers(docker_client: Any) -> list[Any]:
    labels = [f"{LABEL_SANDBOX}=1", f"{LABEL_PID}={os.getpid()}"]
    return docker_client.containers.list(all=True, filters={"label": labels})


@pytest.mark.docker
def test_pool_starts_its_sandboxes_and_close_removes_containers_volumes_and_folders(
    sandbox_settings: SandboxSettings, docker_client: Any, tmp_path: Path
) -> None:
    before = {c.name for c in pool_containers(docker_client)}
    pool = SandboxPool(sandbox_settings.model_copy(update={"state_dir": tmp_path}), size=2)
    pool.start()
    started = [c for c in pool_containers(docker_client) if c.name not in before]
    volumes = [m["Name"] for c in started for m in c.attrs["Mounts"] if m["Type"] == "volume"]
    assert (len(started), pool.idle, len(list(tmp_path.iterdir()))) == (2, 2, 2)
    assert {c.status for c in started} == {"running"}
    pool.close()
    pool.close()
    for container in started:
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(container.id)
    assert len(volumes) == 2
    for volume in volumes:
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(volume)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.docker
def test_released_sandbox_is_clean_for_its_next_user(sandbox_settings: SandboxSettings) -> None:
    with SandboxPool(sandbox_settings, size=1) as pool:
        with pool.session() as box:
            first = box.container_name
            assert box.run(LEAVE_TRACES).status == "pass"
        with pool.session() as box:
            result = box.run(SEE_TRACES)
            assert box.container_name == first
    assert result.output == "['main.py'] [] 1\n"


@pytest.mark.docker
def test_acquire_waits_at_most_its_timeout_when_all_are_taken(sandbox_settings: SandboxSettings) -> None:
    with SandboxPool(sandbox_settings, size=1) as pool:
        taken = pool.acquire()
        with pytest.raises(TimeoutError, match="no sandbox of the pool was free within 0.1 s"):
            pool.acquire(timeout=0.1)
        pool.release(taken)
        assert pool.acquire(timeout=0.1) is taken


def test_release_of_a_foreign_sandbox_is_refused() -> None:
    pool = SandboxPool(SandboxSettings(), size=1)
    with pytest.raises(ValueError, match="does not belong to the pool"):
        pool.release(DockerSandbox(SandboxSettings()))


def test_pool_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one sandbox, not 0"):
        SandboxPool(SandboxSettings(), size=0)


@pytest.mark.docker
def test_start_sweeps_orphaned_volumes_and_folders_of_dead_owners(
    sandbox_settings: SandboxSettings, docker_client: Any, tmp_path: Path
) -> None:
    labels = {LABEL_SANDBOX: "1", LABEL_PID: str(dead_pid()), LABEL_HOST: socket.gethostname()}
    orphan_volume = docker_client.volumes.create("aiev-packages-orphan-test", labels=labels)
    orphan_dir = tmp_path / f"aiev-sandbox-{dead_pid()}-abc123"
    live_dir = tmp_path / f"aiev-sandbox-{os.getpid()}-abc123"
    orphan_dir.mkdir()
    live_dir.mkdir()
    try:
        with DockerSandbox(sandbox_settings.model_copy(update={"state_dir": tmp_path})):
            pass
        with pytest.raises(docker.errors.NotFound):
            docker_client.volumes.get(orphan_volume.id)
        assert sorted(p.name for p in tmp_path.iterdir()) == [live_dir.name]
    finally:
        try:
            orphan_volume.remove(force=True)
        except docker.errors.NotFound:
            pass


@pytest.mark.docker
def test_sandboxes_still_running_are_removed_at_interpreter_exit(
    sandbox_settings: SandboxSettings, docker_client: Any, tmp_path: Path
) -> None:
    code = (
        "from aiev_agents.sandbox import SandboxPool, SandboxSettings\n"
        f"settings = SandboxSettings(image={sandbox_settings.image!r}, pull=False, state_dir={str(tmp_path)!r})\n"
        "pool = SandboxPool(settings, size=2)\n"
        "print(pool.acquire().container_name, pool.acquire().container_name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    names = done.stdout.split()
    assert len(names) == 2
    for name in names:
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
    assert list(tmp_path.iterdir()) == []
