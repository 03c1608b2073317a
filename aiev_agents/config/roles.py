"""The roles of a dialogue: each one's class, model, system prompt and options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .strict import StrictModel, did_you_mean


class RoleSpec(StrictModel):
    """One role of the dialogue: its class, which model plays it, its system prompt, its options."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_path: str | None = Field(
        None, alias="class", description="`package.module:Class` of the agent; default: the registered role."
    )
    model: str | None = Field(None, description="Name of an entry under `models`.")
    prompt: Path | None = Field(None, description="File holding the system prompt; default: the shipped one.")
    system_message: str | None = Field(None, description="The system prompt inline (instead of `prompt`).")
    options: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the role's class.")

    @model_validator(mode="after")
    def _one_prompt_source(self) -> RoleSpec:
        if self.prompt is not None and self.system_message is not None:
            raise ValueError("give either `prompt` (a file) or `system_message`, not both")
        return self


class RolesSpec(BaseModel):
    """The three AIEV roles, plus any extra role by name (``test_writer``, ``reviewer``, ...).

    An extra role's name must be registered (see ``roles.registry``) or its entry must
    give ``class``.
    """

    model_config = ConfigDict(extra="allow")

    questioner: RoleSpec = Field(default_factory=RoleSpec)
    programmer: RoleSpec = Field(default_factory=RoleSpec)
    executor: RoleSpec = Field(default_factory=RoleSpec)

    @model_validator(mode="after")
    def _extras_are_roles(self) -> RolesSpec:
        from ..roles.registry import registered_roles

        known = registered_roles()
        for name, value in list((self.__pydantic_extra__ or {}).items()):
            spec = value if isinstance(value, RoleSpec) else _extra_role_spec(name, value)
            if spec.class_path is None and name not in known:
                raise ValueError(
                    f"unknown role `{name}`{did_you_mean(name, known)}; known roles: {', '.join(sorted(known))}, "
                    "or give `class: package.module:Class`"
                )
            self.__pydantic_extra__[name] = spec
        return self

    def extras(self) -> dict[str, RoleSpec]:
        """The extra roles by name, in file order."""
        return dict(self.__pydantic_extra__ or {})

    def all_llm_roles(self) -> list[str]:
        """Names of the roles that talk to a model: questioner, programmer and the extras."""
        return ["questioner", "programmer", *self.extras()]

    @field_validator("executor")
    @classmethod
    def _executor_has_no_model(cls, value: RoleSpec) -> RoleSpec:
        if value.model is not None:
            raise ValueError("the executor runs code and uses no model: remove `model`")
        return value


def _extra_role_spec(name: str, value: Any) -> RoleSpec:
    try:
        return RoleSpec.model_validate(value or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        detail = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise ValueError(f"role `{name}`: {detail} `{key}`") from None
