"""The examples run end to end as a user runs them: a subprocess, a scripted teacher behind
OPENAI_BASE_URL (real HTTP), and a real Docker sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.testing import ScriptedServer, key_by_role

import programs

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[1]

PALINDROME_BUGGY = """```python
def is_palindrome(text: str) -> bool:
    kept = [ch for ch in text if ch.isalnum()]
    return kept == kept[::-1]


assert is_palindrome("racecar")
assert is_palindrome("A man, a plan, a canal: Panama"), "case must be ignored"
assert not is_palindrome("hello")
```
"""

PALINDROME_GOOD = """The comparison now ignores case as well.

```python
import unittest


def is_palindrome(text: str) -> bool:
    kept = [ch.lower() for ch in text if ch.isalnum()]
    return kept == kept[::-1]


class IsPalindromeTest(unittest.TestCase):
    def test_mixed_case_and_punctuation(self):
        self.assertTrue(is_palindrome("A man, a plan, a canal: Panama"))

    def test_not_a_palindrome(self):
        self.assertFalse(is_palindrome("hello"))

    def test_empty(self):
        self.assertTrue(is_palindrome(""))


if __name__ == "__main__":
    unittest.main()
```
"""

PALINDROME_EXPLANATION = (
    "The test with 'A man, a plan, a canal: Panama' failed: the letters are compared with their case, "
    "so 'A' differs from 'a'. Lower-case the kept characters and send the whole corrected program."
)

TRIVIAL_TESTS = "```python\ndef add(a, b):\n    return a + b\n\n\nassert True\n```\n"
CRITIQUE = "`assert True` checks nothing: assert add(2, 3) == 5 and a case with a negative number."


def run_example(name: str, server: ScriptedServer, image: str, *args: str) -> list[str]:
    """Run ``examples/<name>`` against the scripted teacher; its stdout lines, after exit code 0."""
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-test",
        "AIEV_TEACHER_MODEL": "scripted-teacher",
        "AIEV_SANDBOX_IMAGE": image,
    }
    command = [sys.executable, str(ROOT / "examples" / name), *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout.splitlines()


def headers(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("--- ")]


def after(lines: list[str], marker: str) -> list[str]:
    return lines[lines.index(marker) + 1 :]


def calls(server: ScriptedServer, key: Any = key_by_role) -> list[str]:
    """The role of each request the server answered, in order; every one asked for the teacher."""
    assert {request["model"] for request in server.requests} == {"scripted-teacher"}
    return [key(request) for request in server.requests]


def test_single_dialogue_proposes_fails_is_explained_and_fixed(sandbox_settings: SandboxSettings) -> None:
    scripts = {"questioner": [programs.PROBLEM, programs.EXPLANATION], "programmer": [programs.BUGGY, programs.GOOD]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        lines = run_example("01_single_dialogue.py", server, sandbox_settings.image, "--snippet", programs.SNIPPET)
    assert headers(lines) == [
        "--- questioner (user) ---",
        "--- programmer (assistant) ---",
        "--- executor (user) ---",
        "--- questioner (user) ---",
        "--- programmer (assistant) ---",
        "--- executor (user) ---",
    ]
    assert "AssertionError: add(2, 3) should be 5" in lines
    assert after(lines, "--- executor (user) ---")[0] == "exitcode: 1 (execution failed)"
    assert "verdict: VERIFIED (pass)" in lines
    assert "rounds: 2" in lines
    assert "speakers: questioner, programmer, executor, questioner, programmer, executor" in lines
    assert after(lines, "final program:") == programs.GOOD.split("```python\n")[1].split("```")[0].strip().splitlines()
    assert calls(server) == ["questioner", "programmer", "questioner", "programmer"]
    assert "return x + y" in server.requests[0]["messages"][-1]["content"]  # the proposal shows the snippet
    assert "AssertionError" in server.requests[2]["messages"][-1]["content"]  # the questioner sees the failure


def test_custom_script_builds_agents_in_code(sandbox_settings: SandboxSettings) -> None:
    scripts = {"questioner": [PALINDROME_EXPLANATION], "programmer": [PALINDROME_BUGGY, PALINDROME_GOOD]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        lines = run_example("02_custom_script.py", server, sandbox_settings.image)
    assert headers(lines) == [
        "--- questioner ---",
        "--- programmer ---",
        "--- executor ---",
        "--- questioner ---",
        "--- programmer ---",
        "--- executor ---",
    ]
    assert "AssertionError: case must be ignored" in lines
    assert "verdict: VERIFIED (pass)" in lines
    assert "rounds: 2 (runs: fail, pass)" in lines
    assert "speakers: questioner, programmer, executor, questioner, programmer, executor" in lines
    assert after(lines, "final program:")[0] == "import unittest"
    assert calls(server) == ["programmer", "questioner", "programmer"]
    programmer_system = server.requests[0]["messages"][0]["content"]
    assert programmer_system.endswith("Use only the Python standard library.")
    assert "is_palindrome(text: str) -> bool" in server.requests[0]["messages"][1]["content"]


def critic_or_role(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    return "test_critic" if system.startswith("You are a strict test critic.") else key_by_role(body)


def test_custom_role_sends_weak_tests_back_before_the_run(sandbox_settings: SandboxSettings) -> None:
    scripts = {"test_critic": [CRITIQUE, "LGTM"], "programmer": [TRIVIAL_TESTS, programs.GOOD]}
    with ScriptedServer(scripts, key=critic_or_role) as server:
        lines = run_example("03_custom_role.py", server, sandbox_settings.image, "--problem", programs.PROBLEM)
    assert headers(lines) == [
        "--- 1. questioner ---",
        "--- 2. programmer ---",
        "--- 3. test_critic ---",
        "--- 4. programmer ---",
        "--- 5. executor ---",
    ]
    assert "verdict: VERIFIED (pass)" in lines
    assert "rounds: 1" in lines
    assert "speakers: questioner, programmer, test_critic, programmer, executor" in lines
    assert f"test_critic sent program back before run 1 (turn 3): {CRITIQUE}" in lines
    assert "test_critic approved a program before its run (kept aside): LGTM" in lines
    assert calls(server, critic_or_role) == ["programmer", "test_critic", "programmer", "test_critic"]
    assert "assert True" in server.requests[1]["messages"][-1]["content"]
    assert CRITIQUE in server.requests[2]["messages"][-1]["content"]  # the programmer reads the critique


def test_group_chat_follows_the_allowed_transitions_until_a_passing_run(sandbox_settings: SandboxSettings) -> None:
    scripts = {"questioner": [programs.EXPLANATION], "programmer": [programs.BUGGY, programs.GOOD]}
    with ScriptedServer(scripts, key=key_by_role) as server:
        lines = run_example("04_group_chat.py", server, sandbox_settings.image, "--problem", programs.PROBLEM)
    speakers = ["questioner", "programmer", "executor", "questioner", "programmer", "executor"]
    assert headers(lines) == [f"--- {name} ---" for name in speakers]
    assert f"speakers: {', '.join(speakers)}" in lines
    assert "verdict: VERIFIED (pass)" in lines
    assert "runs: 2" in lines
    assert after(lines, "--- executor ---")[0] == "exitcode: 1 (execution failed)"
    assert calls(server) == ["programmer", "questioner", "programmer"]
    questioner_sees = server.requests[1]["messages"][-1]
    assert (questioner_sees["name"], questioner_sees["role"]) == ("executor", "user")
    assert "AssertionError: add(2, 3) should be 5" in questioner_sees["content"]
    assert server.requests[2]["messages"][-1]["content"] == programs.EXPLANATION
