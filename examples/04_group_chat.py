"""The AIEV roles in an AG2 ``GroupChat``: AG2's own orchestration instead of ``run_dialogue``.

Shows: the three agents are ordinary AG2 agents. Allowed speaker transitions encode the AIEV
loop (questioner -> programmer -> executor -> questioner), so the manager needs no LLM to pick
the next speaker; the chat ends when the executor reports a passing run (its program exited 0
and its tests ran) or after ``dialogue.max_rounds`` programs. The questioner opens the chat with
the problem; after a failed run it sees the executor's report and asks for a fix.

``run_dialogue`` remains the way to make training records (``Transcript``); this example
prints the chat and whether it verified.

Run it with OpenAI as the teacher::

    export OPENAI_API_KEY=sk-...
    python examples/04_group_chat.py

or with any OpenAI-compatible server::

    export OPENAI_API_KEY=anything OPENAI_BASE_URL=http://127.0.0.1:8000/v1 AIEV_TEACHER_MODEL=my-model
    python examples/04_group_chat.py --problem "Write is_prime(n) with tests."

``AIEV_SANDBOX_IMAGE`` names the sandbox image (default ``python:3.12-slim``); ``--config``
picks another config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autogen import GroupChat, GroupChatManager

from aiev_agents import AievConfig, AievError, ExecutorAgent, ProgrammerAgent, QuestionerAgent, load_config

DEFAULT_PROBLEM = (
    "Write a Python function `fizzbuzz(n: int) -> list[str]` that returns the FizzBuzz sequence from 1 to n: "
    "'Fizz' for multiples of 3, 'Buzz' for multiples of 5, 'FizzBuzz' for multiples of both, otherwise the "
    "number as a string."
)

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "agent_configs" / "teaching.yaml"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="YAML config (default: agent_configs/teaching.yaml)")
    parser.add_argument("--problem", default=DEFAULT_PROBLEM, help="the problem the questioner opens with")
    return parser.parse_args()


def group_chat(
    questioner: QuestionerAgent, programmer: ProgrammerAgent, executor: ExecutorAgent, max_rounds: int
) -> GroupChatManager:
    """The AIEV loop as a graph of allowed speakers, ended by the executor's first passing run."""

    def passed(message: dict[str, Any]) -> bool:
        run = executor.last_execution
        return message.get("name") == executor.name and run is not None and run.passed

    transitions = {questioner: [programmer], programmer: [executor], executor: [questioner]}
    chat = GroupChat(
        agents=[questioner, programmer, executor],
        messages=[],
        # the problem, then programmer, executor and questioner per round (the last questioner turn never comes)
        max_round=3 * max_rounds,
        allowed_or_disallowed_speaker_transitions=transitions,
        speaker_transitions_type="allowed",
        speaker_selection_method="round_robin",  # one allowed successor each: no LLM picks the speaker
    )
    return GroupChatManager(groupchat=chat, llm_config=False, is_termination_msg=passed, silent=True)


def run(config: AievConfig, problem: str) -> tuple[list[dict[str, Any]], ExecutorAgent]:
    questioner = QuestionerAgent.from_config(config)
    programmer = ProgrammerAgent.from_config(config)
    executor = ExecutorAgent.from_config(config)
    try:
        manager = group_chat(questioner, programmer, executor, config.dialogue.max_rounds)
        questioner.initiate_chat(manager, message=problem, silent=True)
    finally:
        executor.close()  # removes the sandbox container
    return manager.groupchat.messages, executor


def show(messages: list[dict[str, Any]], executor: ExecutorAgent) -> None:
    for message in messages:
        print(f"--- {message['name']} ---\n{str(message.get('content') or '').strip()}\n")
    last = executor.last_execution
    verified = last is not None and last.passed
    print(f"verdict: {'VERIFIED' if verified else 'NOT VERIFIED'} ({last.status if last else 'no run'})")
    print(f"runs: {sum(message['name'] == executor.name for message in messages)}")
    print(f"speakers: {', '.join(message['name'] for message in messages)}")


def main() -> None:
    args = parse_args()
    try:
        messages, executor = run(load_config(args.config), args.problem)
    except AievError as exc:  # bad config, unset variable, Docker down
        sys.exit(f"error: {exc}")
    show(messages, executor)


if __name__ == "__main__":
    main()
