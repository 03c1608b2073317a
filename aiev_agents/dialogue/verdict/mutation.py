"""Mutation testing of a program's own tests: break one solution function at a time.

The same model writes the code and its tests, so tests can pass without checking anything
the problem asks. After a passing run, mutants of the program are made, each with one
small fault in one solution function (test code is never touched, see
:mod:`aiev_agents.sandbox.guest.testcode`), and the tests are run against each:

* **killed**: the run failed: the tests noticed the fault;
* **survived**: the run passed: the tests did not notice;
* **inconclusive**: the run could not judge (a timeout, a crash, a failed install, or no
  test ran).

The score is killed / (killed + survived). Operators: mutmut's node operators (swap an
arithmetic, comparison or boolean operator, add one to a number, flip a keyword such as
``True``/``False``/``is``/``in``, drop a ``not``, force a ternary, assign ``None``,
change a string, drop a call argument...), plus our own that break a whole function:
``return_none``, ``raise`` and ``drop_statement`` (one statement of the body becomes
``pass``), and ``negate_condition`` (``if c:`` becomes ``if not (c):``). A budget bounds
the mutants per program; they are chosen round-robin over the solution's functions and the
operators, so a small budget still covers every function.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.mutation.mutators import mutation_operators

from ...sandbox.guest.testcode import layout as program_layout
from ...sandbox.guest.testcode import parse
from ..transcript import ExecutionResult

Outcome = Literal["killed", "survived", "inconclusive"]

DEFAULT_BUDGET = 16
#: Operators that break a whole function, tried first: they are the cheapest to judge.
FUNCTION_OPERATORS = ("return_none", "raise", "negate_condition", "drop_statement")
BROKEN_MESSAGE = "aiev: mutant"


@dataclass(frozen=True)
class Mutant:
    """One program with one fault in one solution function."""

    operator: str
    function: str
    line: int
    description: str
    program: str = field(repr=False)


@dataclass(frozen=True)
class MutantResult:
    operator: str
    function: str
    line: int
    description: str
    outcome: Outcome
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MutationReport:
    """What the tests did against the mutants of one program."""

    results: tuple[MutantResult, ...]
    candidates: int
    duration_s: float = 0.0

    @property
    def killed(self) -> int:
        return sum(1 for r in self.results if r.outcome == "killed")

    @property
    def survived(self) -> int:
        return sum(1 for r in self.results if r.outcome == "survived")

    @property
    def inconclusive(self) -> int:
        return sum(1 for r in self.results if r.outcome == "inconclusive")

    @property
    def score(self) -> float | None:
        """killed / (killed + survived); None when no mutant was judged."""
        judged = self.killed + self.survived
        return round(self.killed / judged, 4) if judged else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "killed": self.killed,
            "survived": self.survived,
            "inconclusive": self.inconclusive,
            "candidates": self.candidates,
            "duration_s": round(self.duration_s, 3),
            "mutants": [r.to_dict() for r in self.results],
        }


def outcome_of(result: ExecutionResult) -> Outcome:
    """How a mutant's run counts: a failure kills it, a pass lets it survive."""
    if result.status == "pass":
        return "survived"
    if result.status == "fail" and result.exit_code not in (-1, 137):  # -1: sandbox crash, 137: SIGKILL
        return "killed"
    return "inconclusive"  # timeout, install_error, no_tests (the tests no longer ran), crash


def mutants(program: str, budget: int = DEFAULT_BUDGET) -> list[Mutant]:
    """Up to ``budget`` mutants of ``program``'s solution functions, in a stable order.

    Returns [] when the program does not parse or has no solution function.
    """
    return select(all_mutants(program), budget)


def select(candidates: Sequence[Mutant], budget: int) -> list[Mutant]:
    """``budget`` of ``candidates``: operators interleaved within each function, then functions
    interleaved, so every function and operator gets a turn before any gets a second."""
    return _round_robin(list(candidates), budget)


def all_mutants(program: str) -> list[Mutant]:
    """Every mutant the operators make of ``program``'s solution functions."""
    try:
        tree = parse(program)
        module = cst.parse_module(program)
    except (SyntaxError, cst.ParserSyntaxError):
        return []
    functions = program_layout(tree).solution
    if not functions:
        return []
    docstrings = _docstring_lines(tree)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    found: list[Mutant] = []
    seen: set[str] = {hashlib.sha1(program.encode()).hexdigest()}
    for original, mutated, operator, line, function in _node_mutations(wrapper.module, positions, functions):
        if line in docstrings:
            continue
        _add(found, seen, wrapper.module, original, mutated, operator, line, function)
    for original, mutated, operator, line, function, text in _function_mutations(wrapper.module, positions, functions):
        _add(found, seen, wrapper.module, original, mutated, operator, line, function, text)
    return found


