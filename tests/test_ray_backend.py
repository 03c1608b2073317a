"""The Ray backend: dialogues on Ray actors, records written by the driver alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiev_agents import load_config
from aiev_agents.generate.pipeline import Generation, GenerationOptions
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs
from helpers import write_config, write_seeds

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'aiev-agents[ray]'")

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_workers_produce_the_records_and_resume_skips_them(
    tmp_path: Path, sandbox_settings: SandboxSettings, local_ray: None
) -> None:
    lines = [json.dumps({"id": f"r{i}", "problem": f"{programs.PROBLEM} (case {i})"}) for i in range(3)]
    seeds = write_seeds(tmp_path, lines)
    out = tmp_path / "out"
    options = GenerationOptions(workers=2, backend="ray", use_cache=False)
    with ScriptedServer({"programmer": [programs.BUGGY, programs.GOOD, programs.GOOD]}, key=key_by_role) as server:
        config = load_config(write_config(tmp_path, server.base_url, sandbox_settings.image, max_rounds=1))
        summary = Generation(config, options=options).run(seeds, out)
        again = Generation(config, options=options).run(seeds, out)
    records = [json.loads(line) for line in (out / "dialogues.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["r0", "r1", "r2"]
    assert sorted(r["verified"] for r in records) == [False, True, True]
    assert (summary.dialogues, summary.verified) == (3, 2)
    assert (again.dialogues, again.skipped_existing) == (0, 3)
