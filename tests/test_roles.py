"""Roles: the registry, extra roles in the dialogue, and users' own subclasses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from custom_roles import SigningProgrammer

from aiev_agents import ConfigError, ExecutorAgent, load_config, run_dialogue
from aiev_agents.dialogue.transcript import Transcript
from aiev_agents.generate.pipeline import Generation, GenerationOptions
from aiev_agents.generate.workers import Agents
from aiev_agents.roles import registered_roles, resolve_role_class
from aiev_agents.roles.registry import BUILTIN_ROLES
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import write_config, write_seeds

SOLUTION_ONLY = "```python\ndef add(a, b):\n    return a + b\n```\n"
HIDDEN_TESTS = "```python\nassert add(2, 3) == 5\nassert add(-4, 4) == 0\n```\n"
TRIVIAL_TESTS = "```python\ndef add(a, b):\n    return a + b\n\n\nassert True\n```\n"
CRITIQUE = "The test `assert True` checks nothing: assert add(2, 3) == 5 and a negative case."


def config_with_roles(tmp_path: Path, base_url: str, image: str, roles_yaml: str) -> Path:
    path = write_config(tmp_path, base_url, image)
    path.write_text(path.read_text() + "roles:\n" + roles_yaml)
    return path


def dialogue_of_config(config_path: Path, seed_id: str, executor: ExecutorAgent) -> Transcript:
    """One dialogue on the scripted problem, played by the agents (extra roles too) the config names."""
    agents = Agents.from_config(load_config(config_path))
    return run_dialogue(
        {"id": seed_id, "problem": programs.PROBLEM},
        questioner=agents.questioner,
        programmer=agents.programmer,
        executor=executor,
        extras=agents.extras,
    )


def test_registry_lists_the_shipped_roles() -> None:
    assert set(BUILTIN_ROLES) <= set(registered_roles())
    assert resolve_role_class("reviewer").__name__ == "ReviewerAgent"


def test_a_package_registers_a_role_through_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "my_roles-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-roles\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[aiev_agents.roles]\nsigner = custom_roles:SigningProgrammer\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registered_roles()["signer"] == "custom_roles:SigningProgrammer"
    assert resolve_role_class("signer") is SigningProgrammer


def test_unknown_extra_role_is_a_config_error_with_a_suggestion(tmp_path: Path) -> None:
    path = config_with_roles(tmp_path, "http://127.0.0.1:9/v1", "img", "  reviwer: {}\n")
    with pytest.raises(ConfigError, match=r"unknown role `reviwer` \(did you mean `reviewer`\?\)"):
        load_config(path)


def test_unknown_key_inside_an_extra_role_is_a_config_error(tmp_path: Path) -> None:
    path = config_with_roles(tmp_path, "http://127.0.0.1:9/v1", "img", "  reviewer: {modle: teacher}\n")
    with pytest.raises(ConfigError, match="role `reviewer`: unknown key `modle`"):
        load_config(path)


def test_a_class_path_that_does_not_import_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot import role class 'nowhere.module:Role'"):
        resolve_role_class("programmer", "nowhere.module:Role")


def test_extra_roles_play_the_stage_model_and_keep_their_options(tmp_path: Path) -> None:
    roles = "  reviewer:\n    options: {max_reviews: 2}\n  test_writer: {}\n"
    config = load_config(config_with_roles(tmp_path, "http://127.0.0.1:9/v1", "img", roles))
    assert list(config.roles.extras()) == ["reviewer", "test_writer"]
    assert config.roles.reviewer.model == "teacher"
    assert config.roles.reviewer.options == {"max_reviews": 2}


@pytest.mark.docker
def test_test_writer_tests_are_hidden_from_the_programmer_and_decide_the_verdict(
    tmp_path: Path, sandbox_settings: SandboxSettings, executor: ExecutorAgent
) -> None:
    scripts = {"test_writer": [HIDDEN_TESTS], "programmer": [SOLUTION_ONLY]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        path = config_with_roles(tmp_path, server.base_url, sandbox_settings.image, "  test_writer: {}\n")
        transcript = dialogue_of_config(path, "t", executor)
        programmer_calls = [r for r in server.requests if key_by_role(r) == "programmer"]
    assert transcript.verified is True
    run = transcript.executions[0]
    assert (run.status, run.assertions) == ("no_tests", 0)  # the programmer's program has no tests of its own
    assert run.hidden_tests["status"] == "pass" and run.hidden_tests["assertions"] == 2  # the hidden ones decide
    assert run.hidden_tests["called"] == ["add"]
    assert transcript.checks["mutation"]["killed"] >= 1  # mutants judged by the hidden tests
    assert "add(-4, 4)" not in transcript.final_program  # the sample is the programmer's program
    assert [(t.name, t.content) for t in transcript.side_turns] == [("test_writer", HIDDEN_TESTS)]
    assert all("add(-4, 4)" not in json.dumps(call["messages"]) for call in programmer_calls)
    assert all("add(-4, 4)" not in turn.content for turn in transcript.messages)
    assert transcript.models["test_writer"] == "scripted-teacher"


@pytest.mark.docker
def test_reviewer_sends_trivial_tests_back_before_they_run(
    tmp_path: Path, sandbox_settings: SandboxSettings, executor: ExecutorAgent
) -> None:
    scripts = {"reviewer": [CRITIQUE, "APPROVED"], "programmer": [TRIVIAL_TESTS, programs.GOOD]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        roles = "  reviewer:\n    options: {max_reviews: 2}\n"
        path = config_with_roles(tmp_path, server.base_url, sandbox_settings.image, roles)
        transcript = dialogue_of_config(path, "r", executor)
        assert server.remaining("reviewer") == 0
    assert transcript.verified is True
    assert len(transcript.executions) == 1
    assert [(t.role, t.name) for t in transcript.messages][1:] == [
        ("user", "questioner"),
        ("assistant", "programmer"),
        ("user", "reviewer"),
        ("assistant", "programmer"),
        ("user", "executor"),
    ]
    assert transcript.messages[3].content == CRITIQUE
    assert [t.content for t in transcript.side_turns] == ["APPROVED"]


@pytest.mark.docker
def test_a_users_subclass_named_in_yaml_runs_in_the_pipeline(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    roles = "  programmer:\n    class: custom_roles:SigningProgrammer\n    options: {signature: '# signed by test'}\n"
    seeds = write_seeds(tmp_path, [json.dumps({"id": "u", "problem": programs.PROBLEM})])
    with ScriptedServer({"programmer": [programs.GOOD]}, key=key_by_role) as server:
        config = load_config(config_with_roles(tmp_path, server.base_url, sandbox_settings.image, roles))
        Generation(config, options=GenerationOptions(use_cache=False)).run(seeds, tmp_path / "out")
    record = json.loads((tmp_path / "out" / "dialogues.jsonl").read_text())
    assert record["verified"] is True
    assert record["final_program"].startswith("# signed by test\ndef add(a, b):")


def test_an_extra_role_without_a_known_place_is_refused(executor: ExecutorAgent) -> None:
    from custom_roles import MisplacedRole

    with ScriptedServer({}) as server:
        config = {"config_list": [{"model": "m", "api_type": "openai", "api_key": "x", "base_url": server.base_url}]}
        misplaced = MisplacedRole(system_message="Judge.", llm_config=config)
        with pytest.raises(ConfigError, match=r"misplaced \('somewhere'\)"):
            run_dialogue(
                {"id": "m", "problem": "p"},
                questioner=misplaced,
                programmer=misplaced,
                executor=executor,
                extras=[misplaced],
            )
