"""Several candidate programs per turn: sampled in one request, all run, the first that passes kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiev_agents import ProgrammerAgent, QuestionerAgent, run_dialogue
from aiev_agents.cli import main
from aiev_agents.config import ModelSpec
from aiev_agents.errors import ConfigError
from aiev_agents.llm import llm_config_for
from aiev_agents.roles.executor import ExecutorAgent
from aiev_agents.roles.reviewer import ReviewerAgent
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import problem_seeds, write_config

pytestmark = pytest.mark.docker


def dialogue(executor: ExecutorAgent, script: dict[str, list[str]], candidates: int, server: ScriptedServer):
    config = llm_config_for(ModelSpec(backend="openai_compatible", model="t", base_url=server.base_url))
    return run_dialogue(
        {"id": "c", "problem": programs.PROBLEM},
        questioner=QuestionerAgent(llm_config=config),
        programmer=ProgrammerAgent(llm_config=config),
        executor=executor,
        max_rounds=2,
        candidates=candidates,
    )


def test_the_first_candidate_that_passes_is_the_turn_and_every_candidate_is_recorded(executor: ExecutorAgent) -> None:
    script = {"programmer": [programs.BUGGY, programs.GOOD, programs.NO_TESTS]}
    with ScriptedServer(script, key=key_by_role) as server:
        transcript = dialogue(executor, script, 3, server)
        requests = [r for r in server.requests if key_by_role(r) == "programmer"]

    assert [r["n"] for r in requests] == [3]  # one request for the three programs
    assert (transcript.verified, transcript.rounds) == (True, 1)
    [execution] = transcript.executions
    assert execution.status == "pass"
    candidates = [(c.index, c.status, c.kept) for c in execution.candidates]
    assert candidates == [(0, "fail", False), (1, "pass", True), (2, "no_tests", False)]
    assert execution.candidates[0].content == programs.BUGGY
    programmer_turns = [t.content for t in transcript.messages if t.name == "programmer" and t.role == "assistant"]
    assert programmer_turns == [programs.GOOD]


def test_when_no_candidate_passes_the_first_is_repaired(executor: ExecutorAgent) -> None:
    script = {
        "programmer": [programs.BUGGY, programs.NO_TESTS, programs.GOOD, programs.BUGGY],
        "questioner": [programs.EXPLANATION],
    }
    with ScriptedServer(script, key=key_by_role) as server:
        transcript = dialogue(executor, script, 2, server)

    assert (transcript.verified, transcript.rounds) == (True, 2)
    first, second = transcript.executions
    assert [(c.status, c.kept) for c in first.candidates] == [("fail", True), ("no_tests", False)]
    assert first.status == "fail" and second.status == "pass"
    assert [c.kept for c in second.candidates] == [True, False]
    programmer_turns = [t.content for t in transcript.messages if t.name == "programmer" and t.role == "assistant"]
    assert programmer_turns == [programs.BUGGY, programs.GOOD]


def test_candidates_cannot_be_combined_with_a_reviewer(executor: ExecutorAgent) -> None:
    with ScriptedServer({}, key=key_by_role) as server:
        config = llm_config_for(ModelSpec(backend="openai_compatible", model="t", base_url=server.base_url))
        with pytest.raises(ConfigError, match="candidates above 1 cannot be combined with a before_execution role"):
            run_dialogue(
                "Write add(x, y).",
                questioner=QuestionerAgent(llm_config=config),
                programmer=ProgrammerAgent(llm_config=config),
                executor=executor,
                extras=[ReviewerAgent(llm_config=config)],
                candidates=2,
            )
        assert server.requests == []


def test_generate_reads_candidates_from_the_config(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    script = {"programmer": [programs.BUGGY, programs.GOOD]}
    with ScriptedServer(script, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image, candidates=2)
        seeds = problem_seeds(tmp_path, 1)
        assert main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out"),
                     "--no-progress"]) == 0  # fmt: skip
    [record] = [json.loads(line) for line in (tmp_path / "out" / "dialogues.jsonl").read_text().splitlines()]
    assert record["verified"] is True
    assert [c["status"] for c in record["executions"][0]["candidates"]] == ["fail", "pass"]
