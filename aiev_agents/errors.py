"""The one exception hierarchy users can meet.

Every error a user can cause (bad YAML, a missing model file, Docker down) is an
``AievError`` whose message says what failed and what to do. A failing program under
test is never an exception: it is data in an execution result.
"""

from __future__ import annotations


class AievError(Exception):
    """Base class: something the user can fix; the message says how."""


class ConfigError(AievError):
    """A configuration file is malformed, has unknown keys, or names a missing variable."""


class SeedError(AievError):
    """A seeds file or seed line cannot be used."""


class SandboxUnavailable(AievError):
    """The Docker engine, the sandbox image or the container cannot be used."""


class ModelUnavailable(AievError):
    """A model cannot be reached, loaded or provisioned."""


class DatasetError(AievError):
    """A dataset or benchmark file cannot be read, or an export cannot be written."""
