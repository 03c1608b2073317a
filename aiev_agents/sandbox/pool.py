"""A pool of warm sandboxes, started in parallel and handed out one user at a time.

Example:
    >>> with SandboxPool(SandboxSettings(image="aiev-sandbox:latest"), size=4) as pool:  # doctest: +SKIP
    ...     with pool.session() as box:
    ...         box.run("assert True").status
    'pass'
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from aiev_agents.sandbox.docker_sandbox import DockerSandbox
from aiev_agents.sandbox.settings import SandboxSettings

logger = logging.getLogger(__name__)


class SandboxPool:
    """``size`` sandboxes with the same settings; :meth:`acquire` hands one out, :meth:`release`
    cleans it (leftover processes killed, scratch folders emptied, packages dropped) and
    takes it back. Sandboxes are removed by :meth:`close`, at interpreter exit, or by the
    next start's sweep if this process dies."""

    def __init__(self, settings: SandboxSettings | None = None, size: int = 2) -> None:
        """Remember the settings; nothing starts until :meth:`start` or the first :meth:`acquire`.

        Raises:
            ValueError: ``size`` is below 1.
        """
        if size < 1:
            raise ValueError(f"a pool needs at least one sandbox, not {size}")
        self.settings = settings or SandboxSettings()
        self.size = size
        self._sandboxes: list[DockerSandbox] = []
        self._idle: queue.Queue[DockerSandbox] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def idle(self) -> int:
        """How many sandboxes are waiting to be acquired."""
        return self._idle.qsize()

    def start(self) -> None:
        """Start all sandboxes in parallel threads (idempotent).

        Raises:
            SandboxUnavailable: One could not start; those that did are removed again.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            if self._sandboxes:
                return
            sandboxes = [DockerSandbox(self.settings) for _ in range(self.size)]
            failure = _in_parallel([box.start for box in sandboxes])
            if failure is not None:
                _in_parallel([box.stop for box in sandboxes])
                raise failure
            self._sandboxes = sandboxes
            for box in sandboxes:
                self._idle.put(box)
            atexit.register(self.close)
        logger.info("Sandbox pool of %d started", self.size)

    def acquire(self, timeout: float | None = None) -> DockerSandbox:
        """A started sandbox for the caller alone, until it gives it back with :meth:`release`.

        Raises:
            TimeoutError: None was free within ``timeout`` seconds.
            SandboxUnavailable: The pool could not start.
        """
        self.start()
        try:
            return self._idle.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no sandbox of the pool was free within {timeout:g} s") from None

    def release(self, sandbox: DockerSandbox) -> None:
        """Clean ``sandbox`` for its next user and put it back (a broken one is replaced on next use).

        Raises:
            ValueError: ``sandbox`` is not from this pool.
        """
        if not any(sandbox is box for box in self._sandboxes):
            raise ValueError("this sandbox does not belong to the pool")
        if self._closed:
            sandbox.stop()
            return
        sandbox.reset()
        self._idle.put(sandbox)

    @contextmanager
    def session(self, timeout: float | None = None) -> Iterator[DockerSandbox]:
        """``acquire`` on entry, ``release`` on exit."""
        sandbox = self.acquire(timeout)
        try:
            yield sandbox
        finally:
            self.release(sandbox)

    def close(self) -> None:
        """Remove every sandbox (in parallel); safe to call twice."""
        atexit.unregister(self.close)
        with self._lock:
            self._closed = True
            sandboxes = list(self._sandboxes)
        _in_parallel([box.stop for box in sandboxes])

    def __enter__(self) -> SandboxPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _in_parallel(calls: list[Callable[[], None]]) -> BaseException | None:
    """Run ``calls`` in threads; return the first exception raised, if any."""
    if not calls:
        return None
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="aiev-sandbox") as workers:
        futures = [workers.submit(call) for call in calls]
    errors = [future.exception() for future in futures]
    return next((error for error in errors if error is not None), None)
