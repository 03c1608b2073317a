"""The state of one AIEV dialogue and its steps: propose the problem, write hidden tests, program,
review, run, explain a failure.

The agents never talk to each other directly: each gets its own view of the conversation
through AG2's ``generate_reply`` (so a user's subclass that overrides a reply or a hook takes
part); the programmer's view, turn by turn, is what the sample records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from .. import activity
from ..codeblocks import fences, split_program
from ..errors import ConfigError, DialogueAbandoned, ModelUnavailable
from ..llm.ask import ask_agent, ask_choices, reply_text
from ..roles.executor import ExecutorAgent, format_execution
from ..roles.language_notes import proposal_note, task_note
from ..roles.prompts import fill
from ..roles.questioner import QuestionerAgent
from .agent_info import model_error_message
from .seed import Seed
from .transcript import Candidate, Execution, ExecutionResult, Turn
from .verdict.checks import hidden_result
from .verdict.hidden import hidden_program
from .verdict.program import packages_installed, round_passed

#: Where extra roles take part: before the first program (``tests``) or before each run.
PLACES = frozenset({"tests", "before_execution"})

Message = dict[str, Any]
_T = TypeVar("_T")


class Conversation:
    """The state of one running dialogue; ``run()`` walks the four steps once."""

    def __init__(
        self,
        seed: Seed,
        questioner: QuestionerAgent,
        programmer: Any,
        executor: ExecutorAgent,
        on_turn: Callable[[Turn], None] | None,
        model_gate: Callable[[Any], AbstractContextManager[Any]] | None = None,
        extras: Sequence[Any] = (),
        cancel: threading.Event | None = None,
        candidates: int = 1,
        send_back_repeats: bool = False,
    ) -> None:
        self.seed = seed
        self.cancel = cancel
        self.extras = tuple(extras)
        self.questioner = questioner
        self.programmer = programmer
        self.executor = executor
        self.on_turn = on_turn
        self.model_gate = model_gate or (lambda agent: nullcontext())
        self.turns: list[Turn] = []
        self.questioner_view: list[Message] = []
        self.programmer_view: list[Message] = []
        self.executions: list[Execution] = []
        self.model_s = 0.0
        self.execution_s = 0.0
        self.round = 0  # 0 while the problem and hidden tests are written
        self.last_answer = ""
        self.last_program = ""
        self.last_call_id: str | None = None
        self.problem = ""
        self.side_turns: list[Turn] = []
        self.hidden_tests: list[str] = []
        self.test_writers = _at_place(extras, "tests")
        self.reviewers = _at_place(extras, "before_execution")
        self.critiques_left = {id(r): getattr(r, "max_reviews", 1) for r in self.reviewers}
        self.candidates = candidates
        self.send_back_repeats = send_back_repeats
        self.failed_programs: dict[str, int] = {}  # a failed program's code -> the round it ran in
        if candidates > 1 and self.reviewers:
            raise ConfigError(
                "dialogue.candidates above 1 cannot be combined with a before_execution role (a reviewer reads "
                "one program); set candidates: 1 or remove the role"
            )

    def run(self, max_rounds: int) -> str:
        """Run until a pass or ``max_rounds`` programs; returns the problem statement."""
        self.executor.language = self.seed.program_language
        self._record("system", self.programmer.name, self.programmer.system_message)
        problem = self.problem = self._propose()
        task = _task_message(self.programmer, problem, self.seed.program_language)
        self._record("user", self.questioner.name, task, None if self.seed.problem else self.last_call_id)
        self.programmer_view.append({"role": "user", "content": task})
        self._write_hidden_tests(problem)
        for round_no in range(1, max_rounds + 1):
            self.round = round_no
            execution = self._program_and_run(round_no)
            if round_passed(execution, execution.hidden_tests) or round_no == max_rounds:
                break
            self._explain_failure(problem, execution)
        return problem

    def _propose(self) -> str:
        if self.seed.problem:
            return self.seed.problem.strip()
        request = self.questioner.proposal_request(self.seed.snippet or "")
        if self.seed.program_language != "python":
            request = f"{request}\n{proposal_note(self.seed.program_language)}"
        self.questioner_view.append({"role": "user", "content": request})
        problem = self._ask(self.questioner, self.questioner_view)
        self.questioner_view.append({"role": "assistant", "content": problem})
        return problem

    @property
    def _other_language(self) -> bool:
        """The seed asks for a language other than Python (test writers and reviewers of
        hidden tests write Python, so they sit those dialogues out)."""
        return self.seed.program_language != "python"

    def _write_hidden_tests(self, problem: str) -> None:
        """Extra roles at the ``tests`` place write tests the programmer never sees (Python only)."""
        for writer in self.test_writers if not self._other_language else ():
            reply = self._ask(writer, [{"role": "user", "content": writer.tests_request(problem)}])
            self.side_turns.append(Turn(role="assistant", name=writer.name, content=reply))
            tests = split_program(reply).python
            if tests:
                self.hidden_tests.append(tests)

    def _program_and_run(self, round_no: int) -> Execution:
        candidates = None
        if self.candidates > 1:
            execution, report, hidden, candidates = self._best_candidate()
        else:
            execution, report, hidden = self._run_answer(self._review(self._answer_not_repeated()))
        recorded = Execution(round=round_no, **execution.model_dump(), hidden_tests=hidden, candidates=candidates)
        self.executions.append(recorded)
        if not round_passed(recorded, hidden):
            self.failed_programs.setdefault(_code_key(self.last_program), round_no)
        self._record("user", self.executor.name, report)
        self.programmer_view.append({"role": "user", "content": report})
        return recorded

    def _run_answer(self, answer: str) -> tuple[ExecutionResult, str, dict[str, Any] | None]:
        """Run a program and its hidden tests: the run, the report the programmer reads, the hidden tests' run."""
        execution, report = self._execute(answer)
        hidden, hidden_report = self._run_hidden_tests(execution)
        return execution, f"{report}\n\n{hidden_report}" if hidden_report else report, hidden

    def _best_candidate(self) -> tuple[ExecutionResult, str, dict[str, Any] | None, list[Candidate]]:
        """Sample ``candidates`` programs in one request, run each, keep the first that passes (else the first)."""
        answers = self._ask_choices(self.programmer, _merge_consecutive(self.programmer_view), self.candidates)
        runs = [(answer, *self._run_answer(answer)) for answer in answers]
        kept = next((i for i, (_, run, _, hidden) in enumerate(runs) if round_passed(run, hidden)), 0)
        answer, execution, report, hidden = runs[kept]
        self.last_program = self.last_answer = answer
        self._record("assistant", self.programmer.name, answer, self.last_call_id)
        self.programmer_view.append({"role": "assistant", "content": answer})
        candidates = [
            Candidate(index=index, content=text, status=run.status, exit_code=run.exit_code,
                      hidden_tests=hidden_run["status"] if hidden_run else None, kept=index == kept)
            for index, (text, run, _, hidden_run) in enumerate(runs)
        ]  # fmt: skip
        return execution, report, hidden, candidates

    def _run_hidden_tests(self, execution: ExecutionResult) -> tuple[dict[str, Any] | None, str]:
        """Run the hidden tests against the solution alone; their result and the text the programmer reads."""
        if not self.hidden_tests or execution.status in ("no_code", "install_error") or self._other_language:
            return None, ""
        program = split_program(self.last_program)
        combined, reason = hidden_program(program.python, self.hidden_tests)
        if combined is None:
            return {"status": "rejected", "reason": reason}, ""
        started = time.perf_counter()
        self.check_cancelled()
        with activity.step(self.seed.id, self.round, self.executor.name, "run"):
            run = self.executor.run_aside(combined, packages_installed(self.executions, program.packages))
        self.execution_s += time.perf_counter() - started
        result = hidden_result(run)
        verdict = "passed" if run.passed else f"failed ({run.status})"
        text = self._format(run).split("\n", 1)[-1] if not run.passed else ""
        return result, f"Hidden tests (written from the problem alone) {verdict}." + (f"\n{text}" if text else "")

    def _answer_not_repeated(self) -> str:
        """The programmer's answer; with ``send_back_repeats``, one that repeats a program that
        already failed is sent back once, with a note saying so, before it runs (a small model at
        a low temperature otherwise sends the same failing program round after round)."""
        answer = self._answer()
        failed_in = self.failed_programs.get(_code_key(answer))
        if failed_in is None or not self.send_back_repeats:
            return answer
        note = fill("repeated_program", round=str(failed_in))
        self._record("user", self.executor.name, note)
        self.programmer_view.append({"role": "user", "content": note})
        return self._answer()

    def _answer(self) -> str:
        answer = self._ask(self.programmer, _merge_consecutive(self.programmer_view))
        self.last_answer = answer
        self._record("assistant", self.programmer.name, answer, self.last_call_id)
        self.programmer_view.append({"role": "assistant", "content": answer})
        return answer

    def _review(self, answer: str) -> str:
        """Extra roles at the ``before_execution`` place may send the program back once or more."""
        for reviewer in self.reviewers:
            while self.critiques_left[id(reviewer)] > 0:
                request = reviewer.review_request(self.problem, answer)
                review = self._ask(reviewer, [{"role": "user", "content": request}])
                if reviewer.approves(review):
                    self.side_turns.append(Turn(role="assistant", name=reviewer.name, content=review))
                    break
                self.critiques_left[id(reviewer)] -= 1
                self._record("user", reviewer.name, review, self.last_call_id)
                self.programmer_view.append({"role": "user", "content": review})
                answer = self._answer()
        return answer

    def _execute(self, answer: str) -> tuple[ExecutionResult, str]:
        self.last_program = answer
        self.executor.last_execution = None
        started = time.perf_counter()
        self.check_cancelled()
        with activity.step(self.seed.id, self.round, self.executor.name, "run"):
            reply = self.executor.generate_reply(messages=[{"role": "user", "content": answer}])
        self.execution_s += time.perf_counter() - started
        report = reply_text(reply)
        execution = self.executor.last_execution
        if execution is None:  # a custom reply answered without running anything
            execution = ExecutionResult(status="fail", exit_code=1, output=report)
        return execution, report or self._format(execution)

    def _format(self, execution: ExecutionResult) -> str:
        """An execution as the programmer reads it, within the executor's output budget."""
        budget = getattr(self.executor, "feedback_chars", None)
        return format_execution(execution, max_chars=budget) if budget else format_execution(execution)

    def _explain_failure(self, problem: str, execution: ExecutionResult) -> None:
        context = ""
        if not self.questioner_view:
            context = f"The problem you posed:\n\n{problem}\n\n"
        request = (
            f"{context}The programmer answered:\n\n{self.last_answer}\n\n{self.questioner.feedback_request(execution)}"
        )
        self.questioner_view.append({"role": "user", "content": request})
        explanation = self._ask(self.questioner, self.questioner_view)
        self.questioner_view.append({"role": "assistant", "content": explanation})
        self._record("user", self.questioner.name, explanation, self.last_call_id)
        self.programmer_view.append({"role": "user", "content": explanation})

    def check_cancelled(self) -> None:
        """Raise ``DialogueAbandoned`` once the run has set ``cancel``: no model call or sandbox run follows."""
        if self.cancel is not None and self.cancel.is_set():
            raise DialogueAbandoned(f"dialogue {self.seed.id} abandoned: the run was interrupted")

    def _ask(self, agent: Any, messages: list[Message]) -> str:
        answer = self._call_model(agent, lambda: ask_agent(agent, messages, **self._errors(agent)))
        self.last_call_id = answer.call_id
        return answer.text

    def _ask_choices(self, agent: Any, messages: list[Message], n: int) -> list[str]:
        texts, call_id = self._call_model(agent, lambda: ask_choices(agent, messages, n, **self._errors(agent)))
        self.last_call_id = call_id
        if not texts:
            raise ModelUnavailable(model_error_message(agent, ValueError("the response held no choice")))
        return texts

    def _call_model(self, agent: Any, call: Callable[[], _T]) -> _T:
        """One model call of ``agent``: through its gate, as a step of the dialogue, counted in ``model_s``."""
        self.check_cancelled()
        with self.model_gate(agent), activity.step(self.seed.id, self.round, agent.name):
            started = time.perf_counter()
            try:
                self.check_cancelled()  # the gate may have kept this call waiting
                result = call()
            finally:
                self.model_s += time.perf_counter() - started
        self.check_cancelled()  # a reply that came after the interrupt is not acted on
        return result

    @staticmethod
    def _errors(agent: Any) -> dict[str, Callable[[Exception], str]]:
        return {
            "describe": lambda exc: model_error_message(agent, exc),
            "overflow": lambda exc: f"the prompt of '{agent.name}' is over its model's context: {exc}",
        }

    def _record(self, role: str, name: str, content: str, call_id: str | None = None) -> None:
        turn = Turn(role=role, name=name, content=content, call_id=call_id)
        self.turns.append(turn)
        if self.on_turn is not None:
            self.on_turn(turn)


