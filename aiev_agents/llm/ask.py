"""Ask a model and get its text: the one place that calls an AG2 agent or client and reads the reply.

A failed call (``openai.APIError`` or a timeout) becomes :class:`ModelUnavailable` with the
caller's description of the model; with ``overflow`` given, a prompt over the model's context
becomes :class:`ContextExceeded` instead. ``openai`` is imported on the first call only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import AievError, ContextExceeded, ModelUnavailable, is_context_overflow

Describe = Callable[[Exception], str]


@dataclass(frozen=True)
class Answer:
    """A model's reply: its text, and the id of the response that carried it (``None`` when the
    agent has no LLM client or the reply came from elsewhere, e.g. a cache)."""

    text: str
    call_id: str | None = None


def ask_agent(
    agent: Any, messages: list[dict[str, Any]], describe: Describe, overflow: Describe | None = None
) -> Answer:
    """``agent.generate_reply(messages=messages)``: its text and the new response's id.

    Raises:
        ModelUnavailable: The call failed; the message is ``describe(exc)``.
        ContextExceeded: With ``overflow``, the prompt was over the model's context (``overflow(exc)``).
    """
    import openai

    known = response_ids(agent)
    try:
        reply = agent.generate_reply(messages=messages)
    except (openai.APIError, TimeoutError) as exc:
        raise model_error(exc, describe, overflow) from exc
    new_ids = [key for key in response_ids(agent) if key not in known]
    return Answer(reply_text(reply), new_ids[-1] if new_ids else None)


def ask_choices(
    agent: Any, messages: list[dict[str, Any]], n: int, describe: Describe, overflow: Describe | None = None
) -> tuple[list[str], str | None]:
    """``n`` answers of ``agent``'s model to one prompt, in one request (its ``n`` parameter).

    AG2's ``generate_reply`` keeps the first choice only, so this calls the agent's client the
    way ``generate_reply`` does (the system message first, the agent's cache): reply functions
    registered on the agent do not run. A server that returns fewer choices gives fewer texts.

    Returns:
        The choices' texts and the response's id.

    Raises:
        ModelUnavailable, ContextExceeded: as :func:`ask_agent`.
    """
    system = [{"role": "system", "content": agent.system_message}] if agent.system_message else []
    params = {"messages": system + messages, "n": n, "cache": getattr(agent, "client_cache", None), "agent": agent}
    texts, response = _create(agent.client, describe, overflow, **params)
    return texts, getattr(response, "id", None)


def ask_client(client: Any, describe: Describe, **params: Any) -> str:
    """``client.create(**params)`` of an AG2 ``OpenAIWrapper``: the first choice's text.

    Raises:
        ModelUnavailable: The call failed; the message is ``describe(exc)``.
    """
    texts, _ = _create(client, describe, None, **params)
    return texts[0] if texts else ""


def _create(client: Any, describe: Describe, overflow: Describe | None, **params: Any) -> tuple[list[str], Any]:
    """``client.create(**params)``: the texts of its choices and the response; a failure is :func:`model_error`."""
    import openai

    try:
        response = client.create(**params)
    except (openai.APIError, TimeoutError) as exc:
        raise model_error(exc, describe, overflow) from exc
    return [str(text or "") for text in client.extract_text_or_completion_object(response)], response


def model_error(exc: Exception, describe: Describe, overflow: Describe | None = None) -> AievError:
    """The error a failed model call raises: :class:`ContextExceeded` for an overflow when
    ``overflow`` is given, :class:`ModelUnavailable` otherwise."""
    if overflow is not None and is_context_overflow(exc):
        return ContextExceeded(overflow(exc))
    return ModelUnavailable(describe(exc))


def reply_text(reply: Any) -> str:
    """The text of an AG2 reply: a string, a message dict (its ``content``) or ``None`` (empty)."""
    if reply is None:
        return ""
    if isinstance(reply, dict):
        return str(reply.get("content") or "")
    return str(reply)


def response_ids(agent: Any) -> list[str]:
    """Ids of the responses AG2's client has seen, oldest first (empty for a non-LLM agent)."""
    metadata = getattr(getattr(agent, "client", None), "_response_metadata", None)
    return list(metadata) if isinstance(metadata, dict) else []
