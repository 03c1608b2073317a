"""Runs at their edges: an error in one dialogue of a batch, Ctrl-C, a cancelled dialogue."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from aiev_agents import ConfigError, ProgrammerAgent, QuestionerAgent, SandboxUnavailable, load_config, run_dialogue
from aiev_agents.errors import DialogueAbandoned
from aiev_agents.generate.pipeline import Generation, GenerationEvents, GenerationOptions
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedReply, ScriptedServer, key_by_role

import programs
import transcripts
from helpers import problem_seeds, start_generate, stored_ids, wait_until, write_config


class FakeBackend:
    """Hands back futures of ready-made transcripts: an exception for some seeds, a delay for others."""

    def __init__(self, outcomes: dict[str, Any]) -> None:
        self.outcomes = outcomes
        self.submitted: list[str] = []
        self.closed = False

    def start(self, count: int, cache: Any) -> list[str]:
        return [f"worker-{i}" for i in range(count)]

    def submit(self, seed: Any, worker: str) -> Future[Any]:
        self.submitted.append(seed.id)
        future: Future[Any] = Future()
        outcome = self.outcomes.get(seed.id)
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        elif isinstance(outcome, float):  # still running when the others end
            threading.Timer(outcome, lambda: future.set_result(transcripts.first_try(seed.id))).start()
        else:
            future.set_result(transcripts.first_try(seed.id))
        return future

    def close(self, workers: list[str]) -> None:
        self.closed = True


def generation_with(tmp_path: Path, backend: FakeBackend, **options: Any) -> Generation:
    events = options.pop("events", None)
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9/v1", "aiev-sandbox:latest"))
    generation = Generation(config, options=GenerationOptions(**options), events=events)
    generation.make_backend = lambda: backend  # type: ignore[method-assign]
    return generation


def test_a_dialogue_that_fails_on_the_sandbox_keeps_its_batch_and_the_dialogues_in_flight(tmp_path: Path) -> None:
    backend = FakeBackend({"p1": SandboxUnavailable("the sandbox could not be restarted"), "p3": 0.5})
    out = tmp_path / "out"
    with pytest.raises(SandboxUnavailable, match="could not be restarted"):
        generation_with(tmp_path, backend, workers=4).run(problem_seeds(tmp_path, 6), out)
    assert sorted(stored_ids(out)) == ["p0", "p2", "p3"]  # p3 ended after the failure was seen
    assert sorted(backend.submitted) == ["p0", "p1", "p2", "p3"]  # nothing new started after it
    assert backend.closed
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"]["dialogues"] == 3
    assert manifest["sessions"][-1]["status"] == "failed: SandboxUnavailable"
    assert (out / "report.md").exists()


def test_a_step_that_fails_after_a_record_still_writes_the_rest_of_the_batch(tmp_path: Path) -> None:
    calls: list[str] = []

    def on_done(transcript: Any, manifest: Any) -> None:  # stands in for a comparison at a block's end
        calls.append(transcript.id)
        if len(calls) == 1:
            raise RuntimeError("the comparison failed")

    backend = FakeBackend({})
    out = tmp_path / "out"
    generation = generation_with(tmp_path, backend, workers=3, events=GenerationEvents(on_done=on_done))
    with pytest.raises(RuntimeError, match="the comparison failed"):
        generation.run(problem_seeds(tmp_path, 5), out)
    assert sorted(stored_ids(out)) == ["p0", "p1", "p2"]
    assert sorted(calls) == ["p0", "p1", "p2"]
    assert json.loads((out / "run.json").read_text())["sessions"][-1]["status"] == "failed: RuntimeError"


class RecordingExecutor:
    """An executor stand-in: counts resets and runs (a cancelled dialogue must reach neither)."""

    name = "executor"
    feedback_chars = 4000

    def __init__(self) -> None:
        self.resets = 0
        self.runs = 0
        self.last_execution = None

    def reset_sandbox(self) -> None:
        self.resets += 1

    def generate_reply(self, messages: Any = None, **kwargs: Any) -> str:
        self.runs += 1
        raise AssertionError("a cancelled dialogue ran a program")


def test_a_cancelled_dialogue_stops_at_its_next_step_and_acts_on_no_later_reply(tmp_path: Path) -> None:
    cancel = threading.Event()

    def respond(body: dict[str, Any]) -> ScriptedReply:
        cancel.set()  # Ctrl-C while the questioner's model is answering
        return ScriptedReply(programs.PROBLEM)

    with ScriptedServer(responder=respond) as server:
        config = load_config(write_config(tmp_path, server.base_url, "aiev-sandbox:latest"))
        agents = {"questioner": QuestionerAgent.from_config(config), "programmer": ProgrammerAgent.from_config(config)}
        executor = RecordingExecutor()
        with pytest.raises(DialogueAbandoned, match="abandoned"):
            run_dialogue({"id": "s", "snippet": programs.SNIPPET}, **agents, executor=executor, cancel=cancel)
        assert len(server.requests) == 1  # the questioner's: the programmer is never asked
    assert (executor.resets, executor.runs) == (1, 0)

    before = RecordingExecutor()
    with pytest.raises(DialogueAbandoned):
        run_dialogue({"id": "t", "problem": programs.PROBLEM}, **agents, executor=before, cancel=cancel)
    assert before.resets == 0  # set before it started: the sandbox is not touched at all


@pytest.mark.docker
def test_ctrl_c_abandons_dialogues_in_flight_keeps_finished_ones_and_leaves_no_container(
    tmp_path: Path, sandbox_settings: SandboxSettings, docker_client: Any
) -> None:
    out = tmp_path / "out"
    seeds = problem_seeds(tmp_path, 8)
    with ScriptedServer({"programmer": [programs.GOOD] * 8}, key=key_by_role, latency_s=4.0) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        process = start_generate(config, seeds, out, "--workers", "2", **pipes)
        wait_until(lambda: stored_ids(out) or process.poll() is not None, poll_s=0.05)
        assert stored_ids(out), process.communicate()
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - interrupted_at
        late_calls = [at for at in server.arrivals if at > interrupted_at + 1.0]
        leftovers = docker_client.containers.list(all=True, filters={"label": f"aiev-agents.owner-pid={process.pid}"})
    assert process.returncode == 130, err
    assert "interrupted; finished dialogues are saved" in err
    assert "Traceback" not in err
    assert took < 8, f"the command took {took:.1f} s to return after Ctrl-C"
    assert late_calls == []  # no model call started for an abandoned dialogue
    assert leftovers == []
    kept = stored_ids(out)
    assert 1 <= len(kept) < 8 and len(set(kept)) == len(kept)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["sessions"][-1]["status"] == "interrupted"
    assert manifest["counts"]["dialogues"] == len(kept)


@pytest.mark.parametrize(
    "options",
    [{"max_budget_usd": 0}, {"max_budget_usd": -1.5}, {"max_budget_usd": float("nan")}, {"workers": 0}],
)
def test_limits_that_could_never_be_met_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="must be"):
        GenerationOptions(**options)
