"""The YAML config: interpolation, validation, and errors that name file, key and fix."""

from __future__ import annotations

import subprocess
import sys
from operator import attrgetter
from pathlib import Path

import pytest

from aiev_agents import ConfigError, load_config

from helpers import MINIMAL_CONFIG

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_minimal_config_plays_the_teacher_in_both_roles(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL_CONFIG), env={})
    assert config.stage == "teaching"
    assert config.roles.questioner.model == "teacher"
    assert config.roles.programmer.model == "teacher"
    assert config.dialogue.max_rounds == 3
    assert config.sandbox.image == "python:3.12-slim"


def test_self_learning_stage_plays_the_student(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG.replace("teacher:", "student:") + "stage: self_learning\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.models_by_role() == {"questioner": "tiny", "programmer": "tiny"}


def test_env_default_and_value_are_interpolated(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG.replace("model: tiny", "model: ${MODEL_NAME:-fallback}") + "sandbox:\n  image: ${IMG}\n"
    config = load_config(write(tmp_path, text), env={"IMG": "my-image:1"})
    assert config.models["teacher"].model == "fallback"
    assert config.sandbox.image == "my-image:1"


def test_missing_env_var_names_variable_key_and_fix(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "    api_key: ${SECRET_KEY}\n"
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text), env={})
    message = str(error.value)
    assert "SECRET_KEY is not set" in message
    assert "models.teacher.api_key" in message
    assert "export SECRET_KEY=" in message
    assert "config.yaml" in message


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid YAML at line 3"):
        load_config(write(tmp_path, "models:\n  teacher: {model: x\n  other: [\n"), env={})


def test_unknown_key_suggests_the_right_spelling(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "    temprature: 0.5\n"
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text), env={})
    assert "unknown key `models.teacher.temprature`" in str(error.value)
    assert "did you mean `temperature`?" in str(error.value)


def test_unknown_top_level_section_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key `sandbx` \(did you mean `sandbox`\?\)"):
        load_config(write(tmp_path, MINIMAL_CONFIG + "sandbx: {}\n"), env={})


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"`dialogue.max_rounds`: .*integer.*'many'"):
        load_config(write(tmp_path, MINIMAL_CONFIG + "dialogue:\n  max_rounds: many\n"), env={})


def test_role_naming_an_unknown_model_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "roles:\n  programmer:\n    model: teachr\n"
    with pytest.raises(ConfigError, match=r"names 'teachr'.*did you mean `teacher`"):
        load_config(write(tmp_path, text), env={})


def test_openai_compatible_without_base_url_is_an_error(tmp_path: Path) -> None:
    text = "models:\n  teacher:\n    backend: openai_compatible\n    model: x\n"
    with pytest.raises(ConfigError, match="needs `base_url`"):
        load_config(write(tmp_path, text), env={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("setting", "section", "relative"),
    [
        ("roles.programmer.prompt", "roles:\n  programmer:\n    prompt: prompts/p.md\n", "prompts/p.md"),
        ("roles.reviewer.prompt", "roles:\n  reviewer:\n    prompt: prompts/r.md\n", "prompts/r.md"),
        ("sandbox.ca_bundle", "sandbox:\n  ca_bundle: certs/ca.pem\n", "certs/ca.pem"),
        ("output.dir", "output:\n  dir: runs/a\n", "runs/a"),
    ],
)
def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, setting: str, section: str, relative: str
) -> None:
    config = load_config(write(tmp_path, MINIMAL_CONFIG + section), env={})
    assert attrgetter(setting)(config) == tmp_path / relative


def test_empty_env_default_leaves_optional_setting_unset(tmp_path: Path) -> None:
    text = MINIMAL_CONFIG + "sandbox:\n  ca_bundle: ${CA:-}\n"
    assert load_config(write(tmp_path, text), env={}).sandbox.ca_bundle is None


def test_config_hash_ignores_secrets_and_output(tmp_path: Path) -> None:
    first = load_config(write(tmp_path, MINIMAL_CONFIG + "    api_key: a\n"), env={})
    second = load_config(write(tmp_path, MINIMAL_CONFIG + "    api_key: b\noutput:\n  dir: elsewhere\n"), env={})
    third = load_config(write(tmp_path, MINIMAL_CONFIG + "dialogue:\n  max_rounds: 5\n"), env={})
    assert first.config_hash() == second.config_hash()
    assert first.config_hash() != third.config_hash()


