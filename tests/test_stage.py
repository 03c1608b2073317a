"""The stage switch: held-out comparison of teacher and student, the margin, and the recorded decision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.cli import main
from aiev_agents.config import AievConfig, load_config
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.stage import StageController, StageSwitchSettings, config_for_stage, decide
from aiev_agents.stage.compare import Comparison, held_out_tests, solution_code
from aiev_agents.stage.splits import Block, BlockSplitter
from aiev_agents.testing import ScriptedReply, ScriptedServer

from helpers import host_ca_bundle

RIGHT = {
    "add": "```python\ndef add(a, b):\n    return a + b\n\n\nassert add(2, 3) == 5\nprint('ok')\n```",
    "mul": (
        "```python\ndef mul(a, b):\n    return a * b\n\n\nif __name__ == '__main__':\n    assert mul(3, 4) == 12\n```"
    ),
}
WRONG = {
    "add": "```python\ndef add(a, b):\n    return a - b\n\n\nassert add(1, 1) == 0\n```",
    "mul": "```python\ndef mul(a, b):\n    return a + b\n```",
}
RECORD_PROGRAMS = {
    "add": "def add(a, b):\n    return a + b\n\n\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n",
    "mul": (
        "import unittest\n\n\ndef mul(a, b):\n    return a * b\n\n\nclass MulTest(unittest.TestCase):\n"
        "    def test_mul(self):\n        self.assertEqual(mul(3, 4), 12)\n\n\n"
        "if __name__ == '__main__':\n    unittest.main()\n"
    ),
}


def function_of(text: str) -> str:
    return "mul" if "mul(" in text else "add"


def record(i: int) -> dict[str, Any]:
    name = "mul" if i % 2 else "add"
    return {
        "id": f"r{i}",
        "verified": True,
        "problem": f"Write `{name}(a, b)` returning the {'product' if name == 'mul' else 'sum'}. Case {i}.",
        "final_program": RECORD_PROGRAMS[name],
        "final_packages": [],
    }


def write_two_model_config(folder: Path, base_url: str, image: str, extra: str = "") -> Path:
    """A config whose teacher and student are two model names at the scripted server."""
    models = "".join(
        f"  {name}:\n    backend: openai_compatible\n    model: scripted-{name}\n    base_url: {base_url}\n"
        "    max_retries: 0\n    timeout_s: 10\n"
        for name in ("teacher", "student")
    )
    text = f"stage: teaching\nmodels:\n{models}sandbox:\n  image: {image}\n  ca_bundle: {host_ca_bundle() or ''}\n"
    path = folder / "config.yaml"
    path.write_text(text + extra)
    return path


def responder(correct: set[str]) -> Any:
    """Models named in ``correct`` answer right; the others answer wrong."""

    def reply(body: dict[str, Any]) -> ScriptedReply:
        function = function_of(body["messages"][-1]["content"])
        return ScriptedReply((RIGHT if body["model"] in correct else WRONG)[function])

    return reply


def held_out_block(folder: Path, count: int = 5, fraction: float = 0.4) -> Block:
    splitter = BlockSplitter(folder / "splits", block_size=count, test_fraction=fraction)
    blocks = [splitter.add(record(i)) for i in range(count)]
    assert blocks[-1] is not None
    return blocks[-1]


# -- the switch rule and the stage configs (no sandbox) ------------------------------------------


@pytest.mark.parametrize(
    ("teacher", "student", "margin", "switched"),
    [
        (0.5, 0.5, 0.0, False),  # a tie is no win
        (0.5, 0.51, 0.0, True),
        (0.5, 0.55, 0.1, False),  # higher, but not by the margin
        (0.7, 0.8, 0.1, False),  # exactly the margin is not more (0.8 - 0.7 > 0.1 in floats)
        (0.5, 0.7, 0.1, True),
    ],
)
def test_the_student_must_beat_the_teacher_by_more_than_the_margin(
    teacher: float, student: float, margin: float, switched: bool
) -> None:
    decision = decide(1, "s", "c", teacher, student, 10, StageSwitchSettings(margin=margin))
    assert (decision.switched, decision.stage) == (switched, "self_learning" if switched else "teaching")


def test_no_problem_scored_is_no_switch() -> None:
    assert not decide(1, "s", "c", 0.0, 1.0, 0, StageSwitchSettings()).switched


def test_the_self_learning_config_lets_the_student_play_the_teachers_roles(tmp_path: Path) -> None:
    config = load_config(write_two_model_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    switched = config_for_stage(config, "self_learning")
    assert (switched.stage, switched.roles.programmer.model, switched.roles.questioner.model) == (
        "self_learning",
        "student",
        "student",
    )
    assert (config.stage, config.roles.programmer.model) == ("teaching", "teacher")  # the original is untouched


def test_a_fixed_stage_never_compares(tmp_path: Path) -> None:
    config = load_config(write_two_model_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    controller = StageController(config, tmp_path)
    assert controller.current_stage() == "teaching"
    assert controller.after_block(held_out_block(tmp_path)) is None
    assert not (tmp_path / "stage.json").exists()


def test_a_recorded_switch_holds_for_a_resumed_run(tmp_path: Path) -> None:
    config = load_config(write_two_model_config(tmp_path, "http://127.0.0.1:9/v1", "img"))
    StageController(config, tmp_path, mode="auto").record(decide(1, "s", "c", 0.2, 0.6, 10, StageSwitchSettings()))
    resumed = StageController(config, tmp_path, mode="auto")
    assert resumed.current_stage() == "self_learning"
    assert resumed.effective_config().roles.programmer.model == "student"
    assert [d.block for d in resumed.decisions] == [1]


# -- what a held-out record tests -------------------------------------------------------------------


def test_the_tests_of_a_record_are_its_program_without_the_solution() -> None:
    assert held_out_tests(RECORD_PROGRAMS["add"]) == "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
    unittest_tests = held_out_tests(RECORD_PROGRAMS["mul"])
    assert "def mul" not in unittest_tests
    assert unittest_tests.startswith("import unittest") and "class MulTest" in unittest_tests
    assert held_out_tests("def f():\n    return 1\n") == ""  # nothing that runs: not scorable


def test_a_candidate_program_loses_its_own_tests() -> None:
    assert solution_code("def add(a, b):\n    return a - b\n\n\nassert add(1, 1) == 0\n") == (
        "def add(a, b):\n    return a - b\n"
    )


# -- comparisons in the sandbox, models behind a scripted server ------------------------------------


@pytest.mark.docker
def test_the_student_that_answers_right_beats_the_teacher_and_the_switch_is_recorded(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    block = held_out_block(tmp_path)
    with ScriptedServer(responder=responder({"scripted-student"})) as server:
        config = load_config(write_two_model_config(tmp_path, server.base_url, sandbox_settings.image))
        controller = StageController(config, tmp_path, mode="auto", settings=StageSwitchSettings(compare_workers=2))
        decision = controller.after_block(block)
    assert decision is not None
    assert (decision.teacher_pass_at_1, decision.student_pass_at_1, decision.problems) == (0.0, 1.0, 2)
    assert (decision.switched, decision.stage, controller.current_stage()) == (True, "self_learning", "self_learning")
    state = json.loads((tmp_path / "stage.json").read_text())
    assert state["stage"] == "self_learning" and state["decisions"][0]["student_pass_at_1"] == 1.0
    compared = json.loads((tmp_path / "splits" / "block-0001.compare.json").read_text())
    assert compared["verdicts"] == {rid: {"teacher": "fail", "student": "pass"} for rid in block.test_ids}
    assert controller.after_block(block) is None  # decided once


@pytest.mark.docker
def test_a_tie_keeps_the_teacher(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    block = held_out_block(tmp_path)
    with ScriptedServer(responder=responder({"scripted-student", "scripted-teacher"})) as server:
        config = load_config(write_two_model_config(tmp_path, server.base_url, sandbox_settings.image))
        decision = StageController(config, tmp_path, mode="auto").after_block(block)
    assert decision is not None
    assert (decision.teacher_pass_at_1, decision.student_pass_at_1, decision.switched) == (1.0, 1.0, False)


@pytest.mark.docker
def test_compare_command_prints_both_scores_and_writes_the_result(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    block = held_out_block(tmp_path, count=10, fraction=0.3)
    with ScriptedServer(responder=responder({"scripted-teacher"})) as server:
        config = write_two_model_config(tmp_path, server.base_url, sandbox_settings.image)
        code = main(["compare", "--config", str(config), "--split", str(block.test_path), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "teacher (scripted-teacher): pass@1 1.0000 (3/3)" in out
    assert "student (scripted-student): pass@1 0.0000 (0/3)" in out
    result = json.loads((tmp_path / "compare.json").read_text())
    assert (result["problems"], result["scores"]["student"]["passed"]) == (3, 0)


@pytest.mark.docker
def test_a_model_that_fails_every_call_is_an_error_not_a_score(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    from aiev_agents.errors import ModelUnavailable

    block = held_out_block(tmp_path)
    config = load_config(write_two_model_config(tmp_path, "http://127.0.0.1:9/v1", sandbox_settings.image))
    with pytest.raises(ModelUnavailable, match="failed on every problem"):
        Comparison(config, ["teacher"]).run(block.test_path)


# -- the whole pipeline with `stage: auto` -------------------------------------------------------------


@pytest.mark.docker
def test_an_auto_run_switches_to_the_student_after_the_first_block(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    from aiev_agents.generate.pipeline import Generation, GenerationOptions

    teacher_calls = {"n": 0}

    def reply(body: dict[str, Any]) -> ScriptedReply:
        function = function_of(body["messages"][-1]["content"])
        if body["model"] == "scripted-teacher":
            teacher_calls["n"] += 1  # right while it teaches (4 dialogues), wrong in the comparison
            return ScriptedReply((RIGHT if teacher_calls["n"] <= 4 else WRONG)[function])
        return ScriptedReply(RIGHT[function])

    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(json.dumps({"id": r["id"], "problem": r["problem"]}) + "\n" for r in map(record, range(8)))
    )
    extra = "stage_switch:\n  block_size: 4\n  test_fraction: 0.25\n"
    with ScriptedServer(responder=reply) as server:
        path = write_two_model_config(tmp_path, server.base_url, sandbox_settings.image, extra)
        path.write_text(path.read_text().replace("stage: teaching", "stage: auto"))
        config: AievConfig = load_config(path)
        summary = Generation(config, options=GenerationOptions(workers=1, use_cache=False)).run(seeds, tmp_path / "out")
    out = tmp_path / "out"
    rows = [json.loads(line) for line in (out / "dialogues.jsonl").read_text().splitlines()]
    assert summary.verified == 8
    assert [(r["stage"], r["models"]["programmer"]) for r in rows] == [("teaching", "scripted-teacher")] * 4 + [
        ("self_learning", "scripted-student")
    ] * 4
    decisions = json.loads((out / "stage.json").read_text())["decisions"]
    assert [(d["block"], d["teacher_pass_at_1"], d["student_pass_at_1"], d["switched"]) for d in decisions] == [
        (1, 0.0, 1.0, True)
    ]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["extra"]["stage"] == "self_learning" and len(manifest["extra"]["stage_decisions"]) == 1
    assert sorted(p.name for p in (out / "splits").glob("block-*.jsonl")) == [
        "block-0001.test.jsonl",
        "block-0001.train.jsonl",
        "block-0002.test.jsonl",
        "block-0002.train.jsonl",
    ]
    assert "## Stage switch" in (out / "report.md").read_text()


@pytest.mark.docker
def test_a_resumed_auto_run_starts_in_the_stage_it_reached(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    from aiev_agents.generate.pipeline import Generation, GenerationOptions

    out = tmp_path / "out"
    with ScriptedServer(responder=responder({"scripted-student"})) as server:
        path = write_two_model_config(tmp_path, server.base_url, sandbox_settings.image)
        path.write_text(path.read_text().replace("stage: teaching", "stage: auto"))
        config = load_config(path)
        StageController(config, out).record(decide(1, "s", "c", 0.1, 0.9, 10, config.stage_switch))
        seeds = tmp_path / "seeds.jsonl"
        seeds.write_text(json.dumps({"id": "r0", "problem": record(0)["problem"]}) + "\n")
        Generation(config, options=GenerationOptions(use_cache=False)).run(seeds, out)
        models = {body["model"] for body in server.requests}
    row = json.loads((out / "dialogues.jsonl").read_text())
    assert (row["stage"], row["models"]["programmer"], models) == (
        "self_learning",
        "scripted-student",
        {"scripted-student"},
    )
