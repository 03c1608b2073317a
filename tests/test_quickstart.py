"""The README's two commands: `bash scripts/quickstart.sh` makes what `.venv/bin/python -m pytest` needs,
and CI runs exactly that path (its steps are checked here with the script's dry run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "quickstart.sh"
SMALL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def dry_run(tmp_path: Path, **settings: str) -> str:
    if shutil.which("docker") is None:
        pytest.skip("the quick start's dry run still asks the docker CLI what is there")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIEV_")}
    env.update(AIEV_QUICKSTART_DRY_RUN="1", AIEV_QUICKSTART_OUT=str(tmp_path / "out"), **settings)
    done = subprocess.run(["bash", str(SCRIPT)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_readme_quick_start_is_the_script_then_the_venvs_pytest() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]
    assert commands == ["bash scripts/quickstart.sh", ".venv/bin/python -m pytest"]


def test_the_extras_the_quick_start_installs_hold_what_the_tests_import() -> None:
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    default = re.search(r'EXTRAS="\$\{AIEV_QUICKSTART_EXTRAS:-([\w,]+)\}"', SCRIPT.read_text()).group(1).split(",")
    installed = {re.split(r"[<>=\[ ]", requirement)[0] for name in default for requirement in extras[name]}
    assert {"pytest", "jsonschema", "llama-cpp-python"} <= installed  # the test runner, schema checks, local model
    assert "ray" not in installed  # optional: tests/test_ray_backend.py skips without it, saying why
    assert 'pytest.importorskip("ray"' in (REPO / "tests" / "test_ray_backend.py").read_text()


def test_dry_run_installs_dev_fetches_the_model_and_generates_up_to_the_limit(tmp_path: Path) -> None:
    out = dry_run(tmp_path, AIEV_LOCAL_MODEL=SMALL_MODEL, AIEV_QUICKSTART_MAX_DIALOGUES="1")
    if "reusing .venv" not in out:
        assert "+ .venv/bin/python -m pip install -q -e .[local,dev]" in out
    assert f"+ .venv/bin/aiev models fetch {SMALL_MODEL}" in out
    generate = next(line for line in out.splitlines() if line.startswith("+ .venv/bin/aiev generate"))
    assert "--config agent_configs/local.yaml --seeds examples/seeds/problems.jsonl" in generate
    assert generate.endswith(f"--out {tmp_path / 'out'} --max-dialogues 1")


def test_a_second_run_generates_nothing_once_the_folder_holds_the_dialogues(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dialogues.jsonl").write_text('{"id": "problem-reverse-words"}\n')
    out = dry_run(tmp_path, AIEV_QUICKSTART_MAX_DIALOGUES="1")
    assert "already holds 1 dialogue(s)" in out
    assert "aiev generate" not in out
    more = dry_run(tmp_path, AIEV_QUICKSTART_MAX_DIALOGUES="3")
    assert "--max-dialogues 2" in more


def test_ci_runs_the_quick_start_with_the_small_settings_then_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert f"AIEV_LOCAL_MODEL={SMALL_MODEL}" in ci
    assert "AIEV_QUICKSTART_MAX_DIALOGUES=1" in ci
    steps = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    quick_start = steps.index("bash scripts/quickstart.sh")
    tests = next(i for i, line in enumerate(steps) if line.startswith(".venv/bin/python -m pytest"))
    assert quick_start < tests
    # Everything the README's test command needs comes from the quick start; the one addition is the
    # optional toolchains image (other languages' tests skip without it, saying how to build it).
    extra = [line for line in steps if "sandbox build --offline --toolchains" not in line]
    assert not any(re.search(r"pip install|models fetch|sandbox build|python3 -m venv", line) for line in extra)


def test_the_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
