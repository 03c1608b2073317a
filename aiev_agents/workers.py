"""Workers of a generation run: the agents each one holds, limits shared between them, and
the thread backend that runs dialogues on them."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from .config import AievConfig
from .llm_cache import SqliteLLMCache
from .roles import ExecutorAgent, ProgrammerAgent, QuestionerAgent, resolve_role_class
from .seeds import Seed
from .transcript import Transcript


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


class ThreadBackend:
    """Worker threads in this process, each with its own agents and sandbox."""

    def __init__(self, generation: Any) -> None:
        self.generation = generation
        self.pool: ThreadPoolExecutor | None = None

    def start(self, count: int, cache: SqliteLLMCache | None) -> list[Agents]:
        workers = self.generation.start_workers(count, cache)
        self.pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="aiev-dialogue")
        return workers

    def submit(self, seed: Seed, worker: Agents) -> Future[Transcript]:
        if self.pool is None:
            raise RuntimeError("ThreadBackend.start() must come before submit()")
        return self.pool.submit(self.generation.run_one, seed, worker)

    def close(self, workers: list[Agents]) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if len(workers) <= 1:
            for worker in workers:
                worker.close()
            return
        with ThreadPoolExecutor(max_workers=len(workers)) as closer:  # containers go in parallel, as they came
            list(closer.map(Agents.close, workers))
