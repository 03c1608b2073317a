"""The one definition of test code versus solution code (``aiev_agents.sandbox.guest.testcode``), as a specification.

A program's top-level statements are test code (test functions and classes), driver code
(top-level statements that run: asserts, calls, loops, ``if __name__`` blocks; counted as
test code) or solution code (the other definitions, imports and assignments).
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from aiev_agents.sandbox.guest import testcode


def program(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def definitions_tested(text: str) -> set[str]:
    return testcode.test_definitions(ast.parse(program(text)))


def is_test(text: str) -> bool:
    """Whether the one top-level statement of ``text`` (after the definitions it names) is test code."""
    tree = ast.parse(program(text))
    return testcode.is_test_statement(tree.body[-1], testcode.test_definitions(tree))


SQRT = program(
    """
    import math

    LIMIT = 10


    def sqrt_floor(n):
        assert n >= 0, "n must be non-negative"
        return math.isqrt(n)


    def check():
        assert callable(sqrt_floor)


    def main():
        check()


    assert sqrt_floor(9) == 3
    """
)


# -- test functions and classes --------------------------------------------------------------


def test_a_solution_function_with_a_precondition_assert_is_solution_code() -> None:
    lay = testcode.layout(SQRT)
    assert "sqrt_floor" in lay.solution and "sqrt_floor" not in lay.test_names
    first, last = lay.solution["sqrt_floor"]
    assert lay.in_solution(first + 1)  # its assert is the solution's precondition, not a test


def test_a_check_function_and_a_main_that_calls_it_are_test_code() -> None:
    assert testcode.layout(SQRT).test_names == {"check", "main"}


@pytest.mark.parametrize("name", ["test_sqrt", "testSqrt", "TestHelper", "check_sqrt", "Check", "CHECK_ALL"])
def test_functions_named_test_or_check_that_assert_or_take_no_argument_are_test_code(name: str) -> None:
    assert definitions_tested(f"def {name}(x):\n    assert x\n") == {name}
    assert definitions_tested(f"def {name}():\n    print(1)\n") == {name}


@pytest.mark.parametrize("name", ["check_palindrome", "check_if_last_char_is_a_letter", "test_duplicate"])
def test_a_solution_named_check_or_test_that_takes_arguments_and_returns_is_solution_code(name: str) -> None:
    assert definitions_tested(f"def {name}(s):\n    return s == s[::-1]\n") == set()


def test_classes_are_test_code_when_named_test_or_derived_from_testcase() -> None:
    assert definitions_tested("class TestStack:\n    pass\n\n\nclass Checker:\n    pass\n") == {"TestStack"}


def test_a_function_that_calls_test_code_is_test_code_transitively() -> None:
    source = """
        def f(x):
            return x

        def check_f():
            assert f(1) == 1

        def run_all():
            check_f()

        def entry():
            run_all()
        """
    assert definitions_tested(source) == {"check_f", "run_all", "entry"}


def test_a_function_without_required_parameters_asserting_about_a_definition_is_test_code() -> None:
    source = """
        def double(x):
            return 2 * x

        def verify(times=3):
            assert double(times) == 2 * times
        """
    assert definitions_tested(source) == {"verify"}


def test_a_function_with_required_parameters_asserting_about_a_definition_is_not() -> None:
    source = """
        def double(x):
            return 2 * x

        def verify(times):
            assert double(times) == 2 * times

        def verify_kw(*, times):
            assert double(times) == 2 * times
        """
    assert definitions_tested(source) == set()


def test_an_argument_less_function_asserting_about_no_definition_is_not() -> None:
    source = """
        def configure():
            import os
            assert os.sep
            return os.sep
        """
    assert definitions_tested(source) == set()


def test_unittest_testcase_subclasses_and_test_named_classes_are_test_code() -> None:
    source = """
        import unittest

        class Stack:
            def push(self, item):
                assert item is not None

        class StackCase(unittest.TestCase):
            def test_push(self):
                Stack().push(1)

        class Checks(TestCase):
            pass

        class TestStack:
            def test_push(self):
                Stack().push(1)
        """
    lay = testcode.layout(program(source))
    assert lay.test_names == {"StackCase", "Checks", "TestStack"}
    assert sorted(lay.solution) == ["Stack.push"]  # methods of a solution class, by qualified name


# -- driver code and solution context --------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "assert f(1) == 1",
        "f(1)",
        "print(f(2))",
        "for i in range(3):\n    assert f(i) == i",
        "while False:\n    pass",
        "if __name__ == '__main__':\n    print(f(1))",
        "with open('x') as handle:\n    pass",
        "try:\n    assert f(0) == 0\nexcept AssertionError:\n    raise",
    ],
)
def test_top_level_statements_that_run_are_driver_code(statement: str) -> None:
    assert is_test(f"def f(x):\n    return x\n\n{statement}\n")


@pytest.mark.parametrize(
    "statement",
    [
        "import math",
        "from collections import deque",
        "LIMIT = 10",
        "table: dict = {}",
        "LIMIT += 1",
        "CACHE = f(3)",  # computing data with the solution is still context
        "try:\n    import numpy\nexcept ImportError:\n    numpy = None",
        '"""A module docstring."""',
    ],
)
def test_imports_assignments_and_docstrings_are_solution_context(statement: str) -> None:
    assert not is_test(f"LIMIT = 1\n\ndef f(x):\n    return x\n\n{statement}\n")


def test_an_assignment_that_calls_test_code_is_driver_code() -> None:
    assert is_test("def check():\n    assert True\n\nok = check()\n")


# -- solution_only and tests_only ------------------------------------------------------------


def test_solution_only_keeps_imports_assignments_and_solution_definitions() -> None:
    solution = testcode.solution_only(SQRT)
    assert solution == program(
        """
        import math

        LIMIT = 10

        def sqrt_floor(n):
            assert n >= 0, "n must be non-negative"
            return math.isqrt(n)
        """
    )


def test_solution_only_drops_unittest_main_and_sys_exit_lines() -> None:
    source = program(
        """
        import sys
        import unittest


        def f(x):
            return x


        class FTest(unittest.TestCase):
            def test_f(self):
                self.assertEqual(f(1), 1)


        unittest.main(exit=False)
        sys.exit(0)
        """
    )
    solution = testcode.solution_only(source)
    assert "unittest.main" not in solution and "sys.exit" not in solution and "class FTest" not in solution
    assert "def f(x)" in solution and "import unittest" in solution


def test_solution_only_returns_a_program_that_does_not_parse_unchanged() -> None:
    broken = "def f(x):\n    return x +\n\nassert f(1) == 1\n"
    assert testcode.solution_only(broken) == broken


def test_tests_only_keeps_the_imports_and_the_test_and_driver_code() -> None:
    tests = testcode.tests_only(SQRT)
    assert tests.startswith("import math\n")
    assert "def check():" in tests and "def main():" in tests and "assert sqrt_floor(9) == 3" in tests
    assert "def sqrt_floor" not in tests and "LIMIT = 10" not in tests


def test_solution_and_tests_split_the_program_without_overlap() -> None:
    tree = ast.parse(SQRT)
    solution = {ast.dump(node) for node in ast.parse(testcode.solution_only(SQRT)).body}
    tests = {ast.dump(node) for node in ast.parse(testcode.tests_only(SQRT)).body}
    everything = {ast.dump(node) for node in tree.body}
    assert solution | tests == everything
    assert solution & tests == {ast.dump(node) for node in tree.body if isinstance(node, ast.Import)}


# -- redefined_names -------------------------------------------------------------------------


def test_redefined_names_are_solution_names_the_tests_define_again() -> None:
    hidden = "LIMIT = 99\n\ndef sqrt_floor(n):\n    return 0\n\ndef check():\n    pass\n\nassert sqrt_floor(4) == 2\n"
    assert testcode.redefined_names(SQRT, hidden) == ["LIMIT", "sqrt_floor"]  # its own check() is no solution name
    assert testcode.redefined_names(SQRT, "import math\nassert sqrt_floor(4) == 2\n") == []  # imports do not count
    assert testcode.redefined_names(SQRT, "def broken(:\n") == []


# -- combine ---------------------------------------------------------------------------------


def test_combine_hoists_future_imports_from_any_part_and_the_result_compiles() -> None:
    solution = "from __future__ import annotations\n\n\ndef f(x: Later) -> int:\n    return 1\n"
    tests = "from __future__ import annotations\nfrom __future__ import division\n\nassert f(1) == 1\n"
    combined = testcode.combine('__name__ = "__solution__"\n', solution, tests)
    lines = combined.splitlines()
    assert lines[:3] == [
        "from __future__ import annotations",
        "from __future__ import division",
        '__name__ = "__solution__"',
    ]
    assert combined.count("from __future__ import annotations") == 1  # deduplicated
    compile(combined, "<combined>", "exec")
    with pytest.raises(SyntaxError):
        compile('__name__ = "__solution__"\n' + solution + tests, "<concatenated>", "exec")


def test_combine_without_future_imports_joins_the_parts_with_a_blank_line() -> None:
    assert testcode.combine("x = 1\n", "\n", "assert x == 1\n") == "x = 1\n\nassert x == 1\n"


def test_combine_keeps_a_part_that_does_not_parse_as_it_is() -> None:
    combined = testcode.combine("from __future__ import annotations\nx = 1\n", "def broken(:\n")
    assert combined == "from __future__ import annotations\n\nx = 1\n\ndef broken(:\n"
