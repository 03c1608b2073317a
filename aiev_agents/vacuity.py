"""Vacuous-test check: do a program's tests fail when its solution is broken?

The same model writes the code and its tests, so tests can pass trivially. After a passing
run, the tests are run again against broken variants of the solution: every function the
program defines (test code excepted) made to return None, or to raise. Tests that still pass
against a variant check nothing the problem asks, and the sample is not verified.

Pure: builds the variant programs; running them is the executor's job.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

BROKEN_MARKER = "aiev: broken variant"

#: The variants tried, in order: the name recorded and the body every solution function gets.
VARIANTS: dict[str, str] = {
    "return_none": "return None",
    "raise": f"raise NotImplementedError({BROKEN_MARKER!r})",
}


@dataclass(frozen=True)
class BrokenVariant:
    """A program whose solution functions were replaced; ``functions`` names them."""

    name: str
    program: str
    functions: tuple[str, ...]


def broken_variants(program: str) -> list[BrokenVariant]:
    """The broken variants of ``program``; empty when it does not parse or defines no solution function."""
    try:
        ast.parse(program)
    except SyntaxError:
        return []
    variants = []
    for name, body in VARIANTS.items():
        breaker = _Breaker(ast.parse(body).body)
        broken = breaker.visit(ast.parse(program))
        if breaker.replaced:
            source = ast.unparse(ast.fix_missing_locations(broken))
            variants.append(BrokenVariant(name, source, tuple(breaker.replaced)))
    return variants


def is_test_code(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    """Test code stays as written: ``test*`` names, ``Test*``/``TestCase`` classes, functions that assert."""
    if node.name.lower().startswith("test"):
        return True
    if isinstance(node, ast.ClassDef):
        return any(_base_name(base).endswith("TestCase") for base in node.bases)
    return any(isinstance(child, ast.Assert) or _is_assert_call(child) for child in ast.walk(node))


class _Breaker(ast.NodeTransformer):
    def __init__(self, body: list[ast.stmt]) -> None:
        self.body = body
        self.replaced: list[str] = []
        self._scope: list[str] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:  # noqa: N802 - ast's name
        if is_test_code(node):
            return node
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:  # noqa: N802 - ast's name
        return self._break(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AsyncFunctionDef:  # noqa: N802
        return self._break(node)

    def _break(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.FunctionDef | ast.AsyncFunctionDef:
        if is_test_code(node):
            return node
        docstring = node.body[:1] if ast.get_docstring(node) is not None else []
        node.body = [*docstring, *self.body]
        self.replaced.append(".".join([*self._scope, node.name]))
        return node


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):
        return base.attr
    return ""


def _is_assert_call(node: ast.AST) -> bool:
    """``self.assertEqual(...)`` and friends count as asserting."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith(("assert", "fail"))
    )
