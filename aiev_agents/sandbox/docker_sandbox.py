"""Run model-written Python programs in one long-lived Docker container.

What is and is not a security boundary, in this first version:

* The boundary is the container: Linux namespaces and cgroups as configured by the
  Docker engine, plus limits on memory (swap included), CPU, process count, wall-clock
  time per run and output size. Nothing of the host is mounted, except the CA bundle
  (read-only) when ``ca_bundle`` is set.
* The program runs as **root inside the container**, with Docker's default capabilities
  and seccomp profile. There is no user-namespace remapping, no gVisor and no disk quota:
  a kernel or engine escape is not defended against, nor is filling the disk.
* The network is whatever ``settings.network`` says: ``bridge`` (the default) lets a
  program reach anything the host can; ``none`` cuts it off (then ``pip install`` fails).
* Runs share the container: the working directory is emptied before each run, but
  installed packages, files outside it and stray processes that left their process
  group persist until the container is recreated.
* The test counts come from the harness inside the container; a program that wanted
  to could forge them. They guard against programs that run no tests, not against
  hostile ones.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import secrets
import shlex
import socket
import tarfile
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import docker
from docker.utils.socket import frames_iter

from aiev_agents.errors import SandboxUnavailable
from aiev_agents.sandbox.harness import NONCE_ENV, split_counts
from aiev_agents.sandbox.image import ENGINE_ERRORS as _ENGINE_ERRORS
from aiev_agents.sandbox.image import connect, ensure_image
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.transcript import ExecutionResult, ExecutionStatus

logger = logging.getLogger(__name__)

LABEL_SANDBOX = "aiev-agents.sandbox"
LABEL_PID = "aiev-agents.owner-pid"
LABEL_HOST = "aiev-agents.owner-host"
CA_BUNDLE_PATH = "/etc/aiev/ca-bundle.crt"
HARNESS_DIR = "/opt/aiev"
HARNESS_PATH = f"{HARNESS_DIR}/harness.py"
STREAM_GRACE_S = 10.0  # past the time limit, a still-open output stream counts as stalled
_ENV = {
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_INPUT": "1",
}


@dataclass(frozen=True)
class InstallOutcome:
    """What one ``pip install`` in the sandbox produced."""

    exit_code: int
    output: str
    duration_s: float
    packages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class SandboxCrashed(Exception):
    """The container died or vanished during a call; internal, never raised to callers."""


class _Captured:
    """Bounded output and exit of one exec: the first ``limit`` bytes and a short tail."""

    TAIL_BYTES = 4096

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.truncated = False
        self.exit_code: int | None = None
        self.duration_s = 0.0
        self.stalled = False

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.truncated = True
            self.tail = (self.tail + data)[-self.TAIL_BYTES :]

    def timed_out(self, limit: float) -> bool:
        """Killed by ``timeout`` (exit 137 at or past the limit), or stalled past it."""
        killed_late = self.exit_code == 137 and self.duration_s >= limit
        return self.stalled or self.exit_code == 124 or killed_late

    def split(self, nonce: str | None) -> tuple[str, dict[str, int]]:
        """Output text without the harness's counts line, and the counts ({} if absent)."""
        head, counts = split_counts(bytes(self.head), nonce) if nonce else (bytes(self.head), None)
        if self.truncated and nonce:
            _, counts = split_counts(bytes(self.head[-256:] + self.tail), nonce)
        text = head.decode("utf-8", errors="replace")
        if self.truncated:
            text += f"\n[output truncated: only the first {self.limit} bytes are kept]"
        return text, counts or {}


