"""The stage switch: after each block of new samples, does the student beat the teacher?

``stage: teaching`` and ``stage: self_learning`` fix who plays the roles. With
``stage: auto`` the run starts in the teaching stage and, after each finished block (see
:mod:`aiev_agents.splits`), :class:`StageController` has the teacher and the student solve
the block's held-out problems (:mod:`aiev_agents.compare`). When the student's pass@1
exceeds the teacher's by more than ``stage_switch.margin`` (0.0: strictly higher), the
roles switch to the student from the next block on. Every decision, with both scores, is
kept in ``stage.json`` in the run folder, so a resumed run starts in the stage it reached.

The paper fine-tunes the student on each block's train part before comparing; that
happens outside this package: serve the fine-tuned student under the ``student`` entry.

Cheap to import: no AG2, no Docker until a comparison runs.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .atomic import write_atomic
from .errors import ConfigError

if TYPE_CHECKING:
    from .config import AievConfig
    from .splits import Block

__all__ = [
    "Decision",
    "StageController",
    "StageSwitchSettings",
    "config_for_stage",
    "decide",
    "restart_workers",
    "stage_markdown",
    "stage_summary",
]

logger = logging.getLogger(__name__)

STAGE_FILE = "stage.json"
STAGE_SCHEMA = 1
StageName = Literal["teaching", "self_learning"]
AUTO = "auto"
TEACHING: StageName = "teaching"
SELF_LEARNING: StageName = "self_learning"


class StageSwitchSettings(BaseModel):
    """The ``stage_switch:`` section of a config: blocks, held-out share, switch rule."""

    model_config = ConfigDict(extra="forbid")

    block_size: int = Field(2000, ge=2, description="New verified samples per block (the paper: 2,000).")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="Share of a block held out for the comparison (1:9).")
    margin: float = Field(
        0.0,
        ge=0,
        le=1,
        description="The student must beat the teacher's pass@1 by more than this (0.0: strictly higher).",
    )
    compare_workers: int = Field(1, ge=1, description="Held-out problems solved at once during a comparison.")
    teacher_model: str = Field("teacher", min_length=1, description="Entry under `models` that teaches.")
    student_model: str = Field("student", min_length=1, description="Entry under `models` that learns.")


class Decision(BaseModel):
    """The comparison after one block and what it decided."""

    model_config = ConfigDict(extra="forbid")

    block: int
    split: str
    compare_path: str
    teacher_model: str
    student_model: str
    teacher_pass_at_1: float
    student_pass_at_1: float
    problems: int
    margin: float
    switched: bool
    stage: StageName = Field(description="The stage from the next block on.")
    decided_at: str


class StageState(BaseModel):
    """What ``stage.json`` holds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(STAGE_SCHEMA, alias="schema")
    mode: str
    stage: StageName
    decisions: list[Decision] = Field(default_factory=list)


class StageController:
    """Tells the pipeline which stage plays, and decides switches after blocks (``stage: auto``)."""

    def __init__(
        self,
        config: AievConfig,
        out_dir: str | Path,
        *,
        settings: StageSwitchSettings | None = None,
        mode: str | None = None,
    ) -> None:
        """Read ``stage.json`` from ``out_dir`` if there is one.

        Args:
            config: The loaded config.
            out_dir: The run folder.
            settings: Default: the config's ``stage_switch`` section (or the defaults).
            mode: ``auto``, ``teaching`` or ``self_learning``; default: the config's ``stage``.

        Raises:
            ConfigError: ``stage.json`` is unreadable, or (auto) a compared model is not in the config.
        """
        self.config = config
        self.out_dir = Path(out_dir)
        self.settings = settings or getattr(config, "stage_switch", None) or StageSwitchSettings()
        self.mode = mode or str(config.stage)
        if self.mode == AUTO:
            missing = [m for m in (self.settings.teacher_model, self.settings.student_model) if m not in config.models]
            if missing:
                raise ConfigError(f"stage: auto compares models {', '.join(missing)}, not under `models`: add them")
        self.state = self._load()

    @property
    def path(self) -> Path:
        """``stage.json`` of the run folder."""
        return self.out_dir / STAGE_FILE

    @property
    def decisions(self) -> list[Decision]:
        """Every decision so far, oldest first."""
        return list(self.state.decisions)

    def current_stage(self) -> StageName:
        """The stage that plays now: fixed by the config, or (auto) the last decision's."""
        if self.mode == AUTO:
            return self.state.stage
        return SELF_LEARNING if self.mode == SELF_LEARNING else TEACHING

    def effective_config(self) -> AievConfig:
        """The config with the roles played as the current stage says (see :func:`config_for_stage`)."""
        if self.mode != AUTO:
            return self.config
        return config_for_stage(self.config, self.current_stage(), self.settings)

    def after_block(self, block: Block) -> Decision | None:
        """Compare teacher and student on ``block``'s held-out part and decide (``stage: auto`` only).

        Returns:
            The decision, or None: a fixed stage, already switched, or a block decided before.

        Raises:
            SandboxUnavailable, ModelUnavailable: The comparison could not run.
        """
        if self.mode != AUTO or self.current_stage() == SELF_LEARNING:
            return None
        if any(decision.block == block.index for decision in self.state.decisions):
            return None
        from .compare import Comparison, default_compare_path

        s = self.settings
        compare_path = default_compare_path(block.test_path)
        result = Comparison(self.config, [s.teacher_model, s.student_model], workers=s.compare_workers).run(
            block.test_path, compare_path
        )
        decision = decide(
            block.index,
            str(block.test_path),
            str(compare_path),
            result.pass_at_1(s.teacher_model),
            result.pass_at_1(s.student_model),
            result.problems,
            s,
        )
        self.record(decision)
        return decision

    def record(self, decision: Decision) -> None:
        """Add ``decision`` to ``stage.json`` (written atomically) and move to its stage."""
        self.state.decisions.append(decision)
        self.state.stage = decision.stage
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, self.state.model_dump_json(by_alias=True, indent=2) + "\n")
        logger.info(
            "block %d: teacher %.3f, student %.3f -> %s",
            decision.block,
            decision.teacher_pass_at_1,
            decision.student_pass_at_1,
            decision.stage,
        )

    def _load(self) -> StageState:
        initial: StageName = SELF_LEARNING if self.mode == SELF_LEARNING else TEACHING
        if not self.path.exists():
            return StageState(mode=self.mode, stage=initial)
        try:
            state = StageState.model_validate(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError) as exc:
            raise ConfigError(f"{self.path} is not a readable stage file ({exc}); move it away") from exc
        state.mode = self.mode
        return state


