"""The documentation stays true: field tables match the models, and the examples run.

Each Markdown page this file owns (``OWNED_DOCS``) is read as a sequence of fenced blocks,
run in order in one temporary folder and one Python namespace, as a reader would type them:

* ```` ```python ```` runs with ``exec``; a block holding ``>>>`` prompts runs as a doctest
  (output compared, ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE`` on);
* ```` ```bash ```` runs each ``aiev ...`` line as ``python -m aiev_agents.cli ...`` and needs
  exit code 0; any other command in a run block is an error;
* ```` ```yaml ```` is loaded with ``load_config`` (a fragment without ``models`` gets two
  stand-in models, ``teacher`` and ``student``);
* ```` ```json ```` is parsed, and validated as the record its ``record:`` marker names;
* ```` ```text ```` (and an unlabelled fence) is output shown to the reader: not run.

HTML comments on the lines right above a fence change that:

* ``<!-- file: PATH -->`` writes the block to ``PATH`` in the folder instead (then validates it
  as above, for JSON);
* ``<!-- docker -->`` needs a Docker engine and the sandbox image (``sandbox_settings``);
  without them those blocks are left out and the page's test ends as skipped, saying so;
* ``<!-- record: NAME -->`` names the record a JSON block must be (see ``RECORD_CHECKS``);
* ``<!-- not-run: REASON -->`` leaves the block out; one test checks that each such block
  gives a reason and prints them all (``pytest -rP``), so leaving a block out is a visible choice.

Tables preceded by ``<!-- fields: module:Class -->`` must list exactly the fields of that
pydantic model or dataclass (by their JSON name) with, in the columns the table has, the type
and default that ``field_rows`` renders and a meaning that contains the field's description.
Every settings model reachable from ``AievConfig`` must have one in configuration.md.
``python tests/test_docs.py [CLASS...]`` prints those rows, to paste when a model changes.
Tables preceded by ``<!-- keys: NAME -->`` list the keys of a record that is a plain dict
(``KEY_TABLES``).
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The pages whose examples and tables this file checks (others belong to other work).
OWNED_DOCS = ("index.md", "configuration.md", "records.md", "roles.md", "scale.md", "verdict.md", "view.md")
RUN_LANGUAGES = {"python", "bash", "yaml", "json"}
BLOCK_MARKERS = {"file", "docker", "record", "not-run"}
OUTPUT_LANGUAGES = {"", "text", "console"}
BASH_TIMEOUT_S = 300

_FENCE = re.compile(r"^(`{3,})([\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)\s*(?::\s*(.*?))?\s*-->$")
_STAND_IN_MODELS = {
    name: {"backend": "openai_compatible", "model": f"{name}-model", "base_url": "http://127.0.0.1:9/v1"}
    for name in ("teacher", "student")
}


# -- reading Markdown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced block of a page and the markers written right above it."""

    doc: str
    line: int
    language: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"docs/{self.doc}:{self.line}"


def read_blocks(doc: str) -> list[Block]:
    """The fenced blocks of ``docs/<doc>`` in order, with their markers."""
    lines = (DOCS / doc).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, language = opening.groups()
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith(fence) and not lines[i].strip("`"))
        text = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(doc, index + 1, language.lower(), text, _markers_above(lines, index)))
        index = end + 1
    return found


def _markers_above(lines: list[str], index: int) -> dict[str, str]:
    markers: dict[str, str] = {}
    above = index - 1
    while above >= 0 and (match := _MARKER.match(lines[above].strip())):
        markers[match.group(1)] = match.group(2) or ""
        above -= 1
    return markers


def read_tables(doc: str, kind: str) -> dict[str, list[dict[str, str]]]:
    """Tables preceded by ``<!-- KIND: NAME -->``: NAME → rows as {column header: cell}."""
    lines = (DOCS / doc).read_text(encoding="utf-8").splitlines()
    tables: dict[str, list[dict[str, str]]] = {}
    for index, line in enumerate(lines):
        match = _MARKER.match(line.strip())
        if match is None or match.group(1) != kind:
            continue
        start = next(i for i in range(index + 1, len(lines)) if lines[i].strip())
        rows = []
        for row_line in lines[start:]:
            if not row_line.startswith("|"):
                break
            rows.append(_cells(row_line))
        header, body = rows[0], rows[2:]
        name = match.group(2) or ""
        assert name not in tables, f"docs/{doc}: two tables marked {kind}: {name}"
        tables[name] = [dict(zip(header, row, strict=True)) for row in body]
    return tables


def _cells(row: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in cells]


# -- rendering pydantic fields ----------------------------------------------------------------

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path", Any: "any"}


