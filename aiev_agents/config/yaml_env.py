"""YAML config files: reading them with clear errors, and ``${VAR}`` / ``${VAR:-default}``.

The environment is read here and nowhere else in the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}; check the path") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}; fix the syntax there") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping with `models` and `roles` at the top level")
    return data


def interpolate(value: Any, env: Mapping[str, str], path: Path, where: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {key: interpolate(item, env, path, (*where, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env, path, (*where, str(i))) for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        key = ".".join(where)
        raise ConfigError(
            f"{path}: `{key}` uses ${{{name}}}, but the environment variable {name} is not set; "
            f"export {name}=... or write ${{{name}:-default}} in the file"
        )

    return _ENV_PATTERN.sub(substitute, value)
