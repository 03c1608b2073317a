"""Many dialogues from seeds files into a store: the ``aiev generate`` job.

Dialogues run on worker threads, each worker with its own agents and sandbox; the calling
thread alone writes the store and the manifest, so each record is written whole, once. The
library never prints: progress reaches the caller through ``GenerationEvents``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..clock import utc_now
from ..config import AievConfig
from ..dialogue.transcript import Transcript, Turn
from ..errors import ConfigError, ModelUnavailable, SeedError
from ..llm.cache import CACHE_FILE, SqliteLLMCache
from ..llm.runtime_log import start_runtime_log, stop_runtime_log
from ..stage.splits import SPLITS_DIR, Block, BlockSplitter
from ..stage.switch import Decision, StageController, restart_workers, start_in_background
from .manifest import RunManifest, Session, load_manifest, save_manifest
from .seeds import Seed, read_seed_files
from .store import DialogueStore, ErrorLog
from .workers import Agents, Backend, Cancellation, ModelGates, ThreadBackend, run_one

logger = logging.getLogger(__name__)

MANIFEST_SAVE_INTERVAL_S = 1.0
STAGE_JOB_ABORT_WAIT_S = 30.0  # an interrupted run waits this long for a background training to stop


@dataclass
class GenerationOptions:
    """How one ``generate`` call runs; limits count the whole output folder unless noted."""

    workers: int = 1
    max_dialogues: int | None = None  # dialogues started by this call
    max_samples: int | None = None  # verified samples in the folder
    max_budget_usd: float | None = None  # cost recorded in the folder
    use_cache: bool = True
    cache_path: Path | None = None
    force: bool = False
    max_consecutive_model_errors: int = 5
    backend: str = "threads"  # threads | ray
    ray_address: str | None = None
    log_db: Path | None = None  # AG2's sqlite runtime log (threads backend)

    def __post_init__(self) -> None:
        """Limits that could never be met, or would stop a run before it starts, are errors."""
        counts = ("workers", "max_dialogues", "max_samples", "max_consecutive_model_errors")
        for name in counts:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        budget = self.max_budget_usd
        if budget is not None and not 0 < budget < float("inf"):
            raise ConfigError(f"max_budget_usd must be more than 0, got {budget}")


@dataclass
class GenerationEvents:
    """Callbacks a caller may set to watch a run; each is optional and runs on the calling thread."""

    on_bad_seed: Callable[[SeedError], None] | None = None
    on_plan: Callable[[int], None] | None = None  # dialogues planned for this call
    on_skip: Callable[[Seed], None] | None = None
    on_turn: Callable[[Turn], None] | None = None  # runs on a worker thread
    on_done: Callable[[Transcript, RunManifest], None] | None = None
    on_model_error: Callable[[Seed, ModelUnavailable], None] | None = None


@dataclass
class GenerationSummary:
    """What one call did."""

    out_path: Path
    dialogues: int = 0
    verified: int = 0
    model_errors: int = 0
    skipped_existing: int = 0
    bad_seeds: list[str] = field(default_factory=list)
    stop_reason: str = "done"
    report_path: Path | None = None


class Generation:
    """One ``generate`` job over a config; ``run`` may be called again to resume."""

    def __init__(
        self,
        config: AievConfig,
        *,
        options: GenerationOptions | None = None,
        events: GenerationEvents | None = None,
    ) -> None:
        self.base_config = config
        self.config = config
        self.options = options or GenerationOptions()
        self.events = events or GenerationEvents()
        self.gates = ModelGates(config)

    def run(self, seeds_paths: str | Path | Sequence[str | Path], out_dir: str | Path) -> GenerationSummary:
        """Run a dialogue per seed not yet in ``out_dir``; append each record when it ends.

        Raises:
            SeedError: A seeds file cannot be read.
            ConfigError: ``out_dir`` holds data made with another config (and not ``force``).
            SandboxUnavailable: Docker or the image cannot be used.
            ModelUnavailable: A model failed on every one of several dialogues in a row.
        """
        out = Path(out_dir)
        if isinstance(seeds_paths, (str, Path)):
            seeds_paths = [seeds_paths]
        summary = GenerationSummary(out_path=out / "dialogues.jsonl")
        seeds = read_seed_files(seeds_paths, on_error=lambda error: self._bad_seed(error, summary))
        if self.options.log_db is not None and self.options.backend != "threads":
            raise ConfigError("--log-db works with the threads backend only")
        store, errors = DialogueStore(out), ErrorLog(out)
        store.repair()
        self.config = self.base_config  # a second run() starts from the config as loaded
        manifest = self._open_manifest(out, store, errors)
        stage = StageController(self.base_config, out)
        self.config = stage.effective_config()
        self.gates = ModelGates(self.config)
        splitter = BlockSplitter(out / SPLITS_DIR, stage.settings.block_size, stage.settings.test_fraction)
        pending = self._pending(seeds, store.existing_ids(), summary)
        _call(self.events.on_plan, len(pending))
        cache = self._open_cache(out)
        try:
            run = _Run(self, store, errors, manifest, summary, cache)
            run.stage, run.splitter = stage, splitter
            run.execute(pending)
        except KeyboardInterrupt:
            summary.stop_reason = "interrupted"
            raise
        except Exception as exc:
            if summary.stop_reason == "done":
                summary.stop_reason = f"failed: {type(exc).__name__}"
            raise
        finally:
            manifest.sessions[-1].ended_at = utc_now("milliseconds")
            manifest.sessions[-1].status = summary.stop_reason
            if summary.stop_reason != "done":  # a record may have landed between the store and the counts
                manifest.recount(store.records(), errors.count())
            save_manifest(manifest, out)
            summary.report_path = _write_report(out)
        return summary

    def run_one(self, seed: Seed, agents: Agents, cancel: Cancellation | None = None) -> Transcript:
        """One dialogue with a worker's agents, stamped with the config hash.

        ``cancel``, once set, abandons it (``DialogueAbandoned``) at its next model call or sandbox run.
        """
        gate = self.gates if cancel is None else cancel.gate(lambda agent: self.gates(agent))
        on_turn, event = self.events.on_turn, cancel.event if cancel is not None else None
        return run_one(seed, agents, self.config, model_gate=gate, on_turn=on_turn, cancel=event)

    def start_workers(self, count: int, cache: Any = None) -> list[Agents]:
        """Build and start ``count`` workers' agents; their sandboxes start in parallel."""
        workers = [Agents.from_config(self.config, cache) for _ in range(count)]
        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                for future in [pool.submit(worker.start) for worker in workers]:
                    future.result()
        except BaseException:
            for worker in workers:
                worker.close()
            raise
        return workers

    def make_backend(self) -> Backend:
        """Where dialogues run: threads in this process, or Ray workers (``[ray]`` extra)."""
        if self.options.backend == "ray":
            from .ray_backend import RayBackend

            return RayBackend(self, address=self.options.ray_address)
        return ThreadBackend(self)

    def _open_manifest(self, out: Path, store: DialogueStore, errors: ErrorLog) -> RunManifest:
        manifest = load_manifest(out)
        config_hash = self.config.config_hash()
        # A folder with no dialogue yet holds no data of the other config (a first run that
        # failed before any record: Docker down, a wrong model name): the corrected config takes it.
        holds_data = manifest is not None and next(store.records(), None) is not None
        if holds_data and manifest.config_hash != config_hash and not self.options.force:
            raise ConfigError(
                f"{out} holds data made with another config (hash {manifest.config_hash}, this one "
                f"{config_hash}); use a new --out, or --force to add to it anyway"
            )
        if manifest is None or manifest.config_hash != config_hash:
            previous = manifest
            manifest = RunManifest(
                config_hash=config_hash,
                code_version=__version__,
                stage=self.config.stage,
                models=self.config.models_by_role(),
            )
            if previous is not None:  # forced: keep the history of the folder
                manifest.sessions = previous.sessions
        manifest.recount(store.records(), errors.count())
        options = {k: v for k, v in vars(self.options).items() if v is not None and k != "cache_path"}
        manifest.sessions.append(Session(started_at=utc_now("milliseconds"), options=options))
        save_manifest(manifest, out)
        return manifest

    def _pending(self, seeds: Iterator[Seed], done: set[str], summary: GenerationSummary) -> list[Seed]:
        pending = []
        for seed in seeds:
            if seed.id in done:
                summary.skipped_existing += 1
                _call(self.events.on_skip, seed)
            else:
                pending.append(seed)
        if self.options.max_dialogues is not None:
            pending = pending[: self.options.max_dialogues]
        return pending

    def _open_cache(self, out: Path) -> SqliteLLMCache | None:
        if not self.options.use_cache:
            return None
        return SqliteLLMCache(self.options.cache_path or out / CACHE_FILE)

    def _bad_seed(self, error: SeedError, summary: GenerationSummary) -> None:
        summary.bad_seeds.append(str(error))
        logger.warning("%s", error)
        _call(self.events.on_bad_seed, error)


