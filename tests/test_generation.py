"""Generation at scale: workers, resume, cache, limits, model failures, manifest."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from aiev_agents import ConfigError, ModelUnavailable, load_config
from aiev_agents.generate.pipeline import Generation, GenerationOptions
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedReply, ScriptedServer, key_by_role

import programs
from helpers import problem_seeds, start_generate, stored_ids, wait_until, write_config, write_seeds

pytestmark = pytest.mark.docker


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "dialogues.jsonl").read_text().splitlines()]


def generate(config_path: Path, seeds: Path, out: Path, **options: object):
    return Generation(load_config(config_path), options=GenerationOptions(**options)).run(seeds, out)


@contextmanager
def first_of_two_dialogues_written(tmp_path: Path, image: str) -> Iterator[tuple[ScriptedServer, Path, Path, Path]]:
    """A run in ``tmp_path/out`` stopped after the first of two seeds; the teacher, still up, has one
    answer left. Yields the server, the config, the seeds and the output folder."""
    out = tmp_path / "out"
    seeds = problem_seeds(tmp_path, 2)
    with ScriptedServer({"programmer": [programs.GOOD] * 2}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, image)
        generate(config, seeds, out, max_dialogues=1)
        yield server, config, seeds, out


def test_workers_run_dialogues_at_once_and_write_each_id_once(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = problem_seeds(tmp_path, 6)
    with ScriptedServer({"programmer": [programs.GOOD] * 6}, key=key_by_role, latency_s=0.3) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        summary = generate(config, seeds, tmp_path / "out", workers=3)
        assert server.max_in_flight == 3
    assert (summary.dialogues, summary.verified) == (6, 6)
    assert sorted(r["id"] for r in records(tmp_path / "out")) == [f"p{i}" for i in range(6)]


def test_model_concurrency_limit_holds_across_workers(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    seeds = problem_seeds(tmp_path, 4)
    with ScriptedServer({"programmer": [programs.GOOD] * 4}, key=key_by_role, latency_s=0.2) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image, model_extra={"max_concurrency": 1})
        generate(config, seeds, tmp_path / "out", workers=4)
        assert server.max_in_flight == 1
    assert len(records(tmp_path / "out")) == 4


def test_resume_skips_written_seeds_repairs_a_torn_line_and_writes_no_id_twice(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out = tmp_path / "out"
    seeds = problem_seeds(tmp_path, 3)
    with ScriptedServer({"programmer": [programs.GOOD]}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        generate(config, seeds, out, max_dialogues=1)
    with (out / "dialogues.jsonl").open("a") as handle:
        handle.write('{"id": "p1", "verified": tr')  # a crash in the middle of a write
    with ScriptedServer({"programmer": [programs.GOOD] * 2}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        summary = generate(config, seeds, out)
        assert server.remaining("programmer") == 0
    assert (summary.dialogues, summary.skipped_existing) == (2, 1)
    assert [r["id"] for r in records(out)] == ["p0", "p1", "p2"]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"]["dialogues"] == 3
    assert [s["counts"]["dialogues"] for s in manifest["sessions"]] == [1, 2]
    assert manifest["sessions"][0]["status"] == "done"


def test_another_config_on_the_same_out_is_refused_unless_forced(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    with first_of_two_dialogues_written(tmp_path, sandbox_settings.image) as (server, config, seeds, out):
        other = write_config(tmp_path, server.base_url, sandbox_settings.image, max_rounds=5)
        with pytest.raises(ConfigError, match="holds data made with another config"):
            generate(other, seeds, out)
        assert generate(other, seeds, out, force=True).dialogues == 1
    assert len(records(out)) == 2


def test_cache_replays_finished_turns_without_calling_the_model(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = problem_seeds(tmp_path, 2)
    cache = tmp_path / "cache.sqlite"
    with ScriptedServer({"programmer": [programs.GOOD] * 2}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        generate(config, seeds, tmp_path / "first", cache_path=cache)
        assert server.remaining("programmer") == 0
        generate(config, seeds, tmp_path / "second", cache_path=cache)  # the script is used up: cache only
    replayed = records(tmp_path / "second")
    assert [r["verified"] for r in replayed] == [True, True]
    assert [r["usage"]["programmer"]["total_tokens"] for r in replayed] == [0, 0]


def test_no_cache_calls_the_model_again(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    seeds = problem_seeds(tmp_path, 1)
    with ScriptedServer({"programmer": [programs.GOOD] * 2}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        generate(config, seeds, tmp_path / "a", use_cache=False)
        generate(config, seeds, tmp_path / "b", use_cache=False)
        assert server.remaining("programmer") == 0
    assert not (tmp_path / "a" / "llm_cache.sqlite").exists()


def test_rate_limit_is_retried_honouring_retry_after(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    seeds = problem_seeds(tmp_path, 1)
    script = [ScriptedReply("slow down", status=429, retry_after_s=1), programs.GOOD]
    with ScriptedServer({"programmer": script}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image, max_retries=2)
        started = time.monotonic()
        summary = generate(config, seeds, tmp_path / "out")
        waited = time.monotonic() - started
    assert summary.verified == 1
    assert waited >= 1.0


def test_a_failing_model_fails_its_dialogue_with_a_reason_not_the_run(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = problem_seeds(tmp_path, 3)

    def respond(body: dict) -> ScriptedReply:
        last = body["messages"][-1]["content"]
        return ScriptedReply("overloaded", status=500) if "variant 1" in last else ScriptedReply(programs.GOOD)

    with ScriptedServer(responder=respond) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image, max_retries=1)
        summary = generate(config, seeds, tmp_path / "out")
    assert (summary.dialogues, summary.model_errors) == (2, 1)
    assert [r["id"] for r in records(tmp_path / "out")] == ["p0", "p2"]
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert [e["id"] for e in errors] == ["p1"]
    assert "overloaded" in errors[0]["error"]


def test_a_model_that_keeps_failing_stops_the_run_after_consecutive_errors(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = problem_seeds(tmp_path, 5)
    with ScriptedServer(responder=lambda body: ScriptedReply("down", status=503)) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        with pytest.raises(ModelUnavailable, match="3 dialogue"):
            generate(config, seeds, tmp_path / "out", max_consecutive_model_errors=3)
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["counts"]["model_errors"] == 3
    assert manifest["sessions"][-1]["status"] == "model_errors"


@pytest.mark.parametrize(
    ("options", "reason", "written"),
    [
        ({"max_dialogues": 2}, "done", 2),
        ({"max_samples": 1}, "max_samples", 1),
        ({"max_budget_usd": 0.001}, "max_budget", 1),
    ],
)
def test_limits_stop_cleanly_with_whole_records(
    tmp_path: Path, sandbox_settings: SandboxSettings, options: dict, reason: str, written: int
) -> None:
    seeds = problem_seeds(tmp_path, 4)
    with ScriptedServer({"programmer": [programs.GOOD] * 4}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image, model_extra={"price": [1.0, 1.0]})
        summary = generate(config, seeds, tmp_path / "out", **options)
    assert summary.stop_reason == reason
    assert len(records(tmp_path / "out")) == written
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    ledger = manifest["ledger"]["programmer"]["scripted-teacher"]
    assert ledger["cost"] == pytest.approx(sum(r["usage"]["programmer"]["cost"] for r in records(tmp_path / "out")))
    assert ledger["cost"] > 0


def test_kill_9_loses_only_dialogues_in_flight_and_leaves_no_container_after_the_next_start(
    tmp_path: Path, sandbox_settings: SandboxSettings, docker_client: docker.DockerClient
) -> None:
    out = tmp_path / "out"
    seeds = problem_seeds(tmp_path, 6)
    with ScriptedServer({"programmer": [programs.GOOD] * 12}, key=key_by_role, latency_s=0.5) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        process = start_generate(config, seeds, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: len(stored_ids(out)) >= 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kept = stored_ids(out)
        assert len(kept) >= 2
        summary = generate(config, seeds, out)
    ids = [r["id"] for r in records(out)]
    assert sorted(ids) == [f"p{i}" for i in range(6)]
    assert ids[: len(kept)] == kept
    assert summary.skipped_existing == len(kept)
    leftovers = docker_client.containers.list(all=True, filters={"label": f"aiev-agents.owner-pid={process.pid}"})
    assert leftovers == []


def test_ag2_runtime_log_holds_every_call_and_records_point_into_it(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = write_seeds(tmp_path, [json.dumps({"id": "logged", "snippet": programs.SNIPPET})])
    log_db = tmp_path / "ag2.sqlite"
    with ScriptedServer({"questioner": [programs.PROBLEM], "programmer": [programs.GOOD]}, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        generate(config, seeds, tmp_path / "out", log_db=log_db)
    record = records(tmp_path / "out")[0]
    call_ids = [turn["call_id"] for turn in record["messages"] if turn["call_id"]]
    with sqlite3.connect(log_db) as db:
        logged = [json.loads(row[0])["id"] for row in db.execute("SELECT response FROM chat_completions")]
        agents = {row[0] for row in db.execute("SELECT name FROM agents")}
    assert len(call_ids) == 2
    assert sorted(call_ids) == sorted(logged)
    assert agents == {"questioner", "programmer"}
    assert record["trace"]["ag2_session_id"]


def test_manifest_totals_are_rebuilt_from_the_records_on_resume(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    with first_of_two_dialogues_written(tmp_path, sandbox_settings.image) as (_, config, seeds, out):
        # a crash after the record was written but before the manifest was saved
        extra = dict(records(out)[0], id="written-before-the-crash")
        (out / "dialogues.jsonl").open("a").write(json.dumps(extra) + "\n")
        generate(config, seeds, out)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"]["dialogues"] == 3
    assert manifest["counts"]["verified"] == 3