@pytest.mark.parametrize("name", ["teaching.yaml", "self_learning.yaml"])
def test_shipped_configs_load(name: str) -> None:
    config = load_config(REPO / "agent_configs" / name, env={"OPENAI_API_KEY": "sk-test"})
    assert config.sandbox.image == "python:3.12-slim"


def test_teaching_config_reads_teacher_model_and_endpoint_from_env() -> None:
    env = {"OPENAI_API_KEY": "sk-test", "AIEV_TEACHER_MODEL": "gpt-4o", "OPENAI_BASE_URL": "http://h/v1"}
    teacher = load_config(REPO / "agent_configs" / "teaching.yaml", env=env).models["teacher"]
    assert (teacher.model, teacher.base_url, teacher.api_key) == ("gpt-4o", "http://h/v1", "sk-test")


def test_teaching_config_without_api_key_says_to_export_it() -> None:
    with pytest.raises(ConfigError, match="backend openai needs `api_key`.*OPENAI_API_KEY exported"):
        load_config(REPO / "agent_configs" / "teaching.yaml", env={})


def test_teaching_config_with_a_keyless_server_needs_no_api_key() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1", "AIEV_TEACHER_MODEL": "my-model"}
    teacher = load_config(REPO / "agent_configs" / "teaching.yaml", env=env).models["teacher"]
    assert (teacher.model, teacher.base_url, teacher.api_key) == ("my-model", "http://127.0.0.1:8000/v1", None)
    from aiev_agents.llm import llm_config_for

    assert llm_config_for(teacher)["config_list"][0]["api_key"] == "not-needed"


@pytest.mark.parametrize(("temperature", "ok"), [(0, True), (1.5, True), (2, True), (2.01, False), (-0.1, False)])
def test_temperature_is_checked_against_the_api_range(tmp_path: Path, temperature: float, ok: bool) -> None:
    path = write(tmp_path, MINIMAL_CONFIG + f"    temperature: {temperature}\n")
    if ok:
        assert load_config(path, env={}).models["teacher"].temperature == temperature
    else:
        with pytest.raises(ConfigError, match="temperature"):
            load_config(path, env={})


def test_sandbox_image_comes_from_aiev_sandbox_image_when_the_config_names_none(tmp_path: Path) -> None:
    from aiev_agents.config import default_sandbox_settings

    env = {"AIEV_SANDBOX_IMAGE": "aiev-sandbox:latest"}
    assert load_config(write(tmp_path, MINIMAL_CONFIG), env=env).sandbox.image == "aiev-sandbox:latest"
    with_section = MINIMAL_CONFIG + "sandbox:\n  timeout_s: 5\n"
    assert load_config(write(tmp_path, with_section), env=env).sandbox.image == "aiev-sandbox:latest"
    named = MINIMAL_CONFIG + "sandbox:\n  image: my-image:1\n"
    assert load_config(write(tmp_path, named), env=env).sandbox.image == "my-image:1"  # the file's own choice
    assert load_config(write(tmp_path, MINIMAL_CONFIG), env={}).sandbox.image == "python:3.12-slim"
    assert default_sandbox_settings(env).image == "aiev-sandbox:latest"
    assert default_sandbox_settings({}).image == "python:3.12-slim"
    shipped = load_config(REPO / "agent_configs" / "local.yaml", env=env)
    assert shipped.sandbox.image == "aiev-sandbox:latest"


def test_config_hash_follows_prompt_content_not_its_path(tmp_path: Path) -> None:
    prompt = tmp_path / "p.md"
    prompt.write_text("You are careful.")
    text = MINIMAL_CONFIG + "roles:\n  programmer:\n    prompt: p.md\n"
    first = load_config(write(tmp_path, text), env={}).config_hash()
    prompt.write_text("You are hasty.")
    assert load_config(write(tmp_path, text), env={}).config_hash() != first


def test_params_the_backend_does_not_take_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`params` has repeat_penalty, which backend openai_compatible does not take"):
        load_config(write(tmp_path, MINIMAL_CONFIG + "    params: {repeat_penalty: 1.1}\n"), env={})


def test_loading_a_config_does_not_import_ag2(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_CONFIG + "roles:\n  reviewer: {}\n")
    code = f"import sys, aiev_agents; aiev_agents.load_config({str(path)!r}); print('autogen' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
