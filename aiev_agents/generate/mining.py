"""Seed mining: the functions and classes of a local code tree as OSS-Instruct seeds.

The code is only parsed (``ast``), never imported or run. Each kept definition becomes one
seed line: its source with its decorators, dedented, plus license-agnostic provenance
(project, path relative to the tree, qualified name, kind, first and last line). A class too
long to keep whole is mined method by method. Order is deterministic (files by path,
definitions in source order), duplicates (same code up to formatting and comments) keep
their first occurrence, and ids are stable across runs: the project's name and a short hash
of path and qualified name.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import random
import re
import tokenize
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from ..atomic import atomic_writer
from ..errors import SeedError
from ..jsonl import dumps_line
from .source_tree import SourceTree, iter_source_files, resolve_source

logger = logging.getLogger(__name__)

Kind = Literal["function", "class", "method"]
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRY_NODES = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))
_HEADER_LINES = 10
_GENERATED = re.compile(
    r"@generated|do not edit|auto-?generated|^\s*#.*\bgenerated (?:by|from|with)\b", re.IGNORECASE | re.MULTILINE
)
_GENERATED_SUFFIXES = ("_pb2.py", "_pb2_grpc.py")
_ID_HASH_CHARS = 12


@dataclass(frozen=True)
class MiningOptions:
    """What to keep. Sizes are measured on the snippet as written to the seed.

    Attributes:
        min_lines: Fewest lines a snippet may have.
        max_lines: Most lines; a longer class is mined method by method instead.
        min_chars: Fewest characters.
        max_chars: Most characters.
        max_file_bytes: Larger files are skipped unread.
        include_tests: Keep test files, test folders and ``test_*`` functions.
        skip_private: Drop ``_private`` names (dunder methods are kept).
        limit: Keep at most this many seeds (after sampling).
        sample: Keep a reproducible random sample of this many seeds, in mining order.
        sample_seed: Seed of the sample's random generator.
    """

    min_lines: int = 3
    max_lines: int = 80
    min_chars: int = 50
    max_chars: int = 4000
    max_file_bytes: int = 1_000_000
    include_tests: bool = False
    skip_private: bool = False
    limit: int | None = None
    sample: int | None = None
    sample_seed: int = 0

    def __post_init__(self) -> None:
        if self.min_lines > self.max_lines:
            raise SeedError(f"min_lines ({self.min_lines}) is above max_lines ({self.max_lines}); lower it")
        if self.min_chars > self.max_chars:
            raise SeedError(f"min_chars ({self.min_chars}) is above max_chars ({self.max_chars}); lower it")
        for name in ("limit", "sample"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SeedError(f"{name} must be 0 or more, not {value}")


@dataclass(frozen=True)
class MinedSnippet:
    """One definition kept as a seed, with its provenance."""

    id: str
    snippet: str
    project: str
    path: str
    qualname: str
    kind: Kind
    start_line: int
    end_line: int
    digest: str

    def to_seed(self) -> dict[str, Any]:
        """The seeds-file line: ``id``, ``snippet`` and the provenance keys."""
        return {key: value for key, value in asdict(self).items() if key != "digest"}


@dataclass
class MiningStats:
    """What a mining run looked at and why things were left out."""

    files: int = 0
    skipped_files: Counter[str] = field(default_factory=Counter)
    definitions: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    kept: int = 0


@dataclass
class MiningResult:
    """The seeds of one tree, in order, and the run's statistics."""

    source: SourceTree
    snippets: list[MinedSnippet]
    stats: MiningStats


def mine(
    target: str | os.PathLike[str], options: MiningOptions | None = None, *, project: str | None = None
) -> MiningResult:
    """Mine a code tree, a single file, or an installed package given by import name.

    Args:
        target: A path (folder or ``.py`` file), or an import name such as ``json``; an
            existing path wins over an import name.
        options: Filters, sampling and limit; defaults when None.
        project: The project name recorded in each seed; found when None.

    Returns:
        The kept snippets in deterministic order, and statistics.

    Raises:
        SeedError: The target is neither a path nor an installed package with Python source.
    """
    options = options or MiningOptions()
    tree = resolve_source(target, project=project)
    stats = MiningStats()
    found: list[MinedSnippet] = []
    for path in iter_source_files(tree.root, include_tests=options.include_tests):
        found.extend(_mine_file(path, tree, options, stats))
    snippets = select_snippets(found, options, stats)
    logger.info("mined %d seed(s) from %s (%d file(s))", len(snippets), tree.root, stats.files)
    return MiningResult(source=tree, snippets=snippets, stats=stats)


