"""Split a markdown reply into the Python program to run and the packages to install.

Pure functions, no AG2: the executor, the dialogue and the tests share them.

Fences labelled ``python``/``python3``/``py`` are Python, ``sh``/``bash``/``shell``/``console``
are shell. An unlabelled fence is Python when it compiles as Python, shell when
every line in it is a ``pip install`` command, and ignored otherwise. Shell is never run:
only the requirements of ``pip install`` lines are kept; every other shell line is
reported in :attr:`Program.ignored_shell_lines`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["python", "shell"]

PYTHON_LABELS = frozenset({"python", "python3", "py"})
SHELL_LABELS = frozenset({"sh", "bash", "shell", "console"})

_PIP_COMMAND = re.compile(r"^(?:sudo\s+)?(?:pip(?:3(?:\.\d+)?)?|python(?:3(?:\.\d+)?)?\s+-m\s+pip)\s+install(?:\s|$)")
_PROMPT = re.compile(r"^(?:!|%|\$\s+)")
_REQUIREMENT = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"  # project name
    r"(?:\[[A-Za-z0-9._,\s-]*\])?"  # extras
    r"(?:\s*(?:===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+"  # first version clause
    r"(?:\s*,\s*(?:===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?$"  # further clauses
)
_FILE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".txt", ".py", ".cfg", ".toml", ".in")
# Options that change where packages come from or go to: rejected with their value.
_REJECTED_OPTIONS = frozenset(
    {
        "-r", "--requirement", "-e", "--editable", "-c", "--constraint", "-i", "--index-url",
        "--extra-index-url", "-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix",
        "--root", "--src", "--cert", "--client-cert", "--proxy", "--config-settings", "-C",
    }
)  # fmt: skip
# Harmless options that take a value: dropped together with it.
_VALUE_OPTIONS = frozenset(
    {
        "--timeout", "--retries", "--progress-bar", "--upgrade-strategy", "--cache-dir",
        "--log", "--exists-action", "--only-binary", "--no-binary", "--platform",
        "--python-version", "--implementation", "--abi", "--global-option", "--report",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _FenceIndent:
    """Where a fence may open and close: after ``margin`` (a regex); ``blanks`` are the
    characters dedented from its body."""

    margin: str
    blanks: str
    opening: re.Pattern[str]


def _fence_indent(margin: str, blanks: str) -> _FenceIndent:
    opening = re.compile(rf"^(?P<indent>{margin})(?P<fence>`{{3,}}|~{{3,}})\s*(?P<info>[^`]*?)\s*$")
    return _FenceIndent(margin, blanks, opening)


#: CommonMark's rule: a fence indented by at most three spaces.
_COMMONMARK = _fence_indent(" {0,3}", " ")
#: AG2's rule: a fence at any indentation of spaces and tabs (inside indented text too).
_ANY_INDENT = _fence_indent(r"[ \t]*", " \t")


@dataclass(frozen=True)
class Block:
    """One fenced block whose language is known."""

    language: Language
    code: str


@dataclass(frozen=True)
class Program:
    """What a reply asks to run.

    Attributes:
        python: All Python blocks joined in order with a blank line; ``""`` if none.
        packages: Requirements from ``pip install`` lines, deduplicated, in order.
        ignored_shell_lines: Shell lines that are not ``pip install``; never run.
        rejected: ``pip install`` arguments refused: paths, URLs, ``-r file``, ``-e``,
            ``--index-url X`` and the like.
    """

    python: str = ""
    packages: list[str] = field(default_factory=list)
    ignored_shell_lines: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def classify(label: str, code: str) -> Language | None:
    """Return the language of a fence from its label (and, if unlabelled, its code).

    Args:
        label: The first word of the fence's info string, any case; ``""`` if none.
        code: The block's text.

    Returns:
        ``"python"``, ``"shell"`` or ``None`` for a block to ignore.
    """
    label = fence_label(label)
    if label in PYTHON_LABELS:
        return "python"
    if label in SHELL_LABELS:
        return "shell"
    if label:
        return None
    if _is_python(code):
        return "python"
    if _is_pip_only(code):
        return "shell"
    return None


def fence_label(word: str) -> str:
    """The label a fence's first info word gives: lower-cased, ``{.python}`` read as ``python``."""
    return word.strip().lower().lstrip("{.").rstrip("}")


@dataclass(frozen=True)
class Fence:
    """One fenced block: the first word of its info string (``""`` if none), its code, and the
    indexes of its opening and closing lines in ``text.splitlines()`` (the last line of the
    text when it is not closed)."""

    label: str
    code: str
    first: int
    last: int


def fenced(text: str, *, any_indent: bool = False) -> list[Fence]:
    """Each fence of a markdown text, in order.

    Backtick and tilde fences are recognised; an unclosed fence runs to the end of the text,
    as in CommonMark. A fence opens indented by at most three spaces (CommonMark), or, with
    ``any_indent``, at any indentation of spaces and tabs (AG2's rule); its code is dedented
    by the fence's indentation.
    """
    rule = _ANY_INDENT if any_indent else _COMMONMARK
    found: list[Fence] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = rule.opening.match(lines[i])
        if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        code, after = _read_fence(lines, i + 1, match["fence"], len(match["indent"]), rule)
        words = match["info"].split()
        found.append(Fence(words[0] if words else "", code, i, min(after - 1, len(lines) - 1)))
        i = after
    return found


