"""Known local models: the catalog and a verified, cached fetcher."""

from aiev_agents.llm.models.catalog import KNOWN_MODELS, KnownModel, get_known_model
from aiev_agents.llm.models.fetch import (
    cached_model_path,
    default_cache_dir,
    fetch_model,
    resolve_model_path,
    verify_model_file,
)

__all__ = [
    "KNOWN_MODELS",
    "KnownModel",
    "cached_model_path",
    "default_cache_dir",
    "fetch_model",
    "get_known_model",
    "resolve_model_path",
    "verify_model_file",
]
