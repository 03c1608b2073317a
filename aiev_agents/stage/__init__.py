"""The stage switch: after each block of new samples, does the student beat the teacher?

``stage: teaching`` and ``stage: self_learning`` fix who plays the roles. With
``stage: auto`` the run starts in the teaching stage and, after each finished block (see
:mod:`aiev_agents.stage.splits`), :class:`StageController` has the teacher and the student solve
the block's held-out problems (:mod:`aiev_agents.stage.compare`). When the student's pass@1
exceeds the teacher's by more than ``stage_switch.margin`` (0.0: strictly higher), the
roles switch to the student from the next block on. Every decision, with both scores, is
kept in ``stage.json`` in the run folder, so a resumed run starts in the stage it reached.

As in the paper, the student can be fine-tuned on the block's train part first:
``stage_switch.train_command`` (:mod:`aiev_agents.stage.train_hook`) runs before the comparison,
with generation paused (``train_mode: wait``) or going on in the current stage
(``overlap``). A failed training leaves the block undecided; a compared model that is
down postpones the comparison to the next block. Both are kept in ``stage.json`` and are
retried at the next block boundary and at the next start of a run on the folder.
The fine-tuned student must be served under the ``student`` entry (the command's job).

Modules: :mod:`.settings` (the ``stage_switch:`` schema), :mod:`.splits` (blocks and their
train/test files), :mod:`.compare` (teacher vs student on held-out problems), :mod:`.switch`
(the controller), :mod:`.state` (what ``stage.json`` holds), :mod:`.summary` (the stage switch
in the run report), :mod:`.train_hook` (the train command).

Cheap to import: no AG2, no Docker until a comparison runs; ``import aiev_agents.stage`` loads
only the settings, the controller's names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .settings import StageSwitchSettings

if TYPE_CHECKING:
    from .state import Decision, Postponed
    from .summary import stage_markdown, stage_summary
    from .switch import (
        StageController,
        config_for_stage,
        decide,
        restart_workers,
        start_in_background,
    )

__all__ = [
    "Decision",
    "Postponed",
    "StageController",
    "StageSwitchSettings",
    "config_for_stage",
    "decide",
    "restart_workers",
    "start_in_background",
    "stage_markdown",
    "stage_summary",
]

_LAZY = {
    **dict.fromkeys(("Decision", "Postponed"), "aiev_agents.stage.state"),
    **dict.fromkeys(("stage_markdown", "stage_summary"), "aiev_agents.stage.summary"),
    **dict.fromkeys(
        ("StageController", "config_for_stage", "decide", "restart_workers", "start_in_background"),
        "aiev_agents.stage.switch",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
