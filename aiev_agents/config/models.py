"""Named models: where each runs (its backend and endpoint) and how it samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .strict import StrictModel

Backend = Literal["openai", "openai_compatible", "llama_cpp"]

#: Sampling and request options each backend accepts under a model's ``params``.
OPENAI_PARAMS = frozenset(
    {"top_p", "frequency_penalty", "presence_penalty", "stop", "logit_bias", "logprobs", "top_logprobs",
     "response_format", "reasoning_effort", "extra_body", "extra_headers", "user", "n"}
)  # fmt: skip
LLAMA_CPP_PARAMS = frozenset(
    {"top_p", "top_k", "min_p", "stop", "presence_penalty", "frequency_penalty", "repeat_penalty", "n_batch",
     "n_gpu_layers", "prefix_cache_mb", "prompt_lookup", "parallel", "loop_stop_tokens", "fixed_seed"}
)  # fmt: skip


class ModelSpec(StrictModel):
    """One named model: where it runs and how it samples."""

    backend: Backend = Field("openai", description="openai, openai_compatible (needs base_url) or llama_cpp.")
    model: str = Field(..., min_length=1, description="Model name at the endpoint, or a known local model.")
    api_key: str | None = Field(None, description="API key; read it from the environment with ${VAR}.")
    base_url: str | None = Field(None, description="Endpoint of an OpenAI-compatible server.")
    temperature: float | None = Field(0.2, ge=0, le=2)
    max_tokens: int | None = Field(2048, gt=0)
    seed: int | None = Field(None, description="Sampling seed, where the backend honours one.")
    timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for one reply.")
    max_retries: int = Field(
        4,
        ge=0,
        description="Retries of a call on 429, 5xx, timeouts (exponential backoff, jitter, Retry-After).",
    )
    max_concurrency: int | None = Field(None, gt=0, description="Most calls at once to this model across workers.")
    price: tuple[float, float] | None = Field(
        None,
        description="USD per 1,000 prompt and completion tokens; default: AG2's table for OpenAI, else 0.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="More sampling parameters for the backend (top_p, repeat_penalty, ...)."
    )
    model_path: Path | None = Field(None, description="llama_cpp: path of a GGUF file.")
    n_ctx: int = Field(8192, gt=0, description="llama_cpp: context length in tokens.")
    n_threads: int | None = Field(None, gt=0, description="llama_cpp: CPU threads; default all cores.")

    @field_validator("api_key", "base_url", "model_path", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _params_fit_the_backend(self) -> ModelSpec:
        allowed = LLAMA_CPP_PARAMS if self.backend == "llama_cpp" else OPENAI_PARAMS
        unknown = sorted(set(self.params) - allowed)
        if unknown:
            raise ValueError(
                f"`params` has {', '.join(unknown)}, which backend {self.backend} does not take; allowed: "
                f"{', '.join(sorted(allowed))} (server-specific options go under params.extra_body)"
            )
        return self

    @model_validator(mode="after")
    def _backend_needs(self) -> ModelSpec:
        if self.backend == "openai_compatible" and not self.base_url:
            raise ValueError("backend openai_compatible needs `base_url` (for example http://127.0.0.1:8000/v1)")
        if self.backend == "openai" and not self.api_key and not self.base_url:
            raise ValueError(
                "backend openai needs `api_key` (for example api_key: ${OPENAI_API_KEY:-} with OPENAI_API_KEY "
                "exported), or `base_url` of a server that needs no key"
            )
        return self
