"""MultiPL-E: HumanEval translated to other languages, in the shape of :class:`BenchmarkTask`.

The files are MultiPL-E's own (``humaneval-<lang>-reworded.jsonl``: ``name``, ``language``,
``prompt``, ``tests``, ``stop_tokens``, ...), read from a path or URL the user gives: they are
for evaluation only (their license forbids training on them), so nothing here downloads them
by default. A program is ``prompt + completion + "\n" + tests``, exactly as MultiPL-E builds it, and
passes when it exits 0 (MultiPL-E's rule); see :mod:`aiev_agents.evaluate.execute`.

A chat model answers with the whole function rather than its continuation:
:func:`completion_from_code` turns such code back into a completion (the body after the
prompt's signature line), so both conventions build the same program; the helpers such an
answer writes beside the function are kept by :mod:`.multipl_e_helpers`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from .benchmarks import BenchmarkTask, read_jsonl_source

#: MultiPL-E's language code -> the sandbox's language name.
MULTIPL_E_LANGUAGES = {"js": "javascript", "cpp": "cpp", "java": "java", "rs": "rust", "go": "go", "sh": "bash"}
BENCHMARK_PREFIX = "multipl_e_"
_ENTRY = re.compile(r"^HumanEval_\d+_(\w+)$")


def multipl_e_benchmark(code: str) -> str:
    """The benchmark name of a MultiPL-E language code: ``js`` -> ``multipl_e_js``."""
    return BENCHMARK_PREFIX + code


def is_multipl_e(benchmark: str) -> bool:
    """Whether ``benchmark`` names a MultiPL-E translation."""
    return benchmark.startswith(BENCHMARK_PREFIX) and benchmark[len(BENCHMARK_PREFIX) :] in MULTIPL_E_LANGUAGES


def language_of(benchmark: str) -> str:
    """The sandbox language of a MultiPL-E benchmark (``multipl_e_rs`` -> ``rust``); ``python`` otherwise."""
    return MULTIPL_E_LANGUAGES[benchmark[len(BENCHMARK_PREFIX) :]] if is_multipl_e(benchmark) else "python"


def load_multipl_e(code: str, source: str | Path, *, cache_dir: Path | None = None) -> list[BenchmarkTask]:
    """The tasks of one MultiPL-E file.

    Args:
        code: MultiPL-E's language code (``js``, ``cpp``, ``java``, ``rs``, ``go``, ``sh``).
        source: Path or URL of the file (``humaneval-<code>-reworded.jsonl``, gzipped or not).
        cache_dir: Where a downloaded file is kept.

    Raises:
        DatasetError: Unknown language, unreadable file, or a line without MultiPL-E's fields.
    """
    if code not in MULTIPL_E_LANGUAGES:
        raise DatasetError(f"unknown MultiPL-E language {code!r}; known: {', '.join(MULTIPL_E_LANGUAGES)}")
    return [_task(row, code) for row in read_jsonl_source(source, cache_dir=cache_dir)]


def _task(row: dict[str, Any], code: str) -> BenchmarkTask:
    try:
        name = str(row["name"])
        found = _ENTRY.match(name)
        return BenchmarkTask(
            benchmark=multipl_e_benchmark(code),
            task_id=name,
            prompt=str(row["prompt"]),
            solution="",
            entry_point=found.group(1) if found else name,
            test=str(row["tests"]),
            raw=row,
        )
    except KeyError as exc:
        raise DatasetError(
            f"MultiPL-E task {row.get('name', '?')} has no {exc.args[0]!r} field; give one of MultiPL-E's "
            "humaneval-<lang>-reworded.jsonl files"
        ) from exc


def program(task: BenchmarkTask, code: str) -> str:
    """MultiPL-E's test program: ``code`` (the prompt and its completion), a newline, the tests."""
    return code + "\n" + task.test


def signature_line(task: BenchmarkTask) -> str:
    """The last non-empty line of the prompt: the function's signature (``fn f(x: i64) -> i64 {``)."""
    lines = [line for line in task.prompt.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def described(task: BenchmarkTask) -> BenchmarkTask:
    """``task`` with its prompt cut to the doc comment and the signature: what decontamination
    compares (the imports and class headers every Java or C++ prompt repeats would match them all)."""
    comment = ("//", "#", "/*", "*")
    signature = signature_line(task)
    kept = [line for line in task.prompt.splitlines() if line.strip().startswith(comment) or line.strip() == signature]
    return replace(task, prompt="\n".join(kept) + "\n")


def completion_from_code(task: BenchmarkTask, code: str) -> str:
    """The completion that a whole-function answer ``code`` amounts to.

    The text after the prompt's signature line (matched without spaces) up to the brace that
    closes the function; that brace is kept when the tests do not start by closing the
    function themselves (JavaScript, Go). Code without the signature is returned as is: a
    continuation already.
    """
    start = after_signature(code, signature_line(task))
    if start is None:
        return code
    body = code[start:]
    end = closing_brace(body, '"' if language_of(task.benchmark) == "rust" else "\"'`")
    if end is None:
        return body
    tests_close = task.test.lstrip().startswith("}")
    return body[:end] if tests_close else body[: end + 1]


def after_signature(code: str, signature: str) -> int | None:
    """Where the line after the one holding ``signature`` (spaces ignored) starts in ``code``."""
    wanted = re.sub(r"\s+", "", signature)
    if not wanted:
        return None
    offset = 0
    for line in code.splitlines(keepends=True):
        if re.sub(r"\s+", "", line) == wanted:
            return offset + len(line)
        offset += len(line)
    return None


def closing_brace(body: str, quotes: str) -> int | None:
    """Index of the ``}`` that closes a block opened just before ``body``; strings opened by one
    of ``quotes`` and ``//`` comments are skipped (Rust's ``'`` opens lifetimes, not strings)."""
    depth = 1
    index = 0
    while index < len(body):
        char = body[index]
        if char in quotes:
            index = _string_end(body, index)
        elif body.startswith("//", index):
            newline = body.find("\n", index)
            index = len(body) if newline < 0 else newline
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _string_end(body: str, start: int) -> int:
    """Index of the quote that closes the string opened at ``start`` (the end of ``body`` if none)."""
    index = start + 1
    while index < len(body) and body[index] != body[start]:
        index += 2 if body[index] == "\\" else 1
    return index
