"""LlamaCppClient inside real AG2 agents, with the real 0.5B model from the cache.

Run ``aiev models fetch qwen2.5-coder-0.5b-instruct-q4_k_m`` first; otherwise these skip.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiev_agents import activity
from aiev_agents.errors import ContextExceeded, ModelUnavailable
from aiev_agents.llm.clients import LlamaCppClient, clear_loaded_models, get_shared_llama
from aiev_agents.llm.clients.llama_cpp import prompt_seed
from aiev_agents.llm.models import cached_model_path

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def _model_path() -> Path:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'aiev-agents[local]')")
    path = cached_model_path(MODEL)
    if path is None:
        pytest.skip(f"{MODEL} is not in the model cache; run `aiev models fetch {MODEL}`")
    return path


@pytest.fixture
def model_path() -> Iterator[Path]:
    path = _model_path()
    clear_loaded_models()
    yield path
    clear_loaded_models()


def _llm_config(path: Path, **overrides: Any) -> dict[str, Any]:
    entry = {
        "model": MODEL,
        "model_client_cls": "LlamaCppClient",
        "model_path": str(path),
        "n_ctx": 2048,
        "temperature": 0.0,
        "max_tokens": 16,
        "seed": 42,
        **overrides,
    }
    return {"config_list": [entry], "cache_seed": None}


def _agent(name: str, path: Path, **overrides: Any) -> Any:
    from autogen import ConversableAgent

    agent = ConversableAgent(name, llm_config=_llm_config(path, **overrides), human_input_mode="NEVER")
    agent.register_model_client(model_client_cls=LlamaCppClient)
    return agent


@pytest.mark.local_model
def test_agent_replies_and_reports_free_usage(model_path: Path) -> None:
    agent = _agent("programmer", model_path)

    reply = agent.generate_reply(messages=[{"role": "user", "content": "Reply with the word OK"}])
    text = reply if isinstance(reply, str) else reply["content"]
    assert text.strip()

    usage = agent.client.total_usage_summary
    assert usage["total_cost"] == 0
    tokens = usage[MODEL]
    assert tokens["prompt_tokens"] > 0 and tokens["completion_tokens"] > 0
    assert tokens["total_tokens"] == tokens["prompt_tokens"] + tokens["completion_tokens"]


@pytest.mark.local_model
def test_a_listener_sees_each_generated_token_of_the_step_and_the_reply_is_unchanged(model_path: Path) -> None:
    agent = _agent("programmer", model_path, max_tokens=12)
    request = [{"role": "user", "content": "Count from 1 to 20, separated by spaces."}]
    unwatched = agent.generate_reply(messages=request)

    events: list[activity.ActivityEvent] = []
    with activity.listen(events.append), activity.step("seed-1", 2, "programmer"):
        watched = agent.generate_reply(messages=request)

    assert watched == unwatched  # counting leaves the logits, and so the greedy reply, as they are
    counts = [e.tokens for e in events if e.kind == "tokens"]
    completion = agent.client.total_usage_summary[MODEL]["completion_tokens"] // 2
    assert counts == list(range(1, completion + 1))
    assert {(e.step.dialogue, e.step.round, e.step.role) for e in events} == {("seed-1", 2, "programmer")}
    finished = events[-1]
    assert (finished.kind, finished.tokens) == ("finished", completion)
    assert finished.tokens_per_s is not None and finished.tokens_per_s > 0


@pytest.mark.local_model
def test_agents_naming_the_same_model_share_one_llama(model_path: Path) -> None:
    first = _agent("questioner", model_path)
    second = _agent("programmer", model_path, temperature=0.7)  # generation settings may differ

    llama = first.client._clients[0].llama
    assert second.client._clients[0].llama is llama
    assert get_shared_llama(_llm_config(model_path)["config_list"][0]) is llama


def test_missing_model_file_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="aiev models fetch"):
        LlamaCppClient({"model": MODEL, "model_path": str(tmp_path / "absent.gguf")})


def test_known_model_without_model_path_must_be_fetched_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIEV_MODEL_CACHE", str(tmp_path))
    with pytest.raises(ModelUnavailable, match=f"aiev models fetch {MODEL}"):
        LlamaCppClient({"model": MODEL})
    with pytest.raises(ModelUnavailable, match="no model_path"):
        LlamaCppClient({"model": "some-other-model"})


def _alternate(path: Path, **load: int) -> list[int]:
    """Two roles take turns on one model; the prompt tokens served from cache, per call."""
    client = LlamaCppClient({"model": MODEL, "model_path": str(path), "n_ctx": 2048, "max_tokens": 4,
                             "temperature": 0.0, **load})  # fmt: skip
    roles = {
        "questioner": [{"role": "system", "content": "You write programming problems. " * 20}],
        "programmer": [{"role": "system", "content": "You write Python programs with tests. " * 20}],
    }
    cached = []
    for turn in range(2):
        for conversation in roles.values():
            conversation.append({"role": "user", "content": f"Turn {turn}: say OK."})
            response = client.create({"messages": conversation})
            conversation.append({"role": "assistant", "content": response.choices[0].message.content or ""})
            details = response.usage.prompt_tokens_details
            cached.append(details.cached_tokens)
    clear_loaded_models()
    return cached


@pytest.mark.local_model
def test_a_prefix_cache_spares_each_role_its_own_conversation(model_path: Path) -> None:
    without = _alternate(model_path, prefix_cache_mb=0)
    with_cache = _alternate(model_path, prefix_cache_mb=256)
    with_slots = _alternate(model_path, parallel=2)
    # Second turns: without a cache only the chat template's first tokens are shared with the
    # other role's conversation; with it (or a slot of its own), the role's whole previous
    # prompt and reply are.
    assert max(without[2:]) < 10
    assert min(with_cache[2:]) > 100
    assert min(with_slots[2:]) > 100


@pytest.mark.local_model
def test_parallel_slots_answer_concurrent_callers_each_in_its_own_step(model_path: Path) -> None:
    config = {"model": MODEL, "model_path": str(model_path), "n_ctx": 1024, "max_tokens": 8, "temperature": 0.0,
              "repeat_penalty": 1.1, "parallel": 3}  # fmt: skip
    clients = [LlamaCppClient(config) for _ in range(3)]
    assert len({id(client.llama) for client in clients}) == 1
    events: list[activity.ActivityEvent] = []
    answers: dict[int, Any] = {}

    def ask(index: int) -> None:
        with activity.step(f"d{index}", 1, "programmer"):
            request = [{"role": "user", "content": f"Reply with the number {index} and nothing else."}]
            answers[index] = clients[index].create({"messages": request})

    with activity.listen(events.append):
        threads = [threading.Thread(target=ask, args=(index,)) for index in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    for index, response in answers.items():
        assert str(index) in (response.choices[0].message.content or "")
        usage = response.usage
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens and usage.completion_tokens > 0
        ticks = [e.tokens for e in events if e.kind == "tokens" and e.step.dialogue == f"d{index}"]
        assert ticks == list(range(1, usage.completion_tokens + 1))  # each caller sees its own tokens


@pytest.mark.local_model
def test_a_prompt_over_a_slots_context_is_a_context_overflow(model_path: Path) -> None:
    client = LlamaCppClient({"model": MODEL, "model_path": str(model_path), "n_ctx": 64, "parallel": 2})
    with pytest.raises(ContextExceeded, match=r"over its context window \(n_ctx=64\)"):
        client.create({"messages": [{"role": "user", "content": "word " * 200}]})


@pytest.mark.local_model
@pytest.mark.parametrize("parallel", [1, 3])
def test_n_choices_are_sampled_from_one_prompt_with_seeds_that_differ(model_path: Path, parallel: int) -> None:
    client = LlamaCppClient({"model": MODEL, "model_path": str(model_path), "n_ctx": 1024, "max_tokens": 12,
                             "temperature": 1.0, "seed": 7, "parallel": parallel})  # fmt: skip
    request = {"messages": [{"role": "user", "content": "Name a random fruit."}], "n": 3}
    response = client.create(request)

    texts = [choice.message.content for choice in response.choices]
    assert [choice.index for choice in response.choices] == [0, 1, 2]
    assert all(texts) and len(set(texts)) > 1
    usage = response.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    evaluated = usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens
    if parallel > 1:  # the prompt is evaluated once and copied to the other choices' slots
        assert evaluated == usage.prompt_tokens
    assert client.create(request).choices[1].message.content == texts[1]  # same seeds, same choices


def test_a_call_s_seed_comes_from_the_seed_and_its_prompt() -> None:
    first = [{"role": "user", "content": "Fix the program."}]
    second = [*first, {"role": "assistant", "content": "Done."}, {"role": "user", "content": "It failed again."}]
    assert prompt_seed(42, first) == prompt_seed(42, list(first))  # the same request, the same seed
    assert len({prompt_seed(42, first), prompt_seed(42, second), prompt_seed(43, first)}) == 3
    assert all(0 <= prompt_seed(seed, first) < 2**31 for seed in (0, 42, 2**40))


@pytest.mark.local_model
@pytest.mark.parametrize("fixed_seed", [False, True])
def test_each_call_samples_with_its_prompt_s_seed_unless_the_seed_is_fixed(model_path: Path, fixed_seed: bool) -> None:
    client = LlamaCppClient({"model": MODEL, "model_path": str(model_path), "n_ctx": 1024, "max_tokens": 4,
                             "temperature": 1.0, "seed": 7, "fixed_seed": fixed_seed})  # fmt: skip
    messages = [{"role": "user", "content": "Name a random fruit."}]
    client.create({"messages": messages})
    assert client.llama._seed == (7 if fixed_seed else prompt_seed(7, messages))


LOOPING_REQUEST = (
    "Complete this Python line so the list holds 300 items, written out, no explanation:\n"
    "items = ['FizzBuzz', 'FizzBuzz', 'FizzBuzz', 'FizzBuzz', 'FizzBuzz', 'FizzBuzz', 'FizzBuzz', 'FizzBuzz',"
)


@pytest.mark.local_model
@pytest.mark.parametrize("parallel", [1, 2])
def test_a_reply_that_falls_into_a_loop_ends_there(model_path: Path, parallel: int) -> None:
    def reply(**loop_stop: int) -> Any:
        client = LlamaCppClient({"model": MODEL, "model_path": str(model_path), "n_ctx": 1024, "max_tokens": 300,
                                 "temperature": 0.0, "parallel": parallel, **loop_stop})  # fmt: skip
        return client.create({"messages": [{"role": "user", "content": LOOPING_REQUEST}]})

    looped, stopped = reply(), reply(loop_stop_tokens=64)

    assert (looped.choices[0].finish_reason, looped.usage.completion_tokens) == ("length", 300)
    assert stopped.choices[0].finish_reason == "length"
    assert 64 <= stopped.usage.completion_tokens < 150
    text = stopped.choices[0].message.content
    assert looped.choices[0].message.content.startswith(text)  # the same reply, ended early
    assert text.count("'FizzBuzz'") >= 10
