"""Run a program file as ``__main__`` and count the tests it really executed.

Usage: the sandbox's warm runner imports it and calls :func:`run` in each forked child,
with the counts going to a pipe of their own; standalone::

    AIEV_HARNESS_NONCE=<hex> python harness.py main.py [args...]

The program behaves as under ``python main.py``: same ``sys.argv``, ``sys.path[0]``,
``__file__`` and ``__name__``, same tracebacks (no harness frames), same exit code
(1 on an uncaught exception, ``SystemExit``'s code otherwise). What is test code and what
is solution code is decided by :mod:`testcode` (one definition for the whole project).
The evidence kept:

* ``assertions``: ``assert`` statements executed in test code (each one is preceded by a
  counting call inserted into the AST with the assert's location, so line numbers are
  exact); ``solution_assertions``: those executed inside the solution (its preconditions);
* ``test_cases``: ``unittest`` test cases started and not skipped, however they are run
  (``unittest.main()``, a runner, a suite); ``test_failures`` counts their failures
  and errors;
* ``called``: the solution functions that ran (a marker statement opens each of them);
  ``solution``: every solution function the program defines;
* ``coverage`` (only when asked: it traces every line of the solution, which is slow):
  ``{"lines": [covered, total], "branches": [covered, total], "missing": [line, ...]}``
  over the solution's functions. A branch is one outcome of an ``if``/``while``/``for``
  test: into its body, or past it.

At exit, after the program's own ``atexit`` handlers, one line
``__AIEV_HARNESS_<nonce>__ {...the evidence...}`` is written to the report fd (standalone:
the stderr file descriptor the harness started with). A program that leaves through
``os._exit`` writes no line. The evidence is not a security boundary: a program that
wanted to could forge it.

Standard library only; runs on Python 3.8 and later.
"""

import ast
import atexit
import builtins
import json
import os
import re
import sys
import unittest


def _sibling(name):
    """The guest module ``name``: as the warm runner loaded it (``_aiev_<name>``), or from beside this file."""
    if "_aiev_" + name in sys.modules:
        return sys.modules["_aiev_" + name]
    import importlib.util as _util

    spec = _util.spec_from_file_location(
        "_aiev_" + name, os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    )
    module = _util.module_from_spec(spec)
    sys.modules["_aiev_" + name] = module
    spec.loader.exec_module(module)
    return module


testcode = _sibling("testcode")
explain = _sibling("explain")

NONCE_ENV = "AIEV_HARNESS_NONCE"
EXPLAIN_ENV = "AIEV_HARNESS_EXPLAIN"
COUNTER_NAME = "__aiev_count_assert__"
CALLED_NAME = "__aiev_called__"

_counts = {"assertions": 0, "solution_assertions": 0, "test_cases": 0, "test_failures": 0}
_called = set()
_solution = []
_coverage = {}
_started = set()
_keep = []


def marker(nonce):
    """Return the text that opens the counts line of the run with this nonce."""
    return "__AIEV_HARNESS_" + nonce + "__"


#: The counts line of any run (group 1: its nonce, group 2: the counts), compiled once: a
#: pattern per nonce cost each run a regex compilation.
COUNTS_LINE = re.compile(b"\n?__AIEV_HARNESS_([^\n]*?)__ (\\{[^\n]*\\})\n?")


def split_counts(output, nonce):
    """Remove the counts line of the run ``nonce`` from ``output`` (bytes).

    Returns:
        The output as the program wrote it, and the counts dict (None if absent).
    """
    wanted = nonce.encode()
    found = [line for line in COUNTS_LINE.finditer(output) if line.group(1) == wanted]
    if not found:
        return output, None
    last = found[-1]
    try:
        counts = json.loads(last.group(2))
    except ValueError:
        counts = None
    return output[: last.start()] + output[last.end() :], counts


class _Instrument(ast.NodeTransformer):
    """Put ``__aiev_count_assert__(is_test)`` before every ``assert`` statement, and
    ``__aiev_called__.add(name)`` at the top of every solution function."""

    def __init__(self, layout, explainer=None):
        self.layout = layout
        self.explainer = explainer
        self.starts = {first: name for name, (first, _) in layout.solution.items()}

    def visit_Assert(self, node):
        is_test = ast.Constant(value=not self.layout.in_solution(node.lineno))
        call = ast.Call(func=ast.Name(id=COUNTER_NAME, ctx=ast.Load()), args=[is_test], keywords=[])
        count = ast.copy_location(ast.Expr(value=call), node)
        if self.explainer is not None:
            node = self.explainer.explained(node)
        return [ast.fix_missing_locations(count), node]

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        decorators = [d.lineno for d in node.decorator_list]
        name = self.starts.get(min([node.lineno, *decorators]))
        if name is not None and node.body:
            add = ast.Attribute(value=ast.Name(id=CALLED_NAME, ctx=ast.Load()), attr="add", ctx=ast.Load())
            call = ast.Call(func=add, args=[ast.Constant(value=name)], keywords=[])
            first = node.body[0]
            at = 1 if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) else 0
            mark = ast.Expr(value=call)
            for part in ast.walk(mark):  # on the def line: no line event of its own, no body line touched
                part.lineno, part.end_lineno, part.col_offset, part.end_col_offset = node.lineno, node.lineno, 0, 0
            node.body.insert(at, mark)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def _count_assert(is_test=True):
    _counts["assertions" if is_test else "solution_assertions"] += 1


