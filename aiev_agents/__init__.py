"""aiev-agents: AIEV-INSTRUCT for AG2.

Questioner, programmer and executor agents talk through a Docker code interpreter; only
dialogues whose code passes its own unit tests become training samples.

Importing this package is cheap: the agents (and AG2 with them) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__ as __version__
from .config import AievConfig, load_config
from .dialogue.seed import Seed
from .dialogue.transcript import ExecutionResult, Transcript, Turn
from .errors import AievError, ConfigError, ModelUnavailable, SandboxUnavailable, SeedError
from .sandbox.settings import SandboxSettings

_LAZY = {
    "QuestionerAgent": "aiev_agents.roles",
    "ProgrammerAgent": "aiev_agents.roles",
    "ExecutorAgent": "aiev_agents.roles",
    "run_dialogue": "aiev_agents.dialogue.loop",
    "Generation": "aiev_agents.generate.pipeline",
    "DockerSandbox": "aiev_agents.sandbox.docker_sandbox",
    "DockerCodeExecutor": "aiev_agents.sandbox.ag2_executor",
}

__all__ = [
    "AievConfig",
    "AievError",
    "ConfigError",
    "DockerCodeExecutor",
    "DockerSandbox",
    "ExecutionResult",
    "ExecutorAgent",
    "Generation",
    "ModelUnavailable",
    "ProgrammerAgent",
    "QuestionerAgent",
    "SandboxSettings",
    "SandboxUnavailable",
    "Seed",
    "SeedError",
    "Transcript",
    "Turn",
    "load_config",
    "run_dialogue",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'aiev_agents' has no attribute {name!r}")
