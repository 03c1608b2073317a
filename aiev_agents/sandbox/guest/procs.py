"""Process and file chores of the warm runner, inside the container.

Standard library only; runs on Python 3.8 and later (it is copied into the container).
Never call the killing helpers on a host: they kill every process of a uid.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import stat
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

KILL_PATIENCE_S = 5.0
OOM_FILES = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")


class AsProgramUser:
    """Effective uid/gid of the program for a moment: kill its processes, touch its files."""

    def __init__(self, uid: int, gid: int) -> None:
        self.uid, self.gid = uid, gid

    def __enter__(self) -> None:
        os.setegid(self.gid)
        os.seteuid(self.uid)

    def __exit__(self, *exc_info: object) -> None:
        os.seteuid(0)
        os.setegid(0)


def quiet(function: Callable[..., Any], *args: Any) -> None:
    """Call ``function``; ignore an ``OSError``."""
    try:
        function(*args)
    except OSError:
        pass


def _status_of(pid_text: str) -> tuple[str, set[int]] | None:
    """(state letter, set of uids) of a process, or None if it is gone."""
    try:
        with open("/proc/" + pid_text + "/status") as handle:
            text = handle.read()
    except OSError:
        return None
    state, uids = "?", set()
    for line in text.splitlines():
        if line.startswith("State:"):
            state = line.split()[1]
        elif line.startswith("Uid:"):
            uids = {int(field) for field in line.split()[1:4]}
    return state, uids


def processes_of(uid: int) -> list[int]:
    """Pids of the live (not zombie) processes with ``uid`` as real, effective or saved uid."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            status = _status_of(name)
            if status is not None and status[0] != "Z" and uid in status[1]:
                found.append(int(name))
    return found


def reap() -> None:
    """Collect every finished child (orphans come to us when we are PID 1)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_leftovers(uid: int, gid: int, pgid: int | None = None, patience: float = KILL_PATIENCE_S) -> bool:
    """Kill process group ``pgid`` and every process of ``uid``; True once none is left.

    Processes that fork while being killed are caught by the next pass; after ``patience``
    seconds the answer is False (the caller then gives up the container).
    """
    deadline = time.monotonic() + patience
    if pgid is not None:
        with AsProgramUser(uid, gid):
            quiet(os.killpg, pgid, signal.SIGKILL)
    while True:
        pids = processes_of(uid)
        reap()
        if not pids:
            return True
        if time.monotonic() > deadline:
            return False
        with AsProgramUser(uid, gid):
            for pid in pids:
                quiet(os.kill, pid, signal.SIGKILL)
        time.sleep(0.001)


def empty_folders(folders: Iterable[str], uid: int, gid: int) -> None:
    """Remove what ``uid`` may remove in each folder of ``folders`` (as that uid)."""
    with AsProgramUser(uid, gid):
        for folder in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                remove_tree(os.path.join(folder, name))


def remove_tree(path: str) -> None:
    """Remove ``path`` (iteratively; no recursion limit), fixing modes the owner may fix."""
    stack = [(path, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            quiet(os.rmdir, current)
            continue
        try:
            is_dir = stat.S_ISDIR(os.lstat(current).st_mode)
        except OSError:
            continue
        if not is_dir:
            quiet(os.unlink, current)
            continue
        quiet(os.chmod, current, 0o700)
        stack.append((current, True))
        try:
            stack.extend((os.path.join(current, name), False) for name in os.listdir(current))
        except OSError:
            pass


def oom_kills() -> int | None:
    """The container's cgroup OOM-kill counter (cgroup v1 or v2), or None if unreadable."""
    for path in OOM_FILES:
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    return None


def exit_code_of(status: int) -> int:
    """Exit code as a shell reports it: 128 + signal number for a killed process."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def read_available(fd: int) -> bytes:
    """Everything readable from ``fd`` now, without blocking."""
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path``."""
    with open(path, "w") as handle:
        handle.write(text)


def exit_status(code: object) -> int:
    """The exit status of ``SystemExit(code)``, printing a non-integer code as Python does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    _say(str(code) + "\n")
    return 1


def _say(text: str) -> None:
    """Write to the program's ``sys.stderr``, whatever it did to it."""
    try:
        sys.stderr.write(text)
    except Exception:  # noqa: BLE001 - closed, replaced or None: as Python, say nothing
        pass


def finish(status: int) -> None:
    """Leave the child as the interpreter would, minus tearing down the runner's modules
    (which takes longer than the fork itself): join non-daemon threads, run atexit
    callbacks (the harness's counts among them), finalize the program's globals, flush."""
    shutdown = getattr(sys.modules.get("threading"), "_shutdown", None)
    for step in (shutdown, atexit._run_exitfuncs, gc.collect, _clear_main, gc.collect):
        try:
            if step is not None:
                step()
        except BaseException as exc:  # noqa: B036 - as at interpreter exit: report, go on
            _say(f"Exception ignored at exit: {exc!r}\n")
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream
            pass
    os._exit(status)


def _clear_main() -> None:
    """Drop the program's globals, names with ``_`` first, as module teardown does."""
    namespace = sys.modules["__main__"].__dict__
    for first in (True, False):
        for name in [n for n in namespace if n.startswith("_") == first and n != "__builtins__"]:
            namespace[name] = None
