"""The AIEV roles as AG2 agents, and the registry that finds roles by name."""

from .base import AievRole
from .executor import ExecutorAgent, format_execution
from .programmer import ProgrammerAgent
from .questioner import QuestionerAgent
from .registry import registered_roles, resolve_role_class
from .reviewer import ReviewerAgent
from .test_writer import TestWriterAgent

__all__ = [
    "AievRole",
    "ExecutorAgent",
    "ProgrammerAgent",
    "QuestionerAgent",
    "ReviewerAgent",
    "TestWriterAgent",
    "format_execution",
    "registered_roles",
    "resolve_role_class",
]
