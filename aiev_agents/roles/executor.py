"""The executor: runs the programmer's program in the sandbox and reports what happened."""

from __future__ import annotations

from typing import Any

from autogen import Agent, ConversableAgent
from autogen.code_utils import content_str
from autogen.coding import CodeBlock, CodeExecutor

from ..codeblocks import code_in_language
from ..config import AievConfig
from ..dialogue.transcript import ExecutionResult
from ..errors import ConfigError
from ..sandbox.settings import SandboxSettings
from .execution_text import DEFAULT_FEEDBACK_CHARS, format_execution


class ExecutorAgent(ConversableAgent):
    """An agent with no LLM whose reply is the result of running the code it was sent.

    Its ``code_executor`` is an AG2 ``CodeExecutor``; by default a ``DockerCodeExecutor``
    over the sandbox settings. A reply is run as AIEV's *one program* (the executor's
    ``run_program`` where it has one: Python blocks joined, ``pip install`` lines installed;
    else its ``execute_code_blocks``). The structured result of the latest run is kept
    whole in ``last_execution`` for the dialogue to record; the reply quotes at most
    ``feedback_chars`` characters of its output.

    In an AG2 chat it behaves as AG2's code-executing agents do: a termination message
    (``is_termination_msg``) from another agent is not run, and a message without code gets
    no execution report (AG2's next reply functions decide: termination check, default
    auto-reply), although ``last_execution`` then records a ``no_code`` run.
    """

    role_name = "executor"

    def __init__(
        self,
        name: str = "executor",
        code_executor: CodeExecutor | None = None,
        sandbox: SandboxSettings | None = None,
        feedback_chars: int = DEFAULT_FEEDBACK_CHARS,
        **kwargs: Any,
    ) -> None:
        if code_executor is None:
            from ..sandbox.ag2_executor import DockerCodeExecutor

            code_executor = DockerCodeExecutor(sandbox or SandboxSettings())
        kwargs.setdefault("human_input_mode", "NEVER")
        kwargs.setdefault("description", "Runs Python programs and their tests in a Docker sandbox.")
        super().__init__(
            name=name,
            llm_config=False,
            code_execution_config={"executor": code_executor},
            **kwargs,
        )
        self.last_execution: ExecutionResult | None = None
        self.feedback_chars = feedback_chars
        #: The language replies are run in; a dialogue sets its seed's (``python`` by default).
        self.language = "python"
        self.register_reply([Agent, None], ExecutorAgent._execute_program_reply, position=0)

    @classmethod
    def from_config(cls, config: AievConfig, *, role: str = "executor", **kwargs: Any) -> ExecutorAgent:
        """Build the executor with the config's sandbox settings and ``dialogue.feedback_chars``,
        and the entry's ``options``."""
        kwargs = {**getattr(config.roles, role).options, **kwargs}
        kwargs.setdefault("sandbox", config.sandbox)
        kwargs.setdefault("feedback_chars", config.dialogue.feedback_chars)
        return cls(**kwargs)

    def run_program(self, message: str) -> ExecutionResult:
        """Run ``message``'s code as one program and return the structured result."""
        return self._run(message)[0]

    def _run(self, message: str) -> tuple[ExecutionResult, list[str]]:
        run_program = getattr(self.code_executor, "run_program", None)
        run_program_in = getattr(self.code_executor, "run_program_in", None)
        if self.language != "python" and callable(run_program_in):  # ours, another language
            result = run_program_in(message, self.language)
        elif self.language != "python":
            raise ConfigError(f"{self.language} programs need the sandbox's DockerCodeExecutor, not this executor")
        elif callable(run_program):  # ours: the reply is one program
            result = run_program(message)
        else:
            blocks = self.code_executor.code_extractor.extract_code_blocks(message)
            if not blocks:
                self.last_execution = _no_code()
                return self.last_execution, []
            result = self.code_executor.execute_code_blocks(blocks)
        execution = getattr(result, "execution", None)
        if execution is None:  # a plain AG2 executor: no test counts, so never verified
            status = "no_tests" if result.exit_code == 0 else "fail"
            execution = ExecutionResult(status=status, exit_code=result.exit_code, output=result.output)
        notes = [
            f"Not run (only `pip install` lines run): {line}" for line in getattr(result, "ignored_shell_lines", [])
        ]
        notes += [f"Refused pip argument: {arg}" for arg in getattr(result, "rejected_packages", [])]
        self.last_execution = execution
        return execution, notes

    def run_aside(
        self,
        program: str,
        packages: list[str] | None = None,
        *,
        timeout_s: float | None = None,
        coverage: bool = False,
        language: str = "python",
    ) -> ExecutionResult:
        """Run ``program`` (with ``packages``) outside the dialogue: nothing is recorded as a turn.

        ``timeout_s`` and ``coverage`` reach the Docker sandbox; a plain AG2 executor ignores them.
        A ``language`` other than Python runs in the sandbox's toolchain image (no packages).
        """
        if language != "python":
            run_in = getattr(self.code_executor, "run_in", None)
            if not callable(run_in):
                raise ConfigError(f"{language} programs need the sandbox's DockerCodeExecutor, not this executor")
            return run_in(program, language, timeout_s=timeout_s)
        sandbox = getattr(self.code_executor, "sandbox", None)
        if sandbox is not None and callable(getattr(sandbox, "execute", None)):
            return sandbox.execute(program, list(packages or []), timeout_s=timeout_s, coverage=coverage)
        blocks = [CodeBlock(code=program, language="python")]
        if packages:
            blocks.insert(0, CodeBlock(code="pip install " + " ".join(packages), language="sh"))
        result = self.code_executor.execute_code_blocks(blocks)
        execution = getattr(result, "execution", None)
        if execution is None:
            return ExecutionResult(status="no_tests" if result.exit_code == 0 else "fail", exit_code=result.exit_code)
        return execution

    def start(self) -> None:
        """Make the sandbox ready now (fails fast when Docker is down), not at the first run."""
        start = getattr(self.code_executor, "start", None)
        if callable(start):
            start()

    def reset_sandbox(self) -> None:
        """A clean sandbox for a new dialogue: packages an earlier dialogue installed are gone."""
        reset = getattr(self.code_executor, "reset", None)
        if callable(reset):
            reset()

    def close(self) -> None:
        """Stop the sandbox behind the executor (its container is removed)."""
        stop = getattr(self.code_executor, "stop", None)
        if callable(stop):
            stop()

    def _execute_program_reply(
        self,
        messages: list[dict[str, Any]] | None = None,
        sender: Agent | None = None,
        config: Any = None,
    ) -> tuple[bool, str | None]:
        """Run the last message's code and answer with the report; ``(False, None)`` (the
        next reply function decides, as in AG2) for a termination message from an agent
        and for a message without code."""
        if not messages:
            return False, None
        message = messages[-1]
        if sender is not None and self._is_termination_msg(message):
            return False, None
        content = _text(message.get("content"))
        if self.language != "python":
            has_code = bool(code_in_language(content, self.language, whole_text=False).strip())
        else:
            has_code = bool(self.code_executor.code_extractor.extract_code_blocks(content))
        if not has_code:
            self.last_execution = _no_code()
            return False, None
        execution, notes = self._run(content)
        return True, format_execution(execution, notes, max_chars=self.feedback_chars)


def _text(content: Any) -> str:
    """A message's content as text (AG2's content parts joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return content_str(content)
    return "" if content is None else str(content)


def _no_code() -> ExecutionResult:
    from ..sandbox.ag2_executor import NO_CODE_MESSAGE

    return ExecutionResult(status="no_code", exit_code=1, output=NO_CODE_MESSAGE)