def _at_place(extras: Sequence[Any], place: str) -> list[Any]:
    unknown = [agent for agent in extras if getattr(agent, "place", None) not in PLACES]
    if unknown:
        names = ", ".join(f"{agent.name} ({getattr(agent, 'place', None)!r})" for agent in unknown)
        raise ConfigError(f"extra roles must have a `place` in {sorted(PLACES)}: {names}")
    return [agent for agent in extras if agent.place == place]


def _code_key(answer: str) -> str:
    """What two answers share when they hold the same program: their code, blank lines and
    trailing spaces aside (the whole text when it has no fence)."""
    code = "\n".join(block for _, block in fences(answer)) or answer
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def _merge_consecutive(messages: list[Message]) -> list[Message]:
    """Join runs of same-role messages: many chat templates require strict alternation."""
    merged: list[Message] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1] = {**merged[-1], "content": f"{merged[-1]['content']}\n\n{message['content']}"}
        else:
            merged.append(dict(message))
    return merged


def _task_message(programmer: Any, problem: str, language: str = "python") -> str:
    """The programmer's task: its own ``task_message`` for Python; for another language the
    problem and what an answer in that language holds (tests the sandbox can count)."""
    if language != "python":
        return f"{problem.strip()}\n\n{task_note(language)}"
    task_message = getattr(programmer, "task_message", None)
    return task_message(problem) if callable(task_message) else problem