def fences(text: str, *, any_indent: bool = False) -> list[tuple[str, str]]:
    """(label, code) of each fence of a markdown text (:func:`fenced`)."""
    return [(fence.label, fence.code) for fence in fenced(text, any_indent=any_indent)]


def parse_blocks(text: str) -> list[Block]:
    """Return the Python and shell fenced blocks of a markdown text, in order (:func:`fences`)."""
    blocks: list[Block] = []
    for label, code in fences(text):
        language = classify(label, code)
        if language is not None:
            blocks.append(Block(language, code))
    return blocks


def program_from_blocks(blocks: Iterable[Block]) -> Program:
    """Build a :class:`Program` from already classified blocks."""
    python: list[str] = []
    packages: list[str] = []
    ignored: list[str] = []
    rejected: list[str] = []
    for block in blocks:
        if block.language == "python":
            if block.code.strip():
                python.append(block.code.rstrip("\n"))
            continue
        for line in shell_commands(block.code):
            if not _collect_pip(line, packages, rejected):
                ignored.append(line)
    return Program(
        python="\n\n".join(python),
        packages=list(dict.fromkeys(packages)),
        ignored_shell_lines=ignored,
        rejected=rejected,
    )


def split_program(text: str) -> Program:
    """Parse a markdown reply into the program to run and the packages it needs.

    Example:
        >>> split_program("```sh\\npip install -q numpy\\n```\\n```python\\nassert 1\\n```").packages
        ['numpy']
    """
    return program_from_blocks(parse_blocks(text))


def shell_commands(code: str) -> list[str]:
    """Split shell text into commands: continuations joined, ``&&``/``;`` chains split.

    Blank lines and comments are dropped, as are prompt prefixes ``$ ``, ``!`` and ``%``.
    """
    joined = re.sub(r"\\\r?\n", " ", code)
    commands: list[str] = []
    for raw in joined.splitlines():
        line = _PROMPT.sub("", raw.strip(), count=1).strip()
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in re.split(r"&&|\|\|?|;", line)]
        commands.extend(part for part in parts if part)
    return commands


def is_requirement(token: str) -> bool:
    """True for a plain requirement such as ``numpy``, ``requests>=2`` or ``a[b]==1.0``.

    File names (``x.whl``, ``requirements.txt``, ``setup.py``) are not requirements.
    """
    return bool(_REQUIREMENT.match(token)) and not token.lower().endswith(_FILE_SUFFIXES)


def _read_fence(lines: list[str], start: int, fence: str, indent: int, rule: _FenceIndent) -> tuple[str, int]:
    """Read a fence body from ``start``; return the code and the index after the fence."""
    closing = re.compile(rf"^{rule.margin}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    body: list[str] = []
    i = start
    while i < len(lines) and not closing.match(lines[i]):
        line = lines[i]
        strip = len(line) - len(line.lstrip(rule.blanks))
        body.append(line[min(indent, strip) :])
        i += 1
    code = "\n".join(body)
    return (code + "\n" if body else ""), i + 1


def _is_python(code: str) -> bool:
    if not code.strip():
        return False
    try:  # compiled, not ast.parse'd: threads parsing at once can fail (see testcode.parse)
        compile(code, "<fence>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _is_pip_only(code: str) -> bool:
    commands = shell_commands(code)
    return bool(commands) and all(_PIP_COMMAND.match(command) for command in commands)


def _collect_pip(command: str, packages: list[str], rejected: list[str]) -> bool:
    """Add the requirements of a ``pip install`` command; False if it is not one."""
    match = _PIP_COMMAND.match(command)
    if match is None:
        return False
    try:
        tokens = shlex.split(command[match.end() :])
    except ValueError:
        rejected.append(command)
        return True
    _scan_pip_arguments(tokens, packages, rejected)
    return True


def _scan_pip_arguments(tokens: list[str], packages: list[str], rejected: list[str]) -> None:
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name = token.split("=", 1)[0] if token.startswith("--") else token
        takes_value = "=" not in token and i + 1 < len(tokens)
        if name in _REJECTED_OPTIONS:
            rejected.append(f"{token} {tokens[i + 1]}" if takes_value else token)
            i += 2 if takes_value else 1
        elif name in _VALUE_OPTIONS:
            i += 2 if takes_value else 1
        elif token[:2] in _REJECTED_OPTIONS:  # joined short form: -rreqs.txt, -e.
            rejected.append(token)
            i += 1
        elif token.startswith("-"):
            i += 1
        else:
            (packages if is_requirement(token) else rejected).append(token)
            i += 1


def code_in_language(text: str, language: str, *, whole_text: bool = True) -> str:
    """The code of a reply in ``language`` (a sandbox language name, e.g. ``javascript``).

    The fences labelled with one of its names (``js``/``javascript``, ``cpp``/``c++``, ``java``,
    ``rust``/``rs``, ``go``/``golang``, ``sh``/``bash``...) joined in order; without any, the
    unlabelled fences; without fences at all, the whole text (``whole_text=False``: "").
    """
    from .sandbox.languages import known_language

    all_fences = fenced(text)
    wanted = known_language(language)
    chosen = [fence.code for fence in all_fences if known_language(fence_label(fence.label)) == wanted]
    if not chosen:
        chosen = [fence.code for fence in all_fences if not fence.label]
    if not all_fences:
        return text if whole_text else ""
    return "\n".join(chosen)
