"""The programmer: answers with a complete program, solution plus unit tests."""

from __future__ import annotations

from .base import AievRole


class ProgrammerAgent(AievRole):
    """Writes the solution and its unit tests as one runnable program; may ask for packages."""

    role_name = "programmer"
