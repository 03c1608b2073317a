"""The `aiev` command: whole runs to disk, and bad input that gets a clear error and loses nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aiev_agents.cli import main
from aiev_agents.errors import AievError
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedReply, ScriptedServer, key_by_role

import programs
from helpers import write_config, write_seeds

REPO = Path(__file__).resolve().parents[1]
SEED_LINES = [
    json.dumps({"id": "first", "snippet": programs.SNIPPET, "source": "math.py"}),
    "{this is not json",
    json.dumps({"id": "second", "problem": programs.PROBLEM + " Name it `add`."}),
]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.docker
def test_generate_writes_one_record_per_dialogue_and_skips_bad_lines(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = {
        "questioner": [programs.PROBLEM, programs.EXPLANATION],
        "programmer": [programs.GOOD, programs.BUGGY, programs.GOOD],
    }
    with ScriptedServer(scripts, key=key_by_role) as server:
        config = write_config(tmp_path, server.base_url, sandbox_settings.image)
        seeds = write_seeds(tmp_path, SEED_LINES)
        code = main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0
    assert f"{seeds}:2: not valid JSON" in captured.err
    assert "2 dialogue(s), 2 verified, 0 model error(s), 0 already done, 1 bad seed line(s)" in captured.out

    records = [json.loads(line) for line in (tmp_path / "out" / "dialogues.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["first", "second"]
    first, second = records
    assert set(first) >= {
        "schema",
        "id",
        "stage",
        "verified",
        "rounds",
        "seed",
        "models",
        "messages",
        "executions",
        "final_program",
        "usage",
        "timings",
    }
    assert first["schema"] == 1
    assert first["stage"] == "teaching"
    assert first["seed"] == {"id": "first", "snippet": programs.SNIPPET, "source": "math.py"}
    assert first["models"] == {"questioner": "scripted-teacher", "programmer": "scripted-teacher"}
    assert (first["verified"], first["rounds"]) == (True, 1)
    assert (second["verified"], second["rounds"]) == (True, 2)
    assert [e["status"] for e in second["executions"]] == ["fail", "pass"]
    assert {"exit_code", "output", "duration_s", "packages"} <= set(second["executions"][0])
    assert first["usage"]["programmer"]["completion_tokens"] > 0
    assert first["timings"]["wall_s"] >= first["timings"]["execution_s"] > 0


@pytest.mark.docker
def test_generate_again_skips_seeds_already_written(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    out = tmp_path / "out"
    seeds = write_seeds(tmp_path, [json.dumps({"id": "only", "problem": programs.PROBLEM})])
    for _ in range(2):
        with ScriptedServer({"programmer": [programs.GOOD]}, key=key_by_role) as server:
            config = write_config(tmp_path, server.base_url, sandbox_settings.image)
            assert main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(out)]) == 0
    assert len((out / "dialogues.jsonl").read_text().splitlines()) == 1


@pytest.mark.docker
def test_teacher_refusing_connections_is_a_clear_error_and_nothing_is_written(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/v1", sandbox_settings.image)
    seeds = write_seeds(tmp_path, SEED_LINES)
    code = main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: 2 dialogue(s) failed on the model (see errors.jsonl), 0 finished" in err
    assert "the model of 'questioner' (scripted-teacher) at http://127.0.0.1:" in err
    assert "check that the server is running" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "dialogues.jsonl").exists()


@pytest.mark.docker
def test_chat_prints_each_turn(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    with ScriptedServer({"questioner": [programs.PROBLEM], "programmer": [programs.GOOD]}, key=key_by_role) as srv:
        config = write_config(tmp_path, srv.base_url, sandbox_settings.image)
        assert main(["chat", "--config", str(config), "--snippet", programs.SNIPPET]) == 0
    out = capsys.readouterr().out
    assert out.index("--- questioner (user) ---") < out.index("--- programmer (assistant) ---")
    assert "--- executor (user) ---" in out
    assert "=== VERIFIED: pass after 1 round(s) ===" in out


def test_docker_unreachable_is_a_clear_error_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        "http://127.0.0.1:9/v1",
        "aiev-sandbox:latest",
        docker_host=f"unix://{tmp_path}/no-docker.sock",
    )
    seeds = write_seeds(tmp_path, SEED_LINES)
    code = main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Docker" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "dialogues.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models: [\n", "not valid YAML"),
        (
            "models:\n  teacher:\n    model: x\n    api_key: ${NO_SUCH_VARIABLE_123}\n",
            "NO_SUCH_VARIABLE_123 is not set",
        ),
        ("modles: {}\n", "unknown key `modles`"),
    ],
)
def test_bad_config_exits_2_with_a_message_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    seeds = write_seeds(tmp_path, SEED_LINES)
    code = main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_missing_seeds_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/v1", "aiev-sandbox:latest")
    code = main(["generate", "--config", str(config), "--seeds", str(tmp_path / "none.jsonl"), "--out", "x"])
    assert code == 2
    assert "cannot read seeds file" in capsys.readouterr().err


# -- edges: first runs that failed, keyless servers, logging, limits, the sandbox image ---------------


@pytest.mark.docker
def test_a_first_run_that_failed_before_any_record_does_not_lock_out_the_corrected_config(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    def respond(body: dict) -> ScriptedReply:
        if body["model"] != "scripted-teacher":
            return ScriptedReply(f"The model `{body['model']}` does not exist", status=404)
        return ScriptedReply(programs.GOOD)

    seeds = write_seeds(tmp_path, [json.dumps({"id": "only", "problem": programs.PROBLEM})])
    out = tmp_path / "out"
    with ScriptedServer(responder=respond) as server:
        wrong = write_config(tmp_path, server.base_url, sandbox_settings.image)
        wrong.write_text(wrong.read_text().replace("model: scripted-teacher", "model: scripted-teachr"))
        assert main(["generate", "--config", str(wrong), "--seeds", str(seeds), "--out", str(out)]) == 2
        assert "does not exist" in capsys.readouterr().err
        assert not (out / "dialogues.jsonl").exists() and (out / "run.json").exists()
        right = write_config(tmp_path, server.base_url, sandbox_settings.image)
        assert main(["generate", "--config", str(right), "--seeds", str(seeds), "--out", str(out)]) == 0
    assert "1 dialogue(s), 1 verified" in capsys.readouterr().out
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["models"]["programmer"] == "scripted-teacher"
    assert [s["status"] for s in manifest["sessions"]] == ["model_errors", "done"]  # the history is kept


@pytest.mark.docker
def test_readme_recipe_for_a_keyless_openai_compatible_server_works_without_openai_api_key(
    sandbox_settings: SandboxSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer({"programmer": [programs.GOOD]}, key=key_by_role) as server:
        # export OPENAI_BASE_URL=... AIEV_TEACHER_MODEL=... (README), with agent_configs/teaching.yaml as shipped
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("AIEV_TEACHER_MODEL", "scripted-teacher")
        monkeypatch.setenv("AIEV_SANDBOX_IMAGE", sandbox_settings.image)
        config = str(REPO / "agent_configs" / "teaching.yaml")
        code = main(["chat", "--config", config, "--problem", programs.PROBLEM])
        assert {body["model"] for body in server.requests} == {"scripted-teacher"}
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "=== VERIFIED: pass after 1 round(s) ===" in captured.out


LLAMA_CPP_CONFIG = """\
stage: self_learning
models:
  student:
    backend: llama_cpp
    model: stand-in
    model_path: {model_path}
