"""The broken-solution check outside Python: each solution function's body replaced by a
default return, which the program's tests must notice.

Python's verdict runs mutmut's mutants (:mod:`.mutation`); for the other languages the sandbox
runs, a cheaper check stands in: one mutant per solution function, its body replaced by the
language's default value (``undefined``, ``{}``, ``0``/``false``/``null``, ``Default::default()``,
Go's zero value, an empty shell function). A test suite that still passes with a function
gutted never checked what it returns. Functions are found by their signatures (regular
expressions over the code with strings and comments blanked), bodies by brace matching; test
functions and ``main`` are left alone. A mutant that does not compile is not judged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ...sandbox.counting_sources import masked_java
from ..transcript import ExecutionResult


@dataclass(frozen=True)
class Mutant:
    """One solution function with its body replaced."""

    function: str
    source: str


_JS = re.compile(
    r"^[ \t]*(?:export\s+)?(?:async\s+)?function\s*\*?\s*(?P<name>[A-Za-z_$][\w$]*)\s*\([^)]*\)\s*\{", re.M
)
_CPP = re.compile(
    r"^(?P<type>[A-Za-z_][\w:<>,\s\*&]*?)[\s\*&]+(?P<name>[A-Za-z_]\w*)\s*\((?P<params>[^;{}()]*)\)\s*(?:const\s*)?\{",
    re.M,
)
_JAVA = re.compile(
    r"^[ \t]*(?:(?:public|private|protected|static|final|synchronized)\s+)+(?:<[^>]+>\s*)?"
    r"(?P<type>[\w.<>\[\], ?]+?)\s+(?P<name>[A-Za-z_$][\w$]*)\s*\([^;{}]*\)\s*(?:throws\s+[\w., ]+)?\{",
    re.M,
)
_RUST = re.compile(
    r"^[ \t]*(?:pub(?:\([^)]*\))?\s+)?fn\s+(?P<name>\w+)\s*(?:<[^>{]*>)?\s*\((?P<params>[^{]*?)\)\s*"
    r"(?:->\s*(?P<type>[^{]+?))?\s*(?:where[^{]*)?\{",
    re.M,
)
_GO = re.compile(r"^func\s+(?P<name>\w+)\s*\([^)]*\)\s*(?P<type>[^{]*?)\s*\{", re.M)
_BASH = re.compile(r"^[ \t]*(?:function\s+)?(?P<name>[A-Za-z_][\w-]*)\s*\(\s*\)\s*\{", re.M)

_JAVA_ZERO = {"boolean": "false", "char": "(char) 0", "void": ""}
_JAVA_NUMBERS = ("byte", "short", "int", "long", "float", "double")
_NOT_SOLUTION = re.compile(r"^(?:main|test\w*|Test\w*|run_test|check\w*|assert\w*|candidate)$")


def _js_body(match: re.Match[str]) -> str:
    return "{ return undefined; }"


def _cpp_body(match: re.Match[str]) -> str | None:
    kind = " ".join(match["type"].split())
    if kind in ("return", "else", "if", "while", "for", "switch") or "=" in kind:
        return None
    return "{ }" if kind.endswith("void") and "*" not in kind else "{ return {}; }"


def _java_body(match: re.Match[str]) -> str:
    kind = match["type"].strip()
    if kind == "void":
        return "{ }"
    value = _JAVA_ZERO.get(kind, "0" if kind in _JAVA_NUMBERS else "null")
    return f"{{ return {value}; }}"


def _rust_body(match: re.Match[str]) -> str:
    kind = (match["type"] or "").strip()
    return "{ }" if not kind or kind == "()" else "{ Default::default() }"


def _go_body(match: re.Match[str]) -> str | None:
    kind = match["type"].strip()
    if not kind:
        return "{ }"
    if kind.startswith("("):
        return None  # several results: left alone
    return f"{{ var zero {kind}; return zero }}"


def _bash_body(match: re.Match[str]) -> str:
    return "{ :; }"


_LANGUAGES: dict[str, tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = {
    "javascript": (_JS, _js_body),
    "cpp": (_CPP, _cpp_body),
    "java": (_JAVA, _java_body),
    "rust": (_RUST, _rust_body),
    "go": (_GO, _go_body),
    "bash": (_BASH, _bash_body),
}
#: Compiler messages that mean a mutant did not build (it is then not judged).
COMPILE_ERRORS = {
    "javascript": re.compile(r"^SyntaxError: ", re.M),
    "cpp": re.compile(r": error: "),
    "java": re.compile(r"error: compilation failed"),
    "rust": re.compile(r"^error(?:\[E\d+\])?: ", re.M),
    "go": re.compile(r"\[build failed\]|^# command-line-arguments", re.M),
    "bash": re.compile(r"syntax error"),
}


def default_return_mutants(program: str, language: str) -> list[Mutant]:
    """One mutant per solution function of ``program``: its body replaced by a default return."""
    pattern, body_of = _LANGUAGES[language]
    code = masked_java(program, char_literals=language != "rust") if language != "bash" else program
    mutants = []
    for match, end in _functions(pattern, code, language):
        body = body_of(match)
        if body is None or _NOT_SOLUTION.match(match["name"]) or _is_rust_test(code, match, language):
            continue
        mutants.append(Mutant(match["name"], program[: match.end() - 1] + body + program[end + 1 :]))
    return mutants


def default_return_check(
    run: Callable[[str], ExecutionResult], program: str, language: str, budget: int
) -> dict[str, Any]:
    """Run up to ``budget`` default-return mutants of ``program`` through ``run``; the report
    as recorded in ``checks["mutation"]`` (``killed``, ``survived``, ``score`` over the judged)."""
    started = time.perf_counter()
    killed: list[str] = []
    survived: list[str] = []
    not_judged: list[str] = []
    for mutant in default_return_mutants(program, language)[:budget]:
        result = run(mutant.source)
        if result.status == "timeout" or result.exit_code != 0 or result.status == "fail":
            broken = result.exit_code != 0 and COMPILE_ERRORS[language].search(result.output)
            (not_judged if broken else killed).append(mutant.function)
        else:
            survived.append(mutant.function)
    judged = len(killed) + len(survived)
    return {
        "method": "default_return",
        "mutants": judged + len(not_judged),
        "killed": len(killed),
        "survived": survived,
        "not_judged": not_judged,
        "score": round(len(killed) / judged, 4) if judged else None,
        "duration_s": round(time.perf_counter() - started, 3),
    }


def _functions(pattern: re.Pattern[str], code: str, language: str) -> Iterator[tuple[re.Match[str], int]]:
    """Each function signature and the index of the brace that closes its body."""
    for match in pattern.finditer(code):
        end = _matching_brace(code, match.end() - 1)
        if end is not None:
            yield match, end


def _matching_brace(code: str, start: int) -> int | None:
    depth = 0
    for index in range(start, len(code)):
        if code[index] == "{":
            depth += 1
        elif code[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _is_rust_test(code: str, match: re.Match[str], language: str) -> bool:
    return language == "rust" and bool(re.search(r"#\[\s*test\s*\]\s*$", code[: match.start()].rstrip() + "\n"))
