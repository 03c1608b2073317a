"""End to end on a real local model: llama.cpp in process, the Docker sandbox, no API key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiev_agents import load_config
from aiev_agents.generate.pipeline import Generation, GenerationOptions
from aiev_agents.llm.models import cached_model_path
from aiev_agents.sandbox import DockerSandbox
from aiev_agents.sandbox.settings import SandboxSettings

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: pip install 'aiev-agents[local]'")

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.docker, pytest.mark.local_model]

EASY_SEEDS = [
    {"id": "palindrome", "problem": "Write a Python function `is_palindrome(text: str) -> bool` that tells whether "
     "the text reads the same forwards and backwards, ignoring case and every character that is not a letter or a "
     "digit."},
    {"id": "vowels", "problem": "Write a Python function `count_vowels(text: str) -> int` that returns how many "
     "vowels (a, e, i, o, u, upper or lower case) the text contains."},
    {"id": "factorial", "problem": "Write a Python function `factorial(n: int) -> int` that returns n! for n >= 0 "
     "and raises ValueError for negative n."},
    {"id": "squares", "problem": "Write a Python function `sum_of_squares(numbers: list[int]) -> int` that returns "
     "the sum of the squares of the numbers; an empty list gives 0."},
]  # fmt: skip


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = cached_model_path(MODEL)
    if path is None:
        pytest.skip(f"the local model is not fetched: run `aiev models fetch {MODEL}`")
    return path


def test_local_model_produces_a_verified_sample_that_passes_again_in_a_fresh_container(
    tmp_path: Path, model_path: Path, sandbox_settings: SandboxSettings
) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(seed) + "\n" for seed in EASY_SEEDS))
    env = {"AIEV_LOCAL_MODEL": MODEL, "AIEV_SANDBOX_IMAGE": sandbox_settings.image}
    config = load_config(REPO / "agent_configs" / "local.yaml", env=env)
    config.models["student"].max_tokens = 600
    config.dialogue.max_rounds = 2

    options = GenerationOptions(use_cache=False, max_samples=1)  # stop at the first verified sample
    summary = Generation(config, options=options).run(seeds, tmp_path / "out")

    records = [json.loads(line) for line in (tmp_path / "out" / "dialogues.jsonl").read_text().splitlines()]
    assert summary.stop_reason == "max_samples"
    verified = [record for record in records if record["verified"]]
    assert verified, [(r["id"], r["status"]) for r in records]
    assert all(r["models"]["programmer"] == MODEL for r in records)
    assert all(r["usage"]["programmer"]["completion_tokens"] > 0 for r in records)
    with DockerSandbox(sandbox_settings) as sandbox:
        rerun = sandbox.execute(verified[0]["final_program"], verified[0]["final_packages"])
    assert rerun.status == "pass"
    assert rerun.assertions + rerun.test_cases > 0
