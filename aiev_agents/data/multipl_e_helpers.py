"""The helpers a chat model writes around a MultiPL-E function, kept in the program.

Asked for one function, a chat model often writes helpers beside it (``isPalindrome``,
``factorial``), before or after. MultiPL-E completes with base models and ends the
completion where the function ends, so a program built from the function alone fails with
``isPalindrome is not defined`` although the answer is whole. Here the helpers are put just
before the prompt's signature line: at the top level in JavaScript, C++, Rust, Go and bash,
inside the class in Java. What cannot stand there is left out: lines the prompt already has
(includes, imports, the class header, its doc comment), the model's own ``main`` and Go
``TestXxx`` functions (the tests bring theirs), Go and Java ``package``/``import`` lines, a
Java class header and the brace that closes it. In C++ the function's declaration goes before
the helpers, since a helper written after the function may call it. JavaScript has no
``main``: there only the top-level declarations stay, so the model's own tests (top-level
calls such as ``assert.strictEqual(...)``) and its ``const assert = require('assert')``,
which would clash with the binding MultiPL-E's tests declare, are left out.
"""

from __future__ import annotations

import re

from .benchmarks import BenchmarkTask
from .multipl_e import after_signature, closing_brace, completion_from_code, language_of, signature_line

#: Where a block starts that the tests bring their own of: ``main``, and Go's ``TestXxx`` functions.
_ENTRY_POINT = re.compile(
    r"^[ \t]*(?:int\s+main\s*\(|fn\s+main\s*\(|func\s+(?:main|Test\w*)\s*\(|public\s+static\s+void\s+main\s*\()",
    re.MULTILINE,
)
#: A top-level JavaScript statement that declares something (a helper).
_JS_DECLARATION = re.compile(r"(?:export\s+)?(?:async\s+)?(?:function\b|class\b|const\b|let\b|var\b)")
#: A declaration of the name ``assert``, or of anything from Node's assert module.
_JS_ASSERT = re.compile(r"""^(?:const|let|var)\s+assert\b|require\(\s*['"](?:node:)?assert(?:/strict)?['"]""")
#: Lines that may only open a file, per language.
_FILE_HEADER = {
    "go": re.compile(r"^\s*(?:package\s|import\s*\(|import\s+\")"),
    "java": re.compile(r"^\s*(?:package\s|import\s|(?:public\s+|final\s+)*class\s+\w+)"),
}


def program_from_code(task: BenchmarkTask, code: str) -> str:
    """The program (before the tests) that a whole-function answer ``code`` amounts to: the
    prompt with the answer's helpers inserted before its signature line, then the completion."""
    completion = completion_from_code(task, code)
    helpers = helper_code(task, code)
    if not helpers:
        return task.prompt + completion
    if language_of(task.benchmark) == "cpp":  # a helper written after the function may call it
        helpers = f"{declaration_of(signature_line(task))}\n{helpers}"
    after = after_signature(task.prompt, signature_line(task))
    if after is None:
        return task.prompt + completion
    at = _line_start(task.prompt, after)
    return f"{task.prompt[:at]}{helpers}\n\n{task.prompt[at:]}{completion}"


def declaration_of(signature: str) -> str:
    """A C++ function's declaration from its definition's first line: ``long f(long x) {`` ->
    ``long f(long x);``."""
    return signature.rstrip().removesuffix("{").rstrip() + ";"


def helper_code(task: BenchmarkTask, code: str) -> str:
    """The code of ``code`` outside the task's function that can stand before it ("" if none).

    Example:
        >>> from aiev_agents.data.benchmarks import BenchmarkTask
        >>> task = BenchmarkTask("multipl_e_js", "HumanEval_1_f", "//Twice.\\nfunction f(x){\\n", "", "f", "")
        >>> print(helper_code(task, "function f(x) {\\n  return g(x);\\n}\\nfunction g(x) { return 2 * x; }\\n"))
        function g(x) { return 2 * x; }
    """
    language = language_of(task.benchmark)
    signature = signature_line(task)
    body_start = after_signature(code, signature)
    if body_start is None:
        return ""
    start = _line_start(code, body_start)
    quotes = '"' if language == "rust" else "\"'`"
    end = closing_brace(code[body_start:], quotes)
    after = "" if end is None else code[body_start + end + 1 :]
    outside = closing_brace(after, quotes)  # a brace closing what encloses the function (Java's class)
    if outside is not None:
        after = after[:outside]
    prompt_lines = {_squeezed(line) for line in task.prompt.splitlines() if line.strip()}
    parts = [_kept(part, prompt_lines, language, quotes) for part in (code[:start], after)]
    return "\n\n".join(part for part in parts if part)


def _kept(code: str, prompt_lines: set[str], language: str, quotes: str) -> str:
    code = _without_main(code, quotes)
    if language == "javascript":
        code = "\n".join(
            statement
            for statement in _top_level_statements(code)
            if _JS_DECLARATION.match(statement) and not _JS_ASSERT.search(statement)
        )
    header = _FILE_HEADER.get(language)
    lines = []
    in_import_block = False
    for line in code.splitlines():
        stripped = line.strip()
        if in_import_block:
            in_import_block = stripped != ")"
            continue
        if header is not None and header.match(line):
            in_import_block = language == "go" and stripped.startswith("import") and stripped.endswith("(")
            continue
        if _squeezed(line) in prompt_lines:
            continue
        lines.append(line)
    return "\n".join(lines).strip("\n")


def _without_main(code: str, quotes: str) -> str:
    """``code`` without the blocks that define an entry point (``int main() {...}``, ``func TestF(...)``)."""
    while found := _ENTRY_POINT.search(code):
        opening = code.find("{", found.end())
        end = None if opening < 0 else closing_brace(code[opening + 1 :], quotes)
        if end is None:
            return code[: found.start()]
        code = code[: found.start()] + code[opening + 1 + end + 1 :]
    return code


def _top_level_statements(code: str) -> list[str]:
    """The top-level statements of C-like ``code``, each from the start of a line to the end of
    the line where its brackets close (strings and comments skipped); lines of comments alone are
    dropped. An approximation: a statement continued on the next line without an open bracket is
    split there."""
    statements: list[str] = []
    depth, start, index, quote = 0, 0, 0, ""
    while index < len(code):
        char = code[index]
        if quote:
            index += 2 if char == "\\" else 1
            quote = "" if char == quote else quote
            continue
        if code.startswith("//", index):
            index = code.find("\n", index)
            index = len(code) if index < 0 else index
            continue
        if code.startswith("/*", index):
            end = code.find("*/", index + 2)
            index = len(code) if end < 0 else end + 2
            continue
        if char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == "\n" and depth == 0:
            statements.append(code[start:index])
            start = index + 1
        index += 1
    statements.append(code[start:])
    return [text.strip() for text in statements if text.strip() and not _only_comments(text)]


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith(("//", "/*", "*")) for line in text.splitlines())


def _line_start(code: str, after: int) -> int:
    """Where the line that ends just before offset ``after`` (as :func:`after_signature` gives it) starts."""
    line_end = after - 1 if code[after - 1 : after] == "\n" else after
    return code.rfind("\n", 0, line_end) + 1


def _squeezed(line: str) -> str:
    """``line`` without spaces (``#include <x>`` is ``#include<x>``)."""
    return re.sub(r"\s+", "", line)