def mine_source(text: str, path: str, *, project: str, options: MiningOptions | None = None) -> list[MinedSnippet]:
    """The definitions of one module's source that pass the filters, in source order.

    ``path`` and ``project`` are recorded as provenance.

    Raises:
        SyntaxError: The source does not parse.
        ValueError: The source holds null bytes.
    """
    return _extract(text, path, project, options or MiningOptions()).kept


def select_snippets(
    snippets: Iterable[MinedSnippet], options: MiningOptions, stats: MiningStats | None = None
) -> list[MinedSnippet]:
    """Drop duplicates (first occurrence wins), then sample, then apply the limit; order is kept."""
    seen: set[str] = set()
    unique: list[MinedSnippet] = []
    duplicates = 0
    for snippet in snippets:
        if snippet.digest in seen:
            duplicates += 1
            continue
        seen.add(snippet.digest)
        unique.append(snippet)
    if stats is not None:
        stats.duplicates += duplicates
    if options.sample is not None and options.sample < len(unique):
        picked = sorted(random.Random(options.sample_seed).sample(range(len(unique)), options.sample))
        unique = [unique[index] for index in picked]
    if options.limit is not None:
        unique = unique[: options.limit]
    if stats is not None:
        stats.kept = len(unique)
    return unique


def write_seeds_file(snippets: Iterable[MinedSnippet], out: str | os.PathLike[str]) -> int:
    """Write the seeds as JSONL atomically: a temporary file beside ``out``, then a rename.

    An interrupted run leaves the previous file (or none) in place, never half a file.

    Returns:
        The number of lines written.

    Raises:
        SeedError: The file cannot be written.
    """
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with atomic_writer(path) as handle:
            for snippet in snippets:
                handle.write(dumps_line(snippet.to_seed()))
                count += 1
        return count
    except OSError as exc:
        raise SeedError(f"cannot write seeds file {path}: {exc.strerror or exc}; check the path") from exc


def _extract(text: str, path: str, project: str, options: MiningOptions) -> _Extractor:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    module = ast.parse(text, filename=path)
    extractor = _Extractor(text.split("\n"), path, project, options)
    extractor.walk(module.body, prefix="", in_class=False)
    return extractor


class _Extractor:
    """Walks one module's statements and keeps the definitions that pass the filters."""

    def __init__(self, lines: list[str], path: str, project: str, options: MiningOptions) -> None:
        self.lines, self.path, self.project, self.options = lines, path, project, options
        self.kept: list[MinedSnippet] = []
        self.rejected: Counter[str] = Counter()
        self._occurrences: Counter[str] = Counter()

    def walk(self, body: list[ast.stmt], *, prefix: str, in_class: bool) -> None:
        for node in body:
            if isinstance(node, _DEFINITIONS):
                self._definition(node, prefix, in_class)
            else:  # definitions under `if`/`try` at module or class level count too
                for block in _nested_blocks(node):
                    self.walk(block, prefix=prefix, in_class=in_class)

    def _definition(self, node: Definition, prefix: str, in_class: bool) -> None:
        qualname = prefix + node.name
        self._occurrences[qualname] += 1
        kind: Kind = "class" if isinstance(node, ast.ClassDef) else "method" if in_class else "function"
        snippet, start = _segment(self.lines, node)
        reason = _reject_reason(node, snippet, self.options)
        if reason is None:
            self.kept.append(self._snippet(node, qualname, kind, snippet, start))
            return
        self.rejected[reason] += 1
        if reason == "too_long" and isinstance(node, ast.ClassDef):
            self.walk(node.body, prefix=qualname + ".", in_class=True)

    def _snippet(self, node: Definition, qualname: str, kind: Kind, snippet: str, start: int) -> MinedSnippet:
        return MinedSnippet(
            id=_seed_id(self.project, self.path, qualname, self._occurrences[qualname]),
            snippet=snippet,
            project=self.project,
            path=self.path,
            qualname=qualname,
            kind=kind,
            start_line=start,
            end_line=node.end_lineno or node.lineno,
            digest=hashlib.sha256(ast.dump(node).encode()).hexdigest(),
        )


