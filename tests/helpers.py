"""Small shared pieces of the tests: configs that point at a scripted teacher, seeds, programs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import programs

if TYPE_CHECKING:
    from aiev_agents.dialogue.transcript import ExecutionResult
    from aiev_agents.sandbox import DockerSandbox

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

#: Benchmark subsets shipped with the tests; tests/data/README.md names their tasks, source and license.
DATA = Path(__file__).resolve().parent / "data"
#: HumanEval+ v0.1.10 tasks 1, 2, 4, 5, 6, 7, 11, 12, 17, 19, 41, 55 and 60.
HUMANEVAL_PLUS_SUBSET = DATA / "humaneval_plus_subset.jsonl.gz"
#: MBPP tasks 1 to 10.
MBPP_SUBSET = DATA / "mbpp_subset.jsonl"

#: The smallest valid config: one teacher, at an address where nothing listens.
MINIMAL_CONFIG = """
models:
  teacher:
    backend: openai_compatible
    model: tiny
    base_url: http://127.0.0.1:9/v1
"""


def host_ca_bundle() -> Path | None:
    """The host's CA bundle, mounted into the sandbox so pip trusts the host's proxies too."""
    return HOST_CA_BUNDLE if HOST_CA_BUNDLE.exists() else None


def write_config(
    folder: Path,
    base_url: str,
    image: str,
    *,
    max_rounds: int = 3,
    candidates: int = 1,
    docker_host: str | None = None,
    max_retries: int = 0,
    model_extra: dict[str, object] | None = None,
) -> Path:
    """A teaching config whose teacher is the scripted server at ``base_url``."""
    ca_bundle = host_ca_bundle()
    lines = [
        "stage: teaching",
        "models:",
        "  teacher:",
        "    backend: openai_compatible",
        "    model: scripted-teacher",
        f"    base_url: {base_url}",
        f"    max_retries: {max_retries}",
        "    timeout_s: 10",
        *(f"    {key}: {value}" for key, value in (model_extra or {}).items()),
        "sandbox:",
        f"  image: {image}",
        f"  ca_bundle: {ca_bundle or ''}",
        f"dialogue:\n  max_rounds: {max_rounds}\n  candidates: {candidates}",
    ]
    if docker_host:
        lines.insert(lines.index("sandbox:") + 1, f"  docker_host: {docker_host}")
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_seeds(folder: Path, lines: list[str]) -> Path:
    path = folder / "seeds.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def problem_seeds(folder: Path, count: int) -> Path:
    """Seeds ``p0``, ``p1``, ...: variants of the scripted problem, each a dialogue of its own."""
    lines = [json.dumps({"id": f"p{i}", "problem": f"{programs.PROBLEM} (variant {i})"}) for i in range(count)]
    return write_seeds(folder, lines)


def stored_ids(out: Path) -> list[str]:
    """The ids of the records a run in ``out`` has written so far, in order (none yet: [])."""
    path = out / "dialogues.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def start_generate(config: Path, seeds: Path, out: Path, *options: str, **popen: Any) -> subprocess.Popen[Any]:
    """`aiev generate` started as a child process, for a test that signals it while it runs."""
    command = [sys.executable, "-m", "aiev_agents.cli", "generate", "--config", str(config), "--seeds", str(seeds)]
    popen.setdefault("preexec_fn", interruptible)
    return subprocess.Popen([*command, "--out", str(out), "--no-progress", *options], **popen)


def interruptible() -> None:
    """``preexec_fn`` of a child a test interrupts with SIGINT: Ctrl-C's default action, even when
    the tests themselves run with SIGINT ignored (a shell without job control ignores it in
    what it starts in the background, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(condition: Callable[[], object], timeout_s: float = 120, poll_s: float = 0.1) -> None:
    """Poll ``condition`` until it holds or ``timeout_s`` has passed (the caller asserts what it needs)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not condition():
        time.sleep(poll_s)


def program(text: str) -> str:
    """A program written indented inside a test, as a file holds it."""
    return textwrap.dedent(text).lstrip()


def run_program(sandbox: DockerSandbox, text: str) -> ExecutionResult:
    """Run a program written indented inside a test in ``sandbox``."""
    return sandbox.run(program(text))


def scripted_dialogue(
    executor: Any,
    seed: Any,
    questioner: list[str],
    programmer: list[str],
    *,
    requests: list[dict[str, Any]] | None = None,
    **options: Any,
) -> Any:
    """One dialogue whose questioner and programmer answer from their scripts, every reply used.

    ``requests``, when given, receives the bodies the scripted server was sent."""
    from aiev_agents import ProgrammerAgent, QuestionerAgent, run_dialogue
    from aiev_agents.config import ModelSpec
    from aiev_agents.llm import llm_config_for
    from aiev_agents.testing import ScriptedServer, key_by_role

    with ScriptedServer({"questioner": questioner, "programmer": programmer}, key=key_by_role) as server:
        spec = ModelSpec(backend="openai_compatible", model="scripted-teacher", base_url=server.base_url)
        transcript = run_dialogue(
            seed,
            questioner=QuestionerAgent(llm_config=llm_config_for(spec)),
            programmer=ProgrammerAgent(llm_config=llm_config_for(spec)),
            executor=executor,
            **options,
        )
        assert (server.remaining("questioner"), server.remaining("programmer")) == (0, 0)
        if requests is not None:
            requests.extend(server.requests)
    return transcript
