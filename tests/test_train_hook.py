"""The train command of `stage: auto`: it runs before each comparison, its failures and a student that
is down leave the block undecided without losing anything, and both train modes switch to a student
that the training made better."""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_stage import RIGHT, WRONG, function_of, held_out_block, record, write_two_model_config

from aiev_agents.config import load_config
from aiev_agents.errors import ConfigError
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.stage import StageController, StageSwitchSettings, stage_markdown, stage_summary
from aiev_agents.stage.train_hook import train_argv
from aiev_agents.testing import ScriptedReply, ScriptedServer

from helpers import stored_ids

#: The train command the tests run: it reads the train split, writes `trained-<block>` into the student's
#: state folder (the scripted student reads it), and can fail, or wait until generation has gone on.
TRAIN_SCRIPT = """\
import pathlib, sys, time
train, test, block, state = sys.argv[1:5]
options = dict(zip(sys.argv[5::2], sys.argv[6::2]))
state = pathlib.Path(state)
if "--fail-if" in options and pathlib.Path(options["--fail-if"]).exists():
    print("loading the base model", flush=True)
    print("CUDA out of memory", file=sys.stderr)
    sys.exit(3)
if "--wait-lines" in options:  # overlap: generation must go on while this trains
    dialogues, wanted = pathlib.Path(options["--wait-lines"]), int(options["--lines"])
    deadline = time.monotonic() + 120
    while not dialogues.exists() or len(dialogues.read_text().splitlines()) < wanted:
        if time.monotonic() > deadline:
            sys.exit(4)
        time.sleep(0.1)
samples = pathlib.Path(train).read_text().splitlines()
print(f"trained on {len(samples)} samples, held out {pathlib.Path(test).name}")
state.mkdir(parents=True, exist_ok=True)
(state / f"trained-{block}").write_text(train)
"""


def train_command(tmp_path: Path, *options: str) -> str:
    script = tmp_path / "train script.py"  # a space in the path: it stays one argument
    script.write_text(TRAIN_SCRIPT)
    fixed = [sys.executable, str(script)]
    state = tmp_path / "student state"
    return shlex.join(fixed) + " {train} {test} {block} " + shlex.join([str(state), *options])


class Models:
    """The scripted teacher and student of a run in ``out``.

    The teacher answers right while it teaches and wrong when asked again about a problem whose
    record is already stored (a comparison). The student answers right only once the train
    command has run (a `trained-*` file in its state folder), and is down (HTTP 503) while
    ``student_down()`` says so.
    """

    def __init__(self, tmp_path: Path, out: Path, student_down: Any = None) -> None:
        self.state, self.out = tmp_path / "student state", out
        self.student_down = student_down or (lambda: False)
        self.student_saw_training: list[bool] = []

    def trained(self) -> bool:
        return self.state.is_dir() and any(self.state.glob("trained-*"))

    def __call__(self, body: dict[str, Any]) -> ScriptedReply:
        content = body["messages"][-1]["content"]
        function = function_of(content)
        if body["model"] == "scripted-teacher":
            case = re.search(r"Case (\d+)\.", content)
            asked_again = case is not None and f"r{case.group(1)}" in stored_ids(self.out)
            return ScriptedReply((WRONG if asked_again else RIGHT)[function])
        if self.student_down():
            return ScriptedReply("the student server is restarting", status=503)
        self.student_saw_training.append(self.trained())
        return ScriptedReply((RIGHT if self.trained() else WRONG)[function])


def auto_config(tmp_path: Path, base_url: str, image: str, **switch: Any) -> Path:
    settings = {"block_size": 4, "test_fraction": 0.25, **switch}
    extra = "stage_switch:\n" + "".join(f"  {key}: {json.dumps(value)}\n" for key, value in settings.items())
    path = write_two_model_config(tmp_path, base_url, image, extra)
    path.write_text(path.read_text().replace("stage: teaching", "stage: auto"))
    return path


def write_seeds(tmp_path: Path, count: int) -> Path:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(json.dumps({"id": r["id"], "problem": r["problem"]}) + "\n" for r in map(record, range(count)))
    )
    return seeds


