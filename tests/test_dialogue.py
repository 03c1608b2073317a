"""Whole AIEV dialogues through a scripted teacher (real HTTP) and a real Docker sandbox."""

from __future__ import annotations

import pytest

from aiev_agents import ExecutorAgent, ProgrammerAgent, QuestionerAgent, Transcript, run_dialogue
from aiev_agents.config import ModelSpec
from aiev_agents.llm import llm_config_for
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
import transcripts as tx
from helpers import scripted_dialogue

pytestmark = pytest.mark.docker


def dialogue(executor: ExecutorAgent, seed: dict, questioner: list[str], programmer: list[str], **kw) -> Transcript:
    return scripted_dialogue(executor, seed, questioner, programmer, **kw)


def test_pass_at_first_try_is_verified(executor: ExecutorAgent) -> None:
    seed = {"id": "s1", "snippet": programs.SNIPPET}
    transcript = dialogue(executor, seed, [programs.PROBLEM], [programs.GOOD])
    assert transcript.verified is True
    assert transcript.status == "pass"
    assert transcript.rounds == 1
    assert transcript.problem == programs.PROBLEM
    assert transcript.executions[0].assertions == 2
    assert "all tests passed" in transcript.executions[0].output
    assert transcript.final_program.startswith("def add(a, b):")
    assert [(t.role, t.name) for t in transcript.messages] == [
        ("system", "programmer"),
        ("user", "questioner"),
        ("assistant", "programmer"),
        ("user", "executor"),
    ]
    assert transcript.messages[1].content.startswith(programs.PROBLEM + "\n\nAnswer with one complete program")
    assert transcript.messages[3].content.startswith("exitcode: 0 (execution succeeded)")
    assert transcript.usage["programmer"].completion_tokens == len(programs.GOOD.split())
    assert transcript.usage["questioner"].completion_tokens == len(programs.PROBLEM.split())


def test_failure_gets_explained_then_fixed(executor: ExecutorAgent) -> None:
    seed = {"id": "s2", "snippet": programs.SNIPPET}
    transcript = dialogue(executor, seed, [programs.PROBLEM, programs.EXPLANATION], [programs.BUGGY, programs.GOOD])
    assert transcript.verified is True
    assert transcript.rounds == 2
    assert [e.status for e in transcript.executions] == ["fail", "pass"]
    failed = transcript.executions[0]
    assert failed.exit_code == 1
    assert "AssertionError: add(2, 3) should be 5" in failed.output
    assert "harness" not in failed.output
    assert [(t.role, t.name) for t in transcript.messages][3:] == [
        ("user", "executor"),
        ("user", "questioner"),
        ("assistant", "programmer"),
        ("user", "executor"),
    ]
    assert transcript.messages[4].content == programs.EXPLANATION


def test_questioner_sees_the_failed_program_and_its_output(executor: ExecutorAgent) -> None:
    with ScriptedServer(
        {"questioner": [programs.EXPLANATION], "programmer": [programs.BUGGY, programs.GOOD]}, key=key_by_role
    ) as server:
        spec = ModelSpec(backend="openai_compatible", model="t", base_url=server.base_url)
        run_dialogue(
            {"id": "p", "problem": programs.PROBLEM},
            questioner=QuestionerAgent(llm_config=llm_config_for(spec)),
            programmer=ProgrammerAgent(llm_config=llm_config_for(spec)),
            executor=executor,
        )
        questioner_request = server.requests[1]["messages"][-1]["content"]
        second_programmer_call = server.requests[2]["messages"]
    assert programs.PROBLEM in questioner_request
    assert "return a - b" in questioner_request
    assert "AssertionError" in questioner_request
    # the programmer's model sees strictly alternating turns: execution output and explanation joined
    assert [m["role"] for m in second_programmer_call] == ["system", "user", "assistant", "user"]
    assert programs.EXPLANATION in second_programmer_call[-1]["content"]
    assert "exitcode: 1" in second_programmer_call[-1]["content"]


def test_problem_seed_skips_the_proposal(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"id": "s3", "problem": programs.PROBLEM}, [], [programs.UNITTEST])
    assert transcript.verified is True
    assert transcript.executions[0].test_cases == 2
    assert transcript.usage["questioner"].total_tokens == 0


def test_package_from_pip_is_installed_before_the_run(executor: ExecutorAgent) -> None:
    seed = {"id": "s4", "problem": "Render a table of squares with the tabulate package."}
    transcript = dialogue(executor, seed, [], [programs.WITH_PACKAGE])
    execution = transcript.executions[0]
    assert execution.packages == ["tabulate==0.9.0"]
    assert "Successfully installed tabulate-0.9.0" in execution.install_output
    assert transcript.verified is True
    assert transcript.final_packages == ["tabulate==0.9.0"]