def type_text(annotation: Any) -> str:
    """A field type in words: ``number or null``, ``list of string``, ``mapping of name to ModelSpec``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        if all(typing.get_origin(arg) is typing.Literal for arg in present):  # one closed set
            present = [typing.Literal[tuple(value for arg in present for value in typing.get_args(arg))]]
        named = [type_text(arg) for arg in present]
        return " or ".join(named + (["null"] if type(None) in args else []))
    if origin is typing.Literal:
        return "one of " + ", ".join(str(arg) for arg in args)
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(type_text(arg) for arg in args) + "]"
    if origin is dict:
        value = args[1] if args else Any
        if value is Any:
            return "mapping"
        if isinstance(value, type) and issubclass(value, BaseModel):
            return f"mapping of name to {type_text(value)}"
        return f"mapping of string to {type_text(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def constraint_text(info: FieldInfo) -> str:
    words = []
    for item in info.metadata:
        for attribute, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if getattr(item, attribute, None) is not None:
                words.append(f"{symbol} {getattr(item, attribute)}")
        if getattr(item, "min_length", None):
            words.append(f"at least {item.min_length} character(s)")
    return ", ".join(words)


def default_text(info: FieldInfo) -> str:
    """The default as YAML or JSON would spell it; ``required`` when there is none."""
    if info.is_required():
        return "required"
    return _value_text(info.get_default(call_default_factory=True))


def _value_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "{}"
    if isinstance(value, (str, Path)):
        return str(value) if str(value) else '""'
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def field_rows(model: type) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of each field of a pydantic model or a dataclass.

    The key is the field's JSON name (its alias, when it has one).
    """
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model)
        return [
            (item.name, type_text(hints[item.name]), _dataclass_default(item), "") for item in dataclasses.fields(model)
        ]
    rows = []
    for name, info in model.model_fields.items():
        kind = type_text(info.annotation)
        constraints = constraint_text(info)
        rows.append(
            (
                info.alias or name,
                f"{kind}, {constraints}" if constraints else kind,
                default_text(info),
                info.description or "",
            )
        )
    return rows


def _dataclass_default(item: dataclasses.Field[Any]) -> str:
    if item.default is not dataclasses.MISSING:
        return _value_text(item.default)
    if item.default_factory is not dataclasses.MISSING:
        return _value_text(item.default_factory())
    return "required"


def config_models() -> list[type[BaseModel]]:
    """Every settings model reachable from ``AievConfig``, the root first."""
    from aiev_agents.config import AievConfig

    seen: list[type[BaseModel]] = []
    pending: list[Any] = [AievConfig]
    while pending:
        annotation = pending.pop(0)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.append(annotation)
                pending += [info.annotation for info in annotation.model_fields.values()]
        else:
            pending += list(typing.get_args(annotation))
    return seen


#: Models documented outside configuration.md, by page (named, so collecting the tests imports no AG2).
DOCUMENTED_MODELS = {
    "records.md": (
        "aiev_agents.dialogue.transcript:Transcript",
        "aiev_agents.dialogue.transcript:Turn",
        "aiev_agents.dialogue.transcript:Execution",
        "aiev_agents.dialogue.transcript:Candidate",
        "aiev_agents.dialogue.transcript:Usage",
        "aiev_agents.dialogue.transcript:Timings",
        "aiev_agents.generate.manifest:RunManifest",
        "aiev_agents.generate.manifest:Counts",
        "aiev_agents.generate.manifest:Session",
    ),
    "scale.md": ("aiev_agents.generate.job:GenerationOptions", "aiev_agents.generate.mining:MiningOptions"),
}


def field_tables() -> list[tuple[str, str]]:
    """(page, ``module:Class``) of every table the tests check."""
    tables = [("configuration.md", qualified(model)) for model in config_models()]
    return tables + [(doc, name) for doc, names in DOCUMENTED_MODELS.items() for name in names]


def import_model(name: str) -> type:
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def qualified(model: type) -> str:
    return f"{model.__module__}:{model.__qualname__}"


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def check_table(doc: str, name: str) -> None:
    model = import_model(name)
    tables = read_tables(doc, "fields")
    assert name in tables, f"docs/{doc} has no table marked <!-- fields: {name} -->"
    documented = {row["key"].strip("`"): row for row in tables[name]}
    expected = {key: (kind, default, description) for key, kind, default, description in field_rows(model)}
    missing, unknown = sorted(set(expected) - set(documented)), sorted(set(documented) - set(expected))
    assert not missing and not unknown, (
        f"docs/{doc}, {name}: fields not documented {missing}, documented but gone {unknown}"
    )
    for key, (kind, default, description) in expected.items():
        row = documented[key]
        if "type" in row:
            assert _plain(row["type"]) == kind, f"docs/{doc}, {name}.{key}: type should read {kind!r}"
        if "default" in row:
            assert row["default"].strip("`") == default, f"docs/{doc}, {name}.{key}: default should be {default!r}"
        assert _plain(description) in _plain(row["meaning"]), (
            f"docs/{doc}, {name}.{key}: the meaning should contain the field's description {description!r}"
        )


