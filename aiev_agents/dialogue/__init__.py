"""One AIEV dialogue: questioner, programmer and executor until the program passes its tests.

Modules: :mod:`.loop` (:func:`~aiev_agents.dialogue.loop.run_dialogue`), :mod:`.conversation` (a
running dialogue's state and steps), :mod:`.agent_info` (model name and usage read off an agent),
:mod:`.transcript` (the records a dialogue leaves), :mod:`.verdict` (when a passing program is a
verified sample).

``import aiev_agents.dialogue`` is cheap (records and settings import without AG2); the loop's
names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loop import run_dialogue

__all__ = ["run_dialogue"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loop = importlib.import_module("aiev_agents.dialogue.loop")
    try:
        return getattr(loop, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
