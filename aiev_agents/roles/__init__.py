"""The AIEV roles as AG2 agents."""

from .base import AievRole
from .executor import ExecutorAgent, format_execution
from .programmer import ProgrammerAgent
from .questioner import QuestionerAgent

__all__ = ["AievRole", "ExecutorAgent", "ProgrammerAgent", "QuestionerAgent", "format_execution"]
