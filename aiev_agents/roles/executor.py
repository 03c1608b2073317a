"""The executor: runs the programmer's program in the sandbox and reports what happened."""

from __future__ import annotations

from typing import Any

from autogen import Agent, ConversableAgent
from autogen.coding import CodeBlock, CodeExecutor

from ..config import AievConfig
from ..sandbox.settings import SandboxSettings
from ..transcript import ExecutionResult
from .execution_text import DEFAULT_FEEDBACK_CHARS, format_execution


class ExecutorAgent(ConversableAgent):
    """An agent with no LLM whose reply is the result of running the code it was sent.

    Its ``code_executor`` is an AG2 ``CodeExecutor``; by default a ``DockerCodeExecutor``
    over the sandbox settings. The structured result of the latest run is kept whole in
    ``last_execution`` for the dialogue to record; the reply quotes at most
    ``feedback_chars`` characters of its output.
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
        """Extract the code blocks of ``message``, run them, and return the structured result."""
        return self._run(message)[0]

    def _run(self, message: str) -> tuple[ExecutionResult, list[str]]:
        blocks = self.code_executor.code_extractor.extract_code_blocks(message)
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
    ) -> ExecutionResult:
        """Run ``program`` (with ``packages``) outside the dialogue: nothing is recorded as a turn.

        ``timeout_s`` and ``coverage`` reach the Docker sandbox; a plain AG2 executor ignores them.
        """
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
        if not messages:
            return False, None
        content = messages[-1].get("content") or ""
        if not isinstance(content, str):
            content = str(content)
        execution, notes = self._run(content)
        return True, format_execution(execution, notes, max_chars=self.feedback_chars)