def _mine_file(path: Path, tree: SourceTree, options: MiningOptions, stats: MiningStats) -> list[MinedSnippet]:
    relative = path.relative_to(tree.base).as_posix()
    text, reason = _read_module(path, options)
    if text is not None:
        try:
            extractor = _extract(text, relative, tree.project, options)
        except (SyntaxError, ValueError, RecursionError):
            reason = "syntax_error"
        else:
            stats.files += 1
            stats.rejected.update(extractor.rejected)
            stats.definitions += len(extractor.kept) + extractor.rejected.total()
            return extractor.kept
    stats.skipped_files[reason or "unreadable"] += 1
    logger.debug("skipped %s: %s", relative, reason)
    return []


def _read_module(path: Path, options: MiningOptions) -> tuple[str | None, str | None]:
    """The module's text, or None and why it is skipped."""
    name = path.name
    if not options.include_tests and (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"):
        return None, "test_file"
    if name.endswith(_GENERATED_SUFFIXES):
        return None, "generated"
    try:
        if path.stat().st_size > options.max_file_bytes:
            return None, "too_large"
        data = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(iter(data.splitlines(keepends=True)).__next__)
        text = data.decode(encoding)
    except (OSError, SyntaxError, LookupError, UnicodeDecodeError):
        return None, "unreadable"
    if _GENERATED.search("\n".join(text.split("\n", _HEADER_LINES)[:_HEADER_LINES])):
        return None, "generated"
    return text, None


def _segment(lines: list[str], node: Definition) -> tuple[str, int]:
    """The definition's source lines with its decorators, dedented, and its first line."""
    start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
    chunk = lines[start - 1 : node.end_lineno or node.lineno]
    indent = chunk[0][: len(chunk[0]) - len(chunk[0].lstrip(" \t"))]
    # Only the shared indentation goes: lines inside a string that start further left stay as they are.
    text = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in chunk)
    return text.rstrip() + "\n", start


def _reject_reason(node: Definition, snippet: str, options: MiningOptions) -> str | None:
    name = node.name
    if options.skip_private and name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        return "private"
    if not options.include_tests and _is_test(node):
        return "test"
    if _is_trivial(node):
        return "trivial"
    lines = snippet.count("\n")
    if lines < options.min_lines or len(snippet) < options.min_chars:
        return "too_short"
    if lines > options.max_lines or len(snippet) > options.max_chars:
        return "too_long"
    return None


def _is_test(node: Definition) -> bool:
    if isinstance(node, ast.ClassDef):
        return any(ast.unparse(base).endswith("TestCase") for base in node.bases)
    return node.name == "test" or node.name.startswith("test_")


def _is_trivial(node: Definition) -> bool:
    """Only a docstring, ``pass``, ``...`` or ``raise NotImplementedError`` (for a class: in every method)."""
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    if isinstance(node, ast.ClassDef):
        return all(_is_stub(stmt) or (isinstance(stmt, _FUNCTIONS) and _is_trivial(stmt)) for stmt in body)
    return all(_is_stub(stmt) for stmt in body)


def _is_stub(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.AnnAssign) and stmt.value is None):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return stmt.value.value is Ellipsis or isinstance(stmt.value.value, str)
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        raised = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"
    return False


def _nested_blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(node, ast.If):
        return [node.body, node.orelse]
    if isinstance(node, _TRY_NODES):
        tried = cast(ast.Try, node)  # TryStar (3.11+) has the same fields
        return [tried.body, *(handler.body for handler in tried.handlers), tried.orelse, tried.finalbody]
    return []


def _seed_id(project: str, path: str, qualname: str, occurrence: int) -> str:
    key = f"{path}\0{qualname}" + (f"\0{occurrence}" if occurrence > 1 else "")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", project).strip("-").lower() or "seed"
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:_ID_HASH_CHARS]}"
