"""What a generate run plays and where it writes: the stage (which model plays each role), the output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from .strict import StrictModel

Stage = Literal["teaching", "self_learning", "auto"]

#: The model a role plays when it names none: the stage decides (the paper's two stages).
STAGE_PLAYERS: dict[str, str] = {"teaching": "teacher", "self_learning": "student"}


class OutputSettings(StrictModel):
    dir: Path | None = Field(None, description="Where `aiev generate` writes; `--out` overrides it.")