# -- keys of the records that are not pydantic models --------------------------------------------


def error_log_keys() -> set[str]:
    """The keys of an ``errors.jsonl`` line, as ``ErrorLog`` writes it."""
    import tempfile

    from aiev_agents.errors import ModelUnavailable
    from aiev_agents.generate.seeds import Seed
    from aiev_agents.generate.store import ErrorLog

    with tempfile.TemporaryDirectory() as folder:
        log = ErrorLog(folder)
        log.append(Seed(id="s", problem="p"), ModelUnavailable("down"))
        return set(json.loads(log.path.read_text()))


def report_keys() -> set[str]:
    from aiev_agents.generate.report import build_report

    return set(build_report([]))


def report_counts_keys() -> set[str]:
    from aiev_agents.generate.report import build_report

    return set(build_report([])["counts"])


KEY_TABLES: dict[str, Callable[[], set[str]]] = {
    "errors.jsonl": error_log_keys,
    "report.json": report_keys,
    "report.json counts": report_counts_keys,
}


# -- records shown as JSON ------------------------------------------------------------------------


def _check_transcript(data: dict[str, Any]) -> None:
    from aiev_agents.dialogue.transcript import Transcript

    assert Transcript.from_dict(data).to_dict() == data


def _check_manifest(data: dict[str, Any]) -> None:
    from aiev_agents.generate.manifest import RunManifest

    assert RunManifest.model_validate(data).model_dump(mode="json", by_alias=True) == data


RECORD_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "transcript": _check_transcript,
    "manifest": _check_manifest,
    "error": lambda data: _same_keys(data, error_log_keys()),
    "report": lambda data: _same_keys(data, report_keys()),
}


def _same_keys(data: dict[str, Any], expected: set[str]) -> None:
    assert set(data) == expected, f"keys {sorted(data)} should be {sorted(expected)}"


# -- running a page's examples ----------------------------------------------------------------------


@dataclass
class Session:
    """One page's examples run in order: a folder, a namespace, an environment."""

    folder: Path
    env: dict[str, str]
    docker: bool
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs__"})
    left_out: list[str] = field(default_factory=list)

    def run(self, block: Block) -> None:
        if "not-run" in block.markers:
            return
        if "docker" in block.markers and not self.docker:
            self.left_out.append(block.where)
            return
        if "file" in block.markers:
            path = self.folder / block.markers["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
            if block.language == "json":
                self.json(block)
            return
        runner = {"python": self.python, "bash": self.bash, "yaml": self.yaml, "json": self.json}.get(block.language)
        if runner is not None:
            runner(block)

    def python(self, block: Block) -> None:
        if ">>>" in block.text:
            parser = doctest.DocTestParser()
            test = parser.get_doctest(block.text, self.namespace, block.where, block.where, block.line)
            test.globs = self.namespace  # DocTest copies its globals; the page shares one namespace
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            report: list[str] = []
            result = runner.run(test, out=report.append, clear_globs=False)
            assert result.failed == 0, "".join(report)
        else:
            exec(compile(block.text, block.where, "exec"), self.namespace)  # noqa: S102 - the docs' own examples

    def bash(self, block: Block) -> None:
        for command in _commands(block.text):
            args = shlex.split(command, comments=True)
            if not args:
                continue
            assert args[0] == "aiev", (
                f"{block.where} runs `{command}`: only `aiev` commands run; mark the block <!-- not-run: REASON -->"
            )
            result = subprocess.run(
                [sys.executable, "-m", "aiev_agents.cli", *args[1:]],
                cwd=self.folder,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=BASH_TIMEOUT_S,
            )
            assert result.returncode == 0, f"{block.where}: `{command}` exited {result.returncode}:\n{result.stderr}"

    def yaml(self, block: Block) -> None:
        from aiev_agents import load_config

        data = yaml.safe_load(block.text)
        data.setdefault("models", _STAND_IN_MODELS)
        path = self.folder / ".fragment" / "config.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        needed = re.findall(r"\$\{([A-Za-z_]\w*)\}", block.text)
        load_config(path, env={name: "set-for-the-docs" for name in needed})

    def json(self, block: Block) -> None:
        data = json.loads(block.text)
        kind = block.markers.get("record")
        if kind is not None:
            assert kind in RECORD_CHECKS, f"{block.where}: unknown record kind {kind!r}"
            RECORD_CHECKS[kind](data)


def _commands(text: str) -> Iterator[str]:
    """The shell lines of a block, ``\\`` continuations joined."""
    pending = ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield pending + line
        pending = ""


def _docker_available(request: pytest.FixtureRequest) -> tuple[Any, str]:
    try:
        return request.getfixturevalue("sandbox_settings"), ""
    except pytest.skip.Exception as exc:
        return None, str(exc)


# -- tests ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "name"), field_tables(), ids=lambda value: value.rpartition(":")[2])
def test_field_table_lists_every_field_with_type_default_and_meaning(doc: str, name: str) -> None:
    check_table(doc, name)


def test_no_field_table_names_a_model_that_is_not_checked() -> None:
    checked = set(field_tables())
    for doc in OWNED_DOCS:
        unchecked = {name for name in read_tables(doc, "fields") if (doc, name) not in checked}
        assert not unchecked, f"docs/{doc} marks tables no test checks: {sorted(unchecked)}"


@pytest.mark.parametrize("name", sorted(KEY_TABLES))
def test_records_md_lists_every_key_of_the_plain_records(name: str) -> None:
    tables = read_tables("records.md", "keys")
    assert name in tables, f"docs/records.md has no table marked <!-- keys: {name} -->"
    assert {row["key"].strip("`") for row in tables[name]} == KEY_TABLES[name]()


def test_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w./-]+\.md)\)", index))
    pages = {path.name for path in DOCS.glob("*.md")} - {"index.md"}
    assert pages <= linked, f"docs/index.md does not link {sorted(pages - linked)}"
    missing = sorted(page for page in linked if not (DOCS / page).is_file())
    assert not missing, f"docs/index.md links missing pages: {missing}"


