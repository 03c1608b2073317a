"""YAML configuration: named models, roles, sandbox, dialogue and output settings.

The environment is read here and nowhere else: ``${VAR}`` and ``${VAR:-default}`` are
replaced before validation, and ``AIEV_SANDBOX_IMAGE`` names the sandbox image when a
config names none. Every error names the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..data.curate.settings import CurateSettings
from ..dialogue.verdict.settings import VerdictSettings
from ..errors import ConfigError
from ..sandbox.settings import SandboxSettings
from ..stage.settings import StageSwitchSettings
from .yaml_env import interpolate, read_yaml

Backend = Literal["openai", "openai_compatible", "llama_cpp"]
Stage = Literal["teaching", "self_learning", "auto"]

#: The sandbox image of a config that names none, and of commands run without ``--config``.
SANDBOX_IMAGE_ENV = "AIEV_SANDBOX_IMAGE"

#: The model a role plays when it names none: the stage decides (the paper's two stages).
STAGE_PLAYERS: dict[str, str] = {"teaching": "teacher", "self_learning": "student"}


#: Sampling and request options each backend accepts under a model's ``params``.
OPENAI_PARAMS = frozenset(
    {"top_p", "frequency_penalty", "presence_penalty", "stop", "logit_bias", "logprobs", "top_logprobs",
     "response_format", "reasoning_effort", "extra_body", "extra_headers", "user", "n"}
)  # fmt: skip
LLAMA_CPP_PARAMS = frozenset(
    {"top_p", "top_k", "min_p", "stop", "presence_penalty", "frequency_penalty", "repeat_penalty", "n_batch",
     "n_gpu_layers"}
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    """One named model: where it runs and how it samples."""

    backend: Backend = Field("openai", description="openai, openai_compatible (needs base_url) or llama_cpp.")
    model: str = Field(..., min_length=1, description="Model name at the endpoint, or a known local model.")
    api_key: str | None = Field(None, description="API key; read it from the environment with ${VAR}.")
    base_url: str | None = Field(None, description="Endpoint of an OpenAI-compatible server.")
    temperature: float | None = Field(0.2, ge=0, le=2)
    max_tokens: int | None = Field(2048, gt=0)
    seed: int | None = Field(None, description="Sampling seed, where the backend honours one.")
    timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for one reply.")
    max_retries: int = Field(
        4,
        ge=0,
        description="Retries of a call on 429, 5xx, timeouts (exponential backoff, jitter, Retry-After).",
    )
    max_concurrency: int | None = Field(None, gt=0, description="Most calls at once to this model across workers.")
    price: tuple[float, float] | None = Field(
        None,
        description="USD per 1,000 prompt and completion tokens; default: AG2's table for OpenAI, else 0.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="More sampling parameters for the backend (top_p, repeat_penalty, ...)."
    )
    model_path: Path | None = Field(None, description="llama_cpp: path of a GGUF file.")
    n_ctx: int = Field(8192, gt=0, description="llama_cpp: context length in tokens.")
    n_threads: int | None = Field(None, gt=0, description="llama_cpp: CPU threads; default all cores.")

    @field_validator("api_key", "base_url", "model_path", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="after")
    def _params_fit_the_backend(self) -> ModelSpec:
        allowed = LLAMA_CPP_PARAMS if self.backend == "llama_cpp" else OPENAI_PARAMS
        unknown = sorted(set(self.params) - allowed)
        if unknown:
            raise ValueError(
                f"`params` has {', '.join(unknown)}, which backend {self.backend} does not take; allowed: "
                f"{', '.join(sorted(allowed))} (server-specific options go under params.extra_body)"
            )
        return self

    @model_validator(mode="after")
    def _backend_needs(self) -> ModelSpec:
        if self.backend == "openai_compatible" and not self.base_url:
            raise ValueError("backend openai_compatible needs `base_url` (for example http://127.0.0.1:8000/v1)")
        if self.backend == "openai" and not self.api_key and not self.base_url:
            raise ValueError(
                "backend openai needs `api_key` (for example api_key: ${OPENAI_API_KEY:-} with OPENAI_API_KEY "
                "exported), or `base_url` of a server that needs no key"
            )
        return self


class RoleSpec(_Strict):
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
                    f"unknown role `{name}`{_did_you_mean(name, known)}; known roles: {', '.join(sorted(known))}, "
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


class DialogueSettings(_Strict):
    max_rounds: int = Field(3, gt=0, description="Most programmer answers (each one executed) per dialogue.")
    verdict: VerdictSettings = Field(
        default_factory=VerdictSettings,
        description="The gates a passing program must also pass: mutation testing, coverage.",
    )
    feedback_chars: int = Field(
        4000,
        gt=0,
        description="Most characters of a run's output quoted to the models per turn; a longer one loses its middle.",
    )
    vacuity_check: bool | None = Field(None, description="Deprecated: `false` is `verdict: {mutation: false}`.")

    @model_validator(mode="after")
    def _vacuity_check_is_mutation(self) -> DialogueSettings:
        if self.vacuity_check is False:
            self.verdict = self.verdict.model_copy(update={"mutation": False})
        return self


class OutputSettings(_Strict):
    dir: Path | None = Field(None, description="Where `aiev generate` writes; `--out` overrides it.")


class AievConfig(_Strict):
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
                hint = _did_you_mean(role.model, self.models)
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
        """A content hash of the settings that shape the data.

        Secrets and operational settings (endpoints, retries, concurrency, Docker host,
        timeouts of start-up and installs, threads) are left out, so restarting a server on
        another port does not make a new dataset; prompt files count by their content, a
        GGUF by its file name.
        """
        exclude: dict[str, Any] = {"output": True, "curate": True, "sandbox": _OPERATIONAL_SANDBOX_KEYS}
        exclude["stage_switch"] = True if self.stage != "auto" else _OPERATIONAL_STAGE_SWITCH_KEYS
        data = self.model_dump(mode="json", exclude=exclude)
        for spec in data["models"].values():
            for key in _OPERATIONAL_MODEL_KEYS:
                spec.pop(key, None)
        for name, spec in self.models.items():
            data["models"][name]["model_file"] = spec.model_path.name if spec.model_path else None
        for role in data["roles"].values():
            prompt = role.pop("prompt", None)
            role["prompt_sha256"] = _file_sha256(Path(prompt)) if prompt else None
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_OPERATIONAL_MODEL_KEYS = (
    "api_key", "base_url", "timeout_s", "max_retries", "max_concurrency", "model_path", "n_threads",
)  # fmt: skip
_OPERATIONAL_SANDBOX_KEYS = {
    "docker_host", "state_dir", "pull", "startup_timeout_s", "install_timeout_s", "ca_bundle",
}  # fmt: skip
_OPERATIONAL_STAGE_SWITCH_KEYS = {"train_command", "train_mode", "train_timeout_s"}


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return f"missing:{path.name}"


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> AievConfig:
    """Read, interpolate and validate a YAML config.

    Args:
        path: The YAML file.
        env: Variables for ``${VAR}``, and ``AIEV_SANDBOX_IMAGE``: the image of a ``sandbox:``
            section that names none; default ``os.environ``.

    Returns:
        The validated config; relative paths in it are resolved against the file's folder.

    Raises:
        ConfigError: The file is missing or malformed, a key is unknown, a value has the
            wrong type, or a variable it names is not set.
    """
    path = Path(path)
    env = os.environ if env is None else env
    raw = read_yaml(path)
    data = _default_sandbox_image(interpolate(raw, env, path, ()), env)
    try:
        config = AievConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc, path)) from exc
    return _resolve_paths(config, path.parent)


def default_sandbox_settings(env: Mapping[str, str] | None = None) -> SandboxSettings:
    """The sandbox of a command run without ``--config``: the defaults, with the image named by
    ``AIEV_SANDBOX_IMAGE`` when that is set (``env``: default ``os.environ``)."""
    image = (os.environ if env is None else env).get(SANDBOX_IMAGE_ENV)
    return SandboxSettings(image=image) if image else SandboxSettings()


def _default_sandbox_image(data: Any, env: Mapping[str, str]) -> Any:
    """A config whose ``sandbox:`` names no image gets ``AIEV_SANDBOX_IMAGE`` when set."""
    image = env.get(SANDBOX_IMAGE_ENV)
    if not image or not isinstance(data, dict):
        return data
    sandbox = data.get("sandbox")
    if sandbox is None:
        return {**data, "sandbox": {"image": image}}
    if isinstance(sandbox, dict) and "image" not in sandbox:
        return {**data, "sandbox": {**sandbox, "image": image}}
    return data


def _describe_validation_error(exc: ValidationError, path: Path) -> str:
    lines = [f"{path} has {exc.error_count()} problem(s):"]
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        key = ".".join(location) or "(top level)"
        if error["type"] == "extra_forbidden":
            parent_model = _model_at(location[:-1])
            known = sorted(parent_model.model_fields) if parent_model else []
            hint = _did_you_mean(location[-1], known) if known else ""
            lines.append(f"  - unknown key `{key}`{hint}; remove it or fix its spelling")
        elif error["type"] == "missing":
            lines.append(f"  - `{key}` is required; add it")
        else:
            got = error.get("input")
            shown = f" (got {got!r})" if not isinstance(got, (dict, list)) else ""
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"  - `{key}`: {message}{shown}")
    return "\n".join(lines)


def _model_at(location: list[str]) -> type[BaseModel] | None:
    """The pydantic model class that sits at a dotted location of AievConfig."""
    model: type[BaseModel] = AievConfig
    parts = list(location)
    while parts:
        part = parts.pop(0)
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        if model is AievConfig and part == "models":
            if parts:
                parts.pop(0)  # the model's own name
            annotation = ModelSpec
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _resolve_paths(config: AievConfig, base: Path) -> AievConfig:
    def resolve(value: Path | None) -> Path | None:
        if value is None or value.is_absolute():
            return value
        return (base / value.expanduser()).resolve()

    for spec in config.models.values():
        spec.model_path = resolve(spec.model_path)
    for role in _all_roles(config):
        role.prompt = resolve(role.prompt)
    config.sandbox.ca_bundle = resolve(config.sandbox.ca_bundle)
    config.sandbox.state_dir = resolve(config.sandbox.state_dir)
    config.output.dir = resolve(config.output.dir)
    return config


def _all_roles(config: AievConfig) -> list[RoleSpec]:
    roles = config.roles
    return [roles.questioner, roles.programmer, roles.executor, *roles.extras().values()]
