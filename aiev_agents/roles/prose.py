"""Replies without code blocks: where a role's reply is cut when it must not write code."""

from __future__ import annotations

from typing import Any

FENCE = "```"


def prose_before_code(text: str) -> str:
    """``text`` up to its first code fence, without the line that introduced the block (a last
    line ending in ``:``, such as "Here is the corrected program:" or "**Solution:**") when prose
    remains above it."""
    lines = text.split(FENCE, 1)[0].rstrip().splitlines()
    if len(lines) > 1 and lines[-1].rstrip(" *_").endswith(":"):
        lines = lines[:-1]
    return "\n".join(lines).rstrip()


def with_stop(llm_config: Any, stop: str) -> Any:
    """A copy of an AG2 ``llm_config`` dict whose every ``config_list`` entry also stops at
    ``stop``; any other value (``False``, ``None``, an ``LLMConfig``) unchanged."""
    if not isinstance(llm_config, dict) or not isinstance(llm_config.get("config_list"), list):
        return llm_config
    entries = []
    for entry in llm_config["config_list"]:
        known = entry.get("stop") or []
        known = [known] if isinstance(known, str) else list(known)
        entries.append({**entry, "stop": known + ([stop] if stop not in known else [])})
    return {**llm_config, "config_list": entries}
