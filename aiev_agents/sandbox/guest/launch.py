"""From fork to exec for the runs that are not Python: the toolchain drivers and the shells.

Standard library only; runs on Python 3.8 and later. The warm runner loads it beside itself
as ``_aiev_launch``.

A forked child of the runner pays for every page it touches (copy on write), so the child of
an ``exec``, ``sh`` or ``bash`` run does nothing but system calls: everything that can be
decided before the fork (the argument vector, the environment, the limits, the descriptors)
is decided by the parent in a :class:`Launch`, and the child goes straight from ``fork`` to
``execve`` without unwinding the server's frames or closing descriptors by hand (every
descriptor the runner opens is close-on-exec, as Python makes them; inherited ones are
marked so at start-up by :func:`close_on_exec`). Python runs take the harness's path in
``runner.py`` instead: they need the pre-imported harness, so they cannot exec.

The containment is the same on both paths: a session of its own, stdout and stderr on the
output pipe, the report pipe on fd 3 (closed for the shells), no core files, the CPU,
address-space and file-size limits, the highest OOM score, the program uid and gid with no
supplementary groups, the workdir, umask 022, and SIGPIPE and SIGXFSZ back to their defaults.
"""

from __future__ import annotations

import os
import resource
import signal
from dataclasses import dataclass

REPORT_FD = 3
#: Exit statuses: the child could not become the program (as the harness's path reports it);
#: the program could not be started (as a shell reports a missing command).
CANNOT_PREPARE, CANNOT_START = 125, 127


@dataclass(frozen=True)
class Launch:
    """Everything the child does, decided in the parent."""

    program: str  # looked up on the environment's PATH unless it holds a slash
    argv: list[str]
    env: dict[str, str]
    limits: list[tuple[int, tuple[int, int]]]
    uid: int
    gid: int
    workdir: str
    devnull: int
    out_w: int
    report_w: int | None  # None: fd 3 stays closed (the shells get no report pipe)


def limits_of(
    cpu_seconds: int | None, address_space: int | None, file_size: int | None
) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits of a run, as ``(resource, (soft, hard))`` pairs: no core files, and each
    limit that is set."""
    limits = [(resource.RLIMIT_CORE, (0, 0))]
    if cpu_seconds:
        limits.append((resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 1)))
    for limit, value in ((resource.RLIMIT_AS, address_space), (resource.RLIMIT_FSIZE, file_size)):
        if value:
            limits.append((limit, (int(value), int(value))))
    return limits


def close_on_exec() -> None:
    """Mark every descriptor above stderr close-on-exec: what the runner inherited at start-up
    must not reach a program (those it opens itself already are)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass


def spawn(launch: Launch) -> int:
    """Fork a child that becomes the program; return its pid (the child never returns)."""
    pid = os.fork()
    if pid == 0:
        try:
            _become(launch)
        except BaseException as exc:  # noqa: B036 - say why (on the output pipe), never return
            os.write(2, f"aiev runner: cannot start the program: {exc!r}\n".encode("utf-8", "replace"))
            os._exit(CANNOT_PREPARE)
        try:
            os.execvpe(launch.program, launch.argv, launch.env)
        except BaseException as exc:  # noqa: B036
            reason = getattr(exc, "strerror", None) or exc
            os.write(2, f"aiev runner: cannot start {launch.program}: {reason}\n".encode("utf-8", "replace"))
        os._exit(CANNOT_START)
    return pid


def _become(launch: Launch) -> None:
    """In the child: session, descriptors, limits, uid, workdir (system calls only; exec next)."""
    os.setsid()
    os.dup2(launch.devnull, 0)
    os.dup2(launch.out_w, 1)
    os.dup2(launch.out_w, 2)
    if launch.report_w is None:
        try:
            os.close(REPORT_FD)
        except OSError:
            pass
    else:
        os.dup2(launch.report_w, REPORT_FD)
        os.set_inheritable(REPORT_FD, True)  # a dup2 onto itself would leave it close-on-exec
    for limit, values in launch.limits:
        resource.setrlimit(limit, values)
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(fd, b"1000")
        os.close(fd)
    except OSError:
        pass
    os.setgroups([])
    os.setgid(launch.gid)
    os.setuid(launch.uid)
    os.chdir(launch.workdir)
    os.umask(0o022)
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_DFL)
