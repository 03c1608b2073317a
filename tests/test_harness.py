"""The harness runs a program like `python main.py` and counts the tests it executed."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from aiev_agents.sandbox.guest import harness

HARNESS = Path(harness.__file__)
TESTCODE = HARNESS.with_name("testcode.py")
NONCE = "0123abcd"
COUNTS = ("assertions", "test_cases", "test_failures")


def run_harness(folder: Path, program: str, *args: str) -> tuple[int, str, dict[str, int] | None]:
    """Run ``program`` as main.py under the harness; return exit code, output, the test counts."""
    code, output, evidence = run_with_evidence(folder, program, *args)
    return code, output, None if evidence is None else {key: evidence[key] for key in COUNTS}


def run_with_evidence(folder: Path, program: str, *args: str, coverage: bool = False) -> tuple[int, str, dict | None]:
    """Run ``program`` as main.py under the harness; return exit code, output, all its evidence."""
    (folder / "main.py").write_text(textwrap.dedent(program))
    env = {**os.environ, harness.NONCE_ENV: NONCE, "AIEV_HARNESS_COVERAGE": "1" if coverage else ""}
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "main.py", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=30,
    )
    output, counts = harness.split_counts(proc.stdout, NONCE)
    return proc.returncode, output.decode(), counts


def run_plain(folder: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=30,
    )
    return proc.returncode, proc.stdout.decode()


def test_each_executed_assert_is_counted(tmp_path: Path) -> None:
    program = """
        def check(x):
            assert x > 0
            return x

        for i in range(3):
            check(i + 1)
        assert True, "top level"

        def never_called():
            assert False
    """
    assert run_harness(tmp_path, program) == (0, "", {"assertions": 4, "test_cases": 0, "test_failures": 0})


def test_unittest_cases_run_by_unittest_main_are_counted_and_skips_are_not(tmp_path: Path) -> None:
    program = """
        import unittest

        class T(unittest.TestCase):
            def test_one(self):
                self.assertEqual(1 + 1, 2)

            def test_two(self):
                assert [] == []

            @unittest.skip("not today")
            def test_skipped(self):
                pass

        if __name__ == "__main__":
            unittest.main()
    """
    code, output, counts = run_harness(tmp_path, program)
    assert (code, counts) == (0, {"assertions": 1, "test_cases": 2, "test_failures": 0})
    assert "Ran 3 tests" in output
    assert "OK (skipped=1)" in output


def test_unittest_failures_are_counted_and_exit_code_kept(tmp_path: Path) -> None:
    program = """
        import unittest

        class T(unittest.TestCase):
            def test_bad(self):
                self.assertEqual(1, 2)

        unittest.main()
    """
    code, output, counts = run_harness(tmp_path, program)
    assert (code, counts) == (1, {"assertions": 0, "test_cases": 1, "test_failures": 1})
    assert "FAILED (failures=1)" in output


def test_program_without_tests_counts_zero(tmp_path: Path) -> None:
    assert run_harness(tmp_path, "print('hello')\n") == (
        0,
        "hello\n",
        {"assertions": 0, "test_cases": 0, "test_failures": 0},
    )


def test_failing_assert_output_is_exactly_that_of_plain_python(tmp_path: Path) -> None:
    program = """
        def test_f():
            assert 1 == 2, "boom"

        test_f()
    """
    code, output, counts = run_harness(tmp_path, program)
    assert (code, output) == run_plain(tmp_path)
    assert code == 1
    assert "harness" not in output
    assert 'line 3, in test_f\n    assert 1 == 2, "boom"' in output
    assert counts == {"assertions": 1, "test_cases": 0, "test_failures": 0}


def test_chained_exception_output_matches_plain_python(tmp_path: Path) -> None:
    program = """
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError("wrapped") from exc
    """
    code, output, _ = run_harness(tmp_path, program)
    assert (code, output) == run_plain(tmp_path)
    assert "The above exception was the direct cause" in output


def test_syntax_error_output_matches_plain_python(tmp_path: Path) -> None:
    code, output, counts = run_harness(tmp_path, "x = (\n")
    assert (code, output) == run_plain(tmp_path)
    assert code == 1
    assert counts == {"assertions": 0, "test_cases": 0, "test_failures": 0}


def test_system_exit_keeps_its_code_and_counts_are_still_written(tmp_path: Path) -> None:
    program = """
        import sys
        assert True
        sys.exit(3)
    """
    assert run_harness(tmp_path, program) == (3, "", {"assertions": 1, "test_cases": 0, "test_failures": 0})


def test_program_sees_the_same_argv_file_name_and_path_as_under_plain_python(tmp_path: Path) -> None:
    program = """
        import json, sys
        print(json.dumps([sys.argv, __file__, __name__, sys.path[0]]))
    """
    code, output, _ = run_harness(tmp_path, program, "--flag", "x")
    assert (code, output) == run_plain(tmp_path, "--flag", "x")
    assert json.loads(output) == [
        ["main.py", "--flag", "x"],
        str(tmp_path / "main.py"),
        "__main__",
        str(tmp_path),
    ]


def test_counts_reach_the_original_stderr_even_if_the_program_closes_it(tmp_path: Path) -> None:
    program = """
        import os
        assert 1
        os.close(2)
    """
    assert run_harness(tmp_path, program)[2] == {"assertions": 1, "test_cases": 0, "test_failures": 0}


def test_os_exit_leaves_no_counts(tmp_path: Path) -> None:
    program = """
        import os
        assert True
        os._exit(0)
    """
    assert run_harness(tmp_path, program) == (0, "", None)


def test_split_counts_restores_output_without_trailing_newline() -> None:
    raw = b"partial" + f"\n{harness.marker(NONCE)} ".encode() + b'{"assertions": 2}\n'
    assert harness.split_counts(raw, NONCE) == (b"partial", {"assertions": 2})
    assert harness.split_counts(raw, "otherrun") == (raw, None)


def test_harness_source_is_valid_python_3_8() -> None:
    ast.parse(HARNESS.read_text(), feature_version=(3, 8))
    ast.parse(TESTCODE.read_text(), feature_version=(3, 8))


def test_asserts_in_the_solution_are_preconditions_counted_apart_from_tests(tmp_path: Path) -> None:
    program = """
        def factorial(n):
            assert n >= 0
            return 1 if n == 0 else n * factorial(n - 1)

        print(factorial(3))
        assert factorial(0) == 1
    """
    code, _, evidence = run_with_evidence(tmp_path, program)
    assert (code, evidence["assertions"], evidence["solution_assertions"]) == (0, 1, 5)


def test_the_solution_functions_that_ran_are_named(tmp_path: Path) -> None:
    program = """
        class Stack:
            def __init__(self):
                self.items = []

            def push(self, item):
                self.items.append(item)

            def pop(self):
                return self.items.pop()

        def unused():
            return 1

        def test_push():
            stack = Stack()
            stack.push(1)
            assert stack.items == [1]

        test_push()
    """
    _, _, evidence = run_with_evidence(tmp_path, program)
    assert evidence["solution"] == ["Stack.__init__", "Stack.pop", "Stack.push", "unused"]
    assert evidence["called"] == ["Stack.__init__", "Stack.push"]
    assert "coverage" not in evidence  # traced only when asked


def test_coverage_counts_the_solution_lines_and_branch_outcomes_the_tests_reach(tmp_path: Path) -> None:
    program = """
        def clamp(x, lo, hi):
            if x < lo:
                return lo
            if x > hi:
                return hi
            return x

        def test_clamp():
            assert clamp(0, -5, 3) == 0
            assert clamp(9, -5, 3) == 3

        test_clamp()
    """
    _, _, evidence = run_with_evidence(tmp_path, program, coverage=True)
    assert evidence["coverage"] == {"lines": [4, 5], "branches": [3, 4], "missing": [4]}


def test_coverage_and_markers_leave_tracebacks_as_plain_python_shows_them(tmp_path: Path) -> None:
    program = """
        def half(x):
            if x % 2:
                raise ValueError("odd")
            return x // 2

        assert half(3) == 1
    """
    code, output, _ = run_with_evidence(tmp_path, program, coverage=True)
    assert (code, output) == run_plain(tmp_path)
