"""Runs for the viewer's tests and screenshots, made by `aiev generate` against the scripted teacher."""

from __future__ import annotations

import json
from pathlib import Path

from aiev_agents.config import load_config
from aiev_agents.generate.pipeline import Generation, GenerationOptions
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import write_config, write_seeds

#: A second wrong program: the failed dialogue's two rounds differ, so its fix has a diff.
BUGGY_AGAIN = programs.BUGGY.replace("return a - b", "return a * b")

#: Seed id → how its dialogue goes with ``max_rounds: 2``.
OUTCOMES = {
    "first-try": "verified in round 1",
    "fixed": "fails, is explained, verified in round 2",
    "never-passed": "fails twice: not verified",
    "also-first-try": "verified in round 1",
}


def make_scripted_run(folder: Path, image: str) -> Path:
    """A real run in ``folder/run``: one dialogue per entry of ``OUTCOMES``, in that order."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = write_seeds(
        folder,
        [json.dumps({"id": seed, "problem": f"{programs.PROBLEM} ({seed})", "source": "tests"}) for seed in OUTCOMES],
    )
    scripts = {
        "questioner": [programs.EXPLANATION] * 3,
        "programmer": [programs.GOOD, programs.BUGGY, programs.GOOD, programs.BUGGY, BUGGY_AGAIN, programs.GOOD],
    }
    out = folder / "run"
    with ScriptedServer(scripts, key=key_by_role) as server:
        config = write_config(folder, server.base_url, image, max_rounds=2)
        Generation(load_config(config), options=GenerationOptions(workers=1)).run(seeds, out)
    return out
