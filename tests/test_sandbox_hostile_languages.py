"""Hostile programs in compiled and other languages are contained like Python ones: the whole
process tree dies at the deadline, output is cut, and the next program runs normally."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.sandbox import DockerSandbox, SandboxSettings

pytestmark = pytest.mark.docker

OUTPUT_LIMIT = 4096
HEALTHY = "const assert = require('assert');\nassert.strictEqual(1 + 1, 2);\nconsole.log('healthy');\n"


@pytest.fixture(scope="module")
def sandbox(polyglot_settings: SandboxSettings) -> Iterator[DockerSandbox]:
    settings = polyglot_settings.model_copy(
        update={"timeout_s": 4, "memory": "512m", "pids_limit": 64, "output_limit_bytes": OUTPUT_LIMIT}
    )
    with DockerSandbox(settings) as box:
        yield box


def run_contained(sandbox: DockerSandbox, source: str, language: str) -> ExecutionResult:
    """Run a hostile program, then check that a normal one passes in the same container."""
    name = sandbox.container_name
    result = sandbox.run(source, language=language)
    follow_up = sandbox.run(HEALTHY, language="javascript")
    assert (follow_up.status, follow_up.output) == ("pass", "healthy\n"), follow_up.output
    assert sandbox.container_name == name
    return result


def test_a_cpp_fork_bomb_is_stopped_at_the_deadline(sandbox: DockerSandbox):
    source = "#include <unistd.h>\nint main() { while (true) { fork(); } }\n"
    result = run_contained(sandbox, source, "cpp")
    assert result.status == "timeout"
    assert result.duration_s < 4 + 2


def test_a_java_infinite_loop_times_out(sandbox: DockerSandbox):
    source = "class Spin {\n  public static void main(String[] args) { long n = 0; while (true) { n++; } }\n}\n"
    result = run_contained(sandbox, source, "java")
    assert (result.status, result.exit_code) == ("timeout", 137)


def test_huge_node_output_is_cut_to_the_limit(sandbox: DockerSandbox):
    source = "const line = 'x'.repeat(1000) + '\\n';\nfor (let i = 0; i < 100000; i++) process.stdout.write(line);\n"
    result = run_contained(sandbox, source, "javascript")
    assert result.truncated
    assert result.output.startswith("x" * 1000)
    assert "[output truncated: " in result.output
    assert len(result.output.encode()) < OUTPUT_LIMIT + 4096 + 200


def test_a_runaway_compile_is_killed_at_the_deadline(sandbox: DockerSandbox):
    # g++ evaluates this constant for minutes (its constexpr step limit is 2**33, 262144 per loop)
    source = (
        "constexpr long sum() { long s = 0; for (long i = 0; i < 200000; i++) for (long j = 0; j < 200000; j++) "
        "s += j; return s; }\n"
        "static_assert(sum() > 0);\nint main() {}\n"
    )
    result = run_contained(sandbox, source, "cpp")
    assert (result.status, result.exit_code) == ("timeout", 137)
    assert result.duration_s < 4 + 2


@pytest.mark.parametrize("language", ["go", "java", "rust"])
def test_the_heavier_toolchains_work_within_the_tight_limits(sandbox: DockerSandbox, language: str):
    from test_sandbox_languages import PROGRAMS

    # the memory and process limits are the point: a first Go build takes seconds on a busy machine
    result = sandbox.run(PROGRAMS[language][0], language=language, timeout_s=30)
    assert (result.status, result.exit_code) == ("pass", 0), result.output
