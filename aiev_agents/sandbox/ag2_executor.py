"""AG2 ``CodeExecutor`` over the Docker sandbox, and the runner of AIEV's one-program turns.

Plug it into an agent with ``code_execution_config={"executor": DockerCodeExecutor(...)}``.
It runs code in two ways (``docs/sandbox.md``, "AG2 executor contract", has the table):

* :meth:`DockerCodeExecutor.execute_code_blocks` keeps AG2's contract, as AG2's command-line
  executors do: each block is written to a file in a working directory that persists from
  call to call and run in order, ``python``/``python3``/``py`` blocks by Python,
  ``sh``/``shell`` by ``/bin/sh``, ``bash`` by bash; the first failing block stops the rest;
  ``exit_code`` is the exit code of the last block run (124 on a timeout, whose output ends
  with ``Timeout``); an unknown language is an error (exit 1). ``pip install`` lines go
  through the sandbox's installer (the program itself has no network).
* :meth:`DockerCodeExecutor.run_program` is AIEV's executor turn: a reply is *one* program,
  its Python blocks joined in order, run in a fresh working directory after its ``pip
  install`` lines are installed; other shell lines are reported, never run (the sample must
  be the Python program that the verdict reruns).

Both return a :class:`ProgramResult` whose ``execution`` is the sandbox's record (status,
test counts, packages, duration): whether tests ran is AIEV's verdict, not the exit code.
How blocks are extracted, split and named: :mod:`aiev_agents.sandbox.ag2_blocks`.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from autogen.code_utils import TIMEOUT_MSG, content_str
from autogen.coding.base import CodeBlock, CommandLineCodeResult
from pydantic import Field

from aiev_agents.codeblocks import PYTHON_LABELS, Program, code_in_language, parse_blocks, program_from_blocks
from aiev_agents.dialogue.transcript import ExecutionResult
from aiev_agents.sandbox.ag2_blocks import ProgramExtractor, classified_blocks, filename_of, split_shell
from aiev_agents.sandbox.docker_sandbox import DockerSandbox, Interpreter
from aiev_agents.sandbox.languages import canonical_language
from aiev_agents.sandbox.settings import SandboxSettings

logger = logging.getLogger(__name__)

NO_CODE_MESSAGE = "No ```python block was found in the message, so nothing was run."
NO_TESTS_MESSAGE = (
    "The program exited 0 but ran no tests: no assert statement was executed and no unittest test case ran."
)
#: AG2's exit code for a block that ran out of time (that of coreutils' ``timeout``).
TIMEOUT_EXIT_CODE = 124
#: Shell labels AG2 runs, and the shell that runs each (AG2's ``_cmd``).
SHELLS: dict[str, Interpreter] = {"bash": "bash", "sh": "sh", "shell": "sh"}
#: A terminal transcript: its ``pip install`` lines are installed, nothing else is run.
CONSOLE = "console"
OUTSIDE_WORKSPACE = "Filename is not in the workspace"
_FAILED = ("fail", "timeout", "install_error")


class ProgramResult(CommandLineCodeResult):
    """AG2's ``CommandLineCodeResult`` plus the full sandbox record.

    ``exit_code`` is the program's (AG2's rules: the last block run; 124 on a timeout);
    ``output`` is what it printed, stdout and stderr merged in order. ``code_file`` is the
    first block's file *inside the container*. ``execution`` says whether tests ran.
    """

    execution: ExecutionResult = Field(description="What the sandbox recorded (blocks summed up).")
    executions: list[ExecutionResult] = Field(
        default_factory=list, description="One record per block handled, in order (execute_code_blocks)."
    )
    ignored_shell_lines: list[str] = Field(default_factory=list, description="Shell lines not run.")
    rejected_packages: list[str] = Field(default_factory=list, description="pip arguments refused.")


@dataclass
class _Step:
    """One block handled by :meth:`DockerCodeExecutor.execute_code_blocks`, as AG2 reports it."""

    exit_code: int
    output: str
    execution: ExecutionResult
    code_file: str | None = None
    ignored: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    @classmethod
    def error(cls, message: str, *, rejected: Sequence[str] = ()) -> _Step:
        """A block refused before anything ran: exit 1, ``message`` as its output."""
        return cls(1, message, ExecutionResult(status="fail", exit_code=1, output=message), rejected=list(rejected))


class DockerCodeExecutor:
    """AG2 ``CodeExecutor`` running code in a :class:`DockerSandbox` (started lazily).

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
        self.toolchain_sandbox: DockerSandbox | None = None  # other languages' programs, started on first use
        self._extractor = ProgramExtractor()

    @property
    def code_extractor(self) -> ProgramExtractor:
        """The extractor AG2 uses on each message."""
        return self._extractor

    @property
    def timeout(self) -> float:
        """Wall-clock limit of one block, in seconds (``settings.timeout_s``)."""
        return self.sandbox.settings.timeout_s

    @property
    def work_dir(self) -> PurePosixPath:
        """The working directory, *inside the container* (a tmpfs: gone with the container)."""
        return PurePosixPath(self.sandbox.settings.workdir)

    # -- AG2's contract ------------------------------------------------------------------

    def execute_code_blocks(self, code_blocks: list[CodeBlock]) -> ProgramResult:
        """Run each block in order, in the persistent working directory, as AG2's executors do.

        Returns:
            ``exit_code`` of the last block run (the first that failed stops the rest),
            the blocks' outputs joined, the first block's file, and the sandbox's records.

        Raises:
            ValueError: ``code_blocks`` is empty.
            SandboxUnavailable: Docker or the image cannot be used (a user error, not data).
        """
        if not code_blocks:
            raise ValueError("No code blocks to execute.")
        steps: list[_Step] = []
        for code_block in code_blocks:
            steps.append(self._run_block(code_block))
            if steps[-1].exit_code != 0:
                break
        result = _combine(steps)
        logger.info("Blocks ran: exit %s (%s)", result.exit_code, result.execution.status)
        return result

    def _run_block(self, code_block: CodeBlock) -> _Step:
        language = (code_block.language or "").strip().lower()
        if language not in PYTHON_LABELS and language not in SHELLS and language != CONSOLE:
            return _Step.error(f"Unsupported language {language}\n")
        try:
            filename = filename_of(code_block.code, self.sandbox.settings.workdir)
        except ValueError:
            return _Step.error(OUTSIDE_WORKSPACE)
        if language in PYTHON_LABELS:
            source, interpreter, packages, install_output = code_block.code, "python", [], ""
        else:
            shell = split_shell(code_block.code)
            if shell.rejected:
                note = "Not installed (only plain requirements are, by the sandbox's installer): "
                return _Step.error(note + " ".join(shell.rejected) + "\n", rejected=shell.rejected)
            installed = self._install(shell.packages)
            if isinstance(installed, _Step):  # pip failed
                return installed
            if language == CONSOLE:  # a transcript to show, not a script to run
                execution = ExecutionResult(status="no_tests", exit_code=0, packages=shell.packages)
                return _Step(0, "", execution, ignored=shell.commands)
            source, interpreter, packages, install_output = shell.script, SHELLS[language], shell.packages, installed
        if filename is None:
            digest = hashlib.md5(code_block.code.encode(), usedforsecurity=False).hexdigest()
            filename = f"tmp_code_{digest}.{'py' if interpreter == 'python' else language}"
        execution = self.sandbox.run(source, filename=filename, interpreter=interpreter, keep_files=True)
        execution = execution.model_copy(update={"packages": packages, "install_output": install_output})
        exit_code, output = execution.exit_code, execution.output
        if execution.status == "timeout":
            exit_code, output = TIMEOUT_EXIT_CODE, f"{output}\n{TIMEOUT_MSG}"
        return _Step(exit_code, output, execution, code_file=posixpath.join(str(self.work_dir), filename))

    def _install(self, packages: list[str]) -> _Step | str:
        """Install ``packages`` (if any): pip's output, or the failed step."""
        if not packages:
            return ""
        outcome = self.sandbox.install(packages)
        if outcome.ok:
            return outcome.output
        return _Step(outcome.exit_code or 1, outcome.output, outcome.as_install_error(packages))

    # -- AIEV's program ------------------------------------------------------------------

    def run_program(self, message: str | list[Any] | None) -> ProgramResult:
        """Run a reply as AIEV's one program: its Python blocks joined, its ``pip install``
        lines installed first, in a fresh working directory (files of earlier runs are gone).

        Args:
            message: A reply (markdown, or AG2 content parts), or the blocks already extracted.

        Returns:
            ``exit_code`` is the program's; ``execution.status`` says whether it passed
            (exit 0 *and* tests ran); ``output`` ends with short notes for the model
            (no tests ran, shell lines not run, pip arguments refused).

        Raises:
            SandboxUnavailable: Docker or the image cannot be used (a user error, not data).
        """
        if isinstance(message, list) and message and all(isinstance(b, CodeBlock) for b in message):
            program = program_from_blocks(classified_blocks(message))
        else:
            program = program_from_blocks(parse_blocks(content_str(message)))
        if not program.python.strip():
            execution = ExecutionResult(status="no_code", exit_code=1, output=NO_CODE_MESSAGE)
        else:
            execution = self.sandbox.execute(program.python, program.packages)
        logger.info("Program %s (exit %s, %s tests)", execution.status, execution.exit_code, execution.tests_run)
        return ProgramResult(
            exit_code=execution.exit_code,
            output=_render(execution, program),
            execution=execution,
            executions=[execution],
            ignored_shell_lines=program.ignored_shell_lines,
            rejected_packages=program.rejected,
        )

    def run_program_in(self, message: str | list[Any] | None, language: str) -> ProgramResult:
        """Run a reply as one program in ``language`` (any of :mod:`aiev_agents.sandbox.languages`):
        its fences of that language joined (else its unlabelled ones), compiled and run by the
        toolchain, in a sandbox from ``settings.toolchain_image`` kept beside the Python one.
        Python goes to :meth:`run_program`. Nothing is installed: no package manager runs."""
        name = canonical_language(language)
        if name == "python":
            return self.run_program(message)
        code = code_in_language(content_str(message), name, whole_text=False)
        if not code.strip():
            execution = ExecutionResult(status="no_code", exit_code=1, output=NO_CODE_MESSAGE)
        else:
            execution = self._toolchain_sandbox(name).run(code, language=name)
        logger.info(
            "%s program %s (exit %s, %s tests)", name, execution.status, execution.exit_code, execution.tests_run
        )
        output = execution.output
        if execution.status == "no_tests":
            output += ("" if not output or output.endswith("\n") else "\n") + NO_TESTS_MESSAGE
        return ProgramResult(exit_code=execution.exit_code, output=output, execution=execution, executions=[execution])

    def run_in(self, program: str, language: str, *, timeout_s: float | None = None) -> ExecutionResult:
        """Run ``program`` (code, not a reply) in ``language`` in the toolchain sandbox."""
        name = canonical_language(language)
        return self._toolchain_sandbox(name).run(program, language=name, timeout_s=timeout_s)

    def _toolchain_sandbox(self, language: str) -> DockerSandbox:
        if self.toolchain_sandbox is None:
            self.toolchain_sandbox = DockerSandbox(self.sandbox.settings.for_language(language))
        return self.toolchain_sandbox

    # -- lifecycle -----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the packages installed so far and empty the working directory: the next
        program starts from the image alone."""
        if self.sandbox.container_name is not None:
            self.sandbox.reset()
        if self.toolchain_sandbox is not None and self.toolchain_sandbox.container_name is not None:
            self.toolchain_sandbox.reset()

    def restart(self) -> None:
        """Give the sandbox a fresh container (if it has one; else it starts on first use):
        the working directory and installed packages are gone."""
        if self.sandbox.container_name is not None:
            self.sandbox.restart()

    def start(self) -> None:
        """Start the sandbox now instead of on first use."""
        self.sandbox.start()

    def stop(self) -> None:
        """Remove the sandbox's container (and the toolchain sandbox's, if one was started)."""
        self.sandbox.stop()
        if self.toolchain_sandbox is not None:
            self.toolchain_sandbox.stop()

    def __enter__(self) -> DockerCodeExecutor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _combine(steps: list[_Step]) -> ProgramResult:
    """AG2's result of the blocks run: the last one's exit code, the outputs joined."""
    records = [step.execution for step in steps]
    output = "".join(step.output for step in steps)
    failed = [record.status for record in records if record.status in _FAILED]
    tests = sum(record.tests_run for record in records)
    status = failed[0] if failed else ("pass" if tests else "no_tests")
    execution = ExecutionResult(
        status=status,
        exit_code=records[-1].exit_code,
        output=output,
        truncated=any(record.truncated for record in records),
        duration_s=round(sum(record.duration_s for record in records), 3),
        packages=list(dict.fromkeys(p for record in records for p in record.packages)),
        install_output="".join(record.install_output for record in records),
        assertions=sum(record.assertions for record in records),
        test_cases=sum(record.test_cases for record in records),
        solution_assertions=sum(record.solution_assertions for record in records),
        solution_functions=list(dict.fromkeys(f for record in records for f in record.solution_functions)),
        solution_calls=list(dict.fromkeys(f for record in records for f in record.solution_calls)),
    )
    return ProgramResult(
        exit_code=steps[-1].exit_code,
        output=output,
        code_file=next((step.code_file for step in steps if step.code_file), None),
        execution=execution,
        executions=records,
        ignored_shell_lines=[line for step in steps for line in step.ignored],
        rejected_packages=[arg for step in steps for arg in step.rejected],
    )


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
