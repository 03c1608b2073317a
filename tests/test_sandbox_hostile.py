"""Hostile programs: each is contained, and the sandbox runs the next program normally."""

from __future__ import annotations

import secrets
import socket
import textwrap
from pathlib import Path

import pytest

from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.sandbox import DockerSandbox, SandboxSettings

from helpers import run_program

pytestmark = pytest.mark.docker

OUTPUT_LIMIT = 4096
MEMORY = "384m"

# Passes only when the program is the one process of its uid and the scratch folders are empty.
FOLLOW_UP = textwrap.dedent(
    """
    import os
    mine = [p for p in os.listdir("/proc") if p.isdigit() and os.stat("/proc/" + p).st_uid == os.getuid()]
    assert mine == [str(os.getpid())], mine
    assert os.listdir(".") == ["main.py"], os.listdir(".")
    assert os.listdir("/tmp") == [] and os.listdir("/dev/shm") == []
    print("healthy")
    """
)


@pytest.fixture(scope="module")
def sandbox_settings(sandbox_settings: SandboxSettings) -> SandboxSettings:
    """Tight limits, so that each hostile program meets one quickly."""
    return sandbox_settings.model_copy(
        update={
            "timeout_s": 3,
            "memory": MEMORY,
            "tmpfs_size": "64m",
            "pids_limit": 64,
            "output_limit_bytes": OUTPUT_LIMIT,
        }
    )


def run_contained(sandbox: DockerSandbox, source: str) -> ExecutionResult:
    """Run a hostile program, then check that the follow-up program passes in the same container
    (nothing had to be replaced); the hostile program's result is returned."""
    container = sandbox.container_name
    result = run_program(sandbox, source)
    healthy = sandbox.run(FOLLOW_UP)
    assert (healthy.status, healthy.output) == ("pass", "healthy\n")
    assert sandbox.container_name == container
    return result


def test_infinite_loop_times_out(sandbox: DockerSandbox) -> None:
    result = run_contained(sandbox, "while True:\n    pass\n")
    assert (result.status, result.exit_code, result.output) == ("timeout", 137, "Timed out after 3 s.")
    assert 3 <= result.duration_s < 6


def test_fork_bomb_times_out_and_all_its_processes_are_killed(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox,
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """,
    )
    assert (result.status, result.exit_code, result.output) == ("timeout", 137, "Timed out after 3 s.")


def test_memory_bomb_is_killed_by_the_kernel_and_reported(sandbox: DockerSandbox) -> None:
    result = run_contained(sandbox, "chunks = []\nwhile True:\n    chunks.append(b'x' * (16 << 20))\n")
    assert (result.status, result.exit_code) == ("fail", 137)
    assert result.output == f"Killed by the kernel: out of memory (limit {MEMORY})."


def test_fifty_megabytes_of_output_are_capped(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox, "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * (1 << 20))\nassert True\n"
    )
    assert (result.status, result.exit_code, result.truncated, result.assertions) == ("pass", 0, True, 1)
    total = 50 * 2**20
    cut = total - 2 * OUTPUT_LIMIT
    note = (
        f"\n[output truncated: {cut} bytes cut here, between the first {OUTPUT_LIMIT} "
        f"and the last {OUTPUT_LIMIT} of {total} bytes]\n"
    )
    assert result.output == "x" * OUTPUT_LIMIT + note + "x" * OUTPUT_LIMIT


def test_killing_pid_1_is_not_permitted(sandbox: DockerSandbox) -> None:
    result = run_contained(sandbox, "import os, signal\nos.kill(1, signal.SIGKILL)\n")
    assert (result.status, result.exit_code) == ("fail", 1)
    assert result.output.endswith("PermissionError: [Errno 1] Operation not permitted\n")


def test_killing_every_process_it_may_signal_spares_the_sandbox(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox, "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('still here')\nassert True\n"
    )
    assert (result.status, result.output) == ("pass", "still here\n")


def test_background_children_left_behind_are_gone_before_the_next_run(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox,
        """
        import os, subprocess, time
        subprocess.Popen(["sleep", "1000"], start_new_session=True)
        ready, tell = os.pipe()
        if os.fork() == 0:  # a double-forked daemon in its own session
            os.setsid()
            if os.fork() == 0:
                os.write(tell, b"up")
                time.sleep(1000)
            os._exit(0)
        print(os.read(ready, 2).decode())
        """,
    )
    assert (result.status, result.output) == ("no_tests", "up\n")


def test_host_files_are_not_visible(sandbox: DockerSandbox, tmp_path: Path) -> None:
    marker = tmp_path / f"aiev-marker-{secrets.token_hex(8)}"
    marker.write_text("host secret")
    result = run_contained(
        sandbox,
        f"""
        import os
        try:
            open({str(marker)!r})
        except FileNotFoundError:
            print("not found")
        hits = []
        for folder, subfolders, files in os.walk("/"):
            if folder == "/":
                subfolders[:] = [name for name in subfolders if name not in ("proc", "sys")]
            hits += [folder for name in files if name == {marker.name!r}]
        print(hits, open("/etc/hostname").read().strip() == {socket.gethostname()!r})
        """,
    )
    assert (result.status, result.output) == ("no_tests", "not found\n[] False\n")


def test_the_image_is_read_only_and_the_workdir_is_size_limited(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox,
        """
        import errno
        for path, size in (("/usr/lib/x", 1), ("big", 100 << 20)):
            try:
                with open(path, "wb") as handle:
                    handle.write(b"x" * size)
            except OSError as exc:
                print(errno.errorcode[exc.errno])
        """,
    )
    assert (result.status, result.output) == ("no_tests", "EROFS\nENOSPC\n")


def test_only_loopback_exists_when_the_network_is_off(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox,
        """
        import socket
        print([name for _, name in socket.if_nameindex()])
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=2)
        except OSError as exc:
            print(exc.strerror)
        """,
    )
    assert (result.status, result.output) == ("no_tests", "['lo']\nNetwork is unreachable\n")


def test_program_runs_unprivileged_and_cannot_reach_the_runner(sandbox: DockerSandbox) -> None:
    result = run_contained(
        sandbox,
        """
        import os, socket
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        print(os.getuid(), os.getgid(), os.getgroups(), status["CapEff"].strip(), status["NoNewPrivs"].strip())
        try:
            socket.socket(socket.AF_UNIX).connect("/run/aiev/runner.sock")
        except OSError as exc:
            print(exc.strerror)
        """,
    )
    assert (result.status, result.output) == (
        "no_tests",
        "65534 65534 [] 0000000000000000 1\nPermission denied\n",
    )