class _Run:
    """The scheduling loop of one ``Generation.run`` call."""

    def __init__(
        self,
        generation: Generation,
        store: DialogueStore,
        errors: ErrorLog,
        manifest: RunManifest,
        summary: GenerationSummary,
        cache: SqliteLLMCache | None,
    ) -> None:
        self.generation = generation
        self.options = generation.options
        self.events = generation.events
        self.store, self.errors, self.manifest, self.summary = store, errors, manifest, summary
        self.cache = cache
        self.consecutive_model_errors = 0
        self.last_model_error: ModelUnavailable | None = None
        self.log_session: str | None = None
        self.manifest_saved_at = time.monotonic()
        self.stage: StageController | None = None
        self.splitter: BlockSplitter | None = None
        self.switch_to: str | None = None
        self.failure: Exception | None = None  # the first error of the loop, raised once nothing runs
        self.blocks_due: list[Block] = []  # closed blocks after the last decision (stage: auto)
        self.stage_job: Future[Decision | None] | None = None  # train_mode: overlap
        self.stage_job_newest = 0  # the newest block the job was given

    def _start_log(self, workers: list[Any]) -> None:
        if self.options.log_db is None:
            return
        agents = [agent for worker in workers for agent in (worker.questioner, worker.programmer, *worker.extras)]
        self.log_session = start_runtime_log(self.options.log_db, agents)

    def execute(self, seeds: list[Seed]) -> None:
        if self.splitter is not None:  # records a dead run stored but did not split; blocks it did not decide
            self.splitter.catch_up(self.store.records())
            self._after_blocks(self.splitter.blocks())
            self._apply_switch()
        if not seeds or self._limit_reached():
            self._await_stage_job()
            self.summary.stop_reason = self._limit_reached() or "done"
            return
        count = max(1, min(self.options.workers, len(seeds)))
        backend = self.generation.make_backend()
        workers = backend.start(count, self.cache)
        try:
            self._start_log(workers)
            self._schedule(iter(seeds), workers, backend)
        finally:
            if self.log_session is not None:
                stop_runtime_log()
            backend.close(workers)
        failed_throughout = self.summary.dialogues == 0 and self.summary.model_errors > 0
        if self.last_model_error is not None and (self.summary.stop_reason == "model_errors" or failed_throughout):
            self.summary.stop_reason = "model_errors"
            raise ModelUnavailable(
                f"{self.summary.model_errors} dialogue(s) failed on the model (see errors.jsonl), "
                f"{self.summary.dialogues} finished; last error: {self.last_model_error}"
            ) from self.last_model_error

    def _schedule(self, seeds: Iterator[Seed], workers: list[Any], backend: Backend) -> None:
        try:
            self._schedule_loop(seeds, workers, backend)
        except BaseException:
            self._abort_stage_job()
            raise

    def _schedule_loop(self, seeds: Iterator[Seed], workers: list[Any], backend: Backend) -> None:
        free = list(workers)
        running: dict[Future[Transcript], tuple[Seed, Any]] = {}
        stopping = False
        while True:
            while free and not stopping and self.switch_to is None:
                seed = next(seeds, None)
                if seed is None:
                    stopping = True
                    break
                worker = free.pop()
                running[backend.submit(seed, worker)] = (seed, worker)
            if not running:
                self._raise_kept_failure()
                if self.stage_job is not None:  # overlap: the run ends, or switches, when the job ends
                    self._await_stage_job()
                    continue
                if stopping or self.switch_to is None:
                    return
                restart_workers(self, backend, workers, self._apply_switch())
                free = list(workers)
                continue
            job = self.stage_job
            waiting: list[Future[Any]] = [*running, *([job] if job is not None else [])]
            finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                if future is job:
                    self._keep_going(self._stage_job_done)
                    continue
                seed, worker = running.pop(future)
                free.append(worker)
                self._keep_going(self._collect, seed, future)
            stopping = stopping or self.failure is not None
            reason = self._limit_reached()
            if reason and not stopping:
                stopping, self.summary.stop_reason = True, reason

    def _keep_going(self, step: Callable[..., None], *args: Any) -> None:
        """Run one step of the loop; an error (a dialogue's sandbox that cannot restart, a failed
        comparison) is kept, not raised: the rest of the batch and the dialogues in flight are
        still written, no new one starts, and the loop raises the first error when nothing runs."""
        try:
            step(*args)
        except Exception as exc:
            if self.failure is not None:
                logger.error("also failed: %s: %s", type(exc).__name__, exc)
                return
            self.failure = exc
            self.summary.stop_reason = f"failed: {type(exc).__name__}"
            logger.error("%s: %s; finishing the dialogues in flight, then stopping", type(exc).__name__, exc)

    def _raise_kept_failure(self) -> None:
        """Once nothing runs (every dialogue in flight is written), the run ends on the kept error."""
        if self.failure is not None:
            raise self.failure

    def _collect(self, seed: Seed, future: Future[Transcript]) -> None:
        try:
            transcript = future.result()
        except ModelUnavailable as exc:
            self._model_error(seed, exc)
            return
        if self.log_session is not None:
            transcript.trace = {"ag2_log_db": str(self.options.log_db), "ag2_session_id": self.log_session}
        record = transcript.to_dict()
        self.store.append(record)
        self.manifest.add(record)
        self._save_manifest_soon()
        if self.splitter is not None:
            block = self.splitter.add(record)
            if block is not None:
                self._after_blocks([block])
        self.consecutive_model_errors = 0
        self.summary.dialogues += 1
        self.summary.verified += int(transcript.verified)
        _call(self.events.on_done, transcript, self.manifest)

    def _model_error(self, seed: Seed, exc: ModelUnavailable) -> None:
        self.errors.append(seed, exc)
        self.manifest.add_model_error()
        self._save_manifest_soon()
        self.summary.model_errors += 1
        self.consecutive_model_errors += 1
        self.last_model_error = exc
        _call(self.events.on_model_error, seed, exc)

    def _after_blocks(self, blocks: list[Block]) -> None:
        """Blocks closed (at a boundary, or found at the start): train and compare now (``train_mode:
        wait``) or on a background thread (``overlap``; one job at a time, later blocks wait for it)."""
        if self.stage is None:
            return
        if self.stage_job is not None:
            self.blocks_due += blocks
            return
        self.blocks_due = self.stage.due([*self.blocks_due, *blocks])
        if not self.blocks_due:
            return
        if self.stage.settings.train_mode == "overlap":
            self.stage_job_newest = self.blocks_due[-1].index
            self.stage_job = start_in_background(self.stage.after_blocks, list(self.blocks_due))
            return
        self._decided(self.stage.after_blocks(self.blocks_due))

    def _stage_job_done(self) -> None:
        """The background job ended: take its decision; blocks closed meanwhile start the next job."""
        job, self.stage_job = self.stage_job, None
        if job is None:
            return
        self._decided(job.result())
        if self.switch_to is None and self.blocks_due and self.blocks_due[-1].index > self.stage_job_newest:
            self._after_blocks([])

    def _await_stage_job(self) -> None:
        try:
            while self.stage_job is not None:
                wait([self.stage_job])
                self._stage_job_done()
        except BaseException:
            self._abort_stage_job()
            raise

    def _abort_stage_job(self) -> None:
        """The run is ending on an error or Ctrl-C: stop the training of a background job."""
        if self.stage is not None and self.stage_job is not None and not self.stage_job.done():
            self.stage.abort()
            wait([self.stage_job], timeout=STAGE_JOB_ABORT_WAIT_S)

    def _decided(self, decision: Decision | None) -> None:
        if self.stage is None:
            return
        self.blocks_due = self.stage.due(self.blocks_due)
        if decision is None:
            return
        self.manifest.extra.setdefault("stage_decisions", []).append(decision.model_dump(mode="json"))
        self.manifest.extra["stage"] = decision.stage
        save_manifest(self.manifest, self.store.dir)
        if decision.switched:
            self.switch_to = decision.stage

    def _apply_switch(self) -> AievConfig:
        if self.stage is not None and self.switch_to is not None:
            self.generation.config = self.stage.effective_config()
            self.generation.gates = ModelGates(self.generation.config)
        self.switch_to = None
        return self.generation.config

    def _save_manifest_soon(self) -> None:
        """At most one manifest write a second: the records are fsynced one by one and are the
        source of truth (the next start recounts them), so the manifest may lag a little."""
        now = time.monotonic()
        if now - self.manifest_saved_at >= MANIFEST_SAVE_INTERVAL_S:
            save_manifest(self.manifest, self.store.dir)
            self.manifest_saved_at = now

    def _limit_reached(self) -> str | None:
        options, counts = self.options, self.manifest.counts
        if self.consecutive_model_errors >= options.max_consecutive_model_errors:
            return "model_errors"
        if options.max_samples is not None and counts.verified >= options.max_samples:
            return "max_samples"
        if options.max_budget_usd is not None and self.manifest.cost >= options.max_budget_usd:
            return "max_budget"
        return None


def _write_report(out: Path) -> Path | None:
    """The run report (JSON and Markdown) of everything in ``out``; None when there is nothing yet."""
    from .report import REPORT_MARKDOWN, write_report

    if not (out / "dialogues.jsonl").exists() and not (out / "errors.jsonl").exists():
        return None
    write_report(out)
    return out / REPORT_MARKDOWN


def _call(callback: Callable[..., None] | None, *values: Any) -> None:
    if callback is not None:
        callback(*values)
