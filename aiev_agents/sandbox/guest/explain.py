"""Failed assertions that show their values, as pytest's assertion rewriting does.

An ``assert`` gets a message, evaluated only when the assertion fails. The operands are kept as
the test runs (each wrapped in ``:=``, so it is evaluated once, in its usual order) and the
message says what was compared::

    assert clamp(-2, -5, 3) == -5    ->  AssertionError: clamp(-2, -5, 3) returned -2, expected -5
    assert is_even(3)                ->  AssertionError: is_even(3) returned False, expected a true value
    assert len(items) > 3            ->  AssertionError: len(items) > 3 is false: len(items) is 2

An assert with a message of its own keeps it, on the first line, with the explanation on the
next (``AssertionError: Test case 2 failed`` / ``clamp(-5, -10, 0) returned -5, expected -10``):
small models write ``"Test case 2 failed"`` on most asserts, which says nothing about the
values. One that compares literals only has no value to show and is left as it is.

The program's lines, tracebacks and behaviour are otherwise unchanged: the source text is not
touched, only its syntax tree. ``and``/``or`` tests and chained comparisons (whose later operands
may never run) are left alone.

Standard library only; runs on Python 3.8 and later.
"""

import ast
import reprlib

EXPLAIN_NAME = "__aiev_explain__"
TEMP_PREFIX = "__aiev_v"
REPR_LIMIT = 300


class _BoundedRepr(reprlib.Repr):
    """A ``repr`` whose cost is bounded too: big containers and numbers are cut while shown."""

    def repr_instance(self, obj, level):
        try:
            text = repr(obj)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the failure
            return _unshown(obj)
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."


def _unshown(value):
    return "<" + type(value).__name__ + " object>"


def _bounded_repr():
    bounded = _BoundedRepr()
    bounded.maxlevel = 4
    bounded.maxlist = bounded.maxtuple = bounded.maxset = bounded.maxfrozenset = bounded.maxdeque = 30
    bounded.maxarray = 30
    bounded.maxdict = 20
    bounded.maxstring = bounded.maxother = REPR_LIMIT
    bounded.maxlong = 100
    return bounded


_REPR = _bounded_repr()

_OPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip


class Explainer:
    """Give asserts an explaining message; one per program (temporaries are numbered)."""

    def __init__(self, source):
        self.source = source
        self.count = 0

    def explained(self, node):
        """``node`` with a message that explains a failure, or ``node`` itself when it cannot."""
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _OPS:
            operands = [test.left, *test.comparators]
            if node.msg is not None and all(map(_is_literal, operands)):
                return node  # no value to show beside the author's message
            kept = [self._keep(operand) for operand in operands]
            new_test = ast.Compare(left=kept[0][0], ops=test.ops, comparators=[k[0] for k in kept[1:]])
            ops = [_OPS[type(op)] for op in test.ops]
            message = self._message("compare", operands, [k[1] for k in kept], ops, node.msg)
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _is_value(test.operand):
            kept, name = self._keep(test.operand)
            new_test = ast.UnaryOp(op=ast.Not(), operand=kept)
            message = self._message("false", [test.operand], [name], [], node.msg)
        elif _is_value(test):
            new_test, name = self._keep(test)
            message = self._message("true", [test], [name], [], node.msg)
        else:
            return node
        for part in _parts_of_ours(message, node.msg):  # at the test's place: the traceback marks the same span
            ast.copy_location(part, test)
        new = ast.Assert(test=ast.copy_location(new_test, test), msg=message)
        return ast.fix_missing_locations(ast.copy_location(new, node))

    def _keep(self, expr):
        self.count += 1
        name = TEMP_PREFIX + str(self.count)
        return ast.copy_location(ast.NamedExpr(target=ast.Name(id=name, ctx=ast.Store()), value=expr), expr), name

    def _message(self, kind, operands, names, ops, own):
        sources = [ast.get_source_segment(self.source, operand) or "?" for operand in operands]
        literal = [_is_literal(operand) for operand in operands]
        args = [
            ast.Constant(value=kind),
            ast.Constant(value=tuple(sources)),
            ast.Constant(value=tuple(literal)),
            ast.Constant(value=tuple(ops)),
            ast.List(elts=[ast.Name(id=name, ctx=ast.Load()) for name in names], ctx=ast.Load()),
        ]
        keywords = [] if own is None else [ast.keyword(arg="own", value=own)]
        return ast.Call(func=ast.Name(id=EXPLAIN_NAME, ctx=ast.Load()), args=args, keywords=keywords)


def _parts_of_ours(message, own):
    """The nodes of ``message`` that are not the author's own message (which keeps its place)."""
    theirs = set(map(id, ast.walk(own))) if own is not None else set()
    return [part for part in ast.walk(message) if id(part) not in theirs]


def _is_value(expr):
    return isinstance(expr, (ast.Call, ast.Name, ast.Attribute, ast.Subscript))


def _is_literal(expr):
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return _is_literal(expr.operand)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(element) for element in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(key is not None and _is_literal(key) for key in expr.keys) and all(
            _is_literal(value) for value in expr.values
        )
    return False


def show(value):
    """``repr(value)``, cut to ``REPR_LIMIT`` characters; never raises.

    Built-in containers, strings and numbers are cut while shown (a million-item list costs
    30 items), so a test that catches many failed asserts stays fast."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a container whose items break their __repr__
        text = _unshown(value)
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def explain(kind, sources, literal, ops, values, own=None):
    """The message of a failed assertion (called by the rewritten ``assert``); ``own``: the
    author's message, kept on the first line."""
    text = _explanation(kind, sources, literal, ops, values)
    if own is None:
        return text
    try:
        return str(own) + "\n" + text
    except Exception:  # noqa: BLE001 - a message whose __str__ breaks: show it as repr would
        return show(own) + "\n" + text


def _explanation(kind, sources, literal, ops, values):
    if kind == "true":
        return _was(sources[0], values[0]) + ", expected a true value"
    if kind == "false":
        return _was(sources[0], values[0]) + ", expected a false value"
    if ops[0] in ("==", "is") and literal[0] != literal[1]:
        actual = 0 if literal[1] else 1
        return _was(sources[actual], values[actual]) + ", expected " + show(values[1 - actual])
    if ops[0] in ("!=", "is not") and literal[0] != literal[1]:
        actual = 0 if literal[1] else 1
        return _was(sources[actual], values[actual]) + ", expected anything but " + show(values[1 - actual])
    text = sources[0] + " " + ops[0] + " " + sources[1]
    shown = [_was(sources[i], values[i]) for i in range(len(sources)) if not literal[i]]
    return text + " is false: " + ", ".join(shown) if shown else text + " is false"


def _was(source, value):
    verb = " returned " if source.endswith(")") and "(" in source else " is "
    return source + verb + show(value)
