"""One AIEV dialogue: initialization, proposing the question, execution feedback, termination.

:func:`run_dialogue` starts a :class:`~aiev_agents.dialogue.conversation.Conversation`, runs it,
judges its last round and returns the transcript: the programmer's view as the sample, with
the verdict, each role's model and usage, and the timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from .. import activity
from ..clock import utc_now
from ..codeblocks import code_in_language, split_program
from ..errors import ContextExceeded
from ..roles.executor import ExecutorAgent
from ..roles.questioner import QuestionerAgent
from .agent_info import agent_usage, model_name, usage_since
from .conversation import Conversation
from .seed import Seed
from .transcript import ExecutionResult, Timings, Transcript, Turn, Usage
from .verdict.default_return import default_return_check
from .verdict.gates import judge
from .verdict.program import judge_round, packages_installed
from .verdict.settings import VerdictSettings

DEFAULT_MAX_ROUNDS = 3


@dataclass(frozen=True)
class _Start:
    """Read before a dialogue starts, to measure it after: the clock, and each agent's usage so far."""

    at: str
    perf: float
    usage: dict[str, Usage]

    @classmethod
    def now(cls, agents: Iterable[Any]) -> _Start:
        at, perf = utc_now("milliseconds"), time.perf_counter()
        return cls(at, perf, {agent.name: agent_usage(agent) for agent in agents})


@dataclass(frozen=True)
class _Outcome:
    """How a dialogue ended: its problem, the verdict on its last round, its final program."""

    problem: str
    verified: bool
    status: str
    checks: dict[str, Any]
    program: str
    packages: list[str]


def run_dialogue(
    seed: Seed | dict[str, Any] | str,
    *,
    questioner: QuestionerAgent,
    programmer: Any,
    executor: ExecutorAgent,
    max_rounds: int | None = None,
    candidates: int = 1,
    send_back_repeats: bool = False,
    stage: str = "teaching",
    on_turn: Callable[[Turn], None] | None = None,
    model_gate: Callable[[Any], AbstractContextManager[Any]] | None = None,
    extras: Sequence[Any] = (),
    verdict: VerdictSettings | None = None,
    check_vacuity: bool | None = None,
    cancel: threading.Event | None = None,
) -> Transcript:
    """Run one AIEV dialogue and return its transcript.

    Args:
        seed: A ``Seed``, a seeds-file dict (``id`` and ``snippet`` or ``problem``), or a bare problem statement.
        questioner, programmer, executor: The roles: proposes the problem and explains failures; answers with a
            program (solution plus unit tests); runs each answer in the sandbox.
        max_rounds: Most programs written and run; default ``DEFAULT_MAX_ROUNDS``.
        candidates: Programs the programmer's model samples per turn, in one request; each runs, and the first
            that passes (else the first) is the turn's program (every one is recorded in its execution). Needs no
            ``before_execution`` role.
        send_back_repeats: A programmer's answer that repeats a program that already failed is sent back once,
            with a note saying so (a turn of the executor's), before it runs.
        stage: The stage recorded with the sample (``teaching`` or ``self_learning``).
        on_turn: Called with each turn as it happens (for live display).
        model_gate: Gives the context to hold around each model call of an agent (a concurrency limit shared by
            dialogues on other threads).
        extras: Extra roles, each at its ``place``: ``tests`` (writes hidden tests from the problem, like
            ``TestWriterAgent``) or ``before_execution`` (reviews each program before it runs, like ``ReviewerAgent``).
        verdict: The gates a passing program must also pass (see :mod:`aiev_agents.dialogue.verdict`): evidence that
            tests ran against the solution, hidden tests, mutation testing, coverage. Default ``VerdictSettings()``.
        check_vacuity: ``False`` turns mutation testing off (the older name of ``verdict.mutation``).
        cancel: Once set (by another thread), the dialogue raises ``DialogueAbandoned`` at its next model call or
            sandbox run, and acts on no reply that comes after.

    Returns:
        The transcript; ``verified`` is true only when the last run passed and every gate holds; ``checks``
        holds the evidence, the mutation report, coverage and hidden tests. A prompt over the model's context
        ends the dialogue with status ``context_exceeded``.

    Raises:
        ModelUnavailable: A model could not be reached or failed; nothing is returned.
        SeedError: The seed is malformed.
        DialogueAbandoned: ``cancel`` was set.
    """
    verdict = _verdict_settings(verdict, check_vacuity)
    seed = Seed.coerce(seed)
    start = _Start.now((*extras, questioner, programmer))
    dialogue = Conversation(
        seed, questioner, programmer, executor, on_turn, model_gate, extras, cancel, candidates, send_back_repeats
    )
    outcome = _run_and_judge(dialogue, max_rounds if max_rounds is not None else DEFAULT_MAX_ROUNDS, verdict)
    return _transcript(dialogue, outcome, stage, start)


