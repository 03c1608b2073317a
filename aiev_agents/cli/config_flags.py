"""What ``--config`` and ``--image`` give a command that also runs without a config: the config, the sandbox.

The config is imported when a command runs, never when the parser is built (``aiev --help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import AievConfig
    from ..sandbox.settings import SandboxSettings


def load_optional_config(path: Path | None) -> AievConfig | None:
    """The config at ``path``; None when the command got no ``--config``."""
    if path is None:
        return None
    from ..config import load_config

    return load_config(path)


def sandbox_settings(config: AievConfig | None, image: str | None) -> SandboxSettings:
    """The config's sandbox, else the defaults (the image named by ``AIEV_SANDBOX_IMAGE`` when set);
    ``image`` (``--image``), when given, overrides the image."""
    from ..config import default_sandbox_settings

    settings = config.sandbox if config is not None else default_sandbox_settings()
    return settings.model_copy(update={"image": image}) if image else settings