def generate(config_path: Path, seeds: Path, out: Path) -> Any:
    from aiev_agents.generate.pipeline import Generation, GenerationOptions

    return Generation(load_config(config_path), options=GenerationOptions(workers=1, use_cache=False)).run(seeds, out)


def rows_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "dialogues.jsonl").read_text().splitlines()]


def stage_state(out: Path) -> dict[str, Any]:
    return json.loads((out / "stage.json").read_text())


# -- the command line, the settings, the record (no sandbox) -------------------------------------


def test_placeholders_are_replaced_inside_arguments_after_the_split(tmp_path: Path) -> None:
    block = held_out_block(tmp_path / "my run")
    argv = train_argv("train.sh --data={train} '{test}' {block} {out}/ckpt {other} 'a b'", block, tmp_path / "my run")
    assert argv == [
        "train.sh",
        f"--data={(tmp_path / 'my run/splits/block-0001.train.jsonl').resolve()}",
        str((tmp_path / "my run/splits/block-0001.test.jsonl").resolve()),
        "1",
        f"{(tmp_path / 'my run').resolve()}/ckpt",
        "{other}",  # not a placeholder: kept
        "a b",
    ]


@pytest.mark.parametrize("command", ["", "train.sh 'open quote"])
def test_a_train_command_that_does_not_split_is_a_config_error(tmp_path: Path, command: str) -> None:
    path = auto_config(tmp_path, "http://127.0.0.1:9/v1", "img", train_command=command)
    with pytest.raises(ConfigError, match="train_command"):
        load_config(path)


