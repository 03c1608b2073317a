"""Many dialogues from a seeds file into a store: the ``aiev generate`` job.

The library never prints: progress reaches the caller through ``on_event``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import AievConfig
from .dialogue import run_dialogue
from .errors import SeedError
from .roles import ExecutorAgent, ProgrammerAgent, QuestionerAgent
from .seeds import Seed, read_seed_files
from .store import DialogueStore
from .transcript import Transcript, Turn

logger = logging.getLogger(__name__)


@dataclass
class GenerationEvents:
    """Callbacks a caller may set to watch a run; each is optional."""

    on_bad_seed: Callable[[SeedError], None] | None = None
    on_skip: Callable[[Seed], None] | None = None
    on_start: Callable[[Seed], None] | None = None
    on_turn: Callable[[Turn], None] | None = None
    on_done: Callable[[Transcript], None] | None = None


@dataclass
class GenerationSummary:
    """What one run did."""

    out_path: Path
    dialogues: int = 0
    verified: int = 0
    skipped_existing: int = 0
    bad_seeds: list[str] = field(default_factory=list)


@dataclass
class Agents:
    """The three roles of one dialogue at a time, and the sandbox they hold."""

    questioner: QuestionerAgent
    programmer: ProgrammerAgent
    executor: ExecutorAgent

    @classmethod
    def from_config(cls, config: AievConfig) -> Agents:
        return cls(
            questioner=QuestionerAgent.from_config(config),
            programmer=ProgrammerAgent.from_config(config),
            executor=ExecutorAgent.from_config(config),
        )

    def start(self) -> None:
        """Make the sandbox ready before any model is called (fails fast when Docker is down)."""
        start = getattr(self.executor.code_executor, "start", None)
        if callable(start):
            start()

    def close(self) -> None:
        self.executor.close()


class Generation:
    """One ``generate`` job: a config, a seeds file and an output folder."""

    def __init__(self, config: AievConfig, *, events: GenerationEvents | None = None) -> None:
        self.config = config
        self.events = events or GenerationEvents()

    def run(
        self,
        seeds_paths: str | Path | Sequence[str | Path],
        out_dir: str | Path,
        *,
        limit: int | None = None,
    ) -> GenerationSummary:
        """Run a dialogue per seed not yet in ``out_dir`` and append each record when it ends.

        Args:
            seeds_paths: One JSONL seeds file or several, read in order.
            out_dir: Output folder; ``dialogues.jsonl`` is appended to.
            limit: Most dialogues to run in this call.

        Raises:
            SeedError: The seeds file cannot be read.
            SandboxUnavailable: Docker or the image cannot be used.
            ModelUnavailable: A model failed; the dialogue in flight is not written.
        """
        store = DialogueStore(out_dir)
        store.repair()
        done_ids = store.existing_ids()
        summary = GenerationSummary(out_path=store.path)
        if isinstance(seeds_paths, (str, Path)):
            seeds_paths = [seeds_paths]
        seeds = read_seed_files(seeds_paths, on_error=lambda error: self._bad_seed(error, summary))
        agents = Agents.from_config(self.config)
        try:
            agents.start()
            for seed in seeds:
                if limit is not None and summary.dialogues >= limit:
                    break
                if seed.id in done_ids:
                    summary.skipped_existing += 1
                    _call(self.events.on_skip, seed)
                    continue
                transcript = self.run_one(seed, agents)
                store.append(transcript.to_dict())
                done_ids.add(seed.id)
                summary.dialogues += 1
                summary.verified += int(transcript.verified)
                _call(self.events.on_done, transcript)
        finally:
            agents.close()
        return summary

    def run_one(self, seed: Seed, agents: Agents) -> Transcript:
        """One dialogue with the run's agents, stamped with the config hash."""
        _call(self.events.on_start, seed)
        transcript = run_dialogue(
            seed,
            questioner=agents.questioner,
            programmer=agents.programmer,
            executor=agents.executor,
            max_rounds=self.config.dialogue.max_rounds,
            stage=self.config.stage,
            on_turn=self.events.on_turn,
        )
        transcript.config_hash = self.config.config_hash()
        return transcript

    def _bad_seed(self, error: SeedError, summary: GenerationSummary) -> None:
        summary.bad_seeds.append(str(error))
        logger.warning("%s", error)
        _call(self.events.on_bad_seed, error)


def _call(callback: Callable[[Any], None] | None, value: Any) -> None:
    if callback is not None:
        callback(value)
