"""AG2's code blocks as the sandbox takes them: extracted from a message, split, named.

The :class:`~aiev_agents.sandbox.ag2_executor.DockerCodeExecutor` reads a message's blocks
with :class:`ProgramExtractor` (fences found by :func:`aiev_agents.codeblocks.fences`, each
keeping its label), takes the ``pip install`` lines out of a shell block with
:func:`split_shell` (the sandbox's installer runs them), and saves a block under the name
its first-line comment gives (:func:`filename_of`, AG2's rule).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from autogen.code_utils import content_str
from autogen.coding.base import CodeBlock

from aiev_agents.codeblocks import Block, classify, fence_label, fences, program_from_blocks

#: AG2's rule (``autogen.coding.utils``): a comment on a block's first line names its file.
FILENAME_PATTERNS = (
    re.compile(r"^<!-- (filename:)?(.+?) -->", re.DOTALL),
    re.compile(r"^/\* (filename:)?(.+?) \*/", re.DOTALL),
    re.compile(r"^// (filename:)?(.+?)$", re.DOTALL),
    re.compile(r"^# (filename:)?(.+?)$", re.DOTALL),
)


class ProgramExtractor:
    """``CodeExtractor`` for Python and shell fences, which keeps each fence's label.

    Labelled fences of other languages are left out (AIEV's rules, ``aiev_agents.codeblocks``);
    an unlabelled fence is ``python`` when it parses as Python, ``sh`` when it holds only
    ``pip install`` lines, and left out otherwise. Like AG2's extractor, and unlike AIEV's
    :func:`~aiev_agents.codeblocks.parse_blocks`, it also finds fences indented by four
    spaces or more (their code is dedented by the fence's indentation).
    """

    def extract_code_blocks(self, message: str | list[Any] | None) -> list[CodeBlock]:
        """Return the Python and shell blocks of ``message``, in order."""
        return [CodeBlock(code=code, language=label) for label, code in labelled_blocks(content_str(message))]


def labelled_blocks(text: str) -> list[tuple[str, str]]:
    """(label, code) of each Python or shell fence of a markdown text; the label lower-cased,
    ``python`` or ``sh`` for an unlabelled fence. An unclosed fence runs to the end."""
    found: list[tuple[str, str]] = []
    for word, code in fences(text, any_indent=True):
        label = fence_label(word)
        language = classify(label, code)
        if language is not None:
            found.append((label or ("python" if language == "python" else "sh"), code))
    return found


def classified_blocks(code_blocks: list[CodeBlock]) -> list[Block]:
    """AG2's blocks as AIEV's: Python or shell by label (or content), the others left out."""
    blocks = []
    for code_block in code_blocks:
        language = classify(code_block.language or "", code_block.code)
        if language is not None:
            blocks.append(Block(language, code_block.code))
    return blocks


@dataclass(frozen=True)
class ShellScript:
    """A shell block split for the sandbox: ``pip install`` lines out, the rest to run.

    Attributes:
        script: The block with each ``pip install`` line commented out (line numbers kept).
        packages: Requirements of those lines, deduplicated, in order.
        rejected: Their arguments that are not plain requirements (``-r file``, URLs...).
        commands: The other commands (what a console transcript would not run).
    """

    script: str
    packages: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def split_shell(code: str) -> ShellScript:
    """Take the ``pip install`` lines out of a shell block.

    A line (backslash continuations joined) whose every command is a ``pip install`` is a
    pip line; a line that mixes pip with other commands (``pip install x && python a.py``)
    is left to run as written.
    """
    lines = code.split("\n")
    kept: list[str] = []
    packages: list[str] = []
    rejected: list[str] = []
    commands: list[str] = []
    i = 0
    while i < len(lines):
        start, logical = i, lines[i]
        while logical.endswith("\\") and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + " " + lines[i]
        i += 1
        found = program_from_blocks([Block("shell", logical)])
        if (found.packages or found.rejected) and not found.ignored_shell_lines:
            packages += found.packages
            rejected += found.rejected
            kept += [f"# {line}" for line in lines[start:i]]
        else:
            commands += found.ignored_shell_lines
            kept += lines[start:i]
    return ShellScript("\n".join(kept), list(dict.fromkeys(packages)), rejected, commands)


def filename_of(code: str, workdir: str) -> str | None:
    """The file a block asks to be saved as (AG2's first-line comment rule), relative to
    ``workdir``; None when it names none.

    Raises:
        ValueError: The name leads outside ``workdir``.
    """
    first_line = code.split("\n")[0].strip()
    for pattern in FILENAME_PATTERNS:
        match = pattern.match(first_line)
        if match is None:
            continue
        root = posixpath.normpath(workdir)
        path = posixpath.normpath(posixpath.join(root, match.group(2).strip()))
        if not path.startswith(root.rstrip("/") + "/"):
            raise ValueError(f"{match.group(2).strip()!r} is outside {workdir}")
        return posixpath.relpath(path, root)
    return None
