"""The package's shape: no import cycles, and the record/config layers import without AG2.

The import graph is read with `ast` from the source (module-level and function-level imports,
relative imports resolved; imports under `if TYPE_CHECKING:` are skipped, they never run).
Importing `pkg.sub.mod` from outside `pkg.sub` also runs `pkg/sub/__init__`, so that counts as
an edge too (the root package excepted: it re-exports the public API and every module is in it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import aiev_agents

ROOT = Path(aiev_agents.__file__).resolve().parent
PKG = "aiev_agents"

# Cycles that existed when this test was written, each as its sorted set of modules. The list
# only shrinks: a cycle not listed here fails, and so does a listed one that no longer exists.
KNOWN_CYCLES: list[frozenset[str]] = []


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, module_level_only: bool = False):
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(node: ast.AST, name: str, is_pkg: bool) -> list[str]:
    """Dotted names (maybe not modules) one import statement reaches."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    return [mod] + [f"{mod}.{alias.name}" for alias in node.names]


def _edges(name: str, path: Path, modules: dict[str, Path], *, module_level_only: bool = False) -> set[str]:
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _import_nodes(tree, module_level_only=module_level_only):
        for target in _targets(node, name, is_pkg):
            if target not in modules:
                continue
            parts = target.split(".")
            # the target, and the packages run on the way there (the root excepted); a package
            # the importer lives in has already started running, so that is no edge
            for i in range(2, len(parts) + 1):
                reached = ".".join(parts[:i])
                if not name.startswith(reached + "."):
                    out.add(reached)
    out.discard(name)
    return out


def import_graph(*, module_level_only: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``module_level_only``: what importing it runs)."""
    modules = _modules()
    return {name: _edges(name, path, modules, module_level_only=module_level_only) for name, path in modules.items()}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for child in graph[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (strongly connected, more than one module)."""
    reach = {node: _reach(graph, node) for node in graph}
    found: list[list[str]] = []
    done: set[str] = set()
    for node in sorted(graph):
        if node in done:
            continue
        comp = sorted({node} | {other for other in reach[node] if node in reach[other]})
        done.update(comp)
        if len(comp) > 1:
            found.append(comp)
    return found


def _cycle_path(graph: dict[str, set[str]], comp: list[str]) -> str:
    """One concrete cycle through the component's first module, as `a -> b -> a`."""
    members = set(comp)
    start = comp[0]
    prev: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [start]
                while node != start:
                    path.append(node)
                    node = prev[node]
                path.append(start)
                return " -> ".join([path[0]] + path[1:-1][::-1] + [start])
            if child not in prev:
                prev[child] = node
                queue.append(child)
    return " <-> ".join(comp)


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert f"{PKG}.errors" in graph[f"{PKG}.config"] or graph[f"{PKG}.config"]
    assert all(target.startswith(PKG) for targets in graph.values() for target in targets)


def test_no_import_cycles():
    graph = import_graph()
    comps = [frozenset(c) for c in _sccs(graph)]
    new = [c for c in comps if c not in KNOWN_CYCLES]
    gone = [c for c in KNOWN_CYCLES if c not in comps]
    report = [_cycle_path(graph, sorted(c)) for c in new]
    assert not new, "import cycles:\n  " + "\n  ".join(report)
    assert not gone, f"these known cycles are gone; remove them from KNOWN_CYCLES: {[sorted(c) for c in gone]}"


def test_a_cycle_is_reported_with_its_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _sccs(graph) == [["a", "b", "c"]]
    assert _cycle_path(graph, ["a", "b", "c"]) == "a -> b -> c -> a"


#: Besides settings modules and (light) package inits, what loading a config may import: the
#: config package's own schema modules, errors, ${ENV} interpolation, the train command's parser
#: (validates stage_switch.train_command), the benchmark sources' defaults (constants) and the
#: clock the train hook stamps runs with.
CONFIG_MAY_IMPORT = {
    f"{PKG}.config",
    *(
        f"{PKG}.config.{name}"
        for name in ("strict", "models", "roles", "dialogue", "generation", "hashing", "root", "load")
    ),
    f"{PKG}.errors",
    f"{PKG}.config.yaml_env",
    f"{PKG}.stage.train_hook",
    f"{PKG}.data.sources",
    f"{PKG}.clock",
}


