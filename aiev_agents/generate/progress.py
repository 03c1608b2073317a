"""What ``aiev generate`` shows while it runs: a progress bar on a terminal, lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..dialogue.transcript import Transcript
from ..errors import ModelUnavailable, SeedError
from .job import GenerationEvents
from .manifest import RunManifest
from .seeds import Seed


def _stats(manifest: RunManifest) -> dict[str, str]:
    counts = manifest.counts
    done = max(counts.dialogues, 1)
    return {
        "verified": f"{counts.verified / done:.0%}",
        "rounds": f"{counts.rounds / done:.2f}",
        "tokens": f"{manifest.tokens:,}",
        "cost": f"${manifest.cost:.4f}",
    }


@contextmanager
def progress_events(*, bar: bool) -> Iterator[GenerationEvents]:
    """Events that report progress on stderr: a tqdm bar with ETA, or one line per dialogue."""
    state: dict[str, Any] = {"bar": None}

    def plan(total: int) -> None:
        if bar:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="dialogue", file=sys.stderr, dynamic_ncols=True)

    def done(transcript: Transcript, manifest: RunManifest) -> None:
        if state["bar"] is not None:
            state["bar"].set_postfix(_stats(manifest), refresh=False)
            state["bar"].update(1)
            return
        stats = _stats(manifest)
        print(
            f"{transcript.id}: {'verified' if transcript.verified else 'not verified'} "
            f"({transcript.status}, {transcript.rounds} round(s), {transcript.timings.wall_s:.1f} s) | "
            f"verified {stats['verified']}, mean rounds {stats['rounds']}, {stats['tokens']} tokens, {stats['cost']}",
            file=sys.stderr,
        )

    def model_error(seed: Seed, error: ModelUnavailable) -> None:
        _write(state, f"model error on {seed.id}: {error}")
        if state["bar"] is not None:
            state["bar"].update(1)

    def bad_seed(error: SeedError) -> None:
        _write(state, f"warning: {error}")

    try:
        yield GenerationEvents(on_bad_seed=bad_seed, on_plan=plan, on_done=done, on_model_error=model_error)
    finally:
        if state["bar"] is not None:
            state["bar"].close()


def _write(state: dict[str, Any], line: str) -> None:
    if state["bar"] is not None:
        state["bar"].write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)
