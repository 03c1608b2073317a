"""From a YAML file to a validated config: ``${VAR}`` interpolation, the sandbox image from the
environment, errors that name the key and the fix, relative paths resolved against the file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from ..sandbox.settings import SandboxSettings
from .models import ModelSpec
from .roles import RoleSpec
from .root import AievConfig
from .strict import did_you_mean
from .yaml_env import interpolate, read_yaml

#: The sandbox image of a config that names none, and of commands run without ``--config``.
SANDBOX_IMAGE_ENV = "AIEV_SANDBOX_IMAGE"


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
            hint = did_you_mean(location[-1], known) if known else ""
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
