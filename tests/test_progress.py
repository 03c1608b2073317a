"""While `aiev generate` runs, it shows which dialogue, round and role is at work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aiev_agents import activity
from aiev_agents.cli import main
from aiev_agents.generate.progress import progress_events, step_text
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import problem_seeds, write_config


@pytest.mark.docker
def test_plain_lines_name_the_dialogue_round_and_role_of_each_step(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = {"questioner": [programs.EXPLANATION], "programmer": [programs.BUGGY, programs.GOOD]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        args = ["--config", str(config), "--seeds", str(problem_seeds(tmp_path, 1)), "--out", str(tmp_path / "out")]
        assert main(["generate", *args, "--no-progress"]) == 0

    lines = [re.sub(r"\(\d+\.\d s\)", "(s)", line) for line in capsys.readouterr().err.splitlines()]
    assert lines[:-1] == [
        "p0 round 1 programmer: started",
        "p0 round 1 programmer: done (s)",  # a remote model reports no tokens while it generates
        "p0 round 1 executor: done (s)",
        "p0 round 1 questioner: started",
        "p0 round 1 questioner: done (s)",
        "p0 round 2 programmer: started",
        "p0 round 2 programmer: done (s)",
        "p0 round 2 executor: done (s)",
        "p0 round 2 verdict checks: done (s)",
    ]
    assert lines[-1].startswith("p0: verified (pass, 2 round(s)")


def event(kind: str, tokens: int | None = None, *, elapsed: float = 8.5, generating: float = 0.0):
    step = activity.Step(dialogue="seed-3", round=2, role="programmer", kind="model", started=0.0)
    return activity.ActivityEvent(kind=kind, step=step, elapsed_s=elapsed, tokens=tokens, generating_s=generating)


@pytest.mark.parametrize(
    ("shown", "text"),
    [
        (event("started", elapsed=0.0), "seed-3 round 2 programmer: started"),
        (event("tokens", 1, elapsed=6.0), "seed-3 round 2 programmer: generating, 1 tokens (6.0 s)"),
        (event("tokens", 86, generating=5.0), "seed-3 round 2 programmer: generating, 86 tokens, 17.0 tok/s (8.5 s)"),
        (event("finished", 86, generating=5.0), "seed-3 round 2 programmer: done, 86 tokens, 17.0 tok/s (8.5 s)"),
    ],
)
def test_a_step_shows_its_tokens_and_rate_after_the_first_token(shown: activity.ActivityEvent, text: str) -> None:
    assert step_text(shown) == text


def test_the_problem_is_written_before_round_one() -> None:
    step = activity.Step(dialogue="s", round=0, role="questioner", kind="model", started=0.0)
    assert step_text(activity.ActivityEvent("started", step, 0.0)) == "s problem questioner: started"


def test_a_terminal_bar_describes_the_running_step_and_clears_it_after(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_events(bar=True) as events:
        events.on_plan(3)
        with activity.step("seed-3", 1, "programmer"):
            activity.tokens(1)
            drawn = capsys.readouterr().err.split("\r")
        cleared = capsys.readouterr().err.split("\r")
    assert drawn[-1].startswith("seed-3 round 1 programmer: generating, 1 tokens (0.0 s):   0%|")
    assert cleared[-1].startswith("  0%|")
