"""Dialogues on Ray workers: seeds go out, finished records stream back to the driver.

Each Ray actor builds its own agents and sandbox from the config (so every node needs a
Docker engine, the sandbox image, and this package installed). The driver alone writes the
store and the manifest, so resume, limits and "no id written twice" hold exactly as with
threads. Optional: ``pip install 'aiev-agents[ray]'``.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

from ..dialogue.transcript import Transcript
from ..errors import AievError, ModelUnavailable
from ..llm.cache import SqliteLLMCache
from .seeds import Seed

logger = logging.getLogger(__name__)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise AievError("--backend ray needs Ray: pip install 'aiev-agents[ray]'") from exc
    return ray


class _DialogueWorker:
    """The body of one Ray actor: a worker's agents and sandbox on some node."""

    def __init__(self, config: Any, cache_path: str | None) -> None:
        from .workers import Agents, ModelGates

        self.config = config
        self.gates = ModelGates(config)
        cache = SqliteLLMCache(cache_path) if cache_path else None
        self.agents = Agents.from_config(config, cache)

    def start(self) -> bool:
        self.agents.start()
        return True

    def run(self, seed: dict[str, Any]) -> tuple[str, Any]:
        """``("ok", record)`` or ``("model_error", message)``: plain data crosses the wire."""
        from .workers import run_one

        try:
            transcript = run_one(Seed.model_validate(seed), self.agents, self.config, model_gate=self.gates)
        except ModelUnavailable as exc:
            return "model_error", str(exc)
        return "ok", transcript.to_dict()

    def close(self) -> bool:
        self.agents.close()
        return True


class RayBackend:
    """Runs dialogues on Ray actors; ``address`` None starts or joins a local Ray instance."""

    def __init__(self, generation: Any, *, address: str | None = None) -> None:
        self.generation = generation
        self.address = address
        self.ray = _import_ray()

    def start(self, count: int, cache: SqliteLLMCache | None) -> list[Any]:
        if not self.ray.is_initialized():
            self.ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        actor_class = self.ray.remote(num_cpus=0)(_DialogueWorker)
        cache_path = str(cache.path) if cache is not None else None
        actors = [actor_class.remote(self.generation.config, cache_path) for _ in range(count)]
        try:
            self.ray.get([actor.start.remote() for actor in actors])
        except self.ray.exceptions.RayTaskError as exc:
            self.close(actors)
            raise _unwrap(exc) from exc
        return actors

    def submit(self, seed: Seed, worker: Any) -> Future[Transcript]:
        result: Future[Transcript] = Future()
        ray_future = worker.run.remote(seed.model_dump(exclude_none=True)).future()

        def deliver(done: Future[Any]) -> None:
            try:
                kind, payload = done.result()
            except Exception as exc:  # a worker crashed: infrastructure, not data
                result.set_exception(_unwrap(exc))
                return
            if kind == "ok":
                result.set_result(Transcript.from_dict(payload))
            else:
                result.set_exception(ModelUnavailable(payload))

        ray_future.add_done_callback(deliver)
        return result

    def close(self, workers: list[Any]) -> None:
        try:
            self.ray.get([actor.close.remote() for actor in workers], timeout=60)
        except Exception as exc:  # best effort: the sweep at the next start removes leftovers
            logger.warning("closing Ray workers failed: %s", exc)
        for actor in workers:
            self.ray.kill(actor)


def _unwrap(exc: BaseException) -> BaseException:
    """The user-facing error inside a Ray task error (an AievError keeps its message)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, AievError) else exc
