"""An AG2 model client that runs a local GGUF model in-process with llama-cpp-python.

Use it from an ``llm_config`` entry and register the class on each agent::

    llm_config = {
        "config_list": [
            {
                "model": "qwen2.5-coder-0.5b-instruct-q4_k_m",
                "model_client_cls": "LlamaCppClient",
                "model_path": "/path/to/model.gguf",
                "n_ctx": 4096,
                "temperature": 0.2,
                "max_tokens": 512,
            }
        ],
        "cache_seed": None,
    }
    agent = ConversableAgent("programmer", llm_config=llm_config)
    agent.register_model_client(model_client_cls=LlamaCppClient)

Each ``llama_cpp.Llama`` is loaded once per process and shared by every client whose
entry names the same file and load settings (:mod:`.llama_loading`); calls into one loaded
model are serialized by a lock, because a llama.cpp context is not thread-safe, unless the
model has ``parallel`` slots (:mod:`.llama_batch`). The chat template is the one stored in the
GGUF file. Each response's ``usage.prompt_tokens_details.cached_tokens`` says how many prompt
tokens were not evaluated.

A ``seed`` makes a call reproducible, not every call alike: each call samples with a seed
derived from ``seed`` and its prompt (:func:`prompt_seed`), so the same request draws the same
random numbers, and the next round of a dialogue, whose prompt differs, draws others. With one
seed for every call (``fixed_seed: true``, as before), a repair answer at temperature 0.7 often
repeated the program that had just failed, and the questioner its explanation word for word.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage, PromptTokensDetails

from aiev_agents import activity
from aiev_agents.errors import ContextExceeded, is_context_overflow
from aiev_agents.llm.clients.llama_batch import prompt_over_context
from aiev_agents.llm.clients.llama_loading import clear_loaded_models, get_shared_llama, load_key, shared_model
from aiev_agents.llm.clients.loops import LoopStop, loop_detector

__all__ = ["LlamaCppClient", "clear_loaded_models", "get_shared_llama"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 1024

# Request keys passed on to ``Llama.create_chat_completion``; all others are ignored.
_GENERATION_KEYS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "stop",
    "seed",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "repeat_penalty",
)
_FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter", "function_call"}
_ROLES = {"system", "user", "assistant"}
_REQUESTED_TOKENS = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _reset_prompt_counter(llama: Any) -> None:
    """Zero llama.cpp's count of evaluated prompt tokens (its perf counters), where it has one."""
    try:
        import llama_cpp

        llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
    except (AttributeError, ImportError, TypeError):
        pass


def _evaluated_prompt_tokens(llama: Any) -> int | None:
    """Prompt tokens llama.cpp evaluated since :func:`_reset_prompt_counter`; None if unknown."""
    try:
        import llama_cpp

        data = llama_cpp.llama_perf_context(llama._ctx.ctx)
        return int(data.n_p_eval)  # batches of one token count as generation: off by one at most
    except (AttributeError, ImportError, TypeError):
        return None


def _token_counter() -> Any:
    """A logits processor that leaves the logits as they are and reports each new token."""
    generated = itertools.count(1)

    def count(input_ids: Any, scores: Any) -> Any:
        activity.tokens(next(generated))
        return scores

    return count


