"""What a dialogue reads off an AG2 agent: its model's name, the tokens it has used so far, and
how to word a failure of its model (which server, which fix)."""

from __future__ import annotations

from typing import Any

from .transcript import Usage


def agent_usage(agent: Any) -> Usage:
    """The tokens and cost of every call the agent's AG2 client has made (zero without a client)."""
    client = getattr(agent, "client", None)
    summary = getattr(client, "actual_usage_summary", None) or {}
    total = Usage(cost=float(summary.get("total_cost", 0.0) or 0.0))
    for value in summary.values():
        if isinstance(value, dict):
            total = total + Usage(
                prompt_tokens=int(value.get("prompt_tokens", 0)),
                completion_tokens=int(value.get("completion_tokens", 0)),
                total_tokens=int(value.get("total_tokens", 0)),
            )
    return total


def usage_since(agent: Any, before: Usage) -> Usage:
    """What the agent has used since ``before`` was read (one client may serve many dialogues)."""
    after = agent_usage(agent)
    return Usage(
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        completion_tokens=after.completion_tokens - before.completion_tokens,
        total_tokens=after.total_tokens - before.total_tokens,
        cost=round(after.cost - before.cost, 8),
    )


def model_name(agent: Any) -> str:
    """The model of the agent's first ``config_list`` entry; the agent's name when it has none."""
    config = getattr(agent, "llm_config", None)
    entries = getattr(config, "config_list", None) or (config or {}).get("config_list", [])
    if entries:
        entry = entries[0]
        name = entry.get("model") if isinstance(entry, dict) else getattr(entry, "model", None)
        if name:
            return str(name)
    return agent.name


def model_error_message(agent: Any, exc: Exception) -> str:
    """A failed model call, worded for the user: the agent, its model and server, what to check."""
    config = getattr(agent, "llm_config", None)
    entries = getattr(config, "config_list", None) or []
    base_url = ""
    if entries:
        entry = entries[0]
        url = entry.get("base_url") if isinstance(entry, dict) else getattr(entry, "base_url", None)
        base_url = f" at {url}" if url else ""
    return (
        f"the model of '{agent.name}' ({model_name(agent)}){base_url} failed: {exc}; "
        "check that the server is running and that base_url, the model name and the API key are right"
    )