def anchors(doc: str) -> set[str]:
    """The anchors GitHub gives the headings of ``docs/<doc>``."""
    text = re.sub(r"^(`{3,}).*?^\1", "", (DOCS / doc).read_text(encoding="utf-8"), flags=re.M | re.S)
    headings = re.findall(r"^#{1,6} (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("doc", OWNED_DOCS)
def test_links_to_sections_point_at_headings(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    for page, anchor in re.findall(r"\]\(([\w.-]*\.md)?#([\w-]+)\)", text):
        target = page or doc
        if (DOCS / target).is_file():
            assert anchor in anchors(target), f"docs/{doc} links {target}#{anchor}, which is no heading"


def _all_blocks() -> list[Block]:
    return [block for doc in OWNED_DOCS if (DOCS / doc).exists() for block in read_blocks(doc)]


def test_every_block_is_run_or_says_why_not() -> None:
    for block in _all_blocks():
        unknown = set(block.markers) - BLOCK_MARKERS
        assert not unknown, f"{block.where}: unknown marker(s) {sorted(unknown)}; known: {sorted(BLOCK_MARKERS)}"
        if "not-run" not in block.markers and "file" not in block.markers:
            assert block.language in RUN_LANGUAGES | OUTPUT_LANGUAGES, (
                f"{block.where}: a ```{block.language} block cannot run; mark it <!-- not-run: REASON -->"
            )


def test_every_block_left_out_says_why() -> None:
    not_run = {block.where: block.markers["not-run"].strip() for block in _all_blocks() if "not-run" in block.markers}
    without_reason = [where for where, reason in not_run.items() if not reason]
    assert not without_reason, f"<!-- not-run: REASON --> needs a reason: {', '.join(without_reason)}"
    print(f"{len(not_run)} block(s) not run:")
    for where, reason in not_run.items():
        print(f"  {where}: {reason}")


@pytest.mark.parametrize("doc", OWNED_DOCS)
def test_examples_run(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    blocks = read_blocks(doc)
    settings, no_docker = None, ""
    if any("docker" in block.markers for block in blocks):
        settings, no_docker = _docker_available(request)
        if settings is not None:
            monkeypatch.setenv("AIEV_SANDBOX_IMAGE", settings.image)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    session = Session(folder=tmp_path, env=env, docker=settings is not None)
    modules_before = set(sys.modules)
    try:
        for block in blocks:
            session.run(block)
    finally:
        for name in set(sys.modules) - modules_before:
            if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
                del sys.modules[name]
        importlib.invalidate_caches()
    if session.left_out:
        pytest.skip(f"ran the rest; left out {', '.join(session.left_out)}: {no_docker}")


if __name__ == "__main__":  # print the rows of the checked tables, to paste into the docs
    wanted = set(sys.argv[1:])
    for doc, name in field_tables():
        if wanted and name.rpartition(":")[2] not in wanted:
            continue
        print(f"\n{doc}\n<!-- fields: {name} -->")
        print("| key | type | default | meaning |\n|---|---|---|---|")
        for key, kind, default, description in field_rows(import_model(name)):
            print(f"| `{key}` | {kind} | `{default}` | {description.replace('|', chr(92) + '|')} |")
