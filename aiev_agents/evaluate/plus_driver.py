"""Runs inside the sandbox: HumanEval+ inputs through a solution, as evalplus's checker does.

Standard library only; runs on Python 3.8 and later. The host reads this file's source,
appends one call (:func:`oracle` or :func:`check`) with the task's data as literals, and
runs the whole as the sandbox's ``main.py``. The solution is compiled into a namespace of
its own, so its names never meet the driver's; what it prints is swallowed.

* :func:`oracle` runs the reference solution on every input and prints one line: the
  marker, then JSON with each input's run time and the outputs, pickled, compressed and
  base64-coded (null when they are too big to ship: HumanEval/15 and /130 return
  megabytes per input). The host never unpickles them: it hands them back to
  :func:`check` in the sandbox, which otherwise runs the reference beside the candidate.
* :func:`check` runs a candidate on the ``base`` inputs, then the ``plus`` inputs, each
  under a time limit, and compares each output with the expected one as evalplus does:
  equality; else, with a tolerance ``atol`` (1e-6 for float outputs when the task gives
  none), the same type and every number within ``atol + 1e-7 * |expected|``; a task-level
  ``special`` oracle replaces the comparison (``poly_root``: ``|poly(xs, out)| <= atol``).
  It stops at the first wrong output and prints the marker, then JSON
  ``{"phase", "index", "status", "error"}``; ``phase`` is ``done`` when all passed.
"""

import base64
import contextlib
import io
import json
import math
import pickle
import signal
import sys
import time
import zlib

MAX_PICKLE_BYTES = 16 << 20
TIMEOUT_EXIT = 3
FAIL_EXIT = 1
_REPR_CHARS = 120


class Overtime(Exception):
    """One input ran past its time limit."""


def _alarm(signum, frame):
    raise Overtime()


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _load(code, entry_point):
    namespace = {"__name__": "__solution__"}
    with _quiet():
        exec(compile(code, "solution.py", "exec"), namespace)
    return namespace[entry_point]


def _emit(marker, payload):
    sys.stdout.write("\n" + marker + " " + json.dumps(payload) + "\n")
    sys.stdout.flush()


def oracle(code, entry_point, inputs_json, marker):
    """Run the reference on every input; print the marker line with times and packed outputs.

    Outputs whose pickle is over ``MAX_PICKLE_BYTES`` are not sent (``expected`` is null):
    :func:`check` then runs the reference beside the candidate, input by input.
    """
    function = _load(code, entry_point)
    inputs = json.loads(inputs_json)
    outputs, times = {}, {}
    for phase in ("base", "plus"):
        outputs[phase], times[phase] = [], []
        for args in inputs[phase]:
            started = time.perf_counter()
            with _quiet():
                out = function(*args)
            times[phase].append(time.perf_counter() - started)
            outputs[phase].append(out)
    assert len(outputs["base"]) + len(outputs["plus"]) == len(inputs["base"]) + len(inputs["plus"])
    packed = pickle.dumps(outputs, protocol=4)
    blob = None
    if len(packed) <= MAX_PICKLE_BYTES:
        blob = base64.b64encode(zlib.compress(packed, 6)).decode("ascii")
    _emit(marker, {"times": times, "expected": blob})


def _poly(xs, x):
    return sum(coefficient * math.pow(x, i) for i, coefficient in enumerate(xs))


def _is_floats(value):
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(item, float) for item in value)
    return False


def _close(out, expected, atol):
    """numpy.testing.assert_allclose's rule (rtol 1e-7, NaN equals NaN) on numbers and nested lists."""
    if isinstance(expected, (list, tuple)):
        if not isinstance(out, (list, tuple)) or len(out) != len(expected):
            return False
        return all(_close(out[i], expected[i], atol) for i in range(len(expected)))
    numbers = (int, float)
    if not isinstance(out, numbers) or not isinstance(expected, numbers):
        return False
    if math.isnan(out) or math.isnan(expected):
        return math.isnan(out) and math.isnan(expected)
    if math.isinf(out) or math.isinf(expected):
        return out == expected
    return abs(out - expected) <= atol + 1e-7 * abs(expected)


def matches(out, expected, atol, special, args):
    """Whether a candidate's output counts as the expected one (evalplus's rules)."""
    if special == "poly_root":
        try:
            return abs(_poly(*args, out)) <= atol
        except Exception:
            return False
    try:
        exact = bool(out == expected)
    except Exception:
        exact = False
    if atol == 0 and _is_floats(expected):
        atol = 1e-6
    if not exact and atol != 0:
        return type(out) is type(expected) and _close(out, expected, atol)
    return exact


def _short(value):
    text = repr(value)
    return text if len(text) <= _REPR_CHARS else text[:_REPR_CHARS] + "..."


def _run_one(function, args, limit):
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with _quiet():
            return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _verdict(marker, phase, index, status, error):
    _emit(marker, {"phase": phase, "index": index, "status": status, "error": error})
    if status == "timeout":
        sys.exit(TIMEOUT_EXIT)
    if status != "pass":
        sys.exit(FAIL_EXIT)


def _expected(expected_b64, reference, entry_point, inputs_json):
    """phase → a function of the input index giving the expected output."""
    if expected_b64 is not None:
        table = pickle.loads(zlib.decompress(base64.b64decode(expected_b64)))
        return {phase: table[phase].__getitem__ for phase in ("base", "plus")}
    function = _load(reference, entry_point)
    fresh = json.loads(inputs_json)  # the reference gets its own copy: it may change its arguments

    def by_phase(phase):
        def compute(index):
            with _quiet():
                return function(*fresh[phase][index])

        return compute

    return {phase: by_phase(phase) for phase in ("base", "plus")}


def check(code, entry_point, inputs_json, expected_b64, reference, limits, atol, special, marker):
    """Run a candidate on the base, then the plus inputs; print the marker line with the verdict.

    ``expected_b64`` is what :func:`oracle` printed; when it is None the ``reference`` code
    is run on each input just before the candidate.
    """
    signal.signal(signal.SIGALRM, _alarm)
    expected = _expected(expected_b64, reference, entry_point, inputs_json)
    try:
        function = _load(code, entry_point)
    except BaseException as exc:  # the candidate's own failure is data
        _verdict(marker, "load", 0, "fail", type(exc).__name__ + ": " + str(exc)[:200])
    inputs = json.loads(inputs_json)
    for phase in ("base", "plus"):
        for index, args in enumerate(inputs[phase]):
            wanted = expected[phase](index)
            try:
                out = _run_one(function, args, limits[phase][index])
            except Overtime:
                _verdict(marker, phase, index, "timeout", f"over its time limit of {limits[phase][index]:.2f} s")
            except BaseException as exc:
                _verdict(marker, phase, index, "fail", type(exc).__name__ + ": " + str(exc)[:200])
            good = matches(out, wanted, atol, special, args)
            if not good:
                arguments = _short(args)[1:-1]
                _verdict(
                    marker,
                    phase,
                    index,
                    "fail",
                    f"{entry_point}({arguments}) returned {_short(out)}, expected {_short(wanted)}",
                )
            assert good
    _verdict(marker, "done", 0, "pass", "")
