"""A seed: what one dialogue starts from, a code ``snippet`` or a ready ``problem``.

Reading seeds files is :mod:`aiev_agents.generate.seeds`'s job; the dialogue needs only this.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import SeedError
from ..sandbox.languages import ALIASES, known_language


class Seed(BaseModel):
    """One seed. Extra keys (source, license, ...) travel into the record unchanged."""

    model_config = ConfigDict(extra="allow")

    id: str
    snippet: str | None = None
    problem: str | None = None
    language: str | None = None  # the program's language; None (left out of records) is Python

    @field_validator("language", mode="before")
    @classmethod
    def _known_language(cls, value: Any) -> Any:
        if value is None:
            return None
        name = known_language(str(value))
        if name is None:
            raise ValueError(f"`language` {value!r} is not one the sandbox runs: use one of {', '.join(ALIASES)}")
        return None if name == "python" else name

    @property
    def program_language(self) -> str:
        """The language the programmer answers in: ``python`` unless the seed says otherwise."""
        return self.language or "python"

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError("`id` must be a string or an integer")
        text = str(value).strip()
        if not text:
            raise ValueError("`id` must not be empty")
        return text

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Seed:
        has_snippet = bool(self.snippet and self.snippet.strip())
        has_problem = bool(self.problem and self.problem.strip())
        if has_snippet == has_problem:
            raise ValueError("give exactly one of `snippet` (code) or `problem` (a ready statement)")
        return self

    @classmethod
    def coerce(cls, seed: Seed | dict[str, Any] | str) -> Seed:
        """A seed from a Seed, a seeds-file dict, or a bare problem statement."""
        if isinstance(seed, Seed):
            return seed
        if isinstance(seed, str):
            return cls(id="seed", problem=seed)
        try:
            return cls.model_validate(seed)
        except ValidationError as exc:
            raise SeedError(f"invalid seed: {first_validation_message(exc)}") from exc


def first_validation_message(exc: ValidationError) -> str:
    """The first error of a validation, as `` `key`: message ``."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"`{key}`: {message}" if key else message
