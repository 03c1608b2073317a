"""Roles a user might write: subclasses of the shipped ones, used by class path in YAML."""

from __future__ import annotations

from typing import Any

from aiev_agents import ProgrammerAgent
from aiev_agents.roles import AievRole


class SigningProgrammer(ProgrammerAgent):
    """Adds a comment line to every program through a registered reply hook."""

    def __init__(self, *args: Any, signature: str = "# reviewed", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signature = signature

    def generate_reply(self, messages: Any = None, sender: Any = None, **kwargs: Any) -> Any:
        reply = super().generate_reply(messages=messages, sender=sender, **kwargs)
        return str(reply).replace("```python\n", f"```python\n{self.signature}\n", 1)


class MisplacedRole(AievRole):
    """A role without a valid place: the dialogue refuses it."""

    role_name = "misplaced"
    place = "somewhere"
