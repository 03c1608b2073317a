"""The stage switch inside one generation run (``stage: auto``, see :mod:`aiev_agents.stage`).

Each stored record goes to the block splitter; closed blocks go to the stage controller, at
once (``train_mode: wait``) or on a background thread (``overlap``; one job at a time, later
blocks wait for it). A decided switch is applied by the scheduling loop once nothing runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import AievConfig
from ..stage.splits import Block, BlockSplitter
from ..stage.state import Decision
from ..stage.switch import StageController, start_in_background
from .manifest import RunManifest, save_manifest

if TYPE_CHECKING:
    from .pipeline import Generation

STAGE_JOB_ABORT_WAIT_S = 30.0  # an interrupted run waits this long for a background training to stop


class StageSwitching:
    """The stage side of one run: blocks due for a decision, the background job, the switch to apply."""

    def __init__(
        self,
        generation: Generation,
        stage: StageController,
        splitter: BlockSplitter,
        manifest: RunManifest,
        store_dir: Path,
    ) -> None:
        self.generation = generation
        self.stage, self.splitter = stage, splitter
        self.manifest, self.store_dir = manifest, store_dir
        self.switch_to: str | None = None  # the stage decided, applied once nothing runs
        self.blocks_due: list[Block] = []  # closed blocks after the last decision
        self.job: Future[Decision | None] | None = None  # train_mode: overlap
        self.job_newest = 0  # the newest block the job was given

    def catch_up(self, records: Iterable[dict[str, Any]]) -> None:
        """At the start of a run: split the records a dead run stored but did not split, handle
        the blocks it did not decide, and apply a switch decided meanwhile."""
        self.splitter.catch_up(records)
        self.after_blocks(self.splitter.blocks())
        self.apply_switch()

    def add(self, record: dict[str, Any]) -> None:
        """A record was stored: split it; a block it closes is handled."""
        block = self.splitter.add(record)
        if block is not None:
            self.after_blocks([block])

    def after_blocks(self, blocks: list[Block]) -> None:
        """Blocks closed (at a boundary, or found at the start): train and compare now (``train_mode:
        wait``) or on a background thread (``overlap``; one job at a time, later blocks wait for it)."""
        if self.job is not None:
            self.blocks_due += blocks
            return
        self.blocks_due = self.stage.due([*self.blocks_due, *blocks])
        if not self.blocks_due:
            return
        if self.stage.settings.train_mode == "overlap":
            self.job_newest = self.blocks_due[-1].index
            self.job = start_in_background(self.stage.after_blocks, list(self.blocks_due))
            return
        self._decided(self.stage.after_blocks(self.blocks_due))

    def job_done(self) -> None:
        """The background job ended: take its decision; blocks closed meanwhile start the next job."""
        job, self.job = self.job, None
        if job is None:
            return
        self._decided(job.result())
        if self.switch_to is None and self.blocks_due and self.blocks_due[-1].index > self.job_newest:
            self.after_blocks([])

    def await_job(self) -> None:
        """Wait for the background job, and the jobs it leads to, to end."""
        try:
            while self.job is not None:
                wait([self.job])
                self.job_done()
        except BaseException:
            self.abort_job()
            raise

    def abort_job(self) -> None:
        """The run is ending on an error or Ctrl-C: stop the training of a background job."""
        if self.job is not None and not self.job.done():
            self.stage.abort()
            wait([self.job], timeout=STAGE_JOB_ABORT_WAIT_S)

    def apply_switch(self) -> AievConfig:
        """The generation plays the decided stage from now on; its config (changed or not)."""
        if self.switch_to is not None:
            self.generation.use_config(self.stage.effective_config())
        self.switch_to = None
        return self.generation.config

    def _decided(self, decision: Decision | None) -> None:
        self.blocks_due = self.stage.due(self.blocks_due)
        if decision is None:
            return
        self.manifest.extra.setdefault("stage_decisions", []).append(decision.model_dump(mode="json"))
        self.manifest.extra["stage"] = decision.stage
        save_manifest(self.manifest, self.store_dir)
        if decision.switched:
            self.switch_to = decision.stage
