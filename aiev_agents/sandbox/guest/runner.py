"""The warm runner: one per sandbox container, it forks a fresh child for each program.

Standard library only; runs on Python 3.8 and later. It is copied into the container with
``harness.py``, ``wire.py`` (the frames), ``procs.py`` (killing, cleaning), ``launch.py``
(the child of a run that is not Python) and ``watch.py`` (the program's output and
deadline), which it loads as ``_aiev_*`` modules. Never run it on
a host: it kills every process of the program's uid that it can see.

It starts as the container's main process (under ``docker-init``), as root with only the
SETUID and SETGID capabilities, with one JSON argument (see :class:`Runner`). It listens on
a Unix socket in a host folder bind-mounted into the container, so the host connects to it
directly: no ``docker exec`` per run. Only the client uid named in the config may talk to
it (``SO_PEERCRED``); the program's uid is refused.

Protocol: a frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON. The
client sends a request frame, the runner answers with one frame; requests on a connection
are served in order. Bytes travel base64-encoded.

* ``{"op": "ping"}`` -> ``{"ok": true, "python": "3.11.2", "pid": 7}``
* ``{"op": "clean"}`` -> ``{"ok": true, "clean": true}``: leftover processes of the program
  uid are killed and the scratch folders (workdir, /tmp, /dev/shm) emptied.
* ``{"op": "run", "source": str, "nonce": str, "timeout": float, "output_limit": int,
  "cpu_seconds": int|null, "site_dir": str|null, "coverage": bool, "filename": str,
  "interpreter": "python"|"sh"|"bash"|"exec", "argv": [str], "env": {str: str},
  "keep_files": bool}`` -> ``{"ok": true,
  "exit_code": int, "timed_out": bool, "oom_killed": bool|null, "duration": float,
  "output": b64, "tail": b64, "truncated": bool, "total_bytes": int, "report": b64,
  "clean": bool}``:
  ``output`` is the first ``output_limit`` bytes the program wrote (stdout and stderr
  merged); when it wrote more, ``truncated`` is true and ``tail`` holds the last bytes
  (at most ``TAIL_BYTES`` of ``watch.py``, and never more than ``output_limit``) of what came after
  ``output``; the two never overlap. ``total_bytes`` counts every byte written, so the
  bytes dropped between them are ``total_bytes - len(output) - len(tail)``.
  The last four keys are optional. ``coverage`` (default false): trace the solution's
  lines, see the harness. ``filename`` (default ``main.py``): where in the workdir
  ``source`` is written (created or replaced; a relative path without ``..``, folders
  made as needed). ``interpreter`` (default ``python``): ``python`` runs the file through
  the harness (tests counted); ``sh`` runs it with ``/bin/sh``, ``bash`` with ``bash``
  (``/bin/sh`` where the image has no bash), and the report is empty; ``exec`` runs
  ``argv`` (looked up on ``PATH``, with ``env`` added to the environment) with the report
  pipe left open on fd 3 (and reopenable as ``/dev/fd/3``): the toolchain drivers of other
  languages compile and run the file there and write their counts line to it. ``keep_files``
  (default false): leave the workdir, /tmp and /dev/shm as the last run left them
  instead of emptying them (leftover processes are killed all the same), so that files
  persist from run to run. A file that cannot be written is reported as a run that
  exited 1 with the reason as its output, without starting anything.
* a request that cannot be served -> ``{"ok": false, "error": str}``

A run: clean as above (``keep_files``: kill leftovers only), write ``source`` into the
workdir, fork. The child makes itself a
session and process-group leader, points fds 1 and 2 at one pipe (stdout and stderr merged
in order) and fd 3 at the harness's report pipe, sets its rlimits (no core files, CPU time,
optionally address space and file size), raises its OOM score, drops to the program
uid/gid with no supplementary groups, enters the workdir and runs the program through the
pre-imported harness (which counts asserts and unittest cases), or ``exec``s the shell on
it or ``argv`` (signals Python ignores restored to their defaults; for the shells fd 3
closed): those children make only system calls between fork and exec (``launch.py``).
The parent keeps the first ``output_limit`` bytes and a short tail (where a final traceback
is) and counts the rest, kills the process group at the deadline, then kills every process
of the program uid (escapees of ``setsid`` or a double fork included) and answers. Its own
kills and file clean-ups run with the program uid as *effective* uid, so it needs neither
CAP_KILL nor CAP_DAC_OVERRIDE, while the program (real uid differs) can never signal it.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import socket
import struct
import sys
import time
from types import ModuleType
from typing import Any

DEFAULT_FILENAME = "main.py"
INTERPRETERS = ("python", "sh", "bash", "exec")
HERE = os.path.dirname(os.path.abspath(__file__))


def load_sibling(name: str) -> ModuleType:
    """Import ``<name>.py`` from beside this file as ``_aiev_<name>`` (out of the program's way)."""
    spec = importlib.util.spec_from_file_location("_aiev_" + name, os.path.join(HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


wire = load_sibling("wire")
procs = load_sibling("procs")
testcode = load_sibling("testcode")  # the harness imports it by this name
watch = load_sibling("watch")  # after procs, which it imports by its name
launch = load_sibling("launch")
REPORT_FD = launch.REPORT_FD


class InChild(BaseException):
    """Raised in the forked child to unwind the server's frames before the program runs."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__("in child")
        self.job = job


class Runner:
    """The server. ``config`` keys: socket, socket_mode, client_uid, uid, gid, workdir,
    scratch (folders emptied before each run that does not keep files), address_space and
    file_size (bytes or null), explain_assertions (optional, default true: see the harness)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.uid, self.gid = int(config["uid"]), int(config["gid"])
        self.workdir = config["workdir"]
        self.harness = load_sibling("harness")
        launch.close_on_exec()
        self.devnull = os.open(os.devnull, os.O_RDONLY)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        self.listener = self._listen(config["socket"], int(config["socket_mode"]))
        self.conn = None
        self.dirty = True  # False while the last run's leftovers are known to be dead

    @staticmethod
    def _listen(path: str, mode: int) -> socket.socket:
        procs.quiet(os.unlink, path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, mode)
        listener.listen(8)
        return listener

    def serve(self) -> None:
        """Serve connections, one at a time, forever; a forked child leaves by ``InChild``."""
        while True:
            conn, _ = self.listener.accept()
            self.conn = conn
            if self._peer_allowed(conn):
                self._serve_connection(conn)
            conn.close()
            self.conn = None

    def _peer_allowed(self, conn: socket.socket) -> bool:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid == int(self.config["client_uid"]) and uid != self.uid

    def _serve_connection(self, conn: socket.socket) -> None:
        while True:
            try:
                request = wire.recv_frame(conn)
            except (OSError, ValueError):
                return
            if request is None:
                return
            try:
                reply = self.handle(request)
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop the runner
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            try:
                wire.send_frame(conn, reply)
            except OSError:
                return

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one request (see the module docstring)."""
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "python": platform.python_version(), "pid": os.getpid()}
        if op == "clean":
            self.dirty = True
            return {"ok": True, "clean": self.clean()}
        if op == "run":
            return self.run(request)
        return {"ok": False, "error": f"unknown op {op!r}"}

    def clean(self, keep_files: bool = False) -> bool:
        """Kill leftovers, then (unless ``keep_files``) empty the scratch folders; True when
        no process was left."""
        clean = procs.kill_leftovers(self.uid, self.gid) if self.dirty else True
        self.dirty = not clean
        with procs.AsProgramUser(self.uid, self.gid):
            procs.quiet(os.chmod, self.workdir, 0o755)
        if not keep_files:
            procs.empty_folders(self.config["scratch"], self.uid, self.gid)
        return clean

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one program in a forked child and report what happened."""
        filename = checked_filename(request.get("filename") or DEFAULT_FILENAME)
        interpreter = request.get("interpreter", "python")
        if interpreter not in INTERPRETERS:
            raise ValueError(f"unknown interpreter {interpreter!r}")
        if not self.clean(keep_files=bool(request.get("keep_files"))):
            return {"ok": False, "error": "processes of the previous run cannot be killed"}
        try:
            self._write_program(filename, request["source"])
        except OSError as exc:
            return not_started(f"aiev runner: cannot write {filename}: {exc.strerror or exc}\n")
        out_r, out_w = os.pipe()
        report_r, report_w = os.pipe()
        oom_before = procs.oom_kills()
        plan = None if interpreter == "python" else self._launch(request, filename, out_w, report_w)
        gc.freeze()  # the runner's objects: neither copied on write nor scanned by the child's GC
        started = time.monotonic()
        self.dirty = True
        if plan is not None:
            pid = launch.spawn(plan)
        else:
            pid = os.fork()
            if pid == 0:
                explain = self.config.get("explain_assertions", True)
                raise InChild({"request": dict(request, explain=explain), "out_w": out_w, "report_w": report_w})
        os.close(out_w)
        os.close(report_w)
        capture = watch.Capture(int(request["output_limit"]))
        supervision = watch.Supervision(pid, out_r, capture, wake_r=self.wake_r, uid=self.uid, gid=self.gid)
        timed_out = supervision.wait(started + float(request["timeout"]))
        duration = time.monotonic() - started
        clean = procs.kill_leftovers(self.uid, self.gid, pgid=pid)
        self.dirty = not clean
        supervision.drain()
        report = procs.read_available(report_r)
        os.close(report_r)
        oom_after = procs.oom_kills()
        return {
            "ok": True,
            "exit_code": procs.exit_code_of(supervision.status),
            "timed_out": timed_out,
            "oom_killed": None if None in (oom_before, oom_after) else oom_after > oom_before,
            "duration": round(duration, 6),
            "output": wire.b64(supervision.capture.head),
            "tail": wire.b64(supervision.capture.tail),
            "truncated": supervision.capture.truncated,
            "total_bytes": supervision.capture.total,
            "report": wire.b64(report),
            "clean": clean,
        }

    def _launch(self, request: dict[str, Any], filename: str, out_w: int, report_w: int) -> Any:
        """The child's part of a run that execs (a shell on ``filename``, or ``argv``)."""
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if request.get("site_dir"):
            env["PYTHONPATH"] = request["site_dir"]
        if request["interpreter"] == "exec":
            argv = [str(arg) for arg in request.get("argv") or []] or [""]
            env.update({str(key): str(value) for key, value in (request.get("env") or {}).items()})
            program, report = argv[0], report_w
            procs.quiet(os.fchmod, report_w, 0o622)  # the program uid may reopen it as /dev/fd/3 (the JVM must)
        else:
            program = (shutil.which("bash") if request["interpreter"] == "bash" else None) or "/bin/sh"
            argv, report = [os.path.basename(program), filename], None
        limits = launch.limits_of(
            request.get("cpu_seconds"), self.config.get("address_space"), self.config.get("file_size")
        )
        return launch.Launch(program, argv, env, limits, self.uid, self.gid, self.workdir, self.devnull, out_w, report)

    def _write_program(self, filename: str, source: str) -> None:
        """Write ``source`` to ``filename`` in the workdir, as the program uid (so a link
        planted by an earlier run can lead nowhere the program could not write itself)."""
        path = os.path.join(self.workdir, filename)
        with procs.AsProgramUser(self.uid, self.gid):
            parent = os.path.dirname(path)
            if parent != self.workdir:
                os.makedirs(parent, exist_ok=True)
            # O_NONBLOCK: a FIFO planted under that name fails at once instead of hanging the runner
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
            fd = os.open(path, flags, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(source.encode("utf-8", "surrogateescape"))

    # -- in the child --------------------------------------------------------------------

    def become_program(self, job: dict[str, Any]) -> None:
        """In the forked child: session, fds, limits, uid, workdir, packages (harness next)."""
        request = job["request"]
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.listener.close()
        if self.conn is not None:
            self.conn.close()
        os.setsid()
        self._redirect(job["out_w"], job["report_w"])
        self._limit(request)
        procs.quiet(procs.write_text, "/proc/self/oom_score_adj", "1000")
        os.setgroups([])
        os.setgid(self.gid)
        os.setuid(self.uid)
        os.chdir(self.workdir)
        os.umask(0o022)
        self._packages(request.get("site_dir"))

    @staticmethod
    def _redirect(out_w: int, report_w: int) -> None:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.dup2(report_w, REPORT_FD)
        for name in os.listdir("/proc/self/fd"):
            if int(name) > REPORT_FD:
                procs.quiet(os.close, int(name))

    def _limit(self, request: dict[str, Any]) -> None:
        limits = launch.limits_of(
            request.get("cpu_seconds"), self.config.get("address_space"), self.config.get("file_size")
        )
        for limit, values in limits:
            resource.setrlimit(limit, values)

    @staticmethod
    def _packages(site_dir: str | None) -> None:
        """Put the installed packages on the path as PYTHONPATH would, ``.pth`` files included."""
        if not site_dir:
            os.environ.pop("PYTHONPATH", None)
            return
        import site

        os.environ["PYTHONPATH"] = site_dir
        sys.path.insert(1, site_dir)
        site.addsitedir(site_dir)
        importlib.invalidate_caches()


def checked_filename(filename: str) -> str:
    """``filename`` normalized, if it names a place inside the workdir; else ValueError."""
    if not isinstance(filename, str) or not filename or "\0" in filename or filename.startswith("/"):
        raise ValueError(f"bad filename {filename!r}")
    normal = os.path.normpath(filename)
    if normal in (".", "..") or normal.startswith("../"):
        raise ValueError(f"filename {filename!r} is outside the workdir")
    return normal


def not_started(message: str) -> dict[str, Any]:
    """The answer for a run whose program could not be started: exit 1, ``message`` as output."""
    data = message.encode("utf-8", "replace")
    return {
        "ok": True,
        "exit_code": 1,
        "timed_out": False,
        "oom_killed": False,
        "duration": 0.0,
        "output": wire.b64(data),
        "tail": wire.b64(b""),
        "truncated": False,
        "total_bytes": len(data),
        "report": wire.b64(b""),
        "clean": True,
    }


def main(argv: list[str]) -> tuple[ModuleType | None, dict[str, Any] | None]:
    """Serve forever; in a forked child, become the program and return the harness to run it."""
    runner = Runner(json.loads(argv[0]))
    try:
        runner.serve()
    except InChild as child:
        try:
            runner.become_program(child.job)
        except BaseException as exc:  # noqa: B036 - the program cannot start: say why, exit 125
            os.write(2, f"aiev runner: cannot start the program: {exc!r}\n".encode())
            os._exit(125)
        return runner.harness, child.job["request"]
    return None, None


def run_child(harness: ModuleType, request: dict[str, Any]) -> None:
    """Run the program's file through the harness as ``python main.py`` would, then exit."""
    filename = checked_filename(request.get("filename") or DEFAULT_FILENAME)
    try:
        explain = bool(request.get("explain", True))
        harness.run([filename], request["nonce"], REPORT_FD, bool(request.get("coverage")), explain)
        status = 0
    except SystemExit as exc:
        status = procs.exit_status(exc.code)
    except BaseException:  # noqa: B036 - a failure of the harness itself: show it, exit 1
        sys.excepthook(*sys.exc_info())
        status = 1
    procs.finish(status)


if __name__ == "__main__":
    _harness, _request = main(sys.argv[1:])
    if _harness is not None:  # the forked child
        run_child(_harness, _request)
