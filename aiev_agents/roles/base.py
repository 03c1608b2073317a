"""What the LLM-backed roles share: defaults, prompt loading and construction from a config."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar

from autogen import ConversableAgent

from ..config import AievConfig, RoleSpec
from ..errors import ConfigError
from ..llm import llm_config_for, register_backend
from .prompts import read_prompt, read_prompt_file


class AievRole(ConversableAgent):
    """A ConversableAgent that plays one AIEV role; built the AG2 way or from a config.

    Subclasses set ``role_name`` (the key under ``roles:`` in YAML and the default agent
    name) and ship ``prompts/<role_name>.md`` as their default system prompt.
    """

    role_name: ClassVar[str] = ""
    #: A role that ships no prompt file may give its default system prompt here.
    default_prompt: ClassVar[str | None] = None

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
            system_message=system_message if system_message is not None else self.default_system_message(),
            llm_config=llm_config,
            **kwargs,
        )

    @classmethod
    def default_system_message(cls) -> str:
        """The role's default system prompt: ``default_prompt``, else ``prompts/<role_name>.md``
        beside the class's module, else the shipped one.

        Raises:
            ConfigError: The role ships no prompt and sets no ``default_prompt``.
        """
        if cls.default_prompt is not None:
            return cls.default_prompt
        beside = Path(inspect.getfile(cls)).parent / "prompts" / f"{cls.role_name}.md"
        if beside.is_file():  # a third-party role ships its prompt next to its module
            return read_prompt_file(beside)
        try:
            return read_prompt(cls.role_name)
        except FileNotFoundError:
            raise ConfigError(
                f"role '{cls.role_name}' ({cls.__name__}) has no prompt: ship prompts/{cls.role_name}.md beside "
                "its module, set the class attribute default_prompt, pass system_message=..., or give `prompt:`"
            ) from None

    @classmethod
    def from_config(
        cls, config: AievConfig, *, role: str | None = None, model: str | None = None, **kwargs: Any
    ) -> AievRole:
        """Build the role as ``config.roles.<role>`` describes it (default: ``role_name``).

        Args:
            config: A loaded config.
            role: The key under ``roles:``; it need not exist when ``model`` is given.
            model: A name under ``models:`` that overrides the role's model.
            **kwargs: AG2 constructor arguments; they override the entry's ``options``.
        """
        key = role or cls.role_name
        entry: RoleSpec | None = getattr(config.roles, key, None)
        if entry is None and model is None:
            raise ConfigError(f"no role '{key}' under `roles:`; add it there or pass model=NAME")
        entry = entry or RoleSpec(model=model)
        spec = config.models[model] if model is not None else config.model_for(key)
        kwargs = {**entry.options, **kwargs}
        kwargs.setdefault("name", key)
        kwargs.setdefault("system_message", _system_message(entry))
        kwargs.setdefault("llm_config", llm_config_for(spec))
        agent = cls(**kwargs)
        agent.aiev_role = key  # the YAML key, whatever the agent's name
        register_backend(agent, spec)
        return agent


def _system_message(role: RoleSpec) -> str | None:
    if role.system_message is not None:
        return role.system_message
    if role.prompt is not None:
        return read_prompt_file(role.prompt)
    return None
