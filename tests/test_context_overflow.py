"""A prompt longer than the model's context is recognised as such, not as a model outage."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from aiev_agents.config import ModelSpec
from aiev_agents.errors import AievError, ContextExceeded, ModelUnavailable, is_context_overflow
from aiev_agents.llm import llm_config_for
from aiev_agents.roles.questioner import QuestionerAgent
from aiev_agents.testing import ScriptedReply, ScriptedServer

OPENAI_OVERFLOW = ScriptedReply(
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens. "
    "Please reduce the length of the messages.",
    status=400,
    error_code="context_length_exceeded",
    error_type="invalid_request_error",
)
LLAMA_SERVER_OVERFLOW = ScriptedReply(
    "the request exceeds the available context size, try increasing it",
    status=400,
    error_type="exceed_context_size_error",
)
LLAMA_CPP_OVERFLOW = ValueError("Requested tokens (5000) exceed context window of 4096")


def api_error(reply: ScriptedReply) -> openai.APIStatusError:
    """The error the real openai client raises when the scripted server answers ``reply``."""
    with ScriptedServer({"m": [reply]}) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    return caught.value


def test_context_exceeded_is_an_aiev_error_but_not_an_outage() -> None:
    assert issubclass(ContextExceeded, AievError)
    assert not issubclass(ContextExceeded, ModelUnavailable)
    assert is_context_overflow(ContextExceeded("too long"))


def test_openai_context_length_exceeded_is_recognised() -> None:
    error = api_error(OPENAI_OVERFLOW)
    assert isinstance(error, openai.BadRequestError)
    assert error.code == "context_length_exceeded"
    assert is_context_overflow(error)


def test_the_code_alone_is_enough() -> None:
    error = api_error(ScriptedReply("invalid request", status=400, error_code="context_length_exceeded"))
    assert is_context_overflow(error)


def test_llama_cpp_servers_context_size_error_is_recognised() -> None:
    error = api_error(LLAMA_SERVER_OVERFLOW)
    assert isinstance(error, openai.BadRequestError)
    assert is_context_overflow(error)


@pytest.mark.parametrize(
    "reply",
    [
        ScriptedReply("invalid temperature: must be at most 2", status=400, error_code="invalid_value"),
        ScriptedReply("model not found", status=404),
        ScriptedReply("maximum context length exceeded", status=500),
        ScriptedReply("server error", status=500),
    ],
    ids=["other-400", "404", "500-saying-context", "500"],
)
def test_other_errors_are_not_overflows(reply: ScriptedReply) -> None:
    assert not is_context_overflow(api_error(reply))


def test_llama_cpp_value_error_is_recognised() -> None:
    assert is_context_overflow(LLAMA_CPP_OVERFLOW)
    assert not is_context_overflow(ValueError("could not broadcast input array"))
    assert not is_context_overflow(RuntimeError("Requested tokens (5000) exceed context window of 4096"))


def test_an_overflow_wrapped_in_another_error_is_recognised() -> None:
    try:
        try:
            raise LLAMA_CPP_OVERFLOW
        except ValueError as exc:
            raise ModelUnavailable("the model failed") from exc
    except ModelUnavailable as wrapped:
        assert is_context_overflow(wrapped)
    assert not is_context_overflow(ModelUnavailable("connection refused"))


def test_an_ag2_agent_raises_the_recognisable_error() -> None:
    """What a dialogue meets: the openai error comes out of AG2's generate_reply as is."""
    with ScriptedServer({"scripted": [OPENAI_OVERFLOW]}) as server:
        spec = ModelSpec(backend="openai_compatible", model="scripted", base_url=server.base_url, max_retries=0)
        agent = QuestionerAgent(llm_config=llm_config_for(spec))
        with pytest.raises(openai.BadRequestError) as caught:
            agent.generate_reply(messages=[{"role": "user", "content": "a very long prompt"}])
    assert is_context_overflow(caught.value)


# -- the in-process llama.cpp client, with the real 0.5B model when it is cached -----------

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


@pytest.fixture
def llama_client_config() -> Iterator[dict[str, Any]]:
    from aiev_agents.llm.models import cached_model_path

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'aiev-agents[local]')")
    path = cached_model_path(MODEL)
    if path is None:
        pytest.skip(f"{MODEL} is not in the model cache; run `aiev models fetch {MODEL}`")
    from aiev_agents.llm.clients import clear_loaded_models

    clear_loaded_models()
    yield {"model": MODEL, "model_path": str(path), "n_ctx": 256, "max_tokens": 8, "temperature": 0.0}
    clear_loaded_models()


@pytest.mark.local_model
def test_llama_cpp_client_raises_context_exceeded(llama_client_config: dict[str, Any]) -> None:
    from aiev_agents.llm.clients import LlamaCppClient

    client = LlamaCppClient(llama_client_config)
    long_prompt = "Explain this traceback: " + "File main.py, line 1, in f\n" * 40
    with pytest.raises(ContextExceeded) as caught:
        client.create({"messages": [{"role": "user", "content": long_prompt}]})
    message = str(caught.value)
    assert re.search(r"has \d{3} tokens", message)
    assert "n_ctx=256" in message
    assert "dialogue.max_rounds / dialogue.feedback_chars" in message
    assert is_context_overflow(caught.value)
