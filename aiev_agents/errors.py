"""The one exception hierarchy users can meet.

Every error a user can cause (bad YAML, a missing model file, Docker down) is an
``AievError`` whose message says what failed and what to do. A failing program under
test is never an exception: it is data in an execution result.
"""

from __future__ import annotations

import json
import re


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


class ContextExceeded(AievError):
    """A prompt does not fit the model's context window.

    Not an outage (not a :class:`ModelUnavailable`): the same dialogue would overflow
    again on a retry, so it ends with status ``context_exceeded``.
    """


class DatasetError(AievError):
    """A dataset or benchmark file cannot be read, or an export cannot be written."""


class DialogueAbandoned(Exception):
    """A dialogue stopped at a model call or a sandbox run because its run was interrupted.

    Not a user error and never recorded: the seed is simply not done, and a resume runs it.
    """


#: What OpenAI, vLLM and llama.cpp's server say (code, type or message) when a prompt is too long.
_OVERFLOW_TEXT = re.compile(
    r"context_length_exceeded|exceed_context_size|maximum context length"
    r"|exceeds? (?:the |its )?(?:available |model'?s? )?context",
    re.IGNORECASE,
)
#: What llama-cpp-python raises (``ValueError``) for a prompt longer than ``n_ctx``.
_LLAMA_CPP_OVERFLOW = re.compile(r"Requested tokens \(\d+\) exceed context window of \d+")


def is_context_overflow(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from) says a prompt exceeded the
    model's context: :class:`ContextExceeded`, an ``openai.BadRequestError`` whose code,
    body or message says so, or llama-cpp-python's ``ValueError``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ContextExceeded) or _is_overflow_answer(current):
            return True
        if isinstance(current, ValueError) and _LLAMA_CPP_OVERFLOW.search(str(current)):
            return True
        current = current.__cause__
    return False


def _is_overflow_answer(exc: BaseException) -> bool:
    """An HTTP 400 from an OpenAI-compatible server saying the prompt is too long."""
    try:
        from openai import BadRequestError
    except ImportError:  # pragma: no cover - openai is a core dependency
        return False
    if not isinstance(exc, BadRequestError):
        return False
    body = exc.body if isinstance(exc.body, str) else json.dumps(exc.body, default=str)
    said = " ".join(str(part) for part in (exc.code, exc.type, exc.message, body) if part)
    return bool(_OVERFLOW_TEXT.search(said))
