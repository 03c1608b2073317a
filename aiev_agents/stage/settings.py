"""The ``stage_switch:`` settings: plain data that :mod:`aiev_agents.config` validates (no behaviour)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .train_hook import parse_command

__all__ = ["StageSwitchSettings"]


class StageSwitchSettings(BaseModel):
    """The ``stage_switch:`` section of a config: blocks, held-out share, switch rule."""

    model_config = ConfigDict(extra="forbid")

    block_size: int = Field(2000, ge=2, description="New verified samples per block (the paper: 2,000).")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="Share of a block held out for the comparison (1:9).")
    margin: float = Field(
        0.0,
        ge=0,
        le=1,
        description="The student must beat the teacher's pass@1 by more than this (0.0: strictly higher).",
    )
    compare_workers: int = Field(1, ge=1, description="Held-out problems solved at once during a comparison.")
    teacher_model: str = Field("teacher", min_length=1, description="Entry under `models` that teaches.")
    student_model: str = Field("student", min_length=1, description="Entry under `models` that learns.")
    train_command: str | None = Field(
        None,
        description="Command line run at each block boundary before the comparison, split like a shell would "
        "but run without one; `{train}`, `{test}`, `{block}` and `{out}` in its arguments become the block's "
        "train split, test split, number and the run folder. A failure leaves the block undecided. "
        "Unset: no training here.",
    )
    train_mode: Literal["wait", "overlap"] = Field(
        "wait",
        description="`wait`: generation pauses until training and comparison are done; `overlap`: they run in "
        "the background while workers go on in the current stage, and a switch applies when they finish.",
    )
    train_timeout_s: float | None = Field(
        None, gt=0, description="Seconds the train command may run before it is stopped (a failure); null: no limit."
    )

    @field_validator("train_command")
    @classmethod
    def _command_splits(cls, value: str | None) -> str | None:
        if value is not None:
            parse_command(value)
        return value
