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
entry names the same file and load settings; calls into one loaded model are serialized
by a lock, because a llama.cpp context is not thread-safe. The chat template is the one
stored in the GGUF file.

Roles that share one model take turns, so each call's prompt starts where the *other*
role's conversation left the context: llama.cpp keeps only the last sequence and would
evaluate the whole prompt again. With ``prefix_cache_mb`` the model keeps the state after
each call in a RAM cache of that size (llama-cpp-python's ``LlamaRAMCache``) and restores the
longest matching prefix, so a call evaluates only the tokens its role added since its last
call. Each response's ``usage.prompt_tokens_details.cached_tokens`` says how many prompt
tokens were not evaluated.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage, PromptTokensDetails

from aiev_agents import activity
from aiev_agents.errors import ContextExceeded, ModelUnavailable, is_context_overflow
from aiev_agents.llm.clients.llama_batch import BatchedLlama
from aiev_agents.llm.models import KNOWN_MODELS, resolve_model_path

logger = logging.getLogger(__name__)

DEFAULT_N_CTX = 4096
DEFAULT_N_BATCH = 512
DEFAULT_MAX_TOKENS = 1024
#: The context of a ``Llama`` whose model decodes through ``BatchedLlama`` (its tokenizer and weights are used).
UNUSED_N_CTX = 256

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


@dataclass(frozen=True)
class _LoadKey:
    """What makes two loaded models interchangeable."""

    model_path: str
    n_ctx: int
    n_threads: int
    n_batch: int
    n_gpu_layers: int
    prefix_cache_mb: int = 0
    prompt_lookup: int = 0
    parallel: int = 1


@dataclass
class _LoadedModel:
    llama: Any
    lock: threading.Lock
    batched: BatchedLlama | None = None


_LOADED: dict[_LoadKey, _LoadedModel] = {}
_LOADED_LOCK = threading.Lock()


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelUnavailable(
            f"llama-cpp-python is needed for local models but cannot be imported ({exc}); "
            "install it with: pip install 'aiev-agents[local]'"
        ) from exc
    return llama_cpp


def _resolve_model_path(config: Mapping[str, Any]) -> Path:
    """The GGUF file named by ``model_path``, or the fetched file of a known ``model``."""
    raw = config.get("model_path")
    name = config.get("model")
    if not raw:
        if name in KNOWN_MODELS:
            return resolve_model_path(str(name))
        raise ModelUnavailable(
            f"The LlamaCppClient config entry for model {name!r} has no model_path; set it to a "
            "GGUF file, or name a known model and run `aiev models fetch NAME`."
        )
    path = Path(str(raw)).expanduser()
    if not path.is_file():
        hint = f"aiev models fetch {name}" if name in KNOWN_MODELS else "aiev models fetch NAME"
        raise ModelUnavailable(f"Model file {path} not found; run `{hint}` or fix model_path in the config.")
    return path.resolve()


def _load_key(config: Mapping[str, Any]) -> _LoadKey:
    return _LoadKey(
        model_path=str(_resolve_model_path(config)),
        n_ctx=int(config.get("n_ctx") or DEFAULT_N_CTX),
        n_threads=int(config.get("n_threads") or os.cpu_count() or 1),
        n_batch=int(config.get("n_batch") or DEFAULT_N_BATCH),
        n_gpu_layers=int(config.get("n_gpu_layers") or 0),
        prefix_cache_mb=int(config.get("prefix_cache_mb") or 0),
        prompt_lookup=int(config.get("prompt_lookup") or 0),
        parallel=int(config.get("parallel") or 1),
    )


def _load(key: _LoadKey) -> _LoadedModel:
    llama_cpp = _import_llama_cpp()
    logger.info("Loading %s (n_ctx=%d, n_threads=%d)", key.model_path, key.n_ctx, key.n_threads)
    draft = None
    if key.prompt_lookup > 0:
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        draft = LlamaPromptLookupDecoding(num_pred_tokens=key.prompt_lookup)
    try:
        llama = llama_cpp.Llama(
            model_path=key.model_path,
            n_ctx=key.n_ctx if key.parallel <= 1 else UNUSED_N_CTX,  # with slots, BatchedLlama's context is used
            n_threads=key.n_threads,
            n_batch=key.n_batch,
            n_gpu_layers=key.n_gpu_layers,
            draft_model=draft,
            logits_all=draft is not None,  # drafted tokens are checked against every position's logits
            verbose=False,
        )
    except ValueError as exc:
        raise ModelUnavailable(
            f"llama.cpp could not load {key.model_path} ({exc}); the file may be corrupt or "
            "not a GGUF model: fetch it again with `aiev models fetch NAME`."
        ) from exc
    if key.parallel > 1:
        batched = BatchedLlama(
            llama, slots=key.parallel, n_ctx=key.n_ctx, n_batch=key.n_batch, n_threads=key.n_threads,
            label=Path(key.model_path).stem,
        )  # fmt: skip
        return _LoadedModel(llama=llama, lock=threading.Lock(), batched=batched)
    if key.prefix_cache_mb > 0:
        llama.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=key.prefix_cache_mb * 2**20))
    return _LoadedModel(llama=llama, lock=threading.Lock())


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


