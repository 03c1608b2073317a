"""A programmer that sends back a program that already failed is told so and answers again in the
same round (``dialogue.send_back_repeats``); without the setting the program runs again."""

from __future__ import annotations

from typing import Any

import pytest

from aiev_agents.roles.executor import ExecutorAgent
from aiev_agents.testing import key_by_role

import programs
from helpers import scripted_dialogue

pytestmark = pytest.mark.docker

SEED = {"id": "r", "problem": programs.PROBLEM}
#: The same buggy program, with other blank lines and trailing spaces: the same code.
BUGGY_AGAIN = programs.BUGGY.replace("\n", "  \n\n")


def test_a_repeated_failing_program_is_sent_back_before_it_runs(
    executor: ExecutorAgent,
) -> None:
    requests: list[dict[str, Any]] = []
    transcript = scripted_dialogue(
        executor, SEED, [programs.EXPLANATION], [programs.BUGGY, BUGGY_AGAIN, programs.GOOD],
        requests=requests, max_rounds=2, send_back_repeats=True,
    )  # fmt: skip

    assert (transcript.verified, transcript.rounds) == (True, 2)
    assert [e.status for e in transcript.executions] == ["fail", "pass"]
    names = [turn.name for turn in transcript.messages]
    assert names[-4:] == ["programmer", "executor", "programmer", "executor"]
    note = transcript.messages[-3].content
    assert note.startswith("This program is the same as the one that failed in round 1")
    programmer_calls = [r for r in requests if key_by_role(r) == "programmer"]
    assert len(programmer_calls) == 3
    assert programmer_calls[-1]["messages"][-1]["content"] == note


def test_without_the_setting_a_repeated_program_runs_again(executor: ExecutorAgent) -> None:
    transcript = scripted_dialogue(executor, SEED, [programs.EXPLANATION], [programs.BUGGY, BUGGY_AGAIN], max_rounds=2)

    assert [e.status for e in transcript.executions] == ["fail", "fail"]
    assert "This program is the same" not in "".join(turn.content for turn in transcript.messages)


def test_a_program_that_changed_is_run_as_it_is(executor: ExecutorAgent) -> None:
    transcript = scripted_dialogue(
        executor, SEED, [programs.EXPLANATION], [programs.BUGGY, programs.GOOD], max_rounds=2, send_back_repeats=True
    )
    assert [e.status for e in transcript.executions] == ["fail", "pass"]
