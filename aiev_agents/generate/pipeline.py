"""Many dialogues from seeds files into a store: the ``aiev generate`` job.

Dialogues run on worker threads, each worker with its own agents and sandbox; the calling
thread alone writes the store and the manifest, so each record is written whole, once. The
library never prints: progress reaches the caller through ``GenerationEvents``.

``Generation`` sets a run up and ends it; :mod:`.resume` takes up the folder, :mod:`.scheduler`
runs the dialogues, :mod:`.stage_switching` applies the stage switch, :mod:`.job` holds the
options, events and summary.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import AievConfig
from ..dialogue.transcript import Transcript
from ..errors import ConfigError, SeedError
from ..llm.cache import CACHE_FILE, SqliteLLMCache
from ..stage.splits import SPLITS_DIR, BlockSplitter
from ..stage.switch import StageController
from .job import GenerationEvents, GenerationOptions, GenerationSummary, notify
from .resume import close_session, open_manifest, pending_seeds
from .scheduler import RunScheduler
from .seeds import Seed, read_seed_files
from .stage_switching import StageSwitching
from .store import DialogueStore, ErrorLog
from .workers import Agents, Backend, Cancellation, ModelGates, ThreadBackend, run_one

__all__ = ["Generation", "GenerationEvents", "GenerationOptions", "GenerationSummary"]

logger = logging.getLogger(__name__)


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
        manifest = open_manifest(out, store, errors, self.config, self.options)
        stage = StageController(self.base_config, out)
        self.use_config(stage.effective_config())
        splitter = BlockSplitter(out / SPLITS_DIR, stage.settings.block_size, stage.settings.test_fraction)
        pending = pending_seeds(seeds, store.existing_ids(), summary, self.events, self.options.max_dialogues)
        notify(self.events.on_plan, len(pending))
        cache = self._open_cache(out)
        try:
            switching = StageSwitching(self, stage, splitter, manifest, store.dir)
            RunScheduler(self, store, errors, manifest, summary, cache, switching).execute(pending)
        except KeyboardInterrupt:
            summary.stop_reason = "interrupted"
            raise
        except Exception as exc:
            if summary.stop_reason == "done":
                summary.stop_reason = f"failed: {type(exc).__name__}"
            raise
        finally:
            close_session(manifest, out, store, errors, summary.stop_reason)
            summary.report_path = _write_report(out)
        return summary

    def use_config(self, config: AievConfig) -> None:
        """Play ``config`` from now on (a stage's roles): new dialogues use it, each model entry gets its gate."""
        self.config = config
        self.gates = ModelGates(config)

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

    def _open_cache(self, out: Path) -> SqliteLLMCache | None:
        if not self.options.use_cache:
            return None
        return SqliteLLMCache(self.options.cache_path or out / CACHE_FILE)

    def _bad_seed(self, error: SeedError, summary: GenerationSummary) -> None:
        summary.bad_seeds.append(str(error))
        logger.warning("%s", error)
        notify(self.events.on_bad_seed, error)


def _write_report(out: Path) -> Path | None:
    """The run report (JSON and Markdown) of everything in ``out``; None when there is nothing yet."""
    from .report import REPORT_MARKDOWN, write_report

    if not (out / "dialogues.jsonl").exists() and not (out / "errors.jsonl").exists():
        return None
    write_report(out)
    return out / REPORT_MARKDOWN
