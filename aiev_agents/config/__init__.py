"""YAML configuration: named models, roles, sandbox, dialogue and output settings.

The environment is read when a file is loaded (:mod:`.load`) and nowhere else: ``${VAR}``
and ``${VAR:-default}`` are replaced before validation, and ``AIEV_SANDBOX_IMAGE`` names the
sandbox image when a config names none. Every error names the file, the key and the fix.

Modules: :mod:`.root` (:class:`AievConfig`, the whole file), :mod:`.models` (named models),
:mod:`.roles`, :mod:`.dialogue`, :mod:`.generation` (stage and output), :mod:`.hashing` (the
config hash), :mod:`.load` (reading and validating a file), :mod:`.strict` (what the sections
share). The sandbox, verdict, stage-switch and curation sections are the ``settings`` modules
of their own packages.
"""

from __future__ import annotations

from .dialogue import DialogueSettings
from .generation import STAGE_PLAYERS, OutputSettings, Stage
from .load import SANDBOX_IMAGE_ENV, default_sandbox_settings, load_config
from .models import LLAMA_CPP_PARAMS, OPENAI_PARAMS, Backend, ModelSpec
from .roles import RoleSpec, RolesSpec
from .root import AievConfig

__all__ = [
    "LLAMA_CPP_PARAMS",
    "OPENAI_PARAMS",
    "SANDBOX_IMAGE_ENV",
    "STAGE_PLAYERS",
    "AievConfig",
    "Backend",
    "DialogueSettings",
    "ModelSpec",
    "OutputSettings",
    "RoleSpec",
    "RolesSpec",
    "Stage",
    "default_sandbox_settings",
    "load_config",
]
