"""The runner's watch over one forked program: its output, its exit, its deadline.

Standard library only; runs on Python 3.8 and later. The warm runner loads it beside
itself as ``_aiev_watch``, after ``procs.py`` (as ``_aiev_procs``), which it uses to kill.

The program's stdout and stderr arrive merged on one pipe. :class:`Capture` keeps the first
``output_limit`` bytes, a short tail of what came after (where a final traceback is) and a
count of the rest; :class:`Supervision` reads that pipe until the program exits, kills its
process group at the deadline, and drains what is left once every writer is dead.
"""

from __future__ import annotations

import os
import select
import signal
import time

import _aiev_procs as procs  # loaded by the runner before this module

TAIL_BYTES = 4096
DRAIN_PATIENCE_S = 2.0


class Capture:
    """The first ``limit`` bytes of output, the last few of what came after, and the total."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tail_limit = min(TAIL_BYTES, limit)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.truncated = False

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.truncated = True
            self.tail += data[-self.tail_limit :]
            del self.tail[: -self.tail_limit]


class Supervision:
    """Watch one child: collect its output until it exits or the deadline passes, then drain.

    ``wake_r`` is the runner's signal wake-up pipe (a SIGCHLD ends a wait early); ``uid`` and
    ``gid`` are the program's, under which the deadline's kills are sent.
    """

    def __init__(self, pid: int, out_r: int, capture: Capture, *, wake_r: int, uid: int, gid: int) -> None:
        self.pid, self.out_r, self.capture = pid, out_r, capture
        self.uid, self.gid = uid, gid
        self.status = None
        self.open = True
        self.poller = select.poll()
        self.poller.register(out_r, select.POLLIN)
        self.poller.register(wake_r, select.POLLIN)

    def wait(self, deadline: float) -> bool:
        """Collect output until the child exits; at the deadline kill it and return True."""
        while self.status is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill_at_deadline()
                return True
            self._poll(remaining)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return False

    def drain(self) -> None:
        """Read what is left of the output (all its writers are dead by now), then close it."""
        deadline = time.monotonic() + DRAIN_PATIENCE_S
        while self.open and time.monotonic() < deadline:
            self._poll(deadline - time.monotonic())
        os.close(self.out_r)

    def _poll(self, seconds: float) -> None:
        for fd, _ in self.poller.poll(max(1, int(seconds * 1000) + 1)):
            if fd != self.out_r:
                procs.read_available(fd)
                continue
            data = os.read(self.out_r, 1 << 16)
            if data:
                self.capture.add(data)
            else:
                self.open = False
                self.poller.unregister(self.out_r)

    def _kill_at_deadline(self) -> None:
        with procs.AsProgramUser(self.uid, self.gid):
            procs.quiet(os.killpg, self.pid, signal.SIGKILL)
            procs.quiet(os.kill, self.pid, signal.SIGKILL)
        self.status = os.waitpid(self.pid, 0)[1]