class DockerSandbox:
    """One container that installs packages and runs programs, one at a time.

    Example:
        >>> with DockerSandbox(SandboxSettings(image="aiev-sandbox:latest")) as box:  # doctest: +SKIP
        ...     box.run("assert 1 + 1 == 2").status
        'pass'
    """

    def __init__(self, settings: SandboxSettings | None = None, *, client: Any = None) -> None:
        """Remember the settings; nothing is contacted until :meth:`start`."""
        self.settings = settings or SandboxSettings()
        self._client = client
        self._own_client = client is None
        self._container: Any = None
        self._broken = False
        self._installed: set[str] = set()

    @property
    def container_name(self) -> str | None:
        """Name of the live container, or None when stopped."""
        return self._container.name if self._container is not None else None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect, sweep orphans, ensure the image and start the container (idempotent).

        Raises:
            SandboxUnavailable: The engine, the image or the container cannot be used.
        """
        if self._container is not None:
            return
        if self._client is None:
            self._client = connect(self.settings.docker_host)
        client = self._client
        _sweep_orphans(client)
        ensure_image(client, self.settings.image, pull=self.settings.pull)
        self._container = self._create_container(client)
        atexit.register(self.stop)
        try:
            self._put_files({"harness.py": harness_source()})
        except SandboxCrashed as exc:
            self.stop()
            raise SandboxUnavailable(f"Cannot copy the harness into the sandbox: {exc}") from exc
        logger.info("Sandbox %s started from %s", self._container.name, self.settings.image)

    def stop(self) -> None:
        """Remove the container (force); safe to call twice."""
        atexit.unregister(self.stop)
        container, self._container = self._container, None
        self._installed.clear()
        if container is not None:
            try:
                container.remove(force=True)
                logger.info("Sandbox %s removed", container.name)
            except docker.errors.NotFound:
                pass
            except _ENGINE_ERRORS as exc:
                logger.warning("Could not remove sandbox %s: %s", container.name, exc)
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def restart(self) -> None:
        """Replace the container by a fresh one."""
        self.stop()
        self._broken = False
        self.start()

    def __enter__(self) -> DockerSandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- work ----------------------------------------------------------------------------

    def install(self, packages: list[str]) -> InstallOutcome:
        """Run ``pip install`` for ``packages`` in the container, errors visible.

        Args:
            packages: Requirement strings, e.g. ``["numpy==1.26", "requests>=2"]``.

        Returns:
            pip's exit code and output (bounded), and the time it took.
        """
        packages = list(packages)
        if any(not package or package.startswith("-") for package in packages):
            raise ValueError(f"not a requirement: {packages!r}")
        if not packages or self._installed.issuperset(packages):
            return InstallOutcome(0, "Already installed: " + " ".join(packages), 0.0, packages)
        limit = self.settings.install_timeout_s
        pip = f"exec timeout -s KILL {_seconds(limit)} python -m pip install --no-input --progress-bar off"
        command = ["sh", "-c", pip + ' "$@" 2>&1', "sh", *packages]
        try:
            self._prepare({"harness.py": harness_source()})
            run = self._exec(command, limit=limit, workdir="/")
        except SandboxCrashed as exc:
            return InstallOutcome(-1, self._crash_text(exc), 0.0, packages)
        text, _ = run.split(None)
        if run.timed_out(limit):
            text += f"\npip install timed out after {limit:g} s."
        exit_code = 137 if run.exit_code is None else run.exit_code
        if exit_code == 0:
            self._installed.update(packages)
        return InstallOutcome(exit_code, text, round(run.duration_s, 3), packages)

    def run(self, program: str, *, timeout_s: float | None = None) -> ExecutionResult:
        """Run ``program`` as ``main.py`` in an emptied working directory.

        Args:
            program: Python source.
            timeout_s: Wall-clock limit; ``settings.timeout_s`` if None.

        Returns:
            The result; a crash of the container is a ``fail`` result, never an exception.
            The next call then starts a fresh container.
        """
        limit = timeout_s if timeout_s is not None else self.settings.timeout_s
        nonce = secrets.token_hex(8)
        try:
            self._prepare({"harness.py": harness_source(), f"run-{nonce}.py": program})
            run = self._exec(self._run_command(nonce, limit), limit=limit, env={NONCE_ENV: nonce})
        except SandboxCrashed as exc:
            return ExecutionResult(status="fail", exit_code=-1, output=self._crash_text(exc))
        return self._result(run, nonce, limit)

    def execute(self, program: str, packages: list[str]) -> ExecutionResult:
        """Install ``packages`` (if any), then run ``program``.

        Returns:
            ``install_error`` with pip's output when pip fails; else the run's result
            with ``packages`` and ``install_output`` filled in.
        """
        packages = list(packages)
        install_output = ""
        if packages:
            installed = self.install(packages)
            if not installed.ok:
                return ExecutionResult(
                    status="install_error",
                    exit_code=installed.exit_code,
                    output=installed.output,
                    install_output=installed.output,
                    packages=packages,
                    duration_s=installed.duration_s,
                )
            install_output = installed.output
        result = self.run(program)
        return result.model_copy(update={"packages": packages, "install_output": install_output})

    # -- internals -----------------------------------------------------------------------

    def _result(self, run: _Captured, nonce: str, limit: float) -> ExecutionResult:
        output, counts = run.split(nonce)
        assertions, cases = int(counts.get("assertions", 0)), int(counts.get("test_cases", 0))
        exit_code = 137 if run.exit_code is None else run.exit_code
        status, note = _status(run, exit_code, counts, limit, self.settings.memory)
        if note:
            output += ("" if not output or output.endswith("\n") else "\n") + note
        return ExecutionResult(
            status=status,
            exit_code=exit_code,
            output=output,
            truncated=run.truncated,
            duration_s=round(run.duration_s, 3),
            assertions=assertions,
            test_cases=cases,
        )

    def _crash_text(self, exc: Exception) -> str:
        logger.warning("Sandbox crashed: %s", exc)
        return (
            f"The sandbox container crashed or was removed ({exc}); the program may have "
            f"exceeded the memory limit ({self.settings.memory}). A fresh container is used next time."
        )

    def _prepare(self, files: dict[str, str]) -> None:
        """Start if needed and write ``files``; a container found dead here (before anything
        ran) is replaced transparently."""
        if self._broken or (self._container is not None and not self._alive(checks=1)):
            logger.warning("Sandbox container is gone; starting a fresh one")
            self.restart()
        else:
            self.start()
        self._put_files(files)

    def _create_container(self, client: Any) -> Any:
        s = self.settings
        env = dict(_ENV)
        volumes = {}
        if s.ca_bundle is not None:
            bundle = Path(s.ca_bundle).expanduser().resolve()
            if not bundle.is_file():
                raise SandboxUnavailable(f"sandbox.ca_bundle {s.ca_bundle} is not a file; fix the path.")
            volumes[str(bundle)] = {"bind": CA_BUNDLE_PATH, "mode": "ro"}
            env.update(
                PIP_CERT=CA_BUNDLE_PATH, SSL_CERT_FILE=CA_BUNDLE_PATH, REQUESTS_CA_BUNDLE=CA_BUNDLE_PATH
            )
        labels = {LABEL_SANDBOX: "1", LABEL_PID: str(os.getpid()), LABEL_HOST: socket.gethostname()}
        options: dict[str, Any] = {}
        if docker.utils.version_gte(client.api.api_version, "1.25"):
            options["init"] = True
        try:
            return client.containers.run(
                s.image,
                ["sleep", "infinity"],
                name=f"aiev-sandbox-{secrets.token_hex(6)}",
                detach=True,
                working_dir=s.workdir,
                mem_limit=s.memory,
                memswap_limit=s.memory,
                nano_cpus=int(s.cpus * 1e9),
                pids_limit=s.pids_limit,
                network_mode=s.network,
                environment=env,
                labels=labels,
                volumes=volumes,
                **options,
            )
        except _ENGINE_ERRORS as exc:
            raise SandboxUnavailable(f"Cannot start the sandbox container from {s.image}: {exc}") from exc

    def _put_files(self, files: dict[str, str]) -> None:
        """Write text files into ``HARNESS_DIR`` (created if missing)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            folder = tarfile.TarInfo(os.path.basename(HARNESS_DIR))
            folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
            tar.addfile(folder)
            for name, text in files.items():
                data = text.encode("utf-8", errors="replace")
                info = tarfile.TarInfo(f"{folder.name}/{name}")
                info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
                tar.addfile(info, io.BytesIO(data))
        try:
            self._container.put_archive(os.path.dirname(HARNESS_DIR), buffer.getvalue())
        except _ENGINE_ERRORS as exc:
            self._broken = True
            raise SandboxCrashed(f"cannot write files into the container: {exc}") from exc

    def _run_command(self, nonce: str, limit: float) -> list[str]:
        """Shell that empties the workdir, moves the program in and runs it under ``timeout``.

        ``timeout`` makes itself a process-group leader; whatever the program left in that
        group is killed afterwards so that no stray process holds the output open.
        """
        work = shlex.quote(self.settings.workdir)
        staged = shlex.quote(f"{HARNESS_DIR}/run-{nonce}.py")
        script = (  # stderr joins stdout (one ordered stream); the shell's own messages are dropped
            "exec 2>/dev/null; "
            f"find {work} -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +; "
            f"mkdir -p {work} && mv -f {staged} {work}/main.py && cd {work} || exit 125; "
            f"timeout -s KILL {_seconds(limit)} python {HARNESS_PATH} main.py 2>&1 & pid=$!; "
            "wait $pid; rc=$?; kill -9 -$pid; exit $rc"
        )
        return ["sh", "-c", script]

    def _exec(
        self,
        command: list[str],
        *,
        limit: float,
        env: dict[str, str] | None = None,
        workdir: str | None = None,
    ) -> _Captured:
        """Run ``command`` in the container; keep bounded output; wait at most ``limit`` + grace."""
        api = self._client.api
        try:
            exec_id = api.exec_create(self._container.id, command, environment=env, workdir=workdir)["Id"]
            started = time.monotonic()
            sock = api.exec_start(exec_id, socket=True)
        except _ENGINE_ERRORS as exc:
            self._broken = True
            raise SandboxCrashed(str(exc)) from exc
        captured = _Captured(self.settings.output_limit_bytes)
        reader = threading.Thread(target=_pump, args=(sock, captured), daemon=True)
        reader.start()
        reader.join(limit + STREAM_GRACE_S)
        captured.duration_s = time.monotonic() - started
        if reader.is_alive():  # a process that escaped its group keeps the stream open
            captured.stalled = True
            self._broken = True
            _close_socket(sock)
            return captured
        captured.exit_code = self._exit_code(exec_id)
        killed_early = captured.exit_code == 137 and captured.duration_s < limit
        if (captured.exit_code in (None, -1) or killed_early) and not self._alive():
            self._broken = True
            raise SandboxCrashed("the container stopped during the run")
        return captured

    def _exit_code(self, exec_id: str) -> int | None:
        """Exit code of a finished exec; the engine may need a moment to record it."""
        for _ in range(100):
            try:
                info = self._client.api.exec_inspect(exec_id)
            except _ENGINE_ERRORS:
                return None
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            time.sleep(0.01)
        return None

    def _alive(self, checks: int = 10) -> bool:
        """False if the container is stopped or gone, looking ``checks`` times 50 ms apart
        (the engine records a stop a moment late)."""
        for check in range(checks):
            time.sleep(0.05 if check else 0)
            try:
                self._container.reload()
            except _ENGINE_ERRORS:
                return False
            if self._container.status != "running":
                return False
        return True


