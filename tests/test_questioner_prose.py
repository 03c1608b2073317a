"""A questioner with ``stop_at_code`` answers in prose: its model is asked to stop at a code
fence and its reply is cut there, so the programmer never gets a program to copy."""

from __future__ import annotations

from pathlib import Path

from autogen import ConversableAgent

from aiev_agents import load_config
from aiev_agents.roles import ProgrammerAgent, QuestionerAgent
from aiev_agents.roles.prose import prose_before_code, with_stop
from aiev_agents.testing import ScriptedServer, key_by_role

from helpers import write_config

EXPLANATION_WITH_PROGRAM = (
    "The test is wrong: reverse_words('Python is fun') must be 'fun is Python'.\n"
    "Here is the corrected program:\n\n"
    "```python\ndef reverse_words(s):\n    return ' '.join(s.split()[::-1])\n```\n"
    "It now passes."
)
PROSE = "The test is wrong: reverse_words('Python is fun') must be 'fun is Python'."


def test_prose_before_code_keeps_the_text_above_the_first_block() -> None:
    assert prose_before_code(EXPLANATION_WITH_PROGRAM) == PROSE
    assert prose_before_code("Write `chunk(items, size)`.\n\n**Signature:**\n```python\ndef chunk(") == (
        "Write `chunk(items, size)`."
    )
    assert prose_before_code("No code here: just an explanation.") == "No code here: just an explanation."
    assert prose_before_code("Solution:\n```python\nx = 1\n```") == "Solution:"  # nothing else to keep
    assert prose_before_code("```python\nx = 1\n```") == ""


def test_with_stop_adds_the_fence_to_every_entry_once() -> None:
    config = {"config_list": [{"model": "a"}, {"model": "b", "stop": "END"}, {"model": "c", "stop": ["```"]}]}
    stops = [entry["stop"] for entry in with_stop(config, "```")["config_list"]]
    assert stops == [["```"], ["END", "```"], ["```"]]
    assert "stop" not in config["config_list"][0]  # the caller's config is not changed
    assert with_stop(False, "```") is False


def config_path(tmp_path: Path, base_url: str) -> Path:
    path = write_config(tmp_path, base_url, "unused:latest")
    path.write_text(path.read_text() + "roles:\n  questioner:\n    options:\n      stop_at_code: true\n")
    return path


def test_the_questioner_asks_its_model_to_stop_at_a_fence_and_cuts_its_reply_there(tmp_path: Path) -> None:
    scripts = {"questioner": [EXPLANATION_WITH_PROGRAM], "programmer": ["```python\nprint(1)\n```"]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        config = load_config(config_path(tmp_path, server.base_url))
        questioner = QuestionerAgent.from_config(config)
        programmer = ProgrammerAgent.from_config(config)
        reply = questioner.generate_reply(messages=[{"role": "user", "content": "The run failed."}])
        answer = programmer.generate_reply(messages=[{"role": "user", "content": reply}])
    assert reply == PROSE
    assert server.requests[0]["stop"] == ["```"]
    assert "stop" not in server.requests[1]  # the programmer's calls are unchanged
    assert answer == "```python\nprint(1)\n```"


def test_in_an_ag2_chat_the_questioner_sends_the_prose_only(tmp_path: Path) -> None:
    with ScriptedServer({"questioner": [EXPLANATION_WITH_PROGRAM]}, key=key_by_role) as server:
        questioner = QuestionerAgent.from_config(load_config(config_path(tmp_path, server.base_url)))
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=0)
        user.initiate_chat(questioner, message="The run failed.", max_turns=1)
    assert user.chat_messages[questioner][-1]["content"] == PROSE


def test_without_the_option_the_reply_is_the_model_s_own(tmp_path: Path) -> None:
    with ScriptedServer({"questioner": [EXPLANATION_WITH_PROGRAM]}, key=key_by_role) as server:
        path = write_config(tmp_path, server.base_url, "unused:latest")
        questioner = QuestionerAgent.from_config(load_config(path))
        reply = questioner.generate_reply(messages=[{"role": "user", "content": "The run failed."}])
    assert reply == EXPLANATION_WITH_PROGRAM
    assert "stop" not in server.requests[0]
