"""Local GGUF models loaded once per process and shared by every client that names them.

Clients whose config entries name the same file and load settings share one loaded model.
Roles that share a model take turns, so each call's prompt starts where the *other* role's
conversation left the context: llama.cpp keeps only the last sequence and would evaluate the
whole prompt again. With ``prefix_cache_mb`` the model keeps the state after each call in a
RAM cache of that size (llama-cpp-python's ``LlamaRAMCache``) and restores the longest
matching prefix, so a call evaluates only the tokens its role added since its last call.
With ``parallel: N`` the model decodes through :class:`BatchedLlama` instead: N slots, each
role's conversation kept in its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiev_agents.errors import ModelUnavailable
from aiev_agents.llm.clients.llama_batch import BatchedLlama
from aiev_agents.llm.models import KNOWN_MODELS, resolve_model_path

logger = logging.getLogger(__name__)

DEFAULT_N_CTX = 4096
DEFAULT_N_BATCH = 512
#: The context of a ``Llama`` whose model decodes through ``BatchedLlama`` (its tokenizer and weights are used).
UNUSED_N_CTX = 256


@dataclass(frozen=True)
class LoadKey:
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
class LoadedModel:
    llama: Any
    lock: threading.Lock
    batched: BatchedLlama | None = None


_LOADED: dict[LoadKey, LoadedModel] = {}
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


def load_key(config: Mapping[str, Any]) -> LoadKey:
    return LoadKey(
        model_path=str(_resolve_model_path(config)),
        n_ctx=int(config.get("n_ctx") or DEFAULT_N_CTX),
        n_threads=int(config.get("n_threads") or os.cpu_count() or 1),
        n_batch=int(config.get("n_batch") or DEFAULT_N_BATCH),
        n_gpu_layers=int(config.get("n_gpu_layers") or 0),
        prefix_cache_mb=int(config.get("prefix_cache_mb") or 0),
        prompt_lookup=int(config.get("prompt_lookup") or 0),
        parallel=int(config.get("parallel") or 1),
    )


def _load(key: LoadKey) -> LoadedModel:
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
        return LoadedModel(llama=llama, lock=threading.Lock(), batched=batched)
    if key.prefix_cache_mb > 0:
        llama.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=key.prefix_cache_mb * 2**20))
    return LoadedModel(llama=llama, lock=threading.Lock())


def shared_model(key: LoadKey) -> LoadedModel:
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
    return shared_model(load_key(config)).llama


def clear_loaded_models() -> None:
    """Forget (and free) every shared model; clients created before keep theirs alive (a batched
    model's decoding thread stops: its clients cannot generate any more)."""
    with _LOADED_LOCK:
        for loaded in _LOADED.values():
            if loaded.batched is not None:
                loaded.batched.close()
        _LOADED.clear()