def test_the_train_settings_do_not_change_the_config_hash(tmp_path: Path) -> None:
    plain = load_config(auto_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    training = load_config(
        auto_config(tmp_path, "http://127.0.0.1:9/v1", "img", train_command="t {train}", train_mode="overlap")
    )
    assert plain.config_hash() == training.config_hash()
    assert training.stage_switch.train_mode == "overlap"


def test_a_failing_train_command_leaves_the_block_undecided_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "broken").write_text("")
    config = load_config(auto_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    settings = StageSwitchSettings(train_command=train_command(tmp_path, "--fail-if", str(tmp_path / "broken")))
    controller = StageController(config, tmp_path, mode="auto", settings=settings)
    assert controller.after_block(held_out_block(tmp_path)) is None  # no comparison: no model was asked
    state = stage_state(tmp_path)
    (run,) = state["trainings"]
    assert (state["stage"], state["decisions"], run["status"], run["exit_code"]) == ("teaching", [], "failed", 3)
    assert "CUDA out of memory" in run["output_tail"] and "loading the base model" in run["output_tail"]
    assert run["error"] == f"the train command exited with status 3 after {run['duration_s']:.1f} s: CUDA out of memory"
    log = Path(run["log_path"])
    assert log.name == "block-0001.train.log" and "CUDA out of memory" in log.read_text()
    assert run["command"][5:] == [str(tmp_path / "student state"), "--fail-if", str(tmp_path / "broken")]
    markdown = "\n".join(stage_markdown(stage_summary(tmp_path)))
    assert "| 1 | failed | 3 |" in markdown and "CUDA out of memory" in markdown


def test_a_train_command_that_cannot_start_or_runs_too_long_fails(tmp_path: Path) -> None:
    config = load_config(auto_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    block = held_out_block(tmp_path)
    missing = StageSwitchSettings(train_command=f"{tmp_path}/no-such-trainer {{train}}")
    assert StageController(config, tmp_path, mode="auto", settings=missing).after_block(block) is None
    slow = StageSwitchSettings(
        train_command=shlex.join([sys.executable, "-c", "import time; time.sleep(30)"]), train_timeout_s=0.5
    )
    started = time.monotonic()
    assert StageController(config, tmp_path, mode="auto", settings=slow).after_block(block) is None
    assert time.monotonic() - started < 10
    runs = stage_state(tmp_path)["trainings"]
    assert [(r["status"], r["exit_code"]) for r in runs] == [("not_started", None), ("timeout", None)]
    assert runs[0]["error"].startswith("the train command cannot start: No such file or directory")
    assert runs[1]["error"] == "the train command ran past train_timeout_s (0.5 s) and was stopped"


def test_a_schema_1_stage_file_still_reads(tmp_path: Path) -> None:
    (tmp_path / "stage.json").write_text(json.dumps({"schema": 1, "mode": "auto", "stage": "teaching"}))
    config = load_config(auto_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    assert StageController(config, tmp_path).trainings == []


# -- with the sandbox -----------------------------------------------------------------------------


@pytest.mark.docker
def test_a_student_that_cannot_be_reached_postpones_the_comparison_and_training_is_not_repeated(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    config = load_config(auto_config(tmp_path, "http://127.0.0.1:9/v1", sandbox_settings.image))
    controller = StageController(
        config, tmp_path, mode="auto", settings=StageSwitchSettings(train_command=train_command(tmp_path))
    )
    block = held_out_block(tmp_path)
    assert controller.after_block(block) is None  # connection refused: no exception, no decision
    assert controller.after_block(block) is None  # and again, trained once
    state = stage_state(tmp_path)
    assert [r["status"] for r in state["trainings"]] == ["ok"]
    assert [(p["block"], p["decided_at_block"]) for p in state["postponed"]] == [(1, None), (1, None)]
    assert "failed on every problem" in state["postponed"][0]["error"]
    assert (state["stage"], state["decisions"]) == ("teaching", [])


@pytest.mark.docker
def test_wait_mode_trains_the_student_before_the_comparison_and_switches_to_it(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out = tmp_path / "out"
    models = Models(tmp_path, out)
    with ScriptedServer(responder=models) as server:
        path = auto_config(tmp_path, server.base_url, sandbox_settings.image, train_command=train_command(tmp_path))
        summary = generate(path, write_seeds(tmp_path, 8), out)
    assert summary.verified == 8
    assert [(r["stage"], r["models"]["programmer"]) for r in rows_of(out)] == [("teaching", "scripted-teacher")] * 4 + [
        ("self_learning", "scripted-student")
    ] * 4
    assert models.student_saw_training and all(models.student_saw_training)  # never asked before the training
    state = stage_state(out)
    (run,) = state["trainings"]
    assert (run["block"], run["status"], run["exit_code"]) == (1, "ok", 0)
    assert "trained on 3 samples, held out block-0001.test.jsonl" in run["output_tail"]
    assert run["command"][2:5] == [
        str((out / "splits" / f"block-0001.{p}.jsonl").resolve()) for p in ("train", "test")
    ] + ["1"]
    assert (tmp_path / "student state" / "trained-1").read_text() == run["command"][2]
    assert [
        (d["block"], d["teacher_pass_at_1"], d["student_pass_at_1"], d["switched"]) for d in state["decisions"]
    ] == [(1, 0.0, 1.0, True)]
    report = json.loads((out / "report.json").read_text())["stage_switch"]
    assert report["trainings"][0]["status"] == "ok" and "output_tail" in report["trainings"][0]
    assert "| 1 | ok | 0 |" in (out / "report.md").read_text()


@pytest.mark.docker
def test_a_failed_training_keeps_every_sample_and_a_rerun_trains_again_and_decides(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out, broken = tmp_path / "out", tmp_path / "broken"
    broken.write_text("")
    models = Models(tmp_path, out)
    seeds = write_seeds(tmp_path, 4)
    with ScriptedServer(responder=models) as server:
        command = train_command(tmp_path, "--fail-if", str(broken))
        path = auto_config(tmp_path, server.base_url, sandbox_settings.image, train_command=command)
        first = generate(path, seeds, out)
        state = stage_state(out)
        assert (first.stop_reason, first.verified, state["decisions"], state["stage"]) == ("done", 4, [], "teaching")
        assert [(r["status"], r["exit_code"]) for r in state["trainings"]] == [("failed", 3)]
        assert "CUDA out of memory" in state["trainings"][0]["error"]
        assert len(rows_of(out)) == 4 and (out / "splits" / "block-0001.train.jsonl").exists()
        assert "failed" in (out / "report.md").read_text()
        assert not any(body["model"] == "scripted-student" for body in server.requests)  # no comparison ran
        broken.unlink()  # fixed: the rerun trains again
        second = generate(path, seeds, out)
    state = stage_state(out)
    assert (second.dialogues, second.skipped_existing) == (0, 4)
    assert [(r["block"], r["status"]) for r in state["trainings"]] == [(1, "failed"), (1, "ok")]
    assert [(d["block"], d["switched"]) for d in state["decisions"]] == [(1, True)]
    assert state["stage"] == "self_learning" and len(rows_of(out)) == 4


@pytest.mark.docker
def test_a_student_that_is_down_postpones_the_comparison_to_the_next_block(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out = tmp_path / "out"
    models = Models(tmp_path, out, student_down=lambda: not (out / "splits" / "block-0002.test.jsonl").exists())
    with ScriptedServer(responder=models) as server:
        path = auto_config(tmp_path, server.base_url, sandbox_settings.image)  # no training: a served student
        state_dir = tmp_path / "student state"
        state_dir.mkdir()
        (state_dir / "trained-0").write_text("")  # the student answers right whenever it is up
        first = generate(path, write_seeds(tmp_path, 4), out)
        assert first.stop_reason == "done" and stage_state(out)["stage"] == "teaching"
        second = generate(path, write_seeds(tmp_path, 8), out)  # the resume retries block 1: still down
    assert (second.stop_reason, second.dialogues) == ("done", 4)
    state = stage_state(out)
    assert [(p["block"], p["decided_at_block"]) for p in state["postponed"]] == [(1, 2), (1, 2)]
    assert "scripted-student" in state["postponed"][0]["error"]
    assert [(d["block"], d["student_pass_at_1"], d["switched"]) for d in state["decisions"]] == [(2, 1.0, True)]
    assert [r["stage"] for r in rows_of(out)] == ["teaching"] * 8
    assert "comparison of block 1 postponed" in (out / "report.md").read_text()


class GatedServer(ScriptedServer):
    """A scripted server that holds a teacher's dialogue request, outside its lock, while ``hold(body)``."""

    def __init__(self, hold: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold = hold

    def reply_to(self, body: dict[str, Any]) -> ScriptedReply:
        deadline = time.monotonic() + 60
        while self.hold(body) and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().reply_to(body)


@pytest.mark.docker
def test_overlap_mode_keeps_generating_while_the_student_trains_then_switches(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    out = tmp_path / "out"
    models = Models(tmp_path, out)

    def comparing(body: dict[str, Any]) -> bool:
        """Trained, not decided yet: a new dialogue of the teacher waits (the comparison must not lose a race)."""
        case = re.search(r"Case (\d+)\.", body["messages"][-1]["content"])
        new_problem = case is not None and f"r{case.group(1)}" not in stored_ids(out)
        decided = (out / "stage.json").exists() and stage_state(out)["decisions"]
        return body["model"] == "scripted-teacher" and new_problem and models.trained() and not decided

    # the training ends only once two dialogues of block 2 are stored: in wait mode it would time out
    command = train_command(tmp_path, "--wait-lines", str(out / "dialogues.jsonl"), "--lines", "6")
    with GatedServer(comparing, responder=models) as server:
        path = auto_config(
            tmp_path, server.base_url, sandbox_settings.image, train_command=command, train_mode="overlap"
        )
        path.write_text(path.read_text().replace("timeout_s: 10", "timeout_s: 120"))
        summary = generate(path, write_seeds(tmp_path, 12), out)
    stages = [r["stage"] for r in rows_of(out)]
    teaching = stages.count("teaching")
    assert summary.verified == 12 and 6 <= teaching < 12
    assert stages == ["teaching"] * teaching + ["self_learning"] * (12 - teaching)
    state = stage_state(out)
    assert [(r["block"], r["status"]) for r in state["trainings"]] == [(1, "ok")]
    assert [(d["block"], d["switched"]) for d in state["decisions"]] == [(1, True)]
    assert all(models.student_saw_training)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["extra"]["stage"] == "self_learning"
