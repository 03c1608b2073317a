"""A prompt over the model's context through `aiev generate`: a finished dialogue, not a model outage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.cli import EXIT_USER_ERROR, main
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedReply, ScriptedServer, key_by_role

import programs
from helpers import problem_seeds, write_config

pytestmark = pytest.mark.docker

OVERFLOW = ScriptedReply(
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens. "
    "Please reduce the length of the messages.",
    status=400,
    error_code="context_length_exceeded",
    error_type="invalid_request_error",
)
OUTAGE = ScriptedReply("The server is overloaded", status=503)


def generate(config: Path, seeds: Path, out: Path, *options: str) -> int:
    return main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(out), "--no-progress",
                 *options])  # fmt: skip


def records(out: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in map(json.loads, (out / "dialogues.jsonl").read_text().splitlines())}


def test_an_overflowing_prompt_is_a_finished_dialogue_that_a_resume_does_not_retry(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out, seeds = tmp_path / "out", problem_seeds(tmp_path, 3)
    scripts = {
        "questioner": [programs.EXPLANATION],
        # p0: a failing program, then the fix's prompt overflows; p1: overflows at once; p2: passes
        "programmer": [programs.BUGGY, OVERFLOW, OVERFLOW, programs.GOOD],
    }
    with ScriptedServer(scripts, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        # one model error would stop the run: two overflows in a row must not
        code = generate(config, seeds, out, "--max-consecutive-model-errors", "1")
        assert (server.remaining("questioner"), server.remaining("programmer")) == (0, 0)
    assert code == 0

    written = records(out)
    assert list(written) == ["p0", "p1", "p2"]
    for overflowed, rounds in (("p0", 1), ("p1", 0)):
        record = written[overflowed]
        assert (record["status"], record["verified"], record["rounds"]) == ("context_exceeded", False, rounds)
        assert "the prompt of 'programmer' is over its model's context" in record["checks"]["context_exceeded"]
        assert "maximum context length is 8192 tokens" in record["checks"]["context_exceeded"]
    assert written["p0"]["executions"][0]["status"] == "fail"
    assert (written["p2"]["status"], written["p2"]["verified"]) == ("pass", True)
    assert not (out / "errors.jsonl").exists()

    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"] == {"dialogues": 3, "verified": 1, "model_errors": 0, "rounds": 2}
    assert manifest["sessions"][-1]["status"] == "done"
    report = json.loads((out / "report.json").read_text())
    assert report["failures"]["context_exceeded"] == 2
    assert report["failures"]["model_error"] == 0
    assert report["checks"]["context_exceeded"] == 2

    with ScriptedServer({}, key=key_by_role) as server:  # any call would get HTTP 500
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        assert generate(config, seeds, out) == 0
        assert server.requests == []
    assert list(records(out)) == ["p0", "p1", "p2"]


def test_a_real_outage_is_still_a_model_error_that_a_resume_retries(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    out, seeds = tmp_path / "out", problem_seeds(tmp_path, 2)
    with ScriptedServer({"programmer": [OVERFLOW, OUTAGE]}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        assert generate(config, seeds, out) == 0
    assert [(r["id"], r["status"]) for r in records(out).values()] == [("p0", "context_exceeded")]
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["id"], e["error_type"]) for e in errors] == [("p1", "ModelUnavailable")]
    assert "overloaded" in errors[0]["error"]

    with ScriptedServer({"programmer": [OUTAGE]}, key=key_by_role) as server:  # only p1 is tried again
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        assert generate(config, seeds, out) == EXIT_USER_ERROR
        assert len(server.requests) == 1
    assert "1 dialogue(s) failed on the model (see errors.jsonl), 0 finished" in capsys.readouterr().err

    with ScriptedServer({"programmer": [programs.GOOD]}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        assert generate(config, seeds, out) == 0
        assert server.remaining("programmer") == 0
    assert [(r["id"], r["status"]) for r in records(out).values()] == [("p0", "context_exceeded"), ("p1", "pass")]
