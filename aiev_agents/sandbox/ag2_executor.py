"""AG2 ``CodeExecutor`` that runs a reply's Python program in the Docker sandbox.

Plug it into an agent with ``code_execution_config={"executor": DockerCodeExecutor(...)}``.
The whole reply is one program: its Python blocks are joined in order, its shell blocks
only contribute ``pip install`` requirements (nothing else from them is run).
"""

from __future__ import annotations

import logging
from typing import Any

from autogen.code_utils import content_str
from autogen.coding.base import CodeBlock, CodeResult
from pydantic import Field

from aiev_agents.codeblocks import Block, Program, classify, parse_blocks, program_from_blocks
from aiev_agents.sandbox.docker_sandbox import DockerSandbox
from aiev_agents.sandbox.settings import SandboxSettings
from aiev_agents.transcript import ExecutionResult

logger = logging.getLogger(__name__)

NO_CODE_MESSAGE = "No ```python block was found in the message, so nothing was run."
NO_TESTS_MESSAGE = (
    "The program exited 0 but ran no tests: no assert statement was executed and no unittest test case ran."
)


class ProgramResult(CodeResult):
    """AG2's ``CodeResult`` plus the full sandbox record.

    ``exit_code`` is 0 only when the program passed (exit 0 *and* tests ran); ``output``
    is the program's output followed by short notes for the model.
    """

    execution: ExecutionResult = Field(description="What the sandbox recorded for this run.")
    ignored_shell_lines: list[str] = Field(default_factory=list, description="Shell lines not run.")
    rejected_packages: list[str] = Field(default_factory=list, description="pip arguments refused.")


class ProgramExtractor:
    """``CodeExtractor`` that accepts ``python``/``python3``/``py`` and shell fences."""

    def extract_code_blocks(self, message: str | list[Any] | None) -> list[CodeBlock]:
        """Return the Python and shell blocks of ``message``, in order."""
        return [CodeBlock(code=b.code, language=b.language) for b in parse_blocks(content_str(message))]


class DockerCodeExecutor:
    """Execute a reply's program in a :class:`DockerSandbox` (started lazily).

    Example:
        >>> executor = DockerCodeExecutor(SandboxSettings(image="aiev-sandbox:latest"))
        >>> config = {"executor": executor}
        >>> agent = ConversableAgent("executor", code_execution_config=config)  # doctest: +SKIP
    """

    def __init__(self, settings: SandboxSettings | None = None, *, sandbox: DockerSandbox | None = None) -> None:
        """Wrap ``sandbox``, or a new one made from ``settings``; contacts nothing yet.

        Raises:
            ValueError: Both ``settings`` and ``sandbox`` were given.
        """
        if settings is not None and sandbox is not None:
            raise ValueError("give settings or a sandbox, not both")
        self.sandbox = sandbox or DockerSandbox(settings or SandboxSettings())
        self._extractor = ProgramExtractor()

    @property
    def code_extractor(self) -> ProgramExtractor:
        """The extractor AG2 uses on each message."""
        return self._extractor

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> ProgramResult:
        """Install the blocks' pip requirements, then run their joined Python code.

        Raises:
            SandboxUnavailable: Docker or the image cannot be used (a user error, not data).
        """
        program = program_from_blocks(_blocks(code_blocks))
        if not program.python.strip():
            execution = ExecutionResult(status="no_code", exit_code=1, output=NO_CODE_MESSAGE)
        else:
            execution = self.sandbox.execute(program.python, program.packages)
        logger.info("Program %s (exit %s, %s tests)", execution.status, execution.exit_code, execution.tests_run)
        return ProgramResult(
            exit_code=0 if execution.passed else (execution.exit_code or 1),
            output=_render(execution, program),
            execution=execution,
            ignored_shell_lines=program.ignored_shell_lines,
            rejected_packages=program.rejected,
        )

    def reset(self) -> None:
        """Forget the packages installed so far: the next program starts from the image alone."""
        if self.sandbox.container_name is not None:
            self.sandbox.reset()

    def restart(self) -> None:
        """Give the sandbox a fresh container (if it has one; else it starts on first use)."""
        if self.sandbox.container_name is not None:
            self.sandbox.restart()

    def start(self) -> None:
        """Start the sandbox now instead of on first use."""
        self.sandbox.start()

    def stop(self) -> None:
        """Remove the sandbox's container."""
        self.sandbox.stop()

    def __enter__(self) -> DockerCodeExecutor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _blocks(code_blocks: list[CodeBlock]) -> list[Block]:
    blocks = []
    for code_block in code_blocks:
        language = classify(code_block.language or "", code_block.code)
        if language is not None:
            blocks.append(Block(language, code_block.code))
    return blocks


def _render(execution: ExecutionResult, program: Program) -> str:
    """The output the model sees: the program's output, then notes."""
    notes = []
    if execution.status == "no_tests":
        notes.append(NO_TESTS_MESSAGE)
    if program.rejected:
        notes.append("Not installed (only plain requirements are): " + " ".join(program.rejected))
    if program.ignored_shell_lines:
        notes.append("Not run (shell blocks only supply pip installs): " + "; ".join(program.ignored_shell_lines))
    text = execution.output
    if notes and text and not text.endswith("\n"):
        text += "\n"
    return text + "\n".join(notes)
