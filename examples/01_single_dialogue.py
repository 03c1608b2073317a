"""One AIEV dialogue from a YAML config, printed turn by turn.

Shows: loading a config, building the three roles with ``Role.from_config``, running
``run_dialogue`` with a live ``on_turn`` display, and closing the executor's sandbox.

Run it with OpenAI as the teacher::

    export OPENAI_API_KEY=sk-...
    python examples/01_single_dialogue.py

or with any OpenAI-compatible server::

    export OPENAI_API_KEY=anything OPENAI_BASE_URL=http://127.0.0.1:8000/v1 AIEV_TEACHER_MODEL=my-model
    python examples/01_single_dialogue.py --problem "Write is_prime(n) with tests."

``AIEV_SANDBOX_IMAGE`` names the sandbox image (default ``python:3.12-slim``); ``--config``
picks another config, ``--snippet`` or ``--problem`` another seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiev_agents import (
    AievConfig,
    AievError,
    ExecutorAgent,
    ProgrammerAgent,
    QuestionerAgent,
    Transcript,
    Turn,
    load_config,
    run_dialogue,
)

DEFAULT_SNIPPET = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "agent_configs" / "teaching.yaml"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="YAML config (default: agent_configs/teaching.yaml)")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--problem", help="a ready problem statement (the questioner skips the proposal)")
    seed.add_argument("--snippet", help="code that inspires the problem (default: a clamp function)")
    return parser.parse_args()


def seed_from(args: argparse.Namespace) -> dict[str, str]:
    if args.problem:
        return {"id": "example", "problem": args.problem}
    return {"id": "example", "snippet": args.snippet or DEFAULT_SNIPPET}


def show_turn(turn: Turn) -> None:
    """Called by the dialogue as each turn happens (the system prompt is left out)."""
    if turn.role != "system":
        print(f"--- {turn.name} ({turn.role}) ---\n{turn.content.strip()}\n")


def show_result(transcript: Transcript) -> None:
    speakers = [turn.name for turn in transcript.messages if turn.role != "system"]
    print(f"verdict: {'VERIFIED' if transcript.verified else 'NOT VERIFIED'} ({transcript.status})")
    print(f"rounds: {transcript.rounds}")
    print(f"speakers: {', '.join(speakers)}")
    print(f"final program:\n{transcript.final_program.strip()}")


def run(config: AievConfig, seed: dict[str, str]) -> Transcript:
    """Build the roles as the config describes them and run one dialogue."""
    questioner = QuestionerAgent.from_config(config)
    programmer = ProgrammerAgent.from_config(config)
    executor = ExecutorAgent.from_config(config)
    try:
        return run_dialogue(
            seed,
            questioner=questioner,
            programmer=programmer,
            executor=executor,
            max_rounds=config.dialogue.max_rounds,
            stage=config.stage,
            on_turn=show_turn,
        )
    finally:
        executor.close()  # removes the sandbox container


def main() -> None:
    args = parse_args()
    try:
        transcript = run(load_config(args.config), seed_from(args))
    except AievError as exc:  # bad config, unset variable, Docker down, model unreachable
        sys.exit(f"error: {exc}")
    show_result(transcript)


if __name__ == "__main__":
    main()
