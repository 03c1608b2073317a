"""Docker sandbox that runs model-written programs and checks that their tests ran.

``import aiev_agents.sandbox`` is cheap: docker-py and AG2 are imported only when
:class:`DockerSandbox`, :class:`SandboxPool`, :class:`DockerCodeExecutor` or
:func:`build_image` is first used (AG2 only by the executor). ``docs/sandbox.md`` describes
the containment, the warm runner and the threat model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aiev_agents.sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from aiev_agents.sandbox.ag2_executor import DockerCodeExecutor, ProgramResult
    from aiev_agents.sandbox.docker_sandbox import DockerSandbox
    from aiev_agents.sandbox.image import build_image, image_is_current
    from aiev_agents.sandbox.installer import InstallOutcome
    from aiev_agents.sandbox.pool import SandboxPool

__all__ = [
    "DockerCodeExecutor",
    "DockerSandbox",
    "InstallOutcome",
    "ProgramResult",
    "SandboxPool",
    "SandboxSettings",
    "build_image",
    "image_is_current",
]

_LAZY = {
    "DockerCodeExecutor": "aiev_agents.sandbox.ag2_executor",
    "ProgramResult": "aiev_agents.sandbox.ag2_executor",
    "DockerSandbox": "aiev_agents.sandbox.docker_sandbox",
    "InstallOutcome": "aiev_agents.sandbox.installer",
    "SandboxPool": "aiev_agents.sandbox.pool",
    "build_image": "aiev_agents.sandbox.image",
    "image_is_current": "aiev_agents.sandbox.image",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
