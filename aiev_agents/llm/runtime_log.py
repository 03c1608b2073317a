"""AG2's runtime logging (its sqlite log of every LLM call) around a generation run.

AG2 serializes an agent's constructor arguments when logging starts before the agent is
built, and that fails for an agent holding a Docker executor. So logging starts after the
agents exist, and the agents are then entered in the log by hand with arguments that
serialize. Each record's model turns carry the ``call_id`` of their LLM response, which is
the ``id`` inside ``chat_completions.response`` in the log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import AievError

logger = logging.getLogger(__name__)


def start_runtime_log(path: Path, agents: list[Any]) -> str:
    """Start AG2's sqlite runtime log at ``path`` and enter ``agents`` in it; returns the session id."""
    from autogen import runtime_logging

    path.parent.mkdir(parents=True, exist_ok=True)
    session_id = runtime_logging.start(logger_type="sqlite", config={"dbname": str(path)})
    if not runtime_logging.logging_enabled():
        raise AievError(f"AG2 runtime logging could not start at {path}; check that the folder is writable")
    for agent in agents:
        runtime_logging.log_new_agent(agent, {"name": agent.name, "system_message": agent.system_message})
    return str(session_id)


def stop_runtime_log() -> None:
    from autogen import runtime_logging

    if runtime_logging.logging_enabled():
        runtime_logging.stop()
