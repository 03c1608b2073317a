"""The `aiev` command: whole runs to disk, and bad input that gets a clear error and loses nothing."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from aiev_agents.cli import main
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import write_config, write_seeds

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