def test_config_imports_only_settings():
    graph = import_graph(module_level_only=True)
    packages = {name for name, path in _modules().items() if path.name == "__init__.py"}
    reached = _reach(graph, f"{PKG}.config")
    behaviour = sorted(
        name for name in reached if name not in CONFIG_MAY_IMPORT | packages and not name.endswith(".settings")
    )
    assert not behaviour, f"importing {PKG}.config runs more than settings: {behaviour}"


AG2_FREE = [
    f"{PKG}.config",
    f"{PKG}.dialogue",
    f"{PKG}.dialogue.transcript",
    f"{PKG}.dialogue.verdict",
    f"{PKG}.generate",
    f"{PKG}.generate.store",
    f"{PKG}.generate.report",
    f"{PKG}.stage",
    f"{PKG}.stage.splits",
    f"{PKG}.data",
    f"{PKG}.data.curate",
    f"{PKG}.data.export",
    f"{PKG}.data.benchmarks",
    f"{PKG}.data.reverify",
    f"{PKG}.evaluate.audit",
    f"{PKG}.evaluate",
    f"{PKG}.view",
]


@pytest.mark.parametrize("module", AG2_FREE)
def test_records_config_and_data_import_without_ag2(module):
    code = f"import {module}, sys; bad = [m for m in sys.modules if m.split('.')[0] == 'autogen']; assert not bad, bad"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_sandbox_guest_side_needs_only_the_standard_library():
    """The guest modules are copied into the container alone: they import the stdlib and each other."""
    guest = ROOT / "sandbox" / "guest"
    names = {path.stem for path in guest.glob("*.py")}
    foreign = {}
    for path in sorted(guest.glob("*.py")):
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            tops = (
                [alias.name.split(".")[0] for alias in node.names]
                if isinstance(node, ast.Import)
                else ([] if node.level else [(node.module or "").split(".")[0]])
            )
            for top in tops:
                sibling = top.removeprefix("_aiev_")
                if top not in sys.stdlib_module_names and top != "__future__" and sibling not in names:
                    foreign.setdefault(path.name, set()).add(top)
    assert not foreign, f"the guest side imports outside the standard library: {foreign}"
    from aiev_agents.sandbox.container import RUNNER_FILES

    assert sorted(RUNNER_FILES) == sorted(f"{name}.py" for name in names - {"__init__"})


#: The flow, upstream first: a module never imports a package later in the flow. Records
#: (``dialogue.transcript``, ``dialogue.seed``) and ``*.settings`` modules are shared data that
#: any layer may import.
FLOW = ["llm", "sandbox", "roles", "dialogue", "generate", "data", "evaluate", "stage", "view", "cli"]
SHARED_DATA = (f"{PKG}.dialogue.transcript", f"{PKG}.dialogue.seed")
#: Upstream imports by design, each with its reason.
ALLOWED_UPSTREAM = {
    ("generate", "stage"): "a running job hosts the stage switch (splits, controller, summary in its report)",
}


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FLOW else None


def test_dependencies_point_down_the_flow():
    upstream = []
    for source, targets in import_graph().items():
        here = _area(source)
        for target in targets:
            there = _area(target)
            if here is None or there is None or here == there or target == f"{PKG}.{there}":
                continue
            if target.endswith(".settings") or target.startswith(SHARED_DATA):
                continue
            if FLOW.index(there) > FLOW.index(here) and (here, there) not in ALLOWED_UPSTREAM:
                upstream.append(f"{source} -> {target}")
    assert not upstream, "imports against the flow:\n  " + "\n  ".join(sorted(upstream))


def test_dialogue_never_imports_generate():
    graph = import_graph()
    dialogue = [name for name in graph if name.startswith(f"{PKG}.dialogue")]
    assert not [(name, target) for name in dialogue for target in graph[name] if target.startswith(f"{PKG}.generate")]
