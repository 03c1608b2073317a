"""The switch controller of ``stage: auto``: after each block, compare, maybe train, decide.

See :mod:`aiev_agents.stage` for the whole story.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomic
from ..clock import utc_now
from ..errors import ConfigError, ModelUnavailable
from ..generate.daemon import start_daemon
from .settings import StageSwitchSettings
from .state import (
    AUTO,
    SELF_LEARNING,
    STAGE_FILE,
    STAGE_SCHEMA,
    TEACHING,
    UNREADABLE_STATE,
    Decision,
    Postponed,
    StageName,
    StageState,
    read_stage_state,
)
from .train_hook import TrainCommand, TrainRun

if TYPE_CHECKING:
    from ..config import AievConfig
    from .splits import Block

__all__ = [
    "StageController",
    "config_for_stage",
    "decide",
    "restart_workers",
    "start_in_background",
]

logger = logging.getLogger(__name__)


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
        self._lock = threading.Lock()
        command, timeout = self.settings.train_command, self.settings.train_timeout_s
        self.trainer = TrainCommand(command, timeout) if command and self.mode == AUTO else None

    @property
    def path(self) -> Path:
        """``stage.json`` of the run folder."""
        return self.out_dir / STAGE_FILE

    @property
    def decisions(self) -> list[Decision]:
        """Every decision so far, oldest first."""
        return list(self.state.decisions)

    @property
    def trainings(self) -> list[TrainRun]:
        """Every run of the train command so far, oldest first."""
        return list(self.state.trainings)

    @property
    def postponed(self) -> list[Postponed]:
        """Every postponed comparison so far, oldest first."""
        return list(self.state.postponed)

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

    def due(self, blocks: Sequence[Block]) -> list[Block]:
        """The blocks of ``blocks`` still to handle: (auto, teaching) those after the last decision."""
        if self.mode != AUTO or self.current_stage() == SELF_LEARNING:
            return []
        last = max((decision.block for decision in self.state.decisions), default=0)
        return sorted((block for block in blocks if block.index > last), key=lambda block: block.index)

    def after_block(self, block: Block) -> Decision | None:
        """:meth:`after_blocks` for one block."""
        return self.after_blocks([block])

    def after_blocks(self, blocks: Sequence[Block]) -> Decision | None:
        """Train on the closed blocks not yet trained on, then compare on the newest (``stage: auto`` only).

        Of ``blocks``, those after the last decision count (:meth:`due`). Each whose training
        has not succeeded is trained on, oldest first; a failed training stops there (recorded,
        logged, no decision). Then teacher and student are compared on the newest block's
        held-out part; when a model is down, the comparison is postponed (recorded, no decision).

        Returns:
            The decision, or None: a fixed stage, already switched, nothing due, a failed
            training or a postponed comparison.

        Raises:
            SandboxUnavailable: The comparison could not run its programs.
            TrainAborted: :meth:`abort` stopped the train command.
        """
        due = self.due(blocks)
        if not due:
            return None
        for block in due:
            if not self.train(block):
                return None
        return self.compare(due[-1])

    def trained(self, index: int) -> bool:
        """The train command succeeded on block ``index``."""
        return any(run.block == index and run.ok for run in self.state.trainings)

    def train(self, block: Block) -> bool:
        """Run the train command on ``block`` unless it succeeded before; record the attempt. True: trained."""
        if self.trainer is None or self.trained(block.index):
            return True
        logger.info("block %d: training the student (%s)", block.index, self.settings.train_mode)
        run = self.trainer.run(block, self.out_dir)
        self._update(lambda state: state.trainings.append(run))
        if run.ok:
            logger.info("block %d: trained in %.1f s", block.index, run.duration_s)
        else:
            logger.error(
                "block %d: %s; no switch decision for now, the run goes on in the %s stage; the next block "
                "boundary or the next start of the run retries the training (output in %s)",
                block.index,
                run.error,
                self.current_stage(),
                run.log_path,
            )
        return run.ok

    def compare(self, block: Block) -> Decision | None:
        """Compare teacher and student on ``block``'s held-out part and record the decision (None: postponed)."""
        from .compare import Comparison, default_compare_path

        s = self.settings
        compare_path = default_compare_path(block.test_path)
        try:
            result = Comparison(self.config, [s.teacher_model, s.student_model], workers=s.compare_workers).run(
                block.test_path, compare_path
            )
        except (ModelUnavailable, ConnectionError) as exc:
            self.postpone(block, exc)
            return None
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

    def postpone(self, block: Block, error: BaseException) -> None:
        """Record that ``block``'s comparison could not run; the next block's comparison stands in for it."""
        entry = Postponed(block=block.index, error=str(error), postponed_at=utc_now())
        self._update(lambda state: state.postponed.append(entry))
        logger.warning(
            "block %d: comparison postponed to the next block, the run goes on in the %s stage: %s",
            block.index,
            self.current_stage(),
            error,
        )

    def abort(self) -> None:
        """Stop a running train command (the run is ending); the block stays untrained."""
        if self.trainer is not None:
            self.trainer.abort()

    def record(self, decision: Decision) -> None:
        """Add ``decision`` to ``stage.json`` (written atomically) and move to its stage."""

        def add(state: StageState) -> None:
            state.decisions.append(decision)
            state.stage = decision.stage
            for entry in state.postponed:
                if entry.decided_at_block is None and entry.block <= decision.block:
                    entry.decided_at_block = decision.block

        self._update(add)
        logger.info(
            "block %d: teacher %.3f, student %.3f -> %s",
            decision.block,
            decision.teacher_pass_at_1,
            decision.student_pass_at_1,
            decision.stage,
        )

    def _update(self, change: Callable[[StageState], None]) -> None:
        with self._lock:
            change(self.state)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, self.state.model_dump_json(by_alias=True, indent=2) + "\n")

    def _load(self) -> StageState:
        initial: StageName = SELF_LEARNING if self.mode == SELF_LEARNING else TEACHING
        if not self.path.exists():
            return StageState(mode=self.mode, stage=initial)
        try:
            state = read_stage_state(self.path)
        except UNREADABLE_STATE as exc:
            raise ConfigError(f"{self.path} is not a readable stage file ({exc}); move it away") from exc
        state.mode = self.mode
        state.schema_version = STAGE_SCHEMA  # a schema 1 file reads as 2 with no trainings
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
        decided_at=utc_now(),
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
    until nothing runs, then call this. ``run`` is the pipeline's ``RunScheduler`` (its
    generation plays the new config, with new model gates; its cache is reused).
    """
    count = len(workers)
    backend.close(list(workers))
    run.generation.use_config(stage_config)
    workers[:] = backend.start(count, run.cache)


def start_in_background(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """Run ``function(*args)`` on a daemon thread; its future (for ``train_mode: overlap``).

    A daemon thread, not an executor's: an interrupted run must not wait at exit for a
    training to end (the pipeline stops it with :meth:`StageController.abort`).
    """
    future, _ = start_daemon(function, *args, name="aiev-stage-switch")
    return future
