"""The one definition of test code versus solution code in a model's program.

Used by the harness (which assertions count as tests, which functions are the solution),
mutation testing (only the solution is mutated), hidden tests (run against the solution
alone), ``aiev compare`` (held-out tests are test code only) and sanitizing (tests dropped).

A program's top-level statements fall in three parts:

* **test code**: classes named ``Test*`` and ``unittest.TestCase`` subclasses; functions
  whose name starts with ``test`` or ``check`` (any case) that assert or take no required
  parameter (``def check(candidate): assert ...``, ``def test_add():``; but
  ``def check_palindrome(s): return ...`` is a solution); functions without required
  parameters that assert something about one of the program's own definitions
  (``def run(): assert f(1) == 2``) or call test code (``def main(): check()``);
* **driver code**: every other top-level statement that is not a definition, an import or
  an assignment: top-level ``assert`` lines, calls such as ``check()``, ``print(f(5))`` or
  ``unittest.main()``, ``if __name__ == "__main__":`` blocks, loops. Driver code counts as
  test code (its assertions are tests; mutation leaves it alone);
* **solution code**: the remaining definitions (functions, classes and their methods), the
  imports and the assignments. An ``assert`` inside a solution function is the solution's
  own precondition, not a test.

Standard library only, Python 3.8 and later: the sandbox's runner loads this file.
"""

from __future__ import annotations

import ast
import threading

TEST_PREFIXES = ("test", "check")
_PARSING = threading.Lock()
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CONTEXT = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)


class Layout:
    """Where the test code and the solution code of one program are.

    Attributes:
        solution: Qualified names of the solution's functions and methods, with their first
            line (decorators included, as ``co_firstlineno``) and last line: ``{"Stack.push": (4, 6)}``.
        test_names: Top-level names that are test code (functions and classes).
        solution_spans: Line spans of the solution's top-level definitions.
    """

    def __init__(self) -> None:
        self.solution: dict[str, tuple[int, int]] = {}
        self.test_names: set[str] = set()
        self.solution_spans: list[tuple[int, int]] = []

    def in_solution(self, line: int) -> bool:
        """True when ``line`` lies in a solution definition (an assert there is no test)."""
        return any(start <= line <= end for start, end in self.solution_spans)

    def to_dict(self) -> dict:
        return {"solution": sorted(self.solution), "tests": sorted(self.test_names)}


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse``, one thread at a time: CPython 3.11 keeps the AST converter's recursion depth
    per interpreter, so threads parsing at once (evaluation and generation workers) can fail with
    "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905)."""
    with _PARSING:
        return ast.parse(source, filename)


def layout(source_or_tree) -> Layout:
    """Classify the top-level statements of a program (source text or parsed module)."""
    tree = parse(source_or_tree) if isinstance(source_or_tree, str) else source_or_tree
    tests = test_definitions(tree)
    result = Layout()
    result.test_names = tests
    for node in tree.body:
        if isinstance(node, _DEFINITIONS) and node.name not in tests:
            result.solution_spans.append((_first_line(node), _last_line(node)))
            _collect_functions(node, "", result.solution)
    return result


def test_definitions(tree: ast.Module) -> set[str]:
    """Names of the top-level functions and classes that are test code."""
    definitions = {node.name: node for node in tree.body if isinstance(node, _DEFINITIONS)}
    tests = {name for name, node in definitions.items() if _is_test_by_itself(node, set(definitions))}
    changed = True
    while changed:  # functions that call test code are test scaffolding too
        changed = False
        for name, node in definitions.items():
            if name not in tests and not _required_parameters(node) and _calls_any(node, tests):
                tests.add(name)
                changed = True
    return tests


def is_test_statement(node: ast.stmt, tests: set[str]) -> bool:
    """True for a top-level statement that is test or driver code (see the module doc)."""
    if isinstance(node, _DEFINITIONS):
        return node.name in tests
    if isinstance(node, _CONTEXT):
        return _calls_any(node, tests)
    if isinstance(node, ast.Try):
        return any(is_test_statement(child, tests) for child in node.body) or _has_assert(node)
    return not _is_docstring(node)


def solution_only(source: str) -> str:
    """The program without its test and driver code: what hidden and benchmark tests run against.

    A program that does not parse is returned as it is (running it shows the error).
    """
    return _keep(source, lambda node, tests: not is_test_statement(node, tests))


def tests_only(source: str) -> str:
    """The program's test and driver code alone, imports included (``aiev compare``'s held-out tests)."""

    def keep(node: ast.stmt, tests: set[str]) -> bool:
        return is_test_statement(node, tests) or isinstance(node, (ast.Import, ast.ImportFrom))

    return _keep(source, keep)


def redefined_names(program: str, tests: str) -> list[str]:
    """Names that both the program's solution and ``tests`` define at top level, sorted.

    Hidden tests that define one would replace the solution they are meant to check.
    """
    try:
        solution = _top_level_names(parse(solution_only(program)), imports=False)
        theirs = _top_level_names(parse(tests), imports=False)
    except SyntaxError:
        return []
    return sorted(solution & theirs)


