"""How a dialogue runs: its rounds, the verdict's gates, the feedback quoted to the models."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..dialogue.verdict.settings import VerdictSettings
from .strict import StrictModel


class DialogueSettings(StrictModel):
    max_rounds: int = Field(3, gt=0, description="Most programmer answers (each one executed) per dialogue.")
    verdict: VerdictSettings = Field(
        default_factory=VerdictSettings,
        description="The gates a passing program must also pass: mutation testing, coverage.",
    )
    feedback_chars: int = Field(
        4000,
        gt=0,
        description="Most characters of a run's output quoted to the models per turn; a longer one loses its middle.",
    )
    candidates: int = Field(
        1,
        ge=1,
        le=16,
        description="Programs sampled per programmer turn in one request; all run, the first that passes is kept.",
    )
    send_back_repeats: bool = Field(
        False,
        description=(
            "An answer that repeats a program that already failed is sent back once, with a note saying so, "
            "before it runs; off: it runs again."
        ),
    )
    vacuity_check: bool | None = Field(None, description="Deprecated: `false` is `verdict: {mutation: false}`.")

    @model_validator(mode="after")
    def _vacuity_check_is_mutation(self) -> DialogueSettings:
        if self.vacuity_check is False:
            self.verdict = self.verdict.model_copy(update={"mutation": False})
        return self
