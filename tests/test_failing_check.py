"""The questioner's feedback starts from the failing check and asks which side of it is wrong."""

from __future__ import annotations

from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.roles.failing_check import FailingCheck, failing_check
from aiev_agents.roles.questioner import QuestionerAgent

ASSERT_FAILURE = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 12, in <module>
    check()
  File "/workspace/main.py", line 9, in check
    assert clamp(-2, -5, 3) == -5
           ^^^^^^^^^^^^^^^^^^^^^^
AssertionError: clamp(-2, -5, 3) returned -2, expected -5
"""

UNITTEST_FAILURE = (
    """\
F
======================================================================
FAIL: test_spaces (__main__.TestReverse.test_spaces)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/workspace/main.py", line 8, in test_spaces
    self.assertEqual(reverse_words("hello world"), "world hello  ")
AssertionError: 'world hello' != 'world hello  '
- world hello
+ world hello"""
    + "  "
    + """
?            ++


----------------------------------------------------------------------
Ran 1 test in 0.001s

FAILED (failures=1)
"""
)

LIBRARY_FRAME = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 20, in <module>
    check_table()
  File "/workspace/main.py", line 17, in check_table
    helper(render([1]))
  File "/usr/lib/python3.11/some_lib.py", line 3, in helper
    assert False
AssertionError
"""


def test_an_assert_failure_names_the_line_the_check_and_what_it_saw():
    assert failing_check(ASSERT_FAILURE) == FailingCheck(
        line=9, function="check", source="assert clamp(-2, -5, 3) == -5",
        message="clamp(-2, -5, 3) returned -2, expected -5",
    )  # fmt: skip


def test_a_unittest_failure_names_the_assertion_and_its_first_message_line():
    check = failing_check(UNITTEST_FAILURE)
    assert check is not None
    assert (check.line, check.function) == (8, "test_spaces")
    assert check.source == 'self.assertEqual(reverse_words("hello world"), "world hello  ")'
    assert check.message == "'world hello' != 'world hello  '"


def test_the_frame_is_the_programs_own_never_the_python_installation():
    check = failing_check(LIBRARY_FRAME)
    assert check is not None and (check.line, check.source, check.message) == (17, "helper(render([1]))", "")


def test_other_errors_have_no_failing_check():
    assert failing_check('Traceback (most recent call last):\n  File "/w/main.py", line 1\nKeyError: 1\n') is None
    assert failing_check("") is None


def test_describe_reads_as_a_pointer():
    check = failing_check(ASSERT_FAILURE)
    assert check is not None
    assert check.describe() == (
        "The failing check (line 9, in check):\n"
        "    assert clamp(-2, -5, 3) == -5\n"
        "which reported: clamp(-2, -5, 3) returned -2, expected -5"
    )


def test_the_feedback_request_points_at_the_check_and_asks_which_side_is_wrong():
    execution = ExecutionResult(status="fail", exit_code=1, output=ASSERT_FAILURE)
    request = QuestionerAgent(llm_config=False).feedback_request(execution)
    assert "The failing check (line 9, in check):\n    assert clamp(-2, -5, 3) == -5\n" in request
    assert "If the problem statement agrees with what the program produced, the test is wrong" in request
    assert request.index("Output of the run:") < request.index("The failing check") < request.index("Explain")


def test_point_at_check_off_gives_the_plain_request():
    execution = ExecutionResult(status="fail", exit_code=1, output=ASSERT_FAILURE)
    plain = QuestionerAgent(llm_config=False, point_at_check=False).feedback_request(execution)
    assert "The failing check" not in plain and "```\n\nExplain to the programmer" in plain
    no_check = ExecutionResult(status="fail", exit_code=1, output="KeyError: 'k'\n")
    assert QuestionerAgent(llm_config=False).feedback_request(no_check) == QuestionerAgent(
        llm_config=False, point_at_check=False
    ).feedback_request(no_check)