def run_mutants(run: Callable[[str], ExecutionResult], chosen: Sequence[Mutant], candidates: int) -> MutationReport:
    """Run each mutant through ``run`` (a sandbox run of a program) and judge it."""
    import time

    started = time.perf_counter()
    results = []
    for mutant in chosen:
        result = run(mutant.program)
        results.append(
            MutantResult(
                operator=mutant.operator,
                function=mutant.function,
                line=mutant.line,
                description=mutant.description,
                outcome=outcome_of(result),
                status=result.status,
            )
        )
    return MutationReport(tuple(results), candidates, time.perf_counter() - started)


# -- making mutants ------------------------------------------------------------------------


def _node_mutations(
    module: cst.Module, positions: Any, functions: dict[str, tuple[int, int]]
) -> Iterator[tuple[cst.CSTNode, cst.CSTNode, str, int, str]]:
    for node in _walk(module):
        position = positions.get(node)
        if position is None:
            continue
        line = position.start.line
        function = _owner(functions, line)
        if function is None:
            continue
        for node_type, operator in mutation_operators:
            if not isinstance(node, node_type):
                continue
            for mutated in operator(node):
                yield node, mutated, operator.__name__.removeprefix("operator_"), line, function


def _function_mutations(
    module: cst.Module, positions: Any, functions: dict[str, tuple[int, int]]
) -> Iterator[tuple[cst.CSTNode, cst.CSTNode, str, int, str, str]]:
    """Our operators on whole functions and statements: return None, raise, drop a statement,
    negate an ``if``/``while`` condition."""
    starts = {first: name for name, (first, _) in functions.items()}
    for node in _walk(module):
        if not isinstance(node, cst.FunctionDef) or not isinstance(node.body, cst.IndentedBlock):
            continue
        position = positions.get(node)
        name = starts.get(position.start.line) if position is not None else None
        if name is None:
            continue
        line = position.start.line
        body = list(node.body.body)
        head = body[:1] if _is_docstring(body[0]) else []
        rest = body[len(head) :]
        broken = (("return_none", "return None", "returns None"),
                  ("raise", f"raise RuntimeError({BROKEN_MESSAGE!r})", "raises"))  # fmt: skip
        for operator, statement, what in broken:
            new_body = node.body.with_changes(body=[*head, cst.parse_statement(statement)])
            yield node, node.with_changes(body=new_body), operator, line, name, f"line {line}: the function {what}"
        if len(rest) > 1:
            for index, statement in enumerate(rest):
                at = positions[statement].start.line if statement in positions else line
                replaced = [*head, *rest[:index], cst.parse_statement("pass"), *rest[index + 1 :]]
                mutated = node.with_changes(body=node.body.with_changes(body=replaced))
                yield node, mutated, "drop_statement", at, name, f"line {at}: drops `{_snippet(module, statement)}`"
    for node in _walk(module):
        if isinstance(node, (cst.If, cst.While)) and node in positions:
            at = positions[node].start.line
            function = _owner(functions, at)
            if function is None:
                continue
            test = node.test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            negated = cst.UnaryOperation(cst.Not(), test)
            text = f"line {at}: `{_snippet(module, node.test)}` negated"
            yield node, node.with_changes(test=negated), "negate_condition", at, function, text


def _add(
    found: list[Mutant],
    seen: set[str],
    module: cst.Module,
    original: cst.CSTNode,
    mutated: cst.CSTNode,
    operator: str,
    line: int,
    function: str,
    description: str = "",
) -> None:
    try:
        code = module.deep_replace(original, mutated).code  # type: ignore[arg-type]
        parse(code)
    except (SyntaxError, ValueError, TypeError, cst.CSTValidationError):
        return
    digest = hashlib.sha1(code.encode()).hexdigest()
    if digest in seen:
        return
    seen.add(digest)
    description = description or f"line {line}: `{_snippet(module, original)}` -> `{_snippet(module, mutated)}`"
    found.append(Mutant(operator, function, line, description, code))


def _snippet(module: cst.Module, node: cst.CSTNode) -> str:
    try:
        text = module.code_for_node(node)
    except Exception:  # noqa: BLE001 - a description is best effort
        return "?"
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _round_robin(candidates: list[Mutant], budget: int) -> list[Mutant]:
    by_function: dict[str, dict[str, list[Mutant]]] = {}
    for mutant in candidates:
        by_function.setdefault(mutant.function, {}).setdefault(mutant.operator, []).append(mutant)
    queues = []
    for operators in by_function.values():
        ordered = sorted(operators, key=lambda op: FUNCTION_OPERATORS.index(op) if op in FUNCTION_OPERATORS else 99)
        queues.append(list(_interleave([operators[op] for op in ordered])))
    return list(_interleave(queues))[: max(0, budget)]


def _interleave(lists: Sequence[Sequence[Mutant]]) -> Iterator[Mutant]:
    longest = max((len(items) for items in lists), default=0)
    for index in range(longest):
        for items in lists:
            if index < len(items):
                yield items[index]


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _owner(functions: dict[str, tuple[int, int]], line: int) -> str | None:
    """The innermost solution function whose lines hold ``line``."""
    best = None
    for name, (first, last) in functions.items():
        if first <= line <= last and (best is None or first >= functions[best][0]):
            best = name
    return best


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines
