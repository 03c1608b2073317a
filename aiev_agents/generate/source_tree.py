"""Where seed mining reads code: a path or an installed package, and its ``.py`` files.

The tree is only listed and its package metadata read; nothing in it is imported or run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import SeedError

logger = logging.getLogger(__name__)

_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})
_OUTPUT_DIRS = frozenset({"build", "dist"})  # skipped unless they are packages themselves
_TEST_DIRS = frozenset({"test", "tests"})
_IMPORT_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class SourceTree:
    """Where to mine: ``root`` (a folder or one file); seed paths are relative to ``base``."""

    root: Path
    base: Path
    project: str


def resolve_source(target: str | os.PathLike[str], *, project: str | None = None) -> SourceTree:
    """Find what to mine: an existing path, or else the source of an installed package.

    Raises:
        SeedError: No such path and no installed package of that name with Python source.
    """
    path = Path(target).expanduser()
    if path.exists():
        root = path.resolve()
        if root.is_file() and root.suffix != ".py":
            raise SeedError(f"{path} is not a Python file; give a .py file, a code tree or an import name")
        # A package folder keeps its own name in the paths, as when named by import name.
        base = root if root.is_dir() and not (root / "__init__.py").exists() else root.parent
        return SourceTree(root=root, base=base, project=project or _project_name(root))
    name = str(target)
    if not _IMPORT_NAME.fullmatch(name):
        raise SeedError(f"{name}: no such file or folder; give a code tree, a .py file or a top-level import name")
    return _installed_package(name, project)


def iter_source_files(root: Path, *, include_tests: bool = False) -> Iterator[Path]:
    """The ``.py`` files under ``root`` in a deterministic order (``root`` itself if a file).

    Hidden folders, ``__pycache__``, virtual environments, ``*.egg-info``, non-package
    ``build``/``dist`` folders and (unless ``include_tests``) ``test``/``tests`` are skipped.
    """
    if root.is_file():
        yield root
        return
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        dirnames[:] = sorted(name for name in dirnames if _walk_into(here / name, include_tests))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield here / name


def _walk_into(folder: Path, include_tests: bool) -> bool:
    name = folder.name
    if name.startswith(".") or name in _SKIPPED_DIRS or name.endswith(".egg-info"):
        return False
    if name in _OUTPUT_DIRS and not (folder / "__init__.py").exists():
        return False
    if not include_tests and name in _TEST_DIRS:
        return False
    return not (folder / "pyvenv.cfg").exists()


def _project_name(root: Path) -> str:
    if root.is_file():
        return root.stem
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with contextlib.suppress(OSError, ValueError, ImportError):
            import tomllib

            name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
            if isinstance(name, str) and name.strip():
                return name.strip()
    return root.name


def _installed_package(name: str, project: str | None) -> SourceTree:
    try:
        spec = importlib.util.find_spec(name)  # a top-level name: finders only, nothing is imported
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise SeedError(f"'{name}' is neither an existing path nor an installed package; check the spelling")
    locations = list(spec.submodule_search_locations or [])
    if locations:
        if len(locations) > 1:
            logger.warning("%s is a namespace package in %d folders; mining %s", name, len(locations), locations[0])
        root = Path(locations[0]).resolve()
    elif spec.origin and spec.origin.endswith(".py"):
        root = Path(spec.origin).resolve()
    else:
        raise SeedError(f"'{name}' is a compiled or built-in module ({spec.origin}); it has no Python source to mine")
    return SourceTree(root=root, base=root.parent, project=project or name)
