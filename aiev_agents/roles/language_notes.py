"""What the questioner and the programmer are told when a seed's language is not Python.

The programmer's task message normally asks for one ```python block; for another language it
asks for one block of that language, with tests written the way the sandbox counts them
(see :mod:`aiev_agents.sandbox.languages`): a program whose tests leave no evidence is never
verified, so the note says how to write them.
"""

from __future__ import annotations

#: Sandbox language -> (its name in prose, its fence label, how its tests must be written).
NOTES = {
    "javascript": (
        "JavaScript (Node.js)",
        "javascript",
        "Write the tests with Node's `assert` module (`const assert = require('assert');`, then "
        "`assert.strictEqual(...)`, `assert.deepStrictEqual(...)`), run at the end of the file.",
    ),
    "cpp": (
        "C++ (C++17, g++)",
        "cpp",
        "Write the tests as `assert(...)` calls (`#include <cassert>`) in `int main()`.",
    ),
    "java": (
        "Java (Java 17)",
        "java",
        "Put the solution in static methods of one class whose `public static void main` runs the tests "
        "as `assert` statements (the program runs with `-ea`; only the standard library and org.javatuples).",
    ),
    "rust": (
        "Rust (2021 edition, standard library only)",
        "rust",
        "Write the tests as `assert_eq!`/`assert!` calls in `fn main()`.",
    ),
    "go": (
        "Go (standard library only)",
        "go",
        'Use `package main` and write the tests as `func TestXxx(t *testing.T)` functions (`import "testing"`); '
        "the file runs with `go test`.",
    ),
    "bash": (
        "Bash",
        "bash",
        'Write the tests with the sandbox\'s helpers `assert_eq ACTUAL EXPECTED` (`assert_eq "$(add 1 2)" 3`) '
        "and `assert COMMAND...` (`assert [ -f out.txt ]`); a failed one exits 1.",
    ),
}


def task_note(language: str) -> str:
    """The paragraph that replaces the Python instructions of the programmer's task message."""
    name, fence, tests = NOTES[language]
    return (
        f"Answer in {name} with one complete program in a single ```{fence} block: the solution, then "
        f"tests that check it, run when the program runs. {tests} No third-party packages."
    )


def proposal_note(language: str) -> str:
    """The sentence added to the questioner's request for a problem."""
    return f"The problem must be solved in {NOTES[language][0]}: say so in the problem statement."
