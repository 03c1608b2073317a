"""Workers of a generation run: the agents each one holds, limits shared between them, and
the thread backend that runs dialogues on them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config import AievConfig
from ..dialogue.loop import run_dialogue
from ..dialogue.transcript import Transcript
from ..llm.cache import SqliteLLMCache
from ..roles import ExecutorAgent, ProgrammerAgent, QuestionerAgent, resolve_role_class
from .daemon import start_daemon
from .seeds import Seed


@dataclass
class Agents:
    """The roles of one worker (the three of AIEV plus configured extras) and their sandbox."""

    questioner: QuestionerAgent
    programmer: ProgrammerAgent
    executor: ExecutorAgent
    extras: list[Any] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: AievConfig, cache: Any = None) -> Agents:
        """Build every configured role; a ``class:`` entry replaces the shipped class."""
        agents = cls(
            questioner=build_role(config, "questioner"),
            programmer=build_role(config, "programmer"),
            executor=build_role(config, "executor"),
            extras=[build_role(config, name) for name in config.roles.extras()],
        )
        if cache is not None:
            for agent in (agents.questioner, agents.programmer, *agents.extras):
                agent.client_cache = cache
        return agents

    def start(self) -> None:
        """Make the sandbox ready before any model is called (fails fast when Docker is down)."""
        self.executor.start()

    def close(self) -> None:
        self.executor.close()


def build_role(config: AievConfig, name: str) -> Any:
    """The agent of role ``name`` as the config describes it."""
    entry = getattr(config.roles, name)
    role_class = resolve_role_class(name, entry.class_path)
    return role_class.from_config(config, role=name)


def run_one(
    seed: Seed,
    agents: Agents,
    config: AievConfig,
    *,
    model_gate: Callable[[Any], AbstractContextManager[Any]] | None = None,
    on_turn: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
) -> Transcript:
    """One dialogue with a worker's agents, stamped with the config hash: what threads and Ray actors run.

    ``cancel``, once set, abandons it (``DialogueAbandoned``) at its next model call or sandbox run.
    """
    transcript = run_dialogue(
        seed,
        questioner=agents.questioner,
        programmer=agents.programmer,
        executor=agents.executor,
        max_rounds=config.dialogue.max_rounds,
        candidates=config.dialogue.candidates,
        send_back_repeats=config.dialogue.send_back_repeats,
        stage=config.stage,
        on_turn=on_turn,
        model_gate=model_gate,
        extras=agents.extras,
        verdict=config.dialogue.verdict,
        cancel=cancel,
    )
    transcript.config_hash = config.config_hash()
    return transcript


class ModelGates:
    """At most ``max_concurrency`` calls at once per model entry, across all workers."""

    def __init__(self, config: AievConfig) -> None:
        self._by_role: dict[str, threading.Semaphore] = {}
        by_model = {
            name: threading.BoundedSemaphore(spec.max_concurrency)
            for name, spec in config.models.items()
            if spec.max_concurrency is not None
        }
        for role in config.roles.all_llm_roles():
            model = getattr(config.roles, role).model
            if model in by_model:
                self._by_role[role] = by_model[model]

    def __call__(self, agent: Any) -> AbstractContextManager[Any]:
        role = getattr(agent, "aiev_role", agent.name)  # set by from_config: renaming keeps the limit
        return self._by_role.get(role, nullcontext())


class Backend(Protocol):
    """Runs dialogues on workers and hands back futures of transcripts."""

    def start(self, count: int, cache: SqliteLLMCache | None) -> list[Any]: ...

    def submit(self, seed: Seed, worker: Any) -> Future[Transcript]: ...

    def close(self, workers: list[Any]) -> None: ...


#: Most seconds ``ThreadBackend.close`` waits for abandoned dialogues to leave their sandboxes.
ABANDON_GRACE_S = 3.0


class Cancellation:
    """Abandons the dialogues of a backend: once :meth:`set`, each raises ``DialogueAbandoned``
    at its next model call or sandbox run. It also knows which threads sit in a model call:
    those touch no sandbox before their next check, so their containers may go at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._calling: set[int] = set()
        self._lock = threading.Lock()

    def set(self) -> None:
        self.event.set()

    def in_model_call(self, thread_id: int | None) -> bool:
        with self._lock:
            return thread_id in self._calling

    def gate(self, gates: Callable[[Any], AbstractContextManager[Any]]) -> Callable[[Any], AbstractContextManager[Any]]:
        """``gates`` (a dialogue's ``model_gate``) that also marks the calling thread as in a model call."""

        @contextmanager
        def marked(agent: Any) -> Iterator[None]:
            ident = threading.get_ident()
            with self._lock:
                self._calling.add(ident)
            try:
                with gates(agent):
                    yield
            finally:
                with self._lock:
                    self._calling.discard(ident)

        return marked


class ThreadBackend:
    """Worker threads in this process, each with its own agents and sandbox.

    Each dialogue runs on a daemon thread: an interrupted run abandons the dialogues in flight
    (they stop at their next model call or sandbox run) and the process exits without waiting
    for a model's reply that nobody will read.
    """

    def __init__(self, generation: Any) -> None:
        self.generation = generation
        self.cancel = Cancellation()
        self.threads: dict[Future[Transcript], threading.Thread] = {}
        self.started = False

    def start(self, count: int, cache: SqliteLLMCache | None) -> list[Agents]:
        workers = self.generation.start_workers(count, cache)
        self.cancel, self.started = Cancellation(), True
        return workers

    def submit(self, seed: Seed, worker: Agents) -> Future[Transcript]:
        if not self.started:
            raise RuntimeError("ThreadBackend.start() must come before submit()")
        cancel = self.cancel  # this dialogue's, even once a restart replaces it
        self.threads = {f: t for f, t in self.threads.items() if not f.done()}
        future, thread = start_daemon(
            lambda: self.generation.run_one(seed, worker, cancel=cancel), name=f"aiev-dialogue-{seed.id}"
        )
        self.threads[future] = thread
        return future

    def close(self, workers: list[Agents]) -> None:
        """Abandon the dialogues still running, then remove every worker's container."""
        self.cancel.set()
        self._wait_for_sandboxes_to_be_left()
        self.started = False
        if len(workers) <= 1:
            for worker in workers:
                worker.close()
            return
        with ThreadPoolExecutor(max_workers=len(workers)) as closer:  # containers go in parallel, as they came
            list(closer.map(Agents.close, workers))

    def _wait_for_sandboxes_to_be_left(self) -> None:
        """Up to ``ABANDON_GRACE_S``: until every abandoned dialogue has ended or waits on a model
        (a run in progress finishes first, so its container is not restarted under it)."""
        deadline = time.monotonic() + ABANDON_GRACE_S
        busy = [thread for future, thread in self.threads.items() if not future.done()]
        while busy and time.monotonic() < deadline:
            busy = [thread for thread in busy if thread.is_alive() and not self.cancel.in_model_call(thread.ident)]
            if busy:
                time.sleep(0.05)
        self.threads.clear()
