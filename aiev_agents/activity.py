"""What is running right now: which dialogue, round and role, and a local model's live token count.

A dialogue marks each step it takes (a role's model call, a sandbox run) with :func:`step`; a
model client that generates token by token reports its count with :func:`tokens` from inside
that step (the step is a context variable, so each worker thread has its own). Whoever wants to
show progress subscribes with :func:`listen`. Nothing is shown, printed or stored here: with no
listener, every call is a few attribute reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["started", "tokens", "finished"]
StepKind = Literal["model", "run", "checks"]


@dataclass(frozen=True)
class Step:
    """One step of one dialogue: a role's model call, a sandbox run, or the verdict's checks.

    ``role`` is the agent's name (the executor's when code runs); ``round`` is 0 while the
    problem and hidden tests are written."""

    dialogue: str
    round: int
    role: str
    kind: StepKind
    started: float  # time.perf_counter() when the step began


@dataclass(frozen=True)
class ActivityEvent:
    """A step began, generated more tokens, or ended.

    ``tokens`` counts the tokens generated so far (None when the model does not report them
    while it generates); ``generating_s`` is the time since the first of them, so the rate
    leaves out the reading of the prompt."""

    kind: EventKind
    step: Step
    elapsed_s: float
    tokens: int | None = None
    generating_s: float = 0.0

    @property
    def tokens_per_s(self) -> float | None:
        """Generated tokens per second after the first token; None before there is a rate."""
        if not self.tokens or self.tokens < 2 or self.generating_s <= 0:
            return None
        return (self.tokens - 1) / self.generating_s


@dataclass
class _Count:
    tokens: int = 0
    first_at: float | None = None


Listener = Callable[[ActivityEvent], None]

_current: ContextVar[tuple[Step, _Count] | None] = ContextVar("aiev_activity_step", default=None)
_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every event, from the thread that caused it, while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def watched() -> bool:
    """Whether anyone listens (a model client counts tokens only then)."""
    return bool(_listeners)


@contextmanager
def step(dialogue: str, round_no: int, role: str, kind: StepKind = "model") -> Iterator[Step]:
    """Mark a step of a dialogue: ``started`` now, ``finished`` when the block ends (raised or not)."""
    current = Step(dialogue=dialogue, round=round_no, role=role, kind=kind, started=time.perf_counter())
    count = _Count()
    token = _current.set((current, count))
    _emit("started", current, None)
    try:
        yield current
    finally:
        _current.reset(token)
        _emit("finished", current, count if count.first_at is not None else None)


def tokens(generated: int) -> None:
    """Report that the model of the current step has generated ``generated`` tokens so far."""
    current = _current.get()
    if current is None:
        return
    now_step, count = current
    if count.first_at is None:
        count.first_at = time.perf_counter()
    count.tokens = generated
    _emit("tokens", now_step, count)


def _emit(kind: EventKind, current: Step, count: _Count | None) -> None:
    if not _listeners:
        return
    now = time.perf_counter()
    event = ActivityEvent(
        kind=kind,
        step=current,
        elapsed_s=now - current.started,
        tokens=count.tokens if count else None,
        generating_s=now - count.first_at if count and count.first_at is not None else 0.0,
    )
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event)
