"""The AIEV roles in an AG2 ``GroupChat``: AG2's own orchestration instead of ``run_dialogue``.

Shows: the three agents are ordinary AG2 agents. Allowed speaker transitions encode the AIEV
loop (questioner -> programmer -> executor -> questioner), so the manager needs no LLM to pick
the next speaker; the chat ends when the executor reports a passing run (its program exited 0
and its tests ran) or after ``dialogue.max_rounds`` programs. The questioner opens the chat with
the problem; after a failed run it sees the executor's report and asks for a fix.

A passing run is not yet a verified program: the last program then goes through the library's
own verdict (``aiev_agents.dialogue.verdict.program.verdict_of_program``: tests that call the solution,
mutation testing, the config's ``dialogue.verdict`` gates), exactly as ``run_dialogue`` judges a
dialogue's last round. ``run_dialogue`` remains the way to make training records
(``Transcript``); this example prints the chat and the verdict.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autogen import GroupChat, GroupChatManager

from aiev_agents import AievConfig, AievError, ExecutorAgent, ProgrammerAgent, QuestionerAgent, load_config
from aiev_agents.codeblocks import split_program
from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.dialogue.verdict.program import packages_installed, verdict_of_program

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


def record_runs(executor: ExecutorAgent) -> list[ExecutionResult]:
    """The executor's runs, one per report it sends (their packages stay in the sandbox)."""
    runs: list[ExecutionResult] = []

    def record(sender: Any, message: Any, recipient: Any, silent: bool) -> Any:
        if executor.last_execution is not None:
            runs.append(executor.last_execution)
        return message

    executor.register_hook("process_message_before_send", record)
    return runs


def last_program(messages: list[dict[str, Any]], programmer: str, executor: str) -> str:
    """The programmer's last reply before the executor's last report (the program that ran last)."""
    last_report = max((i for i, m in enumerate(messages) if m.get("name") == executor), default=-1)
    replies = [m for m in messages[:last_report] if m.get("name") == programmer]
    return str(replies[-1].get("content") or "") if replies else ""


@dataclass
class Outcome:
    """What the chat said, and what the library makes of its last program."""

    messages: list[dict[str, Any]]
    executor: str
    last_run: ExecutionResult | None
    verified: bool
    status: str
    checks: dict[str, Any]


def run(config: AievConfig, problem: str) -> Outcome:
    questioner = QuestionerAgent.from_config(config)
    programmer = ProgrammerAgent.from_config(config)
    executor = ExecutorAgent.from_config(config)
    runs = record_runs(executor)
    try:
        manager = group_chat(questioner, programmer, executor, config.dialogue.max_rounds)
        questioner.initiate_chat(manager, message=problem, silent=True)
        messages = manager.groupchat.messages
        final = split_program(last_program(messages, programmer.name, executor.name))
        packages = packages_installed(runs, final.packages)
        # the library's verdict, as run_dialogue's: evidence, mutation testing, the config's gates
        verified, status, checks = verdict_of_program(executor, final.python, packages, config.dialogue.verdict)
    finally:
        executor.close()  # removes the sandbox container
    return Outcome(messages, executor.name, executor.last_execution, verified, status, checks)


def show(outcome: Outcome) -> None:
    for message in outcome.messages:
        print(f"--- {message['name']} ---\n{str(message.get('content') or '').strip()}\n")
    print(f"verdict: {'VERIFIED' if outcome.verified else 'NOT VERIFIED'} ({outcome.status})")
    print(f"last run: {outcome.last_run.status if outcome.last_run else 'none'}; checks: {', '.join(outcome.checks)}")
    print(f"runs: {sum(message['name'] == outcome.executor for message in outcome.messages)}")
    print(f"speakers: {', '.join(message['name'] for message in outcome.messages)}")


def main() -> None:
    args = parse_args()
    try:
        outcome = run(load_config(args.config), args.problem)
    except AievError as exc:  # bad config, unset variable, Docker down
        sys.exit(f"error: {exc}")
    show(outcome)


if __name__ == "__main__":
    main()
