"""The whole config file: its sections, and the check that every role names a model it defines."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..data.curate.settings import CurateSettings
from ..errors import ConfigError
from ..sandbox.settings import SandboxSettings
from ..stage.settings import StageSwitchSettings
from .dialogue import DialogueSettings
from .generation import STAGE_PLAYERS, OutputSettings, Stage
from .hashing import config_hash
from .models import ModelSpec
from .roles import RoleSpec, RolesSpec
from .strict import StrictModel, did_you_mean


class AievConfig(StrictModel):
    """A validated configuration file."""

    stage: Stage = "teaching"
    models: dict[str, ModelSpec]
    roles: RolesSpec = Field(default_factory=RolesSpec)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    curate: CurateSettings = Field(default_factory=CurateSettings)
    stage_switch: StageSwitchSettings = Field(default_factory=StageSwitchSettings)

    @model_validator(mode="after")
    def _roles_name_known_models(self) -> AievConfig:
        player = self.stage_switch.teacher_model if self.stage == "auto" else STAGE_PLAYERS[self.stage]
        if self.stage == "auto":
            for name in (self.stage_switch.teacher_model, self.stage_switch.student_model):
                if name not in self.models:
                    raise ValueError(
                        f"stage: auto compares teacher and student, but the model '{name}' is not under `models`: "
                        "add it, or name others in stage_switch.teacher_model / student_model"
                    )
        for role_name in self.roles.all_llm_roles():
            role: RoleSpec = getattr(self.roles, role_name)
            if role.model is None:
                if player not in self.models:
                    raise ValueError(
                        f"roles.{role_name}.model is not set, and stage '{self.stage}' plays the model "
                        f"named '{player}', which is not under `models`: add it or set the role's model"
                    )
                role.model = player
            if role.model not in self.models:
                hint = did_you_mean(role.model, self.models)
                raise ValueError(f"roles.{role_name}.model names '{role.model}', which is not under `models`{hint}")
        return self

    def model_for(self, role_name: str) -> ModelSpec:
        """The model spec that plays ``role_name``."""
        role: RoleSpec = getattr(self.roles, role_name)
        if role.model is None:
            raise ConfigError(f"role '{role_name}' has no model")
        return self.models[role.model]

    def models_by_role(self) -> dict[str, str]:
        """Role name → the model name at the endpoint (what a record stores)."""
        return {name: self.model_for(name).model for name in ("questioner", "programmer")}

    def config_hash(self) -> str:
        """A content hash of the settings that shape the data (see :func:`~aiev_agents.config.hashing.config_hash`)."""
        return config_hash(self)