def _verdict_settings(verdict: VerdictSettings | None, check_vacuity: bool | None) -> VerdictSettings:
    verdict = verdict or VerdictSettings()
    if check_vacuity is False:
        verdict = verdict.model_copy(update={"mutation": False})
    return verdict


def _run_and_judge(dialogue: Conversation, rounds_limit: int, settings: VerdictSettings) -> _Outcome:
    """Start from a clean sandbox, run the rounds, judge the last one.

    A prompt over a model's context ends the dialogue unverified, with no verdict run.
    """
    dialogue.check_cancelled()
    dialogue.executor.reset_sandbox()  # initialization: no package from an earlier dialogue may help this one pass
    checks: dict[str, Any] = {}
    try:
        problem = dialogue.run(rounds_limit)
    except ContextExceeded as exc:
        problem, verified, status = dialogue.problem, False, "context_exceeded"
        checks["context_exceeded"] = str(exc)
    language = dialogue.seed.program_language
    if language != "python":
        program = code_in_language(dialogue.last_program, language, whole_text=False)
        if not checks:
            verified, status, checks = _verdict_in(language, dialogue, program, settings)
        return _Outcome(problem, verified, status, checks, program, [])
    final = split_program(dialogue.last_program)
    packages = packages_installed(dialogue.executions, final.packages)
    if not checks:
        verified, status, checks = _verdict(dialogue, final.python, packages, settings)
    return _Outcome(problem, verified, status, checks, final.python, packages)


#: The step name of the checks after the last round (mutants, coverage), as progress shows it.
VERDICT_STEP = "verdict checks"


def _verdict_in(
    language: str, dialogue: Conversation, program: str, settings: VerdictSettings
) -> tuple[bool, str, dict[str, Any]]:
    """Judge the last round of a dialogue in another language than Python: its run, the
    evidence that its tests ran, then (``settings.mutation``) the default-return check in
    place of Python's mutants; coverage and hidden tests are Python's."""
    last = dialogue.executions[-1]
    plain = settings.model_copy(update={"mutation": False, "coverage": False})
    verified, status, checks = judge_round(_no_aside, program, last, plain, language=language)
    if not (verified and settings.mutation):
        return verified, status, checks
    started = time.perf_counter()

    def run(mutant: str) -> ExecutionResult:
        dialogue.check_cancelled()
        return dialogue.executor.run_aside(mutant, timeout_s=settings.mutant_timeout_s, language=language)

    try:
        with activity.step(dialogue.seed.id, last.round, VERDICT_STEP, "checks"):
            checks["mutation"] = default_return_check(run, program, language, settings.mutants)
    finally:
        dialogue.execution_s += time.perf_counter() - started
    verified, status = judge(last, checks, settings.model_copy(update={"coverage": False}))
    return verified, status, checks


def _no_aside(code: str, **options: Any) -> ExecutionResult:
    raise AssertionError("no run aside is needed without mutation testing and coverage")


def _verdict(
    dialogue: Conversation, program: str, packages: list[str], settings: VerdictSettings
) -> tuple[bool, str, dict[str, Any]]:
    """Judge the last round: its run, then the checks of a passing program."""
    last = dialogue.executions[-1]
    started = time.perf_counter()

    def run_aside(code: str, **options: Any) -> ExecutionResult:
        dialogue.check_cancelled()
        return dialogue.executor.run_aside(code, packages, **options)

    try:
        with activity.step(dialogue.seed.id, last.round, VERDICT_STEP, "checks"):
            return judge_round(run_aside, program, last, settings, last.hidden_tests, dialogue.hidden_tests)
    finally:
        dialogue.execution_s += time.perf_counter() - started


def _transcript(dialogue: Conversation, outcome: _Outcome, stage: str, start: _Start) -> Transcript:
    roles = {
        "questioner": dialogue.questioner,
        "programmer": dialogue.programmer,
        **{agent.name: agent for agent in dialogue.extras},
    }
    return Transcript(
        id=dialogue.seed.id,
        stage=stage,
        verified=outcome.verified,
        status=outcome.status,
        rounds=len(dialogue.executions),
        seed=dialogue.seed.model_dump(exclude_none=True),
        problem=outcome.problem,
        models={name: model_name(agent) for name, agent in roles.items()},
        messages=dialogue.turns,
        side_turns=dialogue.side_turns,
        checks=outcome.checks,
        executions=dialogue.executions,
        final_program=outcome.program,
        final_packages=outcome.packages,
        usage={name: usage_since(agent, start.usage[agent.name]) for name, agent in roles.items()},
        timings=Timings(
            started_at=start.at,
            ended_at=utc_now("milliseconds"),
            wall_s=round(time.perf_counter() - start.perf, 4),
            model_s=round(dialogue.model_s, 4),
            execution_s=round(dialogue.execution_s, 4),
        ),
    )