def combine(*parts: str) -> str:
    """Join program parts into one file, every ``from __future__`` import hoisted to the top.

    ``from __future__`` imports must come first in a file, so prepending or appending code
    to a program that has one would make a ``SyntaxError`` of a correct program.
    """
    futures: list[str] = []
    bodies: list[str] = []
    for part in parts:
        lines = part.splitlines()
        try:
            tree = parse(part)
        except SyntaxError:
            bodies.append(part.rstrip("\n"))
            continue
        drop: set[int] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                statement = "\n".join(lines[node.lineno - 1 : _last_line(node)])
                if statement.strip() not in futures:
                    futures.append(statement.strip())
                drop.update(range(node.lineno, _last_line(node) + 1))
        kept = ["" if number in drop else line for number, line in enumerate(lines, 1)]
        bodies.append("\n".join(kept).rstrip("\n"))
    head = "\n".join(futures)
    joined = "\n\n".join(body for body in bodies if body.strip())
    return (head + "\n" + joined if head else joined) + "\n"


def solution_code_objects(code, lay: Layout, filename: str) -> dict[object, str]:
    """The compiled code objects of the solution's functions (nested ones included), by qualname."""
    found: dict[object, str] = {}
    by_line = {(name.rsplit(".", 1)[-1], line): name for name, (line, _) in lay.solution.items()}

    def walk(obj, owner: str | None) -> None:
        for const in obj.co_consts:
            if not hasattr(const, "co_code") or const.co_filename != filename:
                continue
            name = by_line.get((const.co_name, const.co_firstlineno))
            if name is None and owner is not None:
                name = owner  # a lambda, comprehension or inner function: part of its owner
            if name is not None:
                found[const] = name
            walk(const, name)

    walk(code, None)
    return found


def branch_points(tree: ast.Module, lay: Layout) -> dict[int, tuple[int, int]]:
    """Branch points of the solution: the line of each ``if``/``while``/``for`` test, mapped
    to the first line of its body and the last line of its test (arcs inside a multi-line test
    are not outcomes)."""
    points: dict[int, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While, ast.For, ast.AsyncFor)) and lay.in_solution(node.lineno):
            header = node.test if isinstance(node, (ast.If, ast.While)) else node.iter
            points[node.lineno] = (node.body[0].lineno, _last_line(header))
    return points


# -- internals ---------------------------------------------------------------------------


def _keep(source: str, keep) -> str:
    try:
        tree = parse(source)
    except SyntaxError:
        return source
    tests = test_definitions(tree)
    lines = source.splitlines()
    kept: list[str] = []
    for node in tree.body:
        if keep(node, tests):
            kept.append("\n".join(lines[_first_line(node) - 1 : _last_line(node)]))
    return "\n\n".join(kept) + ("\n" if kept else "")


def _is_test_by_itself(node, defined: set[str]) -> bool:
    if isinstance(node, ast.ClassDef):
        return node.name.startswith("Test") or any(_base_name(base).endswith("TestCase") for base in node.bases)
    if node.name.lower().startswith(TEST_PREFIXES) and (_has_assert(node) or not _required_parameters(node)):
        return True  # `check(candidate)` asserts; `check_palindrome(s)` returning a bool is a solution
    if _required_parameters(node):
        return False
    others = defined - {node.name}
    return any(_asserts_about(child, others) for child in ast.walk(node))


def _asserts_about(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Assert):
        return _mentions(node.test, names)
    if _is_assert_call(node):
        return any(_mentions(arg, names) for arg in node.args)
    return False


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(child, ast.Name) and child.id in names for child in ast.walk(node))


def _calls_any(node: ast.AST, names: set[str]) -> bool:
    return any(
        isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in names
        for child in ast.walk(node)
    )


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Assert) or _is_assert_call(child) for child in ast.walk(node))


def _is_assert_call(node: ast.AST) -> bool:
    """``self.assertEqual(...)`` and friends."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith(("assert", "fail"))
    )


def _required_parameters(node) -> bool:
    if isinstance(node, ast.ClassDef):
        return True  # a class is never test scaffolding by calling tests
    args = node.args
    positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
    required = len(positional) - len(args.defaults)
    required_kw = sum(1 for default in args.kw_defaults if default is None)
    return required > 0 or required_kw > 0


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    ) or isinstance(node, ast.Pass)


def _collect_functions(node, prefix: str, into: dict[str, tuple[int, int]]) -> None:
    name = prefix + node.name
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        into[name] = (_first_line(node), _last_line(node))
    for child in node.body:
        if isinstance(child, _DEFINITIONS) and isinstance(node, ast.ClassDef):
            _collect_functions(child, name + ".", into)


def _top_level_names(tree: ast.Module, imports: bool) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, _DEFINITIONS):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif imports and isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _last_line(node: ast.AST) -> int:
    end = getattr(node, "end_lineno", None)
    if end is not None:
        return end
    return max(getattr(child, "lineno", node.lineno) for child in ast.walk(node))  # Python 3.7 and earlier


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):
        return base.attr
    return ""
