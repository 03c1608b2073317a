"""What the LLM-backed roles share: defaults, prompt loading and construction from a config."""

from __future__ import annotations

from typing import Any, ClassVar

from autogen import ConversableAgent

from ..config import AievConfig, RoleSpec
from ..llm import llm_config_for, register_backend
from .prompts import read_prompt, read_prompt_file


class AievRole(ConversableAgent):
    """A ConversableAgent that plays one AIEV role; built the AG2 way or from a config.

    Subclasses set ``role_name`` (the key under ``roles:`` in YAML and the default agent
    name) and ship ``prompts/<role_name>.md`` as their default system prompt.
    """

    role_name: ClassVar[str] = ""

    def __init__(
        self,
        name: str | None = None,
        system_message: str | None = None,
        llm_config: dict[str, Any] | Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("human_input_mode", "NEVER")
        kwargs.setdefault("code_execution_config", False)
        super().__init__(
            name=name or self.role_name,
            system_message=system_message if system_message is not None else read_prompt(self.role_name),
            llm_config=llm_config,
            **kwargs,
        )

    @classmethod
    def from_config(cls, config: AievConfig, *, role: str | None = None, **kwargs: Any) -> AievRole:
        """Build the role as ``config.roles.<role>`` describes it (default: ``role_name``).

        The entry's ``options`` are constructor arguments; keyword arguments given here
        override both them and the rest of the entry (AG2 constructor arguments).
        """
        key = role or cls.role_name
        entry: RoleSpec = getattr(config.roles, key)
        spec = config.model_for(key)
        kwargs = {**entry.options, **kwargs}
        kwargs.setdefault("name", key)
        kwargs.setdefault("system_message", _system_message(entry))
        kwargs.setdefault("llm_config", llm_config_for(spec))
        agent = cls(**kwargs)
        register_backend(agent, spec)
        return agent


def _system_message(role: RoleSpec) -> str | None:
    if role.system_message is not None:
        return role.system_message
    if role.prompt is not None:
        return read_prompt_file(role.prompt)
    return None