def test_never_fixed_stops_at_the_round_limit_unverified(executor: ExecutorAgent) -> None:
    seed = {"id": "s5", "snippet": programs.SNIPPET}
    transcript = dialogue(
        executor,
        seed,
        [programs.PROBLEM, programs.EXPLANATION],
        [programs.BUGGY, programs.BUGGY],
        max_rounds=2,
    )
    assert transcript.verified is False
    assert transcript.status == "fail"
    assert transcript.rounds == 2
    assert transcript.messages[-1].name == "executor"


def test_program_without_tests_is_not_verified(executor: ExecutorAgent) -> None:
    seed = {"id": "s6", "problem": programs.PROBLEM}
    transcript = dialogue(executor, seed, [programs.EXPLANATION], [programs.NO_TESTS, programs.NO_TESTS], max_rounds=2)
    assert transcript.verified is False
    assert [e.status for e in transcript.executions] == ["no_tests", "no_tests"]
    assert [e.exit_code for e in transcript.executions] == [0, 0]
    assert "No test ran" in transcript.messages[3].content


def test_answer_without_code_is_a_failed_round(executor: ExecutorAgent) -> None:
    seed = {"id": "s7", "problem": programs.PROBLEM}
    transcript = dialogue(executor, seed, [programs.EXPLANATION], ["I would add the numbers.", programs.GOOD])
    assert [e.status for e in transcript.executions] == ["no_code", "pass"]
    assert transcript.verified is True


def test_transcript_round_trips_through_json(executor: ExecutorAgent) -> None:
    transcript = dialogue(executor, {"id": "s8", "problem": programs.PROBLEM}, [], [programs.GOOD])
    data = transcript.to_dict()
    assert data["schema"] == 1
    assert Transcript.from_dict(data) == transcript


def test_packages_of_an_earlier_dialogue_are_gone_in_the_next(executor: ExecutorAgent) -> None:
    dialogue(executor, {"id": "installs", "problem": "Render a table."}, [], [programs.WITH_PACKAGE])
    undeclared = programs.WITH_PACKAGE.split("```python", 1)[1]
    transcript = dialogue(
        executor, {"id": "relies", "problem": "Render a table again."}, [], ["```python" + undeclared], max_rounds=1
    )
    assert transcript.verified is False
    assert "ModuleNotFoundError: No module named 'tabulate'" in transcript.executions[0].output


def test_final_packages_keep_what_an_earlier_round_installed(executor: ExecutorAgent) -> None:
    failing_with_package = programs.WITH_PACKAGE.replace('["2", "4"]', '["2", "5"]')
    without_pip_line = "```python" + programs.WITH_PACKAGE.split("```python", 1)[1]
    transcript = dialogue(
        executor,
        {"id": "keeps", "problem": "Render a table of squares."},
        [programs.EXPLANATION],
        [failing_with_package, without_pip_line],
    )
    assert [e.status for e in transcript.executions] == ["fail", "pass"]
    assert transcript.executions[1].packages == []
    assert transcript.final_packages == ["tabulate==0.9.0"]


def shape(value: object) -> object:
    """The keys of a record at every level, with None kept apart: dicts by key, lists item by item
    (a list whose items all have one shape, such as mutants, is that shape once)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [shape(item) for item in value]
        return items[:1] if all(item == items[0] for item in items) else items
    return None if value is None else "value"


def test_hand_built_records_have_the_shape_of_a_real_one(executor: ExecutorAgent) -> None:
    """tests/transcripts.py builds the records the curate, export and report tests read: they must
    look like what run_dialogue writes (keys, turn layout, call ids, the checks of a verified sample)."""
    hand = tx.first_try()
    seed = dict(hand.seed)
    real = dialogue(executor, seed, [], [tx.python_answer(tx.ADD_PROGRAM)])
    assert (real.verified, hand.verified) == (True, True)
    real_record, hand_record = real.to_dict(), hand.to_dict()
    assert set(hand_record) == set(real_record)
    for key in ("messages", "executions", "usage", "timings", "checks", "models", "seed"):
        assert shape(hand_record[key]) == shape(real_record[key]), key
    assert [(t.role, t.name, t.content) for t in hand.messages[:2]] == [
        (t.role, t.name, t.content) for t in real.messages[:2]
    ]
    assert hand.messages[2].content == real.messages[2].content
    assert hand.checks["tests_ran"] == real.checks["tests_ran"]
