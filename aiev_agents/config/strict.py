"""What every config section shares: an unknown key is an error, and errors suggest the closest name."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A settings section that refuses keys it does not define (a misspelt key is an error)."""

    model_config = ConfigDict(extra="forbid")


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean `x`?)`` for the closest of ``choices``, or the empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""
