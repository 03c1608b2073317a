"""Run model-written Python programs in a locked-down Docker container with a warm runner.

What is and is not a security boundary (``docs/sandbox.md`` has the whole threat model):

* The boundary is the container: Linux namespaces, cgroups and Docker's default seccomp
  profile, configured by the engine. The program runs as a non-root uid (65534 by default,
  no /etc/passwd entry needed) with no capabilities and ``no-new-privileges``; the image is
  read-only and the only writable places are size-limited tmpfs (workdir, /tmp, /dev/shm).
  Memory (swap included), CPU, process count, wall-clock time, CPU time and output are
  limited. Nothing of the host is visible but the runner's code and socket folders (and the
  CA bundle when the program has network).
* No network by default: the program's container has ``network_mode=none``. Packages are
  installed by a separate, short-lived installer container with network (see
  :mod:`aiev_agents.sandbox.installer`); pip runs package build code there, never the
  program.
* Not defended against: kernel or engine escapes (no user-namespace remapping, no gVisor),
  CPU side channels, and a program forging its test counts (they come from the harness in
  the program's own process: evidence that tests ran, not proof against a hostile program).
* Runs share a container: before each run every process of the program uid is killed and
  the workdir, /tmp and /dev/shm are emptied (unless the run keeps files, as AG2's executor
  contract needs); installed packages stay until :meth:`reset`.
"""

from __future__ import annotations

import atexit
import logging
import math
import secrets
import signal
import threading
from collections.abc import Callable
from typing import Any, Literal

from aiev_agents.dialogue.transcript import ExecutionResult, ExecutionStatus
from aiev_agents.sandbox.container import (
    CA_BUNDLE_PATH,
    LABEL_HOST,
    LABEL_PID,
    LABEL_SANDBOX,
    SandboxContainer,
    remove_sandbox,
    start_sandbox,
    sweep_orphans,
)
from aiev_agents.sandbox.guest.harness import split_counts
from aiev_agents.sandbox.guest.wire import unb64
from aiev_agents.sandbox.image import connect, ensure_image
from aiev_agents.sandbox.installer import InstallOutcome, check_requirements, generation_dir, install
from aiev_agents.sandbox.languages import canonical_language, prepare_run
from aiev_agents.sandbox.runner_client import RunnerGone
from aiev_agents.sandbox.settings import SandboxSettings

__all__ = [
    "CA_BUNDLE_PATH",
    "LABEL_HOST",
    "LABEL_PID",
    "LABEL_SANDBOX",
    "DockerSandbox",
    "InstallOutcome",
]

logger = logging.getLogger(__name__)

#: How a run's file is run: through the Python harness, or by a shell.
Interpreter = Literal["python", "sh", "bash"]
Evidence = Callable[[str], dict[str, int]]

RUN_GRACE_S = 15.0  # past the time limit: the runner's kills and clean-up, then it counts as gone
CONTROL_TIMEOUT_S = 15.0


