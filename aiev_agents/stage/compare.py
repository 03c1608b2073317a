"""``aiev compare``: teacher and student solve the held-out problems of a split; pass@1 of each.

Each model plays the programmer (the configured programmer prompt and its ``task`` turn)
on the ``problem`` of every record of a split file (``block-NNNN.test.jsonl``). Its answer
is run against the *record's own tests* in the sandbox:

* the candidate's solution is its answer's Python without its own test and driver code
  (:func:`solution_code`, :func:`aiev_agents.sandbox.guest.testcode.solution_only`);
* the record's tests are the test and driver code of its ``final_program``, as
  :mod:`aiev_agents.sandbox.guest.testcode` defines it, with its imports and the top-level
  assignments that code reads (:func:`held_out_tests`);
* the program is the two joined by :func:`~aiev_agents.sandbox.guest.testcode.combine` (``from
  __future__`` imports hoisted), run with the record's packages and those the answer asks
  for; it passes when it exits 0 and its tests ran.

Limits: the tests call the solution by the names the record chose, so a candidate that
names its function differently fails (the questioner's problems usually name it). Helper
functions of the record that the tests call but that are not test code (a reference
implementation taking arguments) are lost with the solution, and a record left without any
statement that runs is skipped. The record's assignments that the tests read are kept as
test data, after the candidate's code, so a constant both define takes the record's value;
an assignment of a ``lambda`` is solution code and never kept.
"""

from __future__ import annotations

import ast
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..clock import utc_now
from ..codeblocks import split_program
from ..config import AievConfig
from ..errors import ConfigError, ModelUnavailable
from ..evaluate.sanitize import source_of
from ..llm.ask import ask_agent
from ..sandbox.guest import testcode
from ..sandbox.settings import SandboxSettings
from .splits import read_split

logger = logging.getLogger(__name__)

COMPARE_SCHEMA = 1
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign)


class ModelScore(BaseModel):
    """One model's score on the held-out problems."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The entry under `models`.")
    model: str = Field(description="The model name at the endpoint.")
    passed: int = 0
    scored: int = 0
    errors: int = Field(0, description="Problems lost to a model error (counted as failed).")
    pass_at_1: float = 0.0


class CompareResult(BaseModel):
    """What ``aiev compare`` writes: both scores side by side and each problem's verdicts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(COMPARE_SCHEMA, alias="schema")
    split: str
    config_hash: str
    problems: int
    skipped: list[str] = Field(default_factory=list, description="Record ids with no test part.")
    scores: dict[str, ModelScore]
    verdicts: dict[str, dict[str, str]] = Field(default_factory=dict, description="Record id → model → status.")
    started_at: str
    ended_at: str
    wall_s: float

    def pass_at_1(self, name: str) -> float:
        """The pass@1 of the model entry ``name``."""
        return self.scores[name].pass_at_1

    def save(self, path: str | Path) -> Path:
        """Write the result as JSON; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(by_alias=True, indent=2) + "\n", encoding="utf-8")
        return path


@dataclass(frozen=True)
class HeldOut:
    """One held-out problem: the statement, the record's tests and packages."""

    id: str
    problem: str
    tests: str
    packages: tuple[str, ...] = ()


def held_out_tests(program: str) -> str:
    """The test code of a verified program, without its solution (:mod:`~aiev_agents.sandbox.guest.testcode`).

    Kept, in order: imports; test and driver code (:func:`~aiev_agents.sandbox.guest.testcode.tests_only`:
    ``test*``/``check*`` functions and classes, ``TestCase`` subclasses, argument-less functions
    that assert about the program's definitions, functions calling those, and every top-level
    statement that is no definition, import or assignment); top-level assignments that the kept
    code reads, unless they bind a ``lambda``. A solution function's own ``assert`` (a
    precondition) does not make it test code. Returns ``""`` when nothing kept would run.
    """
    try:
        tree = testcode.parse(program)
    except (SyntaxError, ValueError):
        return ""
    tests = testcode.test_definitions(tree)
    kept = [node for node in tree.body if _is_import(node) or testcode.is_test_statement(node, tests)]
    if not any(testcode.is_test_statement(node, tests) and not isinstance(node, _DEFINITIONS) for node in kept):
        return ""
    data = _test_data(tree.body, kept)
    return source_of(program, [node for node in tree.body if node in kept or node in data])


def solution_code(program: str) -> str:
    """A candidate program without its test and driver code (:func:`~aiev_agents.sandbox.guest.testcode.solution_only`).

    A program that does not parse is returned as it is: running it shows the error.
    """
    return testcode.solution_only(program)


def held_out(records: Sequence[dict[str, Any]]) -> tuple[list[HeldOut], list[str]]:
    """The problems of a split's records, and the ids of records with no usable test part."""
    problems, skipped = [], []
    for record in records:
        tests = held_out_tests(str(record.get("final_program") or ""))
        problem = str(record.get("problem") or "").strip()
        if not tests or not problem:
            skipped.append(str(record.get("id")))
            continue
        packages = tuple(str(p) for p in record.get("final_packages") or ())
        problems.append(HeldOut(str(record.get("id")), problem, tests, packages))
    return problems, skipped


