"""What ``aiev generate`` shows while it runs: a progress bar on a terminal, lines otherwise.

Between dialogues it shows what is running (dialogue, round, role) and a local model's live
tokens per second: in the bar's description on a terminal; as plain lines otherwise, when a
step starts and ends and every ``LINE_EVERY_S`` while a model generates.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import activity
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

    live = _LiveSteps(state)
    try:
        with activity.listen(live.on_event):
            yield GenerationEvents(on_bad_seed=bad_seed, on_plan=plan, on_done=done, on_model_error=model_error)
    finally:
        if state["bar"] is not None:
            state["bar"].close()


def _write(state: dict[str, Any], line: str) -> None:
    if state["bar"] is not None:
        state["bar"].write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


#: While a model generates, a plain line at most this often.
LINE_EVERY_S = 15.0
#: The bar's description is redrawn at most this often while tokens arrive.
BAR_EVERY_S = 0.25


class _LiveSteps:
    """Shows each step of the running dialogues: a bar's description, or plain lines."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.lock = threading.Lock()
        self.last_shown = 0.0
        self.last_kind = ""

    def on_event(self, event: activity.ActivityEvent) -> None:
        with self.lock:
            if self.state["bar"] is not None:
                self._describe(event)
            else:
                self._line(event)

    def _describe(self, event: activity.ActivityEvent) -> None:
        now = time.monotonic()
        if event.kind == "tokens" == self.last_kind and now - self.last_shown < BAR_EVERY_S:
            return
        self.last_shown, self.last_kind = now, event.kind
        text = "" if event.kind == "finished" else step_text(event)
        self.state["bar"].set_description_str(text, refresh=True)

    def _line(self, event: activity.ActivityEvent) -> None:
        now = time.monotonic()
        if event.kind == "tokens":
            if now - self.last_shown < LINE_EVERY_S:
                return
        elif event.kind == "started" and event.step.kind != "model":
            return  # a sandbox run or the checks: one line when done
        self.last_shown = now
        print(step_text(event), file=sys.stderr, flush=True)


def step_text(event: activity.ActivityEvent) -> str:
    """One step as shown: ``seed-3 round 2 programmer: generating, 143 tokens, 16.8 tok/s (8.5 s)``."""
    step = event.step
    where = f"round {step.round}" if step.round else "problem"
    head = f"{step.dialogue} {where} {step.role}"
    if event.kind == "started":
        return f"{head}: started"
    parts = []
    if event.tokens is not None:
        parts.append(f"{event.tokens} tokens")
    rate = event.tokens_per_s
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    timing = f"({event.elapsed_s:.1f} s)"
    state = "done" if event.kind == "finished" else "generating"
    return f"{head}: {state}" + (f", {', '.join(parts)}" if parts else "") + f" {timing}"
