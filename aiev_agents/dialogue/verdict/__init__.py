"""The verdict: when a dialogue's last program is a verified sample.

A program is verified when its run exited 0 and every enabled gate holds:

1. **tests ran** (:mod:`.gates`): test code (never the solution's own asserts) executed at
   least one assertion or test case, no test failed, and the solution's code was called;
2. **hidden tests** pass against the solution alone, when a test writer wrote some;
3. **mutation** (:mod:`.mutation`): the tests kill enough mutants of the solution;
4. **coverage**: the tests run enough of the solution's lines and branches (off by default).

What is test code and what is solution code is decided in one place,
:mod:`aiev_agents.sandbox.guest.testcode` (it also runs inside the sandbox).

``import aiev_agents.dialogue.verdict`` loads only the settings (what a config needs); the gates are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .settings import VerdictSettings

if TYPE_CHECKING:
    from .gates import GATES, Gate, judge

__all__ = ["GATES", "Gate", "VerdictSettings", "judge"]


def __getattr__(name: str) -> Any:
    if name in ("GATES", "Gate", "judge"):
        return getattr(importlib.import_module("aiev_agents.dialogue.verdict.gates"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
