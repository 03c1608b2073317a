"""Records of one dialogue: turns, executions and the transcript written to disk.

Pure data, no AG2: a stored dataset must survive a framework upgrade.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

ExecutionStatus = Literal["pass", "fail", "timeout", "no_tests", "install_error", "no_code"]
ChatRole = Literal["system", "user", "assistant"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExecutionResult(_Record):
    """What one run of a program in the sandbox produced.

    ``status`` is ``pass`` only when the program exited 0, no unittest case failed, and its
    test code really ran (``tests_run > 0``: assertions executed in test code plus unittest
    cases run; the solution's own asserts are ``solution_assertions``). Which solution
    functions ran is ``solution_calls`` (the verdict also needs one); ``coverage`` is filled
    by a coverage run only. Test code and solution code: :mod:`aiev_agents.sandbox.guest.testcode`.
    """

    status: ExecutionStatus
    exit_code: int
    output: str = ""
    truncated: bool = False
    duration_s: float = 0.0
    packages: list[str] = Field(default_factory=list)
    install_output: str = ""
    assertions: int = 0
    test_cases: int = 0
    solution_assertions: int = 0
    solution_functions: list[str] = Field(default_factory=list)
    solution_calls: list[str] = Field(default_factory=list)
    coverage: dict[str, Any] | None = None

    @property
    def tests_run(self) -> int:
        return self.assertions + self.test_cases

    @property
    def passed(self) -> bool:
        return self.status == "pass"


class Candidate(_Record):
    """One of the programs sampled for the same turn (``dialogue.candidates``) and how its run ended."""

    index: int
    content: str
    status: ExecutionStatus
    exit_code: int
    hidden_tests: str | None = None
    kept: bool = False


class Execution(ExecutionResult):
    """An execution inside a dialogue: which round produced it, and the hidden tests' run
    against its solution (``status``, ``exit_code``, ``output``...; ``rejected`` with a
    ``reason`` when they would redefine the solution), if a test writer wrote any.

    With ``dialogue.candidates`` above 1, ``candidates`` lists every program sampled for the
    turn and its run; this execution is the kept one's (the first that passed, else the first)."""

    round: int
    hidden_tests: dict[str, Any] | None = None
    candidates: list[Candidate] | None = None


class Turn(_Record):
    """One message of the programmer's view of the dialogue, with who said it.

    ``call_id`` is the id of the LLM response that produced a model's turn (the ``id`` of
    the response in AG2's runtime log), so a sample can be traced to its raw calls.
    """

    role: ChatRole
    name: str
    content: str
    call_id: str | None = None


class Usage(_Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost=self.cost + other.cost,
        )


class Timings(_Record):
    started_at: str
    ended_at: str
    wall_s: float
    model_s: float
    execution_s: float


class Transcript(_Record):
    """One AIEV dialogue as it is stored: a training sample when ``verified``.

    ``messages`` is the programmer's view: its system prompt, the questioner's turns and the
    execution results as ``user``, its own answers as ``assistant``. ``side_turns`` holds
    what extra roles said that the programmer did not see (hidden tests, approvals).
    ``final_program`` is the program as last run (hidden tests included).
    """

    schema_version: int = Field(SCHEMA_VERSION, alias="schema")
    id: str
    stage: str
    verified: bool
    status: (
        ExecutionStatus | Literal["vacuous_tests", "hidden_tests_failed", "low_coverage", "context_exceeded", "error"]
    )
    rounds: int
    seed: dict[str, Any]
    problem: str
    models: dict[str, str]
    messages: list[Turn]
    side_turns: list[Turn] = Field(default_factory=list)
    executions: list[Execution]
    final_program: str
    final_packages: list[str] = Field(default_factory=list)
    usage: dict[str, Usage]
    timings: Timings
    config_hash: str | None = None
    trace: dict[str, Any] = Field(default_factory=dict)
    checks: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data (the ``schema`` key holds the version)."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        return cls.model_validate(data)