class _LineTracer:
    """Lines and branch outcomes executed in the solution's functions (``sys.settrace``)."""

    def __init__(self, codes, points):
        self.codes = codes
        self.points = points
        self.lines = set()
        self.arcs = set()
        self.previous = {}

    def start(self):
        sys.settrace(self.on_call)

    def stop(self):
        sys.settrace(None)

    def on_call(self, frame, event, arg):
        if frame.f_code not in self.codes:
            return None
        return self.on_event

    def on_event(self, frame, event, arg):
        if event == "line":
            line = frame.f_lineno
            self.lines.add(line)
            before = self.previous.get(frame)
            if before is not None:
                self.arcs.add((before, line))
            self.previous[frame] = line
        elif event == "return":
            before = self.previous.pop(frame, None)
            if before is not None:
                self.arcs.add((before, -1))
        return self.on_event

    def summary(self):
        statements = set()
        for code in self.codes:
            lines = {line for _, line in _line_starts(code) if line is not None}
            if code.co_name != "<lambda>":
                lines.discard(code.co_firstlineno)  # the def (or decorator) line runs at definition
            statements.update(lines)
        total = len(statements)
        covered = len(statements & self.lines)
        outcomes = 0
        for line, (body, test_end) in self.points.items():
            targets = {after for before, after in self.arcs if before == line and not line < after <= test_end}
            outcomes += (body in targets) + bool(targets - {body})
        return {
            "lines": [covered, total],
            "branches": [outcomes, 2 * len(self.points)],
            "missing": sorted(statements - self.lines)[:50],
        }


def _line_starts(code):
    import dis

    return dis.findlinestarts(code)


def _patch_unittest():
    result = unittest.TestResult
    start, skip = result.startTest, result.addSkip
    add_error, add_failure, add_subtest = result.addError, result.addFailure, result.addSubTest

    def start_test(self, test):
        _counts["test_cases"] += 1
        _started.add(id(test))
        start(self, test)

    def add_skip(self, test, reason):
        if id(test) in _started:
            _started.discard(id(test))
            _counts["test_cases"] -= 1
        skip(self, test, reason)

    def failed(original):
        def add(self, test, err):
            _counts["test_failures"] += 1
            original(self, test, err)

        return add

    def add_sub_test(self, test, subtest, err):
        if err is not None:
            _counts["test_failures"] += 1
        add_subtest(self, test, subtest, err)

    result.startTest, result.addSkip = start_test, add_skip
    result.addError, result.addFailure = failed(add_error), failed(add_failure)
    result.addSubTest = add_sub_test


def _report(fd, nonce):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream must not hide the counts
            pass
    evidence = dict(_counts, called=sorted(_called), solution=list(_solution))
    tracer = _coverage.get("tracer")
    if tracer is not None:
        tracer.stop()
        evidence["coverage"] = tracer.summary()
    line = "\n" + marker(nonce) + " " + json.dumps(evidence) + "\n"
    try:
        os.write(fd, line.encode())
    except OSError:
        pass


def _compile(path, explain_asserts):
    """The program's code, instrumented, with its layout and branch points."""
    with open(path, "rb") as handle:
        source = handle.read()
    tree = ast.parse(source, filename=path)
    layout = testcode.layout(tree)
    points = testcode.branch_points(tree, layout)
    explainer = explain.Explainer(source.decode("utf-8", "replace")) if explain_asserts else None
    tree = _Instrument(layout, explainer).visit(tree)
    return compile(tree, path, "exec", dont_inherit=True), layout, points


def _print_exception(exc, skip_frames):
    tb = exc.__traceback__
    for _ in range(skip_frames):
        tb = tb.tb_next if tb is not None else None
    exc.__traceback__ = tb
    sys.excepthook(type(exc), exc, tb)


def main(argv):
    """Run ``argv[0]`` as ``__main__`` with ``argv[1:]`` as its arguments; return nothing."""
    if not argv:
        sys.stderr.write("usage: harness.py PROGRAM [ARGS...]\n")
        sys.exit(2)
    coverage = os.environ.pop("AIEV_HARNESS_COVERAGE", "") == "1"
    run(argv, os.environ.pop(NONCE_ENV, ""), os.dup(2), coverage, os.environ.pop(EXPLAIN_ENV, "1") != "0")


def run(argv, nonce, report_fd, coverage=False, explain_asserts=True):
    """Like :func:`main`, but the evidence line goes to ``report_fd`` (the warm runner's pipe).

    Call it once per process: it patches ``unittest`` and installs the counters; with
    ``coverage`` it also traces the solution's lines (slow: only for a coverage run); with
    ``explain_asserts`` a failed ``assert`` says what it compared (:mod:`explain`).
    """
    atexit.register(_report, report_fd, nonce)
    path = os.path.abspath(argv[0])
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(path)
    setattr(builtins, COUNTER_NAME, _count_assert)
    setattr(builtins, CALLED_NAME, _called)
    setattr(builtins, explain.EXPLAIN_NAME, explain.explain)
    _patch_unittest()
    try:
        code, layout, points = _compile(path, explain_asserts)
    except (SyntaxError, ValueError) as exc:
        _print_exception(exc, skip_frames=99)
        sys.exit(1)
    except OSError as exc:
        sys.stderr.write(f"python: can't open file {argv[0]!r}: {exc}\n")
        sys.exit(2)
    _keep.append(sys.modules.get("__main__"))  # the harness's own module stays alive
    module = type(sys)("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __builtins__=builtins)
    sys.modules["__main__"] = module
    _solution.extend(sorted(layout.solution))
    if coverage:
        _coverage["tracer"] = _LineTracer(testcode.solution_code_objects(code, layout, path), points)
        _coverage["tracer"].start()
    try:
        exec(code, module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: B036 - mirror the interpreter: any uncaught exception
        _print_exception(exc, skip_frames=1)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
