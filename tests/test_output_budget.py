"""Long program output: the sandbox keeps its head and tail, the models read a bounded part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aiev_agents import ConfigError, load_config
from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.roles.execution_text import DEFAULT_FEEDBACK_CHARS, cut_middle, format_execution
from aiev_agents.roles.executor import ExecutorAgent
from aiev_agents.roles.questioner import QuestionerAgent
from aiev_agents.sandbox import DockerSandbox, SandboxSettings

from helpers import MINIMAL_CONFIG

LOUD_FAILURE = (
    "import sys\n"
    "for i in range(2000):\n"
    "    sys.stdout.write(f'line {i:05d} ' + 'x' * 39 + '\\n')\n"  # 2000 lines of 50 bytes: 100 KB
    "sys.stdout.flush()\n"
    "raise ValueError('the real problem is here')\n"
)
LOUD_OUTPUT = "".join(f"line {i:05d} " + "x" * 39 + "\n" for i in range(2000)).encode()
TRACEBACK_END = "ValueError: the real problem is here"


def numbered_lines(count: int) -> str:
    return "".join(f"line {i:05d}\n" for i in range(count))


def cut_count(text: str) -> int:
    found = re.search(r"\[\.\.\. (\d+) characters cut from the middle \.\.\.\]", text)
    assert found, text
    return int(found.group(1))


# -- cut_middle and format_execution ---------------------------------------------------------


def test_text_within_the_budget_is_left_whole() -> None:
    text = numbered_lines(10)
    assert cut_middle(text, len(text)) == text
    assert cut_middle("", 5) == ""


@pytest.mark.parametrize("budget", [80, 200, 1000, 4000])
def test_long_text_keeps_head_and_tail_within_the_budget(budget: int) -> None:
    text = numbered_lines(2000) + "Traceback (most recent call last):\nValueError: boom"
    kept = cut_middle(text, budget)
    assert len(kept) <= budget
    assert kept.startswith("line 00000\n")
    assert kept.endswith("ValueError: boom")
    head, tail = kept.split(re.search(r"\[\.\.\..*\.\.\.\]\n", kept).group(0))
    assert len(head) + len(tail) + cut_count(kept) == len(text)
    assert text.startswith(head) and text.endswith(tail)


def test_cuts_fall_on_line_boundaries_when_near() -> None:
    kept = cut_middle(numbered_lines(1000), 400)
    before, marker, after = kept.partition(f"[... {cut_count(kept)} characters cut from the middle ...]\n")
    assert before.endswith("\n") and after.startswith("line ")
    assert all(re.fullmatch(r"line \d{5}", line) for line in (before + after).splitlines())


def test_a_budget_too_small_for_the_marker_keeps_the_end() -> None:
    assert cut_middle("abcdefghij" * 10, 4) == "ghij"


def test_format_execution_bounds_the_output_but_not_the_result() -> None:
    output = numbered_lines(3000) + "AssertionError: expected 3"
    execution = ExecutionResult(status="fail", exit_code=1, output=output)
    text = format_execution(execution, max_chars=1000)
    header, quoted = text.split("Code output:\n")
    assert header == "exitcode: 1 (execution failed)\n"
    assert len(quoted) <= 1000
    assert quoted.startswith("line 00000\n") and quoted.endswith("AssertionError: expected 3")
    assert cut_count(quoted) > 0
    assert execution.output == output
    assert len(format_execution(execution)) < DEFAULT_FEEDBACK_CHARS + 100


def test_format_execution_quotes_a_short_output_exactly() -> None:
    execution = ExecutionResult(status="pass", exit_code=0, output="ok\n", assertions=1)
    assert format_execution(execution, max_chars=3) == "exitcode: 0 (execution succeeded)\nCode output:\nok"


def test_format_execution_says_so_when_tests_failed_in_a_program_that_exited_0() -> None:
    """`unittest.main(exit=False)` exits 0 with failed test cases: the turn must not read as a success."""
    output = "F\n======\nFAIL: test_fizzbuzz (__main__.TestFizzBuzz.test_fizzbuzz)\n"
    execution = ExecutionResult(status="fail", exit_code=0, output=output, test_cases=1)
    assert format_execution(execution).splitlines()[:3] == [
        "exitcode: 0 (execution succeeded)",
        "Tests failed: the program exited 0, but test cases failed (see the output).",
        "Code output:",
    ]


def test_the_feedback_request_quotes_a_bounded_output() -> None:
    execution = ExecutionResult(status="fail", exit_code=1, output=numbered_lines(3000) + "KeyError: 'k'\n")
    questioner = QuestionerAgent(llm_config=False, feedback_chars=600)
    request = questioner.feedback_request(execution)
    assert "line 00000" in request and "KeyError: 'k'" in request
    assert "line 01500" not in request
    assert cut_count(request) >= len(execution.output) - 600
    assert len(questioner.feedback_request(execution, max_chars=300)) < len(request)


# -- the setting ------------------------------------------------------------------------------


def test_feedback_chars_defaults_and_reaches_executor_and_questioner(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(MINIMAL_CONFIG)
    assert load_config(path, env={}).dialogue.feedback_chars == DEFAULT_FEEDBACK_CHARS == 4000

    path.write_text(MINIMAL_CONFIG + "dialogue:\n  feedback_chars: 1500\n")
    config = load_config(path, env={})
    assert config.dialogue.feedback_chars == 1500
    assert ExecutorAgent.from_config(config).feedback_chars == 1500
    assert ExecutorAgent.from_config(config, feedback_chars=99).feedback_chars == 99
    assert QuestionerAgent.from_config(config).feedback_chars == 1500
    assert QuestionerAgent.from_config(config, feedback_chars=77).feedback_chars == 77
    assert ExecutorAgent().feedback_chars == DEFAULT_FEEDBACK_CHARS


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_feedback_chars_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(MINIMAL_CONFIG + f"dialogue:\n  feedback_chars: {value}\n")
    with pytest.raises(ConfigError, match="feedback_chars"):
        load_config(path, env={})


# -- the real sandbox -------------------------------------------------------------------------


@pytest.mark.docker
def test_a_cut_output_still_ends_with_the_traceback(sandbox: DockerSandbox) -> None:
    result = sandbox.run(LOUD_FAILURE)
    limit = sandbox.settings.output_limit_bytes
    assert (result.status, result.exit_code, result.truncated) == ("fail", 1, True)
    assert result.output.startswith("line 00000 ")
    assert result.output.endswith(TRACEBACK_END + "\n")
    found = re.search(
        r"\[output truncated: (\d+) bytes cut here, between the first (\d+) and the last (\d+) of (\d+) bytes\]",
        result.output,
    )
    assert found, result.output[limit - 200 : limit + 300]
    dropped, head, tail, written = map(int, found.groups())
    assert (head, tail) == (limit, 4096)
    assert dropped == written - head - tail > 0
    before, after = result.output.split(found.group(0) + "\n")
    assert before.encode() in (LOUD_OUTPUT[:head], LOUD_OUTPUT[:head] + b"\n")
    assert len(after.encode()) == tail
    traceback = after[after.index("Traceback (most recent call last):") :]
    assert written == len(LOUD_OUTPUT) + len(traceback.encode())


@pytest.mark.docker
def test_an_output_within_the_limit_is_exact(sandbox: DockerSandbox) -> None:
    result = sandbox.run("print('a' * 1000)\nassert True\n")
    assert (result.status, result.truncated, result.output) == ("pass", False, "a" * 1000 + "\n")


@pytest.mark.docker
def test_the_executor_reply_is_bounded_and_the_execution_whole(sandbox_settings: SandboxSettings) -> None:
    executor = ExecutorAgent(sandbox=sandbox_settings, feedback_chars=1200)
    try:
        reply = executor.generate_reply(messages=[{"role": "user", "content": f"```python\n{LOUD_FAILURE}```"}])
    finally:
        executor.close()
    text = reply if isinstance(reply, str) else reply["content"]
    quoted = text.split("Code output:\n", 1)[1]
    assert len(quoted) <= 1200
    assert quoted.startswith("line 00000 ") and quoted.endswith(TRACEBACK_END)
    assert "characters cut from the middle" in quoted
    execution = executor.last_execution
    assert execution is not None and execution.status == "fail"
    assert len(execution.output) > 60_000 and execution.output.rstrip().endswith(TRACEBACK_END)
