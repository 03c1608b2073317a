"""Candidates from a model of the config: AutoCoder's prompt, one call per sample, sanitized reply.

The one module of :mod:`aiev_agents.evaluate` that talks to a model. It uses AG2 at its
seam, ``autogen.OpenAIWrapper`` with the ``llm_config`` of the named model entry (so every
backend of the config works, llama.cpp included), imported when a source is built.

Sampling: greedy (temperature 0) for one sample per task; with more samples, the model
entry's temperature; ``temperature`` overrides both. With a ``seed`` in the entry, sample
``i`` asks for ``seed + i``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, cast

from ..config import AievConfig, ModelSpec
from ..data.benchmarks import BenchmarkTask
from ..errors import ConfigError, ModelUnavailable
from ..llm.ask import ask_client
from .candidates import Candidate, code_for
from .prompts import build_messages

logger = logging.getLogger(__name__)

MAX_CONSECUTIVE_ERRORS = 5


class ModelCandidates:
    """Asks the model ``name`` of ``config`` for ``samples`` replies per task."""

    def __init__(
        self,
        config: AievConfig,
        name: str,
        *,
        samples: int = 1,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        """Check the model name; no model is contacted until the first sample.

        Raises:
            ConfigError: ``name`` is not under ``models`` of the config.
        """
        if name not in config.models:
            known = ", ".join(sorted(config.models))
            raise ConfigError(f"--model {name!r} is not under `models` of the config; known: {known}")
        self.spec: ModelSpec = config.models[name]
        self.name = name
        self.samples = samples
        self.temperature = _temperature(self.spec, samples, temperature)
        self.max_tokens = max_tokens if max_tokens is not None else self.spec.max_tokens
        self._local = threading.local()
        self._lock = threading.Lock()
        self._consecutive_errors = 0

    def plan(self, tasks: Sequence[BenchmarkTask]) -> list[tuple[BenchmarkTask, int]]:
        """``samples`` samples of every task."""
        return [(task, index) for task in tasks for index in range(self.samples)]

    def candidate(self, task: BenchmarkTask, sample: int) -> Candidate:
        """Ask the model once; a failed call is a candidate with ``error`` set.

        Raises:
            ModelUnavailable: Several calls in a row failed: the model is down, not flaky.
        """
        try:
            text = self.reply(task, sample)
        except ModelUnavailable as exc:
            with self._lock:
                self._consecutive_errors += 1
                if self._consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                    raise
            return Candidate(code="", error=str(exc))
        with self._lock:
            self._consecutive_errors = 0
        return Candidate(code=code_for(task, text), raw=text)

    def reply(self, task: BenchmarkTask, sample: int) -> str:
        """The model's reply to the task's prompt.

        Raises:
            ModelUnavailable: The call failed after the entry's retries.
        """
        params: dict[str, Any] = {"messages": build_messages(task), "temperature": self.temperature}
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.spec.seed is not None:
            params["seed"] = self.spec.seed + sample

        def describe(exc: Exception) -> str:
            return f"model {self.name!r} ({self.spec.model}) failed on {task.task_id}: {exc}"

        return ask_client(self._client(), describe, **params)

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = _wrapper(self.spec)
        return client


def _temperature(spec: ModelSpec, samples: int, override: float | None) -> float:
    if override is not None:
        return override
    if samples == 1:
        return 0.0
    return spec.temperature if spec.temperature is not None else 0.8


def _wrapper(spec: ModelSpec) -> Any:
    """An ``OpenAIWrapper`` for ``spec``, with the llama.cpp client registered where needed."""
    from autogen import OpenAIWrapper

    from ..llm import llm_config_for

    config = llm_config_for(spec)
    client = OpenAIWrapper(config_list=config["config_list"], cache_seed=None)
    if spec.backend == "llama_cpp":
        from ..llm.clients.llama_cpp import LlamaCppClient

        client.register_model_client(model_client_cls=cast(Any, LlamaCppClient))  # AG2's protocol is too narrow
    return client
