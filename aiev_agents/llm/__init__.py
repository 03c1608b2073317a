"""Model specs from the config turned into AG2 ``llm_config`` dictionaries.

AG2 is touched here only through plain dictionaries; the llama.cpp backend needs its
client class registered on each agent after the agent is built (AG2's custom client API).
"""

from __future__ import annotations

from typing import Any

from ..config import ModelSpec
from ..errors import ModelUnavailable

LLAMA_CPP_CLIENT = "LlamaCppClient"


def llm_config_for(spec: ModelSpec) -> dict[str, Any]:
    """The AG2 ``llm_config`` of one model.

    AG2's own disk cache is switched off (``cache_seed: None``): a dialogue must reach the
    model each time unless our own cache says otherwise.
    """
    entry: dict[str, Any] = {"model": spec.model}
    if spec.backend == "llama_cpp":
        entry.update(_llama_cpp_entry(spec))
    else:
        entry.update(
            api_type="openai",
            api_key=spec.api_key or "not-needed",
            timeout=spec.timeout_s,
            max_retries=spec.max_retries,
        )
        if spec.base_url:
            entry["base_url"] = spec.base_url
        price = spec.price if spec.price is not None else _default_price(spec)
        if price is not None:
            entry["price"] = list(price)
    if spec.temperature is not None:
        entry["temperature"] = spec.temperature
    if spec.max_tokens is not None:
        entry["max_tokens"] = spec.max_tokens
    if spec.seed is not None and spec.backend != "llama_cpp":
        entry["seed"] = spec.seed
    entry.update(spec.params)
    return {"config_list": [entry], "cache_seed": None}


def _default_price(spec: ModelSpec) -> tuple[float, float] | None:
    """AG2's price table for OpenAI's own models; 0 for the rest (self-hosted, unknown names).

    Giving AG2 an explicit 0 also keeps it from printing a warning on every call.
    """
    from autogen.oai.openai_utils import OAI_PRICE1K

    if spec.backend == "openai" and spec.model in OAI_PRICE1K:
        return None
    return (0.0, 0.0)


def _llama_cpp_entry(spec: ModelSpec) -> dict[str, Any]:
    from .models import resolve_model_path

    path = spec.model_path if spec.model_path is not None else resolve_model_path(spec.model)
    return {
        "model_client_cls": LLAMA_CPP_CLIENT,
        "model_path": str(path),
        "n_ctx": spec.n_ctx,
        "n_threads": spec.n_threads,
        "seed": spec.seed,
    }


def register_backend(agent: Any, spec: ModelSpec) -> None:
    """Attach the client class a custom backend needs to ``agent`` (a ConversableAgent)."""
    if spec.backend != "llama_cpp":
        return
    try:
        from .clients.llama_cpp import LlamaCppClient
    except ImportError as exc:  # pragma: no cover - the module itself has no hard deps
        raise ModelUnavailable(f"the llama_cpp backend cannot be loaded: {exc}") from exc
    agent.register_model_client(model_client_cls=LlamaCppClient)
