"""Run a program file as ``__main__`` and count the tests it really executed.

Usage: the sandbox's warm runner imports it and calls :func:`run` in each forked child,
with the counts going to a pipe of their own; standalone::

    AIEV_HARNESS_NONCE=<hex> python harness.py main.py [args...]

The program behaves as under ``python main.py``: same ``sys.argv``, ``sys.path[0]``,
``__file__`` and ``__name__``, same tracebacks (no harness frames), same exit code
(1 on an uncaught exception, ``SystemExit``'s code otherwise). Two counts are kept:

* ``assertions``: ``assert`` statements executed (each one is preceded by a counting
  call inserted into the AST with the assert's location, so line numbers are exact);
* ``test_cases``: ``unittest`` test cases started and not skipped, however they are run
  (``unittest.main()``, a runner, a suite); ``test_failures`` counts their failures
  and errors.

At exit, after the program's own ``atexit`` handlers, one line
``__AIEV_HARNESS_<nonce>__ {"assertions": N, "test_cases": M, "test_failures": F}``
is written to the report fd (standalone: the stderr file descriptor the harness started
with). A program that leaves through ``os._exit`` writes no line. The counts are evidence,
not a security boundary: a program that wanted to could forge them.

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

NONCE_ENV = "AIEV_HARNESS_NONCE"
COUNTER_NAME = "__aiev_count_assert__"

_counts = {"assertions": 0, "test_cases": 0, "test_failures": 0}
_started = set()
_keep = []


def marker(nonce):
    """Return the text that opens the counts line of the run with this nonce."""
    return "__AIEV_HARNESS_" + nonce + "__"


def split_counts(output, nonce):
    """Remove the counts line of the run ``nonce`` from ``output`` (bytes).

    Returns:
        The output as the program wrote it, and the counts dict (None if absent).
    """
    line = re.compile(b"\n?" + re.escape(marker(nonce).encode()) + b" (\\{[^\n]*\\})\n?")
    found = list(line.finditer(output))
    if not found:
        return output, None
    last = found[-1]
    try:
        counts = json.loads(last.group(1))
    except ValueError:
        counts = None
    return output[: last.start()] + output[last.end() :], counts


class _AssertCounter(ast.NodeTransformer):
    """Put ``__aiev_count_assert__()`` before every ``assert`` statement."""

    def visit_Assert(self, node):
        call = ast.Call(func=ast.Name(id=COUNTER_NAME, ctx=ast.Load()), args=[], keywords=[])
        count = ast.copy_location(ast.Expr(value=call), node)
        return [ast.fix_missing_locations(count), node]


def _count_assert():
    _counts["assertions"] += 1


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
    line = "\n" + marker(nonce) + " " + json.dumps(_counts) + "\n"
    try:
        os.write(fd, line.encode())
    except OSError:
        pass


def _compile(path):
    with open(path, "rb") as handle:
        source = handle.read()
    tree = _AssertCounter().visit(ast.parse(source, filename=path))
    return compile(tree, path, "exec", dont_inherit=True)


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
    run(argv, os.environ.pop(NONCE_ENV, ""), os.dup(2))


def run(argv, nonce, report_fd):
    """Like :func:`main`, but the counts line goes to ``report_fd`` (the warm runner's pipe).

    Call it once per process: it patches ``unittest`` and installs the assert counter.
    """
    atexit.register(_report, report_fd, nonce)
    path = os.path.abspath(argv[0])
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(path)
    setattr(builtins, COUNTER_NAME, _count_assert)
    _patch_unittest()
    try:
        code = _compile(path)
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
    try:
        exec(code, module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: B036 - mirror the interpreter: any uncaught exception
        _print_exception(exc, skip_frames=1)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
