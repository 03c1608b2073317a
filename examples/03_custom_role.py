"""A role of your own in the AIEV dialogue: a test critic that reads each program before it runs.

Shows: subclassing ``AievRole`` (an AG2 ``ConversableAgent``) with its own system prompt,
placing it with ``place = "before_execution"``, and passing it to ``run_dialogue`` through
``extras=[...]``. The dialogue asks the critic before each run; a critique goes back to the
programmer (it becomes part of the sample), an approval is kept aside in ``side_turns``.

Run it with OpenAI as the teacher::

    export OPENAI_API_KEY=sk-...
    python examples/03_custom_role.py

or with any OpenAI-compatible server::

    export OPENAI_API_KEY=anything OPENAI_BASE_URL=http://127.0.0.1:8000/v1 AIEV_TEACHER_MODEL=my-model
    python examples/03_custom_role.py --problem "Write is_prime(n) with tests."

``AIEV_SANDBOX_IMAGE`` names the sandbox image (default ``python:3.12-slim``); ``--config``
picks another config (the critic plays the programmer's model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, ClassVar

from aiev_agents import (
    AievConfig,
    AievError,
    ExecutorAgent,
    ProgrammerAgent,
    QuestionerAgent,
    Transcript,
    load_config,
    run_dialogue,
)
from aiev_agents.roles import AievRole

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "agent_configs" / "teaching.yaml"

DEFAULT_PROBLEM = (
    "Write a Python function `reverse_words(sentence: str) -> str` that returns the words of the sentence "
    "in reverse order, separated by single spaces. Leading, trailing and repeated spaces are ignored."
)

CRITIC_PROMPT = """You are a strict test critic. You read a programming problem and a candidate
program with its tests before the program runs. You care only about the tests.

Approve only tests that would catch a wrong solution: concrete expected values, edge cases
(empty input, one element, boundaries) and no assertion that is always true. If the tests
meet that bar, answer with the single word LGTM. Otherwise list, in at most three short
points, which tests are missing or useless and what they should assert. Never write code."""


class TestCritic(AievRole):
    """Sends a program back while its tests are weak; the dialogue asks it before each run."""

    __test__ = False  # not a pytest class
    role_name = "test_critic"
    place: ClassVar[str] = "before_execution"

    def __init__(self, *args: Any, max_reviews: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("system_message", CRITIC_PROMPT)
        super().__init__(*args, **kwargs)
        self.max_reviews = max_reviews  # critiques per dialogue; then programs run unreviewed

    @staticmethod
    def review_request(problem: str, answer: str) -> str:
        return f"Problem:\n\n{problem}\n\nCandidate program:\n\n{answer}\n\nAre these tests strong enough?"

    @staticmethod
    def approves(review: str) -> bool:
        return review.strip().upper().startswith("LGTM")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="YAML config (default: agent_configs/teaching.yaml)")
    parser.add_argument("--problem", default=DEFAULT_PROBLEM, help="the problem statement")
    return parser.parse_args()


def run(config: AievConfig, problem: str) -> Transcript:
    programmer = ProgrammerAgent.from_config(config)
    critic = TestCritic(llm_config=programmer.llm_config)  # the critic plays the programmer's model
    executor = ExecutorAgent.from_config(config)
    try:
        return run_dialogue(
            {"id": "critic-example", "problem": problem},
            questioner=QuestionerAgent.from_config(config),
            programmer=programmer,
            executor=executor,
            max_rounds=config.dialogue.max_rounds,
            extras=[critic],
        )
    finally:
        executor.close()


def show(transcript: Transcript) -> None:
    """The dialogue with the critic's place in it: critiques in line, approvals after."""
    turns = transcript.messages[1:]  # the first message is the programmer's system prompt
    for number, turn in enumerate(turns, start=1):
        print(f"--- {number}. {turn.name} ---\n{turn.content.strip()}\n")
    print(f"verdict: {'VERIFIED' if transcript.verified else 'NOT VERIFIED'} ({transcript.status})")
    print(f"rounds: {transcript.rounds}")
    print(f"speakers: {', '.join(turn.name for turn in turns)}")
    runs_before = 0
    for number, turn in enumerate(turns, start=1):
        runs_before += turn.name == "executor"
        if turn.name == TestCritic.role_name:
            print(f"test_critic sent program back before run {runs_before + 1} (turn {number}): {turn.content.strip()}")
    for turn in transcript.side_turns:
        print(f"{turn.name} approved a program before its run (kept aside): {turn.content.strip()}")


def main() -> None:
    args = parse_args()
    try:
        transcript = run(load_config(args.config), args.problem)
    except AievError as exc:
        sys.exit(f"error: {exc}")
    show(transcript)


if __name__ == "__main__":
    main()
