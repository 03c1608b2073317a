"""The broken-solution check outside Python: one mutant per solution function, its body a default return."""

from __future__ import annotations

import pytest

from aiev_agents.dialogue.verdict.default_return import default_return_mutants


def bodies(program: str, language: str) -> dict[str, str]:
    """Function name -> the mutant's text (whole program)."""
    return {mutant.function: mutant.source for mutant in default_return_mutants(program, language)}


def test_java_bodies_return_the_default_of_their_type():
    program = (
        "class P {\n  static boolean even(int n) { return n % 2 == 0; }\n"
        '  public static String name() { return "}"; }\n  static void log(String s) { System.out.println(s); }\n'
        "  static long[] squares(int n) { return new long[n]; }\n"
        "  public static void main(String[] a) { assert even(2); }\n}\n"
    )
    mutants = bodies(program, "java")
    assert sorted(mutants) == ["even", "log", "name", "squares"]
    assert "static boolean even(int n) { return false; }" in mutants["even"]
    assert "public static String name() { return null; }\n  static void log" in mutants["name"]
    assert "static void log(String s) { }" in mutants["log"]
    assert "static long[] squares(int n) { return null; }" in mutants["squares"]


def test_rust_test_functions_main_and_lifetimes():
    program = (
        "fn longest<'a>(a: &'a str, b: &'a str) -> &'a str { if a.len() >= b.len() { a } else { b } }\n"
        'fn show(x: i32) { println!("{}", x); }\n'
        '#[test]\nfn longest_works() { assert_eq!(longest("ab", "c"), "ab"); }\n'
        "fn main() { show(1); }\n"
    )
    mutants = bodies(program, "rust")
    assert sorted(mutants) == ["longest", "show"]
    assert mutants["longest"].startswith("fn longest<'a>(a: &'a str, b: &'a str) -> &'a str { Default::default() }\n")
    assert "fn show(x: i32) { }\n" in mutants["show"]


def test_go_zero_values_and_several_results_left_alone():
    program = (
        "package main\n\nfunc half(n int) float64 {\n\treturn float64(n) / 2\n}\n\n"
        "func split(s string) (string, string) {\n\treturn s[:1], s[1:]\n}\n\n"
        "func TestHalf(t *testing.T) {\n\tif half(3) != 1.5 {\n\t\tt.Fatal()\n\t}\n}\n"
    )
    mutants = bodies(program, "go")
    assert list(mutants) == ["half"]
    assert "func half(n int) float64 { var zero float64; return zero }\n" in mutants["half"]


@pytest.mark.parametrize(
    ("language", "program", "expected"),
    [
        (
            "javascript",
            "function f(x) {\n  return { a: x };\n}\nf(1);\n",
            "function f(x) { return undefined; }\nf(1);\n",
        ),
        ("cpp", 'void hi() { puts("{"); }\nint main() { hi(); }\n', "void hi() { }\nint main() { hi(); }\n"),
        ("bash", 'greet() {\n  echo "hi $1"\n}\ngreet x\n', "greet() { :; }\ngreet x\n"),
    ],
)
def test_bodies_with_braces_in_strings_are_replaced_whole(language, program, expected):
    assert [mutant.source for mutant in default_return_mutants(program, language)] == [expected]
