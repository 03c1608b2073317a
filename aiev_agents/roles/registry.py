"""Role names → agent classes: the shipped roles, roles of other packages, and class paths.

A role is a ``ConversableAgent`` subclass plus a prompt file plus a YAML entry. Other
packages register roles through the entry point group ``aiev_agents.roles``
(``name = "package.module:Class"``); a YAML entry may also name any class with
``class: package.module:Class``. Nothing here imports AG2 until a class is resolved.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from ..errors import ConfigError

ENTRY_POINT_GROUP = "aiev_agents.roles"

#: The shipped roles; the first three are the AIEV dialogue itself, the rest take part when configured.
BUILTIN_ROLES: dict[str, str] = {
    "questioner": "aiev_agents.roles.questioner:QuestionerAgent",
    "programmer": "aiev_agents.roles.programmer:ProgrammerAgent",
    "executor": "aiev_agents.roles.executor:ExecutorAgent",
    "test_writer": "aiev_agents.roles.test_writer:TestWriterAgent",
    "reviewer": "aiev_agents.roles.reviewer:ReviewerAgent",
}


def registered_roles() -> dict[str, str]:
    """Every known role name and its class path: shipped roles, then entry points."""
    roles = dict(BUILTIN_ROLES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        roles.setdefault(entry.name, entry.value)
    return roles


def resolve_role_class(name: str, class_path: str | None = None) -> type[Any]:
    """The agent class of role ``name``: ``class_path`` when given, else the registered one.

    Raises:
        ConfigError: The name is not registered, or the class cannot be imported.
    """
    path = class_path or registered_roles().get(name)
    if path is None:
        raise ConfigError(f"no role named '{name}'; known roles: {', '.join(sorted(registered_roles()))}")
    return import_class(path)


def import_class(path: str) -> type[Any]:
    """Import ``package.module:Class`` (or ``package.module.Class``)."""
    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"cannot import role class '{path}': {exc}; write it as package.module:Class and make it importable"
        ) from exc
