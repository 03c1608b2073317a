"""The AIEV roles as AG2 agents, and the registry that finds roles by name.

The agent classes load on first use: reading a config (which consults the registry) must
not import AG2.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .registry import registered_roles, resolve_role_class

_LAZY = {
    "AievRole": ".base",
    "ExecutorAgent": ".executor",
    "format_execution": ".execution_text",
    "ProgrammerAgent": ".programmer",
    "QuestionerAgent": ".questioner",
    "ReviewerAgent": ".reviewer",
    "TestWriterAgent": ".test_writer",
}

__all__ = [
    "AievRole",
    "ExecutorAgent",
    "ProgrammerAgent",
    "QuestionerAgent",
    "ReviewerAgent",
    "TestWriterAgent",
    "format_execution",
    "registered_roles",
    "resolve_role_class",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