def prompt_seed(seed: int, messages: list[dict[str, str]]) -> int:
    """The seed of one call: ``seed`` mixed with a checksum of the prompt (31 bits: ``n`` choices add 0..n-1)."""
    prompt = json.dumps(messages, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return (int(seed) + zlib.crc32(prompt)) & 0x7FFFFFFF


def _seeded(generation: Mapping[str, Any], choice: int) -> dict[str, Any]:
    """The settings of choice ``choice`` of ``n``: seed ``seed + choice`` (so the choices differ)."""
    seed = generation.get("seed")
    return {**generation, "seed": seed + choice} if seed is not None and choice else dict(generation)


def _merged(results: list[tuple[dict[str, Any], int | None]]) -> dict[str, Any]:
    """Several one-choice results as one result with their choices (the prompt counted once)."""
    first = results[0][0]
    if len(results) == 1:
        return first
    choices = [{**result["choices"][0], "index": index} for index, (result, _) in enumerate(results)]
    completion = sum((result.get("usage") or {}).get("completion_tokens", 0) for result, _ in results)
    prompt = (first.get("usage") or {}).get("prompt_tokens", 0)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return {**first, "choices": choices, "usage": usage}


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _to_llama_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Reduce AG2/OpenAI messages to the role + text that a GGUF chat template expects."""
    converted = []
    for message in messages:
        role = message.get("role", "user")
        role = role if role in _ROLES else "user"
        converted.append({"role": role, "content": _text(message.get("content"))})
    return converted


def _to_chat_completion(result: Mapping[str, Any], label: str, evaluated: int | None = None) -> ChatCompletion:
    choices = []
    for raw in result["choices"]:
        reason = raw.get("finish_reason")
        message = ChatCompletionMessage(role="assistant", content=raw["message"].get("content") or "")
        choices.append(
            Choice(
                index=raw.get("index", 0),
                finish_reason=reason if reason in _FINISH_REASONS else "stop",
                message=message,
            )
        )
    usage = result.get("usage") or {}
    prompt_tokens = usage.get("prompt_tokens", 0)
    details = None
    if evaluated is not None:
        details = PromptTokensDetails(cached_tokens=max(0, prompt_tokens - evaluated))
    return ChatCompletion(
        id=result["id"],
        created=result["created"],
        model=label,
        object="chat.completion",
        choices=choices,
        usage=CompletionUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=usage.get("completion_tokens", 0),
            total_tokens=usage.get("total_tokens", 0),
            prompt_tokens_details=details,
        ),
        cost=0.0,
    )


def _context_exceeded(exc: ValueError, label: str, n_ctx: int) -> ContextExceeded:
    """The error for llama-cpp-python's "Requested tokens (N) exceed context window of M"."""
    found = _REQUESTED_TOKENS.search(str(exc))
    tokens = f"{found.group(1)} tokens" if found else "more tokens than fit"
    return prompt_over_context(label, tokens, int(found.group(2)) if found else n_ctx)


class LlamaCppClient:
    """AG2 ``ModelClient`` backed by an in-process llama.cpp model.

    Config entry keys: ``model`` (a label; or a known model name, in which case
    ``model_path`` may be omitted once ``aiev models fetch`` has run), ``model_path``,
    ``n_ctx`` (default 4096), ``n_threads`` (default ``os.cpu_count()``), ``n_batch``
    (default 512), ``n_gpu_layers`` (default 0), ``fixed_seed`` (default false: each call's
    seed is derived from ``seed`` and its prompt, :func:`prompt_seed`), ``prefix_cache_mb`` (default 0: no prefix
    cache; see the module's docstring), ``prompt_lookup`` (default 0: off; N drafts up to N
    tokens by prompt lookup, llama-cpp-python's ``LlamaPromptLookupDecoding``: a repaired program
    repeats most of the previous one, which is in the prompt), and the generation defaults
    ``temperature``, ``max_tokens`` (default 1024), ``seed``, ``top_p``, ``top_k``,
    ``min_p``, ``stop``, ``repeat_penalty``, ``presence_penalty``, ``frequency_penalty``.
    Tool and function calling are not supported: ``tools`` in a request are ignored.
    """

    RESPONSE_USAGE_KEYS: list[str] = ["prompt_tokens", "completion_tokens", "total_tokens", "cost", "model"]

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        """Resolve the model file and load (or reuse) the shared ``Llama``.

        Args:
            config: The config entry (AG2 passes the entry naming this class).
            **kwargs: Accepted for AG2 compatibility; unused.

        Raises:
            ModelUnavailable: llama-cpp-python is missing, or the model file is missing
                or cannot be loaded.
        """
        key = load_key(config)
        self._label = str(config.get("model") or Path(key.model_path).stem)
        self._defaults = {k: config[k] for k in _GENERATION_KEYS if config.get(k) is not None}
        self._defaults.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        self._n_ctx = key.n_ctx
        self._fixed_seed = bool(config.get("fixed_seed"))
        self._loops = loop_detector(config)
        self._loaded = shared_model(key)

    @property
    def llama(self) -> Any:
        """The shared ``llama_cpp.Llama`` this client generates with."""
        return self._loaded.llama

    def create(self, params: dict[str, Any]) -> ChatCompletion:
        """Generate one chat completion.

        Args:
            params: AG2 request parameters: ``messages`` plus optional generation keys
                overriding the config entry's defaults.

        Returns:
            An OpenAI-style ``ChatCompletion`` with ``usage`` and ``cost == 0``.

        Raises:
            ContextExceeded: The prompt does not fit in ``n_ctx``.
        """
        if params.get("tools") or params.get("functions"):
            logger.warning("LlamaCppClient ignores tools/functions; the model answers in plain text")
        overrides = {k: params[k] for k in _GENERATION_KEYS if params.get(k) is not None}
        generation = {**self._defaults, **overrides}
        messages = _to_llama_messages(params.get("messages") or [])
        if generation.get("seed") is not None and not self._fixed_seed:
            generation["seed"] = prompt_seed(generation["seed"], messages)
        choices = int(params.get("n") or 1)
        if self._loaded.batched is not None:
            result = self._loaded.batched.chat(messages, generation, n=choices, loops=self._loops)
            return _to_chat_completion(result, self._label, result["usage"]["evaluated_tokens"])
        results = [self._complete(messages, _seeded(generation, choice)) for choice in range(choices)]
        counts = [evaluated for _, evaluated in results]
        evaluated = None if None in counts else sum(count or 0 for count in counts)
        return _to_chat_completion(_merged(results), self._label, evaluated)

    def _complete(self, messages: list[dict[str, str]], generation: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """One call into the shared ``Llama``, in turn with every other caller."""
        llama = self._loaded.llama
        try:
            with self._loaded.lock:
                _reset_prompt_counter(llama)
                processors = [_token_counter()] if activity.watched() else []
                loop_stop = LoopStop(self._loops, llama.token_eos()) if self._loops is not None else None
                if loop_stop is not None:
                    processors.append(loop_stop)
                if processors:
                    from llama_cpp import LogitsProcessorList

                    generation["logits_processor"] = LogitsProcessorList(processors)
                result = llama.create_chat_completion(messages=messages, **generation)
                evaluated = _evaluated_prompt_tokens(llama)
                if loop_stop is not None and loop_stop.fired:
                    result["choices"][0]["finish_reason"] = "length"
                    logger.info("%s: a reply that repeated itself was ended after its loop", self._label)
        except ValueError as exc:
            if not is_context_overflow(exc):
                raise
            raise _context_exceeded(exc, self._label, self._n_ctx) from exc
        return result, evaluated

    def message_retrieval(self, response: ChatCompletion) -> list[str]:
        """Return the text of each choice."""
        return [choice.message.content or "" for choice in response.choices]

    def cost(self, response: ChatCompletion) -> float:
        """Local inference is free: always 0.0."""
        return 0.0

    @staticmethod
    def get_usage(response: ChatCompletion) -> dict[str, Any]:
        """Token usage of ``response`` in AG2's ``RESPONSE_USAGE_KEYS`` shape (cost 0)."""
        usage = response.usage
        return {
            "prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0,
            "total_tokens": usage.total_tokens if usage else 0,
            "cost": 0.0,
            "model": response.model,
        }