def decide(
    block: int,
    split: str,
    compare_path: str,
    teacher: float,
    student: float,
    problems: int,
    settings: StageSwitchSettings,
) -> Decision:
    """The switch rule: switch when ``student - teacher > margin`` (and there was something to score)."""
    switched = problems > 0 and round(student - teacher, 9) > settings.margin  # 0.8 - 0.7 > 0.1 in floats
    return Decision(
        block=block,
        split=split,
        compare_path=compare_path,
        teacher_model=settings.teacher_model,
        student_model=settings.student_model,
        teacher_pass_at_1=teacher,
        student_pass_at_1=student,
        problems=problems,
        margin=settings.margin,
        switched=switched,
        stage=SELF_LEARNING if switched else TEACHING,
        decided_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def config_for_stage(config: AievConfig, stage: str, settings: StageSwitchSettings | None = None) -> AievConfig:
    """A copy of ``config`` whose stage is ``stage``: in the self-learning stage every role the
    teacher plays is played by the student. Roles that name another model keep it.
    """
    s = settings or StageSwitchSettings()
    copy = config.model_copy(deep=True)
    copy.stage = stage  # type: ignore[assignment]  # set on a copy, after validation
    if stage == SELF_LEARNING:
        for role_name in copy.roles.all_llm_roles():
            role = getattr(copy.roles, role_name)
            if role.model == s.teacher_model:
                role.model = s.student_model
    return copy


def restart_workers(run: Any, backend: Any, workers: list[Any], stage_config: AievConfig) -> None:
    """Replace drained workers by new ones built for ``stage_config``, in place in ``workers``.

    For the pipeline's scheduling loop when a switch was decided: stop submitting, wait
    until nothing runs, then call this. ``run`` is the ``_Run`` (its generation gets the
    new config and model gates; its cache is reused).
    """
    from .workers import ModelGates

    count = len(workers)
    backend.close(list(workers))
    run.generation.config = stage_config
    run.generation.gates = ModelGates(stage_config)
    workers[:] = backend.start(count, run.cache)


def stage_summary(out_dir: str | Path) -> dict[str, Any] | None:
    """The stage decisions of a run folder for its report (None when it has no ``stage.json``)."""
    path = Path(out_dir) / STAGE_FILE
    if not path.exists():
        return None
    try:
        state = StageState.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        logger.warning("%s is not a readable stage file: %s", path, exc)
        return None
    return {"stage": state.stage, "decisions": [d.model_dump(mode="json") for d in state.decisions]}


def stage_markdown(summary: dict[str, Any] | None) -> list[str]:
    """Report lines: one table row per decision."""
    if not summary:
        return []
    lines = ["", "## Stage switch", "", f"Stage now: {summary['stage']}", ""]
    lines += ["| block | problems | teacher pass@1 | student pass@1 | margin | decision |", "|---|---|---|---|---|---|"]
    for d in summary["decisions"]:
        verdict = "switch to student" if d["switched"] else "keep teacher"
        lines.append(
            f"| {d['block']} | {d['problems']} | {d['teacher_pass_at_1']:.3f} | {d['student_pass_at_1']:.3f} "
            f"| {d['margin']:g} | {verdict} |"
        )
    return lines