class Comparison:
    """Scores model entries of a config on held-out problems, ``workers`` at a time."""

    def __init__(
        self,
        config: AievConfig,
        models: Sequence[str],
        *,
        workers: int = 1,
        settings: SandboxSettings | None = None,
        on_verdict: Callable[[str, str, str], None] | None = None,
    ) -> None:
        """Args: config: a loaded config; models: entries under ``models`` to compare; workers:
        problems at once (one sandbox each); settings: the sandbox (default: the config's);
        on_verdict: called with (record id, model entry, status) as each run ends.

        Raises:
            ConfigError: A model entry is not in the config.
        """
        unknown = [name for name in models if name not in config.models]
        if unknown:
            raise ConfigError(f"compare: {', '.join(unknown)} not under `models` (known: {', '.join(config.models)})")
        self.config = config
        self.models = list(models)
        self.workers = max(1, workers)
        self.settings = settings or config.sandbox
        self.on_verdict = on_verdict
        self._local = threading.local()

    def run(self, split: str | Path, out_path: str | Path | None = None) -> CompareResult:
        """Solve and test every held-out problem of ``split`` with each model.

        Raises:
            DatasetError: The split file cannot be read.
            SandboxUnavailable: Docker or the image cannot be used.
            ModelUnavailable: A model failed on every problem.
        """
        from ..sandbox.pool import SandboxPool

        started, started_at = time.perf_counter(), utc_now()
        problems, skipped = held_out(read_split(split))
        verdicts: dict[str, dict[str, str]] = {problem.id: {} for problem in problems}
        jobs = [(problem, name) for problem in problems for name in self.models]
        if jobs:
            with SandboxPool(self.settings, size=min(self.workers, len(jobs))) as pool:
                self._run_jobs(jobs, pool, verdicts)
        result = CompareResult(
            split=str(split),
            config_hash=self.config.config_hash(),
            problems=len(problems),
            skipped=skipped,
            scores={name: self._score(name, verdicts) for name in self.models},
            verdicts=verdicts,
            started_at=started_at,
            ended_at=utc_now(),
            wall_s=round(time.perf_counter() - started, 3),
        )
        self._check_not_all_errors(result)
        if out_path is not None:
            result.save(out_path)
        return result

    def _run_jobs(self, jobs: list[tuple[HeldOut, str]], pool: Any, verdicts: dict[str, dict[str, str]]) -> None:
        with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs)), thread_name_prefix="aiev-compare") as threads:
            futures = {threads.submit(self.solve, problem, name, pool): (problem, name) for problem, name in jobs}
            for future in as_completed(futures):
                problem, name = futures[future]
                status = future.result()
                verdicts[problem.id][name] = status
                if self.on_verdict is not None:
                    self.on_verdict(problem.id, name, status)

    def solve(self, problem: HeldOut, name: str, pool: Any) -> str:
        """One model's attempt at one problem: ``pass``, ``fail``, ``timeout``, ``no_code``... or ``error``."""
        try:
            answer = self._answer(name, problem.problem)
        except ModelUnavailable as exc:
            logger.warning("%s", exc)
            return "error"
        program = split_program(answer)
        solution = solution_code(program.python)
        if not solution.strip():
            return "no_code"
        packages = list(dict.fromkeys([*problem.packages, *program.packages]))
        with pool.session() as sandbox:
            result = sandbox.execute(testcode.combine(solution, problem.tests), packages)
        return result.status

    def _answer(self, name: str, problem: str) -> str:
        agent = self._agent(name)
        task_message = getattr(agent, "task_message", None)
        content = task_message(problem) if callable(task_message) else problem
        messages = [{"role": "user", "content": content}]
        return ask_agent(agent, messages, describe=lambda exc: f"compare: model {name!r} failed: {exc}").text

    def _agent(self, name: str) -> Any:
        agents: dict[str, Any] = self._local.__dict__.setdefault("agents", {})
        if name not in agents:
            from ..roles import resolve_role_class

            role_class = resolve_role_class("programmer", self.config.roles.programmer.class_path)
            agents[name] = role_class.from_config(self.config, role="programmer", model=name)
        return agents[name]

    def _score(self, name: str, verdicts: dict[str, dict[str, str]]) -> ModelScore:
        statuses = [per_model.get(name, "error") for per_model in verdicts.values()]
        passed = statuses.count("pass")
        return ModelScore(
            name=name,
            model=self.config.models[name].model,
            passed=passed,
            scored=len(statuses),
            errors=statuses.count("error"),
            pass_at_1=round(passed / len(statuses), 6) if statuses else 0.0,
        )

    def _check_not_all_errors(self, result: CompareResult) -> None:
        for score in result.scores.values():
            if score.scored and score.errors == score.scored:
                raise ModelUnavailable(
                    f"compare: model {score.name!r} ({score.model}) failed on every problem; "
                    "check that it is reachable (see the log for the errors)"
                )


def default_compare_path(split: str | Path) -> Path:
    """Where a split's comparison goes by default: ``block-NNNN.test.jsonl`` → ``block-NNNN.compare.json``."""
    split = Path(split)
    name = split.name
    stem = name[: -len(".test.jsonl")] if name.endswith(".test.jsonl") else split.stem
    return split.with_name(f"{stem}.compare.json")


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def _test_data(body: list[ast.stmt], kept: list[ast.stmt]) -> list[ast.stmt]:
    """The assignments of ``body`` not in ``kept`` whose names ``kept`` reads, transitively (test data)."""
    candidates = [
        node
        for node in body
        if isinstance(node, _ASSIGNMENTS)
        and node not in kept
        and not any(isinstance(child, ast.Lambda) for child in ast.walk(node))
    ]
    read = set().union(set(), *(_loaded_names(node) for node in kept))
    data: list[ast.stmt] = []
    changed = True
    while changed:
        changed = False
        for node in candidates:
            if node not in data and _bound_names(node) & read:
                data.append(node)
                read |= _loaded_names(node)
                changed = True
    return data


def _loaded_names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def _bound_names(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
    return {child.id for target in targets for child in ast.walk(target) if isinstance(child, ast.Name)}
