"""A call on a daemon thread, its outcome handed back through a future.

A daemon thread, not an executor's: an interrupted run must not wait at exit for a dialogue
or a training that nobody will read; the process exits and the thread goes with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


def start_daemon(function: Callable[..., T], *args: Any, name: str) -> tuple[Future[T], threading.Thread]:
    """Start ``function(*args)`` on a daemon thread named ``name``; its future (result or exception) and the thread."""
    future: Future[T] = Future()
    future.set_running_or_notify_cancel()

    def target() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            future.set_exception(exc)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return future, thread
