"""A failed ``assert`` says what it compared: the call, what it returned, what was expected."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aiev_agents.sandbox.guest import harness

SOLUTION = """\
def clamp(x, lo, hi):
    return max(lo, min(x, hi))


"""


def run(folder: Path, tests: str, *, explain: bool = True) -> tuple[int, str]:
    """Run ``SOLUTION`` plus ``tests`` as main.py under the harness: exit code and output."""
    (folder / "main.py").write_text(SOLUTION + textwrap.dedent(tests))
    env = {**os.environ, harness.NONCE_ENV: "feedc0de", harness.EXPLAIN_ENV: "1" if explain else "0"}
    proc = subprocess.run(
        [sys.executable, str(Path(harness.__file__)), "main.py"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=30,
    )
    output, _ = harness.split_counts(proc.stdout, "feedc0de")
    return proc.returncode, output.decode()


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("assert clamp(-2, -5, 3) == -5", "clamp(-2, -5, 3) returned -2, expected -5"),
        ("assert -5 == clamp(-2, -5, 3)", "clamp(-2, -5, 3) returned -2, expected -5"),
        ("assert clamp(1, 0, 3) is None", "clamp(1, 0, 3) returned 1, expected None"),
        ("assert clamp(1, 0, 3) != 1", "clamp(1, 0, 3) returned 1, expected anything but 1"),
        ("assert clamp(0, 0, 0)", "clamp(0, 0, 0) returned 0, expected a true value"),
        ("assert not clamp(1, 0, 3)", "clamp(1, 0, 3) returned 1, expected a false value"),
        ("assert clamp(1, 0, 3) in [2, 3]", "clamp(1, 0, 3) in [2, 3] is false: clamp(1, 0, 3) returned 1"),
        (
            "assert clamp(1, 0, 3) == clamp(2, 0, 3)",
            "clamp(1, 0, 3) == clamp(2, 0, 3) is false: clamp(1, 0, 3) returned 1, clamp(2, 0, 3) returned 2",
        ),
        (
            "limit = 3\nassert clamp(9, 0, limit) < limit",
            "clamp(9, 0, limit) < limit is false: clamp(9, 0, limit) returned 3, limit is 3",
        ),  # fmt: skip
    ],
)
def test_a_failed_assert_shows_the_call_its_result_and_the_expectation(tmp_path, check, message):
    code, output = run(tmp_path, check)
    assert code == 1
    assert output.endswith(f"AssertionError: {message}\n"), output


def test_the_traceback_is_unchanged_but_for_the_message(tmp_path):
    tests = """\
    def check():
        assert clamp(-2, -5, 3) == -5

    check()
    """
    explained = run(tmp_path, tests)[1].splitlines()
    plain = run(tmp_path, tests, explain=False)[1].splitlines()
    assert explained[:-1] == plain[:-1]
    assert explained[-4].endswith('main.py", line 6, in check')
    assert explained[-3:-1] == ["    assert clamp(-2, -5, 3) == -5", "           ^^^^^^^^^^^^^^^^^^^^^^"]
    assert (plain[-1], explained[-1]) == ("AssertionError", "AssertionError: clamp(-2, -5, 3) returned -2, expected -5")


def test_operands_run_once_and_in_order(tmp_path):
    tests = """\
    calls = []

    def seen(value):
        calls.append(value)
        return value

    assert seen(1) < seen(2)
    try:
        assert seen(3) == seen(4)
    except AssertionError as exc:
        print(exc)
    print(calls)
    """
    code, output = run(tmp_path, tests)
    assert (code, output) == (0, "seen(3) == seen(4) is false: seen(3) returned 3, seen(4) returned 4\n[1, 2, 3, 4]\n")


@pytest.mark.parametrize(
    "check",
    [
        'assert 1 == 2, "own message"',  # literals only: no value to add to the author's message
        "assert clamp(1, 0, 3) == 2 and True",  # and/or: left alone
        "assert 0 < clamp(5, 0, 3) < 3",  # a chain may skip its last operand: left alone
    ],
)
def test_asserts_it_cannot_explain_fail_as_they_would_under_python(tmp_path, check):
    explained = run(tmp_path, check)[1].splitlines()[-1]
    plain = run(tmp_path, check, explain=False)[1].splitlines()[-1]
    assert explained == plain and explained.startswith("AssertionError")


def test_an_assert_with_its_own_message_keeps_it_and_explains_on_the_next_line(tmp_path):
    code, output = run(tmp_path, 'assert clamp(-2, -5, 3) == -5, "Test case 2 failed"')
    assert code == 1
    assert output.endswith("AssertionError: Test case 2 failed\nclamp(-2, -5, 3) returned -2, expected -5\n"), output


def test_the_authors_message_is_evaluated_only_when_the_assert_fails(tmp_path):
    tests = """\
    def message():
        print("message built")
        return "own"

    assert clamp(1, 0, 3) == 1, message()
    print("passed")
    assert clamp(1, 0, 3) == 2, message()
    """
    code, output = run(tmp_path, tests)
    assert output.startswith("passed\nmessage built\n")
    assert output.endswith("AssertionError: own\nclamp(1, 0, 3) returned 1, expected 2\n")


def test_a_broken_repr_does_not_hide_the_failure(tmp_path):
    tests = """\
    class Odd:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert Odd() == 1
    """
    assert run(tmp_path, tests)[1].endswith("AssertionError: Odd() returned <Odd object>, expected 1\n")


def test_assertion_counting_is_unchanged(tmp_path):
    (tmp_path / "main.py").write_text(SOLUTION + "assert clamp(1, 0, 3) == 1\nassert clamp(5, 0, 3) == 3\n")
    env = {**os.environ, harness.NONCE_ENV: "feedc0de"}
    proc = subprocess.run(
        [sys.executable, str(Path(harness.__file__)), "main.py"], cwd=tmp_path, env=env, capture_output=True
    )
    _, counts = harness.split_counts(proc.stdout + proc.stderr, "feedc0de")
    assert proc.returncode == 0 and counts["assertions"] == 2 and counts["called"] == ["clamp"]


@pytest.mark.docker
def test_in_the_sandbox_the_setting_switches_it(sandbox_settings):
    from aiev_agents.sandbox import DockerSandbox

    program = SOLUTION + "assert clamp(-2, -5, 3) == -5\n"
    for explain, last_line in (
        (True, "AssertionError: clamp(-2, -5, 3) returned -2, expected -5"),
        (False, "AssertionError"),
    ):
        settings = sandbox_settings.model_copy(update={"explain_assertions": explain})
        with DockerSandbox(settings) as sandbox:
            result = sandbox.run(program)
        assert (result.status, result.output.splitlines()[-1]) == ("fail", last_line)


def test_big_values_are_shown_cut_while_shown(tmp_path):
    tests = """\
    big = list(range(10**6))
    assert big == [clamp(-2, -5, 3)]
    """
    code, output = run(tmp_path, tests)
    message = output.splitlines()[-1]
    assert code == 1
    assert message.startswith("AssertionError: big == [clamp(-2, -5, 3)] is false: big is [0, 1, 2,")
    assert message.endswith("28, 29, ...], [clamp(-2, -5, 3)] is [-2]") and len(message) < 300
