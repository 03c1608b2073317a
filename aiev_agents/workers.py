"""Workers of a generation run: the agents each one holds, limits shared between them, and
the thread backend that runs dialogues on them."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from .config import AievConfig
from .llm_cache import SqliteLLMCache
from .roles import ExecutorAgent, ProgrammerAgent, QuestionerAgent
from .seeds import Seed
from .transcript import Transcript


@dataclass
class Agents:
    """The three roles of one worker, and the sandbox they hold."""

    questioner: QuestionerAgent
    programmer: ProgrammerAgent
    executor: ExecutorAgent

    @classmethod
    def from_config(cls, config: AievConfig, cache: Any = None) -> Agents:
        agents = cls(
            questioner=QuestionerAgent.from_config(config),
            programmer=ProgrammerAgent.from_config(config),
            executor=ExecutorAgent.from_config(config),
        )
        if cache is not None:
            agents.questioner.client_cache = cache
            agents.programmer.client_cache = cache
        return agents

    def start(self) -> None:
        """Make the sandbox ready before any model is called (fails fast when Docker is down)."""
        start = getattr(self.executor.code_executor, "start", None)
        if callable(start):
            start()

    def close(self) -> None:
        self.executor.close()


class ModelGates:
    """At most ``max_concurrency`` calls at once per model entry, across all workers."""

    def __init__(self, config: AievConfig) -> None:
        self._by_role: dict[str, threading.Semaphore] = {}
        by_model = {
            name: threading.BoundedSemaphore(spec.max_concurrency)
            for name, spec in config.models.items()
            if spec.max_concurrency is not None
        }
        for role in ("questioner", "programmer"):
            model = getattr(config.roles, role).model
            if model in by_model:
                self._by_role[role] = by_model[model]

    def __call__(self, agent: Any) -> AbstractContextManager[Any]:
        return self._by_role.get(agent.name, nullcontext())


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
        for worker in workers:
            worker.close()
