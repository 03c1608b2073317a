"""One AIEV dialogue with agents built in code, AG2 style: no YAML at all.

Shows: the roles are plain AG2 ``ConversableAgent`` subclasses that take your own
``llm_config`` dict, and the executor takes ``SandboxSettings`` for its Docker sandbox.

Run it with OpenAI as the teacher::

    export OPENAI_API_KEY=sk-...
    python examples/02_custom_script.py

or with any OpenAI-compatible server::

    export OPENAI_API_KEY=anything OPENAI_BASE_URL=http://127.0.0.1:8000/v1 AIEV_TEACHER_MODEL=my-model
    python examples/02_custom_script.py

``AIEV_SANDBOX_IMAGE`` names the sandbox image (default ``python:3.12-slim``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from aiev_agents import AievError, ExecutorAgent, ProgrammerAgent, QuestionerAgent, Transcript, run_dialogue
from aiev_agents.sandbox import SandboxSettings

SEED = {
    "id": "is-palindrome",
    "problem": "Write a Python function `is_palindrome(text: str) -> bool` that tells whether the text reads "
    "the same forwards and backwards, ignoring case and every character that is not a letter or a digit.",
}

#: Appended to the shipped programmer prompt: roles are ordinary AG2 agents, so edit them as such.
HOUSE_RULE = "Use only the Python standard library."


def teacher_llm_config() -> dict[str, Any]:
    """An AG2 ``llm_config``: one OpenAI-compatible endpoint, read from the environment."""
    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key:
        sys.exit("error: set OPENAI_API_KEY (any value for a server that needs no key)")
    entry = {
        "api_type": "openai",
        "model": os.environ.get("AIEV_TEACHER_MODEL", "gpt-4-turbo"),
        "api_key": api_key,
        "temperature": 0.2,
    }
    if os.environ.get("OPENAI_BASE_URL"):
        entry["base_url"] = os.environ["OPENAI_BASE_URL"]
    return {"config_list": [entry], "cache_seed": None}  # no AG2 disk cache: every run asks the model


def show(transcript: Transcript) -> None:
    for turn in transcript.messages[1:]:  # the first message is the programmer's system prompt
        print(f"--- {turn.name} ---\n{turn.content.strip()}\n")
    runs = ", ".join(execution.status for execution in transcript.executions)
    print(f"verdict: {'VERIFIED' if transcript.verified else 'NOT VERIFIED'} ({transcript.status})")
    print(f"rounds: {transcript.rounds} (runs: {runs})")
    print(f"speakers: {', '.join(turn.name for turn in transcript.messages[1:])}")
    print(f"final program:\n{transcript.final_program.strip()}")


def build_agents() -> tuple[QuestionerAgent, ProgrammerAgent, ExecutorAgent]:
    llm_config = teacher_llm_config()
    questioner = QuestionerAgent(name="questioner", llm_config=llm_config)
    programmer = ProgrammerAgent(name="programmer", llm_config=llm_config)
    programmer.update_system_message(f"{programmer.system_message}\n\n{HOUSE_RULE}")
    image = os.environ.get("AIEV_SANDBOX_IMAGE", "python:3.12-slim")
    executor = ExecutorAgent(name="executor", sandbox=SandboxSettings(image=image, timeout_s=20, memory="512m"))
    return questioner, programmer, executor


def main() -> None:
    questioner, programmer, executor = build_agents()
    try:
        transcript = run_dialogue(SEED, questioner=questioner, programmer=programmer, executor=executor, max_rounds=3)
    except AievError as exc:  # Docker down, model unreachable
        sys.exit(f"error: {exc}")
    finally:
        executor.close()  # removes the sandbox container
    show(transcript)


if __name__ == "__main__":
    main()
