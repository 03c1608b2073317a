"""The shipped prompts, read as package data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

from ..errors import ConfigError


def read_prompt(name: str) -> str:
    """The text of a shipped prompt file (``questioner``, ``programmer``, ...)."""
    return resources.files(__package__).joinpath("prompts", f"{name}.md").read_text(encoding="utf-8").strip()


def read_prompt_file(path: Path) -> str:
    """The text of a user's prompt file named in a config."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read prompt file {path}: {exc.strerror}; fix the `prompt` path") from exc


def fill(name: str, **values: str) -> str:
    """A shipped template with ``$name`` placeholders filled (code braces stay intact)."""
    return Template(read_prompt(name)).safe_substitute(values)
