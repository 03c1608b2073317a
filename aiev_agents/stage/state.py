"""What ``stage.json`` holds: the stage that plays, every decision, training and postponed comparison.

The controller (:mod:`aiev_agents.stage.switch`) writes it; the run report
(:mod:`aiev_agents.stage.summary`) reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .train_hook import TrainRun

STAGE_FILE = "stage.json"
STAGE_SCHEMA = 2  # 2: trainings and postponed comparisons
StageName = Literal["teaching", "self_learning"]
AUTO = "auto"
TEACHING: StageName = "teaching"
SELF_LEARNING: StageName = "self_learning"
#: What reading a stage file that is missing, torn or of another shape raises.
UNREADABLE_STATE = (OSError, ValueError, ValidationError)


class Decision(BaseModel):
    """The comparison after one block and what it decided."""

    model_config = ConfigDict(extra="forbid")

    block: int
    split: str
    compare_path: str
    teacher_model: str
    student_model: str
    teacher_pass_at_1: float
    student_pass_at_1: float
    problems: int
    margin: float
    switched: bool
    stage: StageName = Field(description="The stage from the next block on.")
    decided_at: str


class Postponed(BaseModel):
    """A comparison that could not run because a compared model was down."""

    model_config = ConfigDict(extra="forbid")

    block: int
    error: str
    postponed_at: str
    decided_at_block: int | None = Field(None, description="The block whose decision stood in for it, once made.")


class StageState(BaseModel):
    """What ``stage.json`` holds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(STAGE_SCHEMA, alias="schema")
    mode: str
    stage: StageName
    decisions: list[Decision] = Field(default_factory=list)
    trainings: list[TrainRun] = Field(default_factory=list, description="Every run of the train command.")
    postponed: list[Postponed] = Field(default_factory=list)


def read_stage_state(path: Path) -> StageState:
    """The state in the stage file ``path``.

    Raises:
        OSError, ValueError, ValidationError: (:data:`UNREADABLE_STATE`) the file cannot be read as a state.
    """
    return StageState.model_validate(json.loads(path.read_text(encoding="utf-8")))