class DockerSandbox:
    """One container that runs programs one at a time, through its warm runner.

    Not thread-safe: one user at a time (a :class:`SandboxPool` hands sandboxes out).

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
        self._box: SandboxContainer | None = None
        self._broken = False
        self._generation = 0
        self._installed: set[str] = set()
        self._lock = threading.Lock()

    @property
    def container_name(self) -> str | None:
        """Name of the live container, or None when stopped."""
        return self._box.name if self._box is not None else None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect, sweep orphans, ensure the image, start the container and its runner (idempotent).

        Raises:
            SandboxUnavailable: The engine, the image or the container cannot be used.
        """
        if self._box is not None:
            return
        if self._client is None:
            self._client = connect(self.settings.docker_host)
        sweep_orphans(self._client, self.settings.state_dir)
        ensure_image(self._client, self.settings.image, pull=self.settings.pull)
        self._box = start_sandbox(self._client, self.settings)
        self._broken = False
        atexit.register(self.stop)
        logger.info("Sandbox %s started from %s", self._box.name, self.settings.image)

    def stop(self) -> None:
        """Remove the container, its volume and host folder; safe to call twice."""
        atexit.unregister(self.stop)
        box, self._box = self._box, None
        self._installed.clear()
        if box is not None:
            box.runner.close()
            remove_sandbox(self._client, box.container, box.volume, box.host_dir)
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def restart(self) -> None:
        """Replace the container by a fresh one."""
        self.stop()
        self.start()

    def reset(self) -> None:
        """Make the sandbox as good as new for another user: no leftover process, empty
        scratch folders, no installed package (a new package generation)."""
        self._generation += 1
        self._installed.clear()
        if self._box is None or self._broken:
            return
        try:
            reply = self._box.runner.request({"op": "clean"}, timeout=CONTROL_TIMEOUT_S)
            self._broken = not (reply.get("ok") and reply.get("clean"))
        except RunnerGone:
            self._broken = True

    def __enter__(self) -> DockerSandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- work ----------------------------------------------------------------------------

    def install(self, packages: list[str]) -> InstallOutcome:
        """``pip install`` ``packages`` for the programs of this sandbox, errors visible.

        Args:
            packages: Plain requirements, e.g. ``["numpy==1.26", "requests>=2"]``.

        Returns:
            pip's exit code and output (bounded), and the time it took.

        Raises:
            ValueError: An entry is not a plain requirement.
        """
        packages = list(packages)
        check_requirements(packages)
        self._ensure_started()
        if not packages or self._installed.issuperset(packages):
            return InstallOutcome(0, "Already installed: " + " ".join(packages), 0.0, packages)
        assert self._box is not None
        outcome = install(self._client, self.settings, self._box.volume, self._generation, packages)
        if outcome.ok:
            self._installed.update(packages)
        return outcome

    def run(
        self,
        program: str,
        *,
        timeout_s: float | None = None,
        coverage: bool = False,
        filename: str = "main.py",
        interpreter: Interpreter = "python",
        keep_files: bool = False,
        language: str = "python",
    ) -> ExecutionResult:
        """Run ``program``: by default as ``main.py`` in an emptied working directory.

        Args:
            program: Python source (shell source when ``interpreter`` is a shell).
            timeout_s: Wall-clock limit; ``settings.timeout_s`` if None.
            coverage: Also trace which lines and branches of the solution run (slower);
                the result's ``coverage`` holds them.
            filename: The file in the working directory the program is written to and run
                as (a relative path inside it).
            interpreter: ``python`` (through the harness: tests are counted), ``sh`` or
                ``bash`` (no test counts: a shell run that exits 0 is ``no_tests``).
            keep_files: Keep what earlier runs left in the working directory, /tmp and
                /dev/shm instead of emptying them (leftover processes are killed all the
                same); AG2's executor contract needs this, AIEV programs do not.

        Returns:
            The result; a crash of the container is a ``fail`` result, never an exception.
            The next call then starts a fresh container (and so an empty working directory).

        Raises:
            SandboxUnavailable: Docker or the image cannot be used (a user error, not data).
        """
        limit = timeout_s if timeout_s is not None else self.settings.timeout_s
        nonce = secrets.token_hex(8)
        options: dict[str, Any] = {
            "coverage": coverage,
            "filename": filename,
            "interpreter": interpreter,
            "keep_files": keep_files,
        }
        evidence = None
        if canonical_language(language) != "python":
            prepared = prepare_run(language, program)
            program, evidence = prepared.source, prepared.evidence
            env = {**prepared.env, "AIEV_HARNESS_NONCE": nonce}
            options.update(filename=prepared.filename, interpreter="exec", argv=prepared.argv, env=env)
        with self._lock:
            reply = self._request(program, nonce, limit, options)
        if isinstance(reply, ExecutionResult):
            return reply
        return self._result(reply, nonce, limit, evidence)

    def execute(
        self, program: str, packages: list[str], *, timeout_s: float | None = None, coverage: bool = False
    ) -> ExecutionResult:
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
                return installed.as_install_error(packages)
            install_output = installed.output
        result = self.run(program, timeout_s=timeout_s, coverage=coverage)
        return result.model_copy(update={"packages": packages, "install_output": install_output})

    # -- internals -----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        """Start if needed; replace a broken container, reinstalling its packages."""
        if not self._broken:
            self.start()
            return
        logger.warning("Sandbox %s is broken; starting a fresh one", self.container_name)
        wanted = sorted(self._installed)
        self.restart()
        if wanted:
            outcome = self.install(wanted)
            if not outcome.ok:
                logger.warning("Reinstalling %s failed: %s", wanted, outcome.output[-500:])

    def _run_request(self, program: str, nonce: str, limit: float, options: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        return {
            "op": "run",
            "source": program,
            "nonce": nonce,
            "timeout": limit,
            "output_limit": s.output_limit_bytes,
            "cpu_seconds": math.ceil(limit * s.cpus) + 1 if s.cpu_time_limit else None,
            "site_dir": generation_dir(self._generation) if self._installed else None,
            "coverage": False,
            **options,
        }

    def _request(
        self, program: str, nonce: str, limit: float, options: dict[str, Any] | None = None
    ) -> dict[str, Any] | ExecutionResult:
        """Send a run; a container found dead or unclean before the program started is
        replaced and the run retried once, transparently."""
        for attempt in (1, 2):
            self._ensure_started()
            assert self._box is not None
            request = self._run_request(program, nonce, limit, options or {})
            try:
                reply = self._box.runner.request(request, timeout=limit + RUN_GRACE_S)
            except RunnerGone as exc:
                self._broken = True
                if exc.sent or attempt == 2:
                    return self._crashed(exc)
                logger.warning("Sandbox runner unreachable (%s); replacing the container", exc)
                continue
            if reply.get("ok"):
                self._broken = not reply.get("clean", True)
                return reply
            self._broken = True
            logger.warning("Sandbox runner refused the run: %s", reply.get("error"))
            if attempt == 2:
                return self._crashed(RuntimeError(str(reply.get("error"))))
        raise AssertionError("unreachable")

    def _crashed(self, exc: Exception) -> ExecutionResult:
        logger.warning("Sandbox crashed: %s", exc)
        text = (
            f"The sandbox container crashed or was removed ({exc}); the program may have "
            f"exceeded the memory limit ({self.settings.memory}). A fresh container is used next time."
        )
        return ExecutionResult(status="fail", exit_code=-1, output=text)

    def _result(
        self, reply: dict[str, Any], nonce: str, limit: float, evidence: Evidence | None = None
    ) -> ExecutionResult:
        output = _output(reply)
        _, counts = split_counts(unb64(reply["report"]), nonce)
        counts = counts or {}
        if evidence is not None:  # a test runner's own summary, read from what it printed
            for key, value in evidence(output).items():
                counts[key] = int(counts.get(key, 0)) + value
        exit_code = int(reply["exit_code"])
        status, note = _status(reply, exit_code, counts, limit, self.settings)
        if note:
            output += ("" if not output or output.endswith("\n") else "\n") + note
        return ExecutionResult(
            status=status,
            exit_code=exit_code,
            output=output,
            truncated=bool(reply["truncated"]),
            duration_s=round(float(reply["duration"]), 3),
            assertions=int(counts.get("assertions", 0)),
            test_cases=int(counts.get("test_cases", 0)),
            solution_assertions=int(counts.get("solution_assertions", 0)),
            solution_functions=list(counts.get("solution", [])),
            solution_calls=list(counts.get("called", [])),
            coverage=counts.get("coverage"),
        )


def _output(reply: dict[str, Any]) -> str:
    """The run's output as text: exact, or when cut, its head, a marker line and its tail."""
    head = unb64(reply["output"])
    if not reply["truncated"]:
        return head.decode("utf-8", errors="replace")
    tail = unb64(reply.get("tail"))
    total = reply.get("total_bytes")
    dropped = f"{int(total) - len(head) - len(tail)} bytes" if total is not None else "some bytes"
    of_total = f" of {int(total)}" if total is not None else ""
    marker = (
        f"[output truncated: {dropped} cut here, between the first {len(head)} and the last {len(tail)}"
        f"{of_total} bytes]"
    )
    text = head.decode("utf-8", errors="replace")
    separator = "" if text.endswith("\n") else "\n"
    return f"{text}{separator}{marker}\n{_skip_partial_character(tail).decode('utf-8', errors='replace')}"


def _skip_partial_character(data: bytes) -> bytes:
    """``data`` without the UTF-8 continuation bytes it starts with (a character cut in two)."""
    start = 0
    while start < min(len(data), 3) and 0x80 <= data[start] < 0xC0:
        start += 1
    return data[start:]


def _status(
    reply: dict[str, Any], exit_code: int, counts: dict[str, int], limit: float, settings: SandboxSettings
) -> tuple[ExecutionStatus, str]:
    """Status of a finished run, and a note to append to its output (or "")."""
    if reply["timed_out"]:
        return "timeout", f"Timed out after {limit:g} s."
    if exit_code == 128 + signal.SIGXCPU:
        return "timeout", f"Used up its CPU time ({math.ceil(limit * settings.cpus) + 1} s)."
    if exit_code == 128 + signal.SIGKILL:
        return "fail", _killed_note(reply.get("oom_killed"), settings.memory)
    failures = int(counts.get("test_failures", 0))
    if exit_code != 0:
        return "fail", ""
    if failures:
        return "fail", f"{failures} unittest failure(s) or error(s), although the program exited 0."
    if int(counts.get("assertions", 0)) + int(counts.get("test_cases", 0)) > 0:
        return "pass", ""
    return "no_tests", ""


def _killed_note(oom_killed: bool | None, memory: str) -> str:
    if oom_killed:
        return f"Killed by the kernel: out of memory (limit {memory})."
    if oom_killed is None:
        return f"Killed (SIGKILL) before the time limit: probably out of memory (limit {memory})."
    return "Killed (SIGKILL) before the time limit."
