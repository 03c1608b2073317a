"""The scheduling loop of one ``Generation.run`` call: seeds to free workers, finished dialogues
to the store, limits checked after each, and the stage switch applied once nothing runs.

The calling thread alone writes the store and the manifest, so each record is written whole, once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from ..dialogue.transcript import Transcript
from ..errors import ModelUnavailable
from ..llm.cache import SqliteLLMCache
from ..llm.runtime_log import start_runtime_log, stop_runtime_log
from ..stage.switch import restart_workers
from .job import GenerationSummary, notify
from .manifest import RunManifest, save_manifest
from .seeds import Seed
from .stage_switching import StageSwitching
from .store import DialogueStore, ErrorLog
from .workers import Backend

if TYPE_CHECKING:
    from .pipeline import Generation

logger = logging.getLogger(__name__)

MANIFEST_SAVE_INTERVAL_S = 1.0


class RunScheduler:
    """Runs the pending seeds of one ``Generation.run`` call on a backend's workers."""

    def __init__(
        self,
        generation: Generation,
        store: DialogueStore,
        errors: ErrorLog,
        manifest: RunManifest,
        summary: GenerationSummary,
        cache: SqliteLLMCache | None,
        switching: StageSwitching,
    ) -> None:
        self.generation = generation
        self.options = generation.options
        self.events = generation.events
        self.store, self.errors, self.manifest, self.summary = store, errors, manifest, summary
        self.cache = cache
        self.switching = switching
        self.consecutive_model_errors = 0
        self.last_model_error: ModelUnavailable | None = None
        self.log_session: str | None = None
        self.manifest_saved_at = time.monotonic()
        self.failure: Exception | None = None  # the first error of the loop, raised once nothing runs

    def execute(self, seeds: list[Seed]) -> None:
        """Run a dialogue per seed until done or a limit.

        Raises:
            ModelUnavailable: Model errors in a row reached the limit, or every dialogue of the call was lost to one.
        """
        self.switching.catch_up(self.store.records())
        if not seeds or self._limit_reached():
            self.switching.await_job()
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

    def _start_log(self, workers: list[Any]) -> None:
        if self.options.log_db is None:
            return
        agents = [agent for worker in workers for agent in (worker.questioner, worker.programmer, *worker.extras)]
        self.log_session = start_runtime_log(self.options.log_db, agents)

    def _schedule(self, seeds: Iterator[Seed], workers: list[Any], backend: Backend) -> None:
        try:
            self._schedule_loop(seeds, workers, backend)
        except BaseException:
            self.switching.abort_job()
            raise

    def _schedule_loop(self, seeds: Iterator[Seed], workers: list[Any], backend: Backend) -> None:
        switching = self.switching
        free = list(workers)
        running: dict[Future[Transcript], tuple[Seed, Any]] = {}
        stopping = False
        while True:
            while free and not stopping and switching.switch_to is None:
                seed = next(seeds, None)
                if seed is None:
                    stopping = True
                    break
                worker = free.pop()
                running[backend.submit(seed, worker)] = (seed, worker)
            if not running:
                self._raise_kept_failure()
                if switching.job is not None:  # overlap: the run ends, or switches, when the job ends
                    switching.await_job()
                    continue
                if stopping or switching.switch_to is None:
                    return
                restart_workers(self, backend, workers, switching.apply_switch())
                free = list(workers)
                continue
            job = switching.job
            waiting: list[Future[Any]] = [*running, *([job] if job is not None else [])]
            finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                if future is job:
                    self._keep_going(switching.job_done)
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
        self.switching.add(record)
        self.consecutive_model_errors = 0
        self.summary.dialogues += 1
        self.summary.verified += int(transcript.verified)
        notify(self.events.on_done, transcript, self.manifest)

    def _model_error(self, seed: Seed, exc: ModelUnavailable) -> None:
        self.errors.append(seed, exc)
        self.manifest.add_model_error()
        self._save_manifest_soon()
        self.summary.model_errors += 1
        self.consecutive_model_errors += 1
        self.last_model_error = exc
        notify(self.events.on_model_error, seed, exc)

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
