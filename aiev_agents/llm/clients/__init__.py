"""AG2 model clients for local inference."""

from aiev_agents.llm.clients.llama_cpp import LlamaCppClient, clear_loaded_models, get_shared_llama

__all__ = ["LlamaCppClient", "clear_loaded_models", "get_shared_llama"]
