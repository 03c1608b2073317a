"""The train command of ``stage: auto``: fine-tune the student on a block's train part before the comparison.

``stage_switch.train_command`` is one command line. It is split into arguments as a POSIX
shell would split it (:func:`shlex.split`, so quote an argument that holds spaces) and run
*without* a shell. Then, inside each argument, these placeholders are replaced:

* ``{train}``: absolute path of the block's ``block-NNNN.train.jsonl``;
* ``{test}``: absolute path of its ``block-NNNN.test.jsonl``;
* ``{block}``: the block number (``1``, ``2``, ...);
* ``{out}``: absolute path of the run folder.

The replacement happens after the split, so a substituted path stays one argument whatever
it holds, and nothing in it is interpreted (no globbing, variables or quoting). Other braces
are left as they are. The same values are in the environment as ``AIEV_TRAIN_SPLIT``,
``AIEV_TEST_SPLIT``, ``AIEV_BLOCK`` and ``AIEV_RUN_DIR``, for a wrapper script.

The command runs in the working folder of the process that runs the pipeline, with stdin
closed; stdout and stderr are appended to ``splits/block-NNNN.train.log`` (a header line per
attempt), and the last :data:`OUTPUT_TAIL_CHARS` characters of this attempt's output are kept
in the :class:`TrainRun`. It runs in a process group of its own: a timeout or an abort stops
the whole group (SIGTERM, then SIGKILL after :data:`KILL_GRACE_S`).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..clock import utc_now

if TYPE_CHECKING:
    from .splits import Block

__all__ = ["TrainAborted", "TrainCommand", "TrainRun", "parse_command", "train_argv"]

PLACEHOLDERS = ("train", "test", "block", "out")
OUTPUT_TAIL_CHARS = 4000
KILL_GRACE_S = 10.0
_PLACEHOLDER = re.compile(r"\{(train|test|block|out)\}")


class TrainAborted(Exception):
    """The train command was stopped by :meth:`TrainCommand.abort` (the run is ending)."""


class TrainRun(BaseModel):
    """One attempt of the train command on one block, as ``stage.json`` keeps it."""

    model_config = ConfigDict(extra="forbid")

    block: int
    command: list[str] = Field(description="The arguments run, placeholders replaced.")
    status: Literal["ok", "failed", "timeout", "not_started"]
    exit_code: int | None = Field(None, description="None when it did not start or was stopped.")
    duration_s: float
    started_at: str
    ended_at: str
    log_path: str
    output_tail: str = ""
    error: str | None = Field(None, description="Why the attempt failed, in one line.")

    @property
    def ok(self) -> bool:
        """The command exited 0."""
        return self.status == "ok"


def parse_command(command: str) -> list[str]:
    """The arguments of a train command line (placeholders not yet replaced).

    Raises:
        ValueError: The line does not split (an open quote) or is empty.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"train_command does not split into arguments: {exc}") from exc
    if not argv:
        raise ValueError("train_command is empty; leave it out to train nothing")
    return argv


def train_argv(command: str, block: Block, out_dir: Path) -> list[str]:
    """The arguments to run for ``block``: :func:`parse_command`, then each placeholder replaced."""
    values = _values(block, out_dir)
    return [_PLACEHOLDER.sub(lambda match: values[match.group(1)], arg) for arg in parse_command(command)]


class TrainCommand:
    """Runs the train command for a block; :meth:`abort` stops it from another thread."""

    def __init__(self, command: str, timeout_s: float | None = None) -> None:
        parse_command(command)  # fail early
        self.command = command
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()

    def run(self, block: Block, out_dir: Path) -> TrainRun:
        """Run the command for ``block`` and wait for it (at most ``timeout_s``).

        Returns:
            The attempt: ``ok`` (exit 0), ``failed`` (another exit status or a signal),
            ``timeout`` (stopped after ``timeout_s``) or ``not_started`` (it could not start).

        Raises:
            TrainAborted: :meth:`abort` stopped it.
            KeyboardInterrupt: Interrupted while waiting; the command was stopped first.
        """
        argv = train_argv(self.command, block, out_dir)
        log_path = block.train_path.with_name(f"block-{block.index:04d}.train.log")
        started_at, started = utc_now(), time.perf_counter()
        with log_path.open("ab") as log:
            log.write(f"# {started_at} train command: {shlex.join(argv)}\n".encode())
            log.flush()
            offset = log.tell()
            status, code, error = self._run(argv, log, _environment(block, out_dir))
        duration = round(time.perf_counter() - started, 3)
        tail = _tail(log_path, offset)
        error = error or _failure(status, code, duration, self.timeout_s, tail)
        return TrainRun(
            block=block.index,
            command=argv,
            status=status,
            exit_code=code,
            duration_s=duration,
            started_at=started_at,
            ended_at=utc_now(),
            log_path=str(log_path),
            output_tail=tail,
            error=error,
        )

    def abort(self) -> None:
        """Stop a running command (its process group); :meth:`run` then raises :class:`TrainAborted`."""
        self._aborted.set()
        with self._lock:
            process = self._process
        if process is not None:
            _stop(process)

    def _run(self, argv: list[str], log: IO[bytes], env: dict[str, str]) -> tuple[str, int | None, str | None]:
        if self._aborted.is_set():
            raise TrainAborted("the run is ending")
        try:
            process = subprocess.Popen(  # noqa: S603 - the configured command, run without a shell
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            return "not_started", None, f"the train command cannot start: {reason} ({argv[0]})"
        with self._lock:
            self._process = process
        try:
            code = process.wait(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            _stop(process)
            return "timeout", None, None
        except BaseException:  # KeyboardInterrupt: no training left behind
            _stop(process)
            raise
        finally:
            with self._lock:
                self._process = None
        if self._aborted.is_set():
            raise TrainAborted("the run is ending")
        return ("ok" if code == 0 else "failed"), code, None


def _values(block: Block, out_dir: Path) -> dict[str, str]:
    return {
        "train": str(Path(block.train_path).resolve()),
        "test": str(Path(block.test_path).resolve()),
        "block": str(block.index),
        "out": str(Path(out_dir).resolve()),
    }


def _environment(block: Block, out_dir: Path) -> dict[str, str]:
    values = _values(block, out_dir)
    return {
        **os.environ,
        "AIEV_TRAIN_SPLIT": values["train"],
        "AIEV_TEST_SPLIT": values["test"],
        "AIEV_BLOCK": values["block"],
        "AIEV_RUN_DIR": values["out"],
    }


def _failure(status: str, code: int | None, duration: float, timeout_s: float | None, tail: str) -> str | None:
    if status == "ok":
        return None
    if status == "timeout":
        return f"the train command ran past train_timeout_s ({timeout_s:g} s) and was stopped"
    how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
    last = next((line.strip() for line in reversed(tail.splitlines()) if line.strip()), "")
    return f"the train command {how} after {duration:.1f} s" + (f": {last[:300]}" if last else "")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL after a grace period."""
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(offset, size - OUTPUT_TAIL_CHARS * 4))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return text[-OUTPUT_TAIL_CHARS:]