def _status(
    run: _Captured, exit_code: int, counts: dict[str, int], limit: float, memory: str
) -> tuple[ExecutionStatus, str]:
    """Status of a finished run, and a note to append to its output (or "")."""
    failures = int(counts.get("test_failures", 0))
    if run.timed_out(limit):
        return "timeout", f"Timed out after {limit:g} s."
    if exit_code == 137:
        return "fail", f"Killed (SIGKILL) before the time limit: probably out of memory (limit {memory})."
    if exit_code != 0:
        return "fail", ""
    if failures:
        return "fail", f"{failures} unittest failure(s) or error(s), although the program exited 0."
    if int(counts.get("assertions", 0)) + int(counts.get("test_cases", 0)) > 0:
        return "pass", ""
    return "no_tests", ""


def _seconds(value: float) -> str:
    """A duration as coreutils ``timeout`` reads it: plain decimal, no exponent."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def harness_source() -> str:
    """Text of ``harness.py``, as shipped with the package."""
    return resources.files("aiev_agents.sandbox").joinpath("harness.py").read_text(encoding="utf-8")


def _pump(sock: Any, captured: _Captured) -> None:
    """Read the exec's multiplexed output until EOF."""
    raw = getattr(sock, "_sock", sock)
    try:
        raw.settimeout(None)  # the client's request timeout must not cut a quiet program
        for _stream, data in frames_iter(sock, tty=False):
            captured.add(data)
    except (OSError, ValueError) as exc:
        logger.debug("Output stream ended: %s", exc)
    finally:
        _close_socket(sock)


def _close_socket(sock: Any) -> None:
    raw = getattr(sock, "_sock", sock)
    for close in (lambda: raw.shutdown(socket.SHUT_RDWR), raw.close, sock.close):
        try:
            close()
        except OSError:
            pass


def _sweep_orphans(client: Any) -> None:
    """Remove sandboxes of this host whose owning process is gone."""
    labels = [f"{LABEL_SANDBOX}=1", f"{LABEL_HOST}={socket.gethostname()}"]
    try:
        containers = client.containers.list(all=True, filters={"label": labels})
    except _ENGINE_ERRORS as exc:
        logger.warning("Cannot list old sandboxes: %s", exc)
        return
    for container in containers:
        if _pid_alive(container.labels.get(LABEL_PID, "")):
            continue
        logger.info("Removing orphaned sandbox %s", container.name)
        try:
            container.remove(force=True)
        except _ENGINE_ERRORS as exc:  # another process may be sweeping it right now
            logger.debug("Could not remove %s: %s", container.name, exc)


def _pid_alive(pid_text: str) -> bool:
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