sandbox:
  docker_host: unix://{folder}/no-docker.sock
"""


@pytest.mark.parametrize("flags", [[], ["--verbose"]], ids=["default", "verbose"])
def test_ag2_info_lines_stay_off_the_terminal_unless_verbose(tmp_path: Path, flags: list[str]) -> None:
    """Building an agent of a llama_cpp model makes AG2 log "Detected custom model client" at INFO
    (on stdout, through a handler of its own); the stand-in GGUF then fails to load: exit 2."""
    (tmp_path / "stand-in.gguf").write_bytes(b"not a model")
    config = tmp_path / "config.yaml"
    config.write_text(LLAMA_CPP_CONFIG.format(model_path=tmp_path / "stand-in.gguf", folder=tmp_path))
    seeds = write_seeds(tmp_path, [json.dumps({"id": "only", "problem": programs.PROBLEM})])
    argv = ["generate", "--config", str(config), "--seeds", str(seeds), "--out", str(tmp_path / "out"), *flags]
    command = [sys.executable, "-m", "aiev_agents.cli", *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: ")
    shown = done.stdout + done.stderr
    assert ("Detected custom model client" in shown) == bool(flags), shown


def test_verbose_is_a_global_flag_and_a_flag_of_every_command() -> None:
    from aiev_agents.cli import _parser

    parser = _parser()
    assert parser.parse_args(["--verbose", "report", "runs/x"]).verbose is True
    assert parser.parse_args(["report", "runs/x", "--verbose"]).verbose is True
    assert parser.parse_args(["sandbox", "build", "-v"]).verbose is True
    assert parser.parse_args(["report", "runs/x"]).verbose is False


@pytest.mark.parametrize("budget", ["0", "-1", "nan", "lots"])
def test_max_budget_must_be_more_than_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str], budget: str) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/v1", "aiev-sandbox:latest")
    seeds = write_seeds(tmp_path, SEED_LINES)
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--config", str(config), "--seeds", str(seeds), "--out", "x", "--max-budget", budget])
    assert exit_info.value.code == 2
    assert "--max-budget" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


class Captured(AievError):
    """Raised by a stand-in in place of the real work, once it has the settings it was given."""


@pytest.mark.parametrize("command", ["verify", "eval", "audit"])
def test_commands_without_a_config_use_the_image_aiev_sandbox_image_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    import aiev_agents.data.reverify
    import aiev_agents.evaluate
    import aiev_agents.evaluate.audit

    seen: list[SandboxSettings] = []

    def capture(*args: object, **kwargs: object) -> None:
        seen.extend(value for value in (*args, *kwargs.values()) if isinstance(value, SandboxSettings))
        raise Captured("captured")

    monkeypatch.setenv("AIEV_SANDBOX_IMAGE", "offline-sandbox:1")
    monkeypatch.setattr(aiev_agents.data.reverify, "verify_dataset", capture)
    monkeypatch.setattr(aiev_agents.evaluate, "Evaluation", capture)
    monkeypatch.setattr(aiev_agents.evaluate.audit, "audit", capture)
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return False\n"}) + "\n")
    argv = {
        "verify": ["verify", str(tmp_path)],
        "eval": ["eval", "--benchmark", "humaneval", "--completions", str(samples), "--out", str(tmp_path / "e")],
        "audit": ["audit", str(tmp_path), "--benchmark", "humaneval"],
    }[command]
    assert main(argv) == 2
    assert "error: captured" in capsys.readouterr().err
    assert [settings.image for settings in seen] == ["offline-sandbox:1"]
    assert main([*argv, "--image", "flag-image:2"]) == 2  # the flag still wins
    assert seen[-1].image == "flag-image:2"