def _shared_model(key: _LoadKey) -> _LoadedModel:
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            loaded = _LOADED[key] = _load(key)
        return loaded


def get_shared_llama(config: Mapping[str, Any]) -> Any:
    """Return the process-wide ``llama_cpp.Llama`` for a config entry, loading it if needed.

    Args:
        config: A config entry as given to :class:`LlamaCppClient`.

    Returns:
        The same ``Llama`` instance that clients built from an equivalent entry use.

    Raises:
        ModelUnavailable: llama-cpp-python is missing, or the model file is missing or unloadable.
    """
    return _shared_model(_load_key(config)).llama


def clear_loaded_models() -> None:
    """Forget (and free) every shared model; clients created before keep theirs alive (a batched
    model's decoding thread stops: its clients cannot generate any more)."""
    with _LOADED_LOCK:
        for loaded in _LOADED.values():
            if loaded.batched is not None:
                loaded.batched.close()
        _LOADED.clear()


def _token_counter() -> Any:
    """A logits processor that leaves the logits as they are and reports each new token."""
    from llama_cpp import LogitsProcessorList

    generated = itertools.count(1)

    def count(input_ids: Any, scores: Any) -> Any:
        activity.tokens(next(generated))
        return scores

    return LogitsProcessorList([count])


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
    n_ctx = int(found.group(2)) if found else n_ctx
    return ContextExceeded(
        f"The prompt for {label} has {tokens}, over its context window (n_ctx={n_ctx}); raise n_ctx in "
        "the model config or lower dialogue.max_rounds / dialogue.feedback_chars."
    )


class LlamaCppClient:
    """AG2 ``ModelClient`` backed by an in-process llama.cpp model.

    Config entry keys: ``model`` (a label; or a known model name, in which case
    ``model_path`` may be omitted once ``aiev models fetch`` has run), ``model_path``,
    ``n_ctx`` (default 4096), ``n_threads`` (default ``os.cpu_count()``), ``n_batch``
    (default 512), ``n_gpu_layers`` (default 0), ``prefix_cache_mb`` (default 0: no prefix
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
        key = _load_key(config)
        self._label = str(config.get("model") or Path(key.model_path).stem)
        self._defaults = {k: config[k] for k in _GENERATION_KEYS if config.get(k) is not None}
        self._defaults.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        self._n_ctx = key.n_ctx
        self._loaded = _shared_model(key)

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
        choices = int(params.get("n") or 1)
        if self._loaded.batched is not None:
            result = self._loaded.batched.chat(messages, generation, n=choices)
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
                if activity.watched():
                    generation["logits_processor"] = _token_counter()
                result = llama.create_chat_completion(messages=messages, **generation)
                evaluated = _evaluated_prompt_tokens(llama)
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
