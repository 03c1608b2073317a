"""Throughput of ``aiev generate`` against a model with a fixed latency, by worker count.

A scripted OpenAI-compatible server, in a process of its own, answers every call after a
fixed delay (200 ms by default); 32 snippet seeds make 32 dialogues of two model calls and one sandbox run each.
For each worker count, in the same run: wall time of the dialogues (sandbox start-up shown
apart), dialogues per minute, speed-up over one worker, and the framework overhead per
dialogue (its wall time minus model wait minus execution).

    python benchmarks/bench_generate.py [--seeds 32] [--latency 0.2] [--workers 1 2 4 8]

Needs a Docker engine and the sandbox image (AIEV_SANDBOX_IMAGE, default aiev-sandbox:latest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from multiprocessing import Event, Process, Queue
from pathlib import Path

from aiev_agents import load_config
from aiev_agents.generate.pipeline import Generation, GenerationEvents, GenerationOptions
from aiev_agents.testing import ScriptedServer, key_by_role

PROBLEM = "Write `add(a, b)` returning the sum of two integers, with unit tests."
PROGRAM = "```python\ndef add(a, b):\n    return a + b\n\n\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n```\n"


def write_inputs(folder: Path, base_url: str, image: str, seeds: int) -> tuple[Path, Path]:
    config = folder / "config.yaml"
    config.write_text(
        "models:\n  teacher:\n    backend: openai_compatible\n    model: bench\n"
        f"    base_url: {base_url}\n    max_retries: 0\n"
        f"sandbox:\n  image: {image}\n"
    )
    lines = [json.dumps({"id": f"s{i}", "snippet": f"def add_{i}(a, b):\n    return a + b\n"}) for i in range(seeds)]
    seeds_path = folder / "seeds.jsonl"
    seeds_path.write_text("\n".join(lines) + "\n")
    return config, seeds_path


def serve(seeds: int, latency_s: float, ready: Queue, stop: Event) -> None:
    """The scripted model in a process of its own, as a remote model would be."""
    scripts = {"questioner": [PROBLEM] * seeds, "programmer": [PROGRAM] * seeds}
    with ScriptedServer(scripts, key=key_by_role, latency_s=latency_s) as server:
        ready.put(server.base_url)
        stop.wait()


def measure(workers: int, seeds: int, latency_s: float, image: str, folder: Path) -> dict[str, float]:
    ready: Queue = Queue()
    stop = Event()
    server = Process(target=serve, args=(seeds, latency_s, ready, stop), daemon=True)
    server.start()
    try:
        config_path, seeds_path = write_inputs(folder, ready.get(timeout=30), image, seeds)
        last_record: list[float] = []
        events = GenerationEvents(on_done=lambda transcript, manifest: last_record.append(time.perf_counter()))
        options = GenerationOptions(workers=workers, use_cache=False)
        generation = Generation(load_config(config_path), options=options, events=events)
        started = time.perf_counter()
        ready: list[float] = []
        original = generation.start_workers

        def timed_start(count: int, cache: object = None) -> list:
            result = original(count, cache)
            ready.append(time.perf_counter())
            return result

        generation.start_workers = timed_start  # type: ignore[method-assign]
        summary = generation.run(seeds_path, folder / "out")
        ended = time.perf_counter()
    finally:
        stop.set()
        server.join(timeout=10)
    records = [json.loads(line) for line in (folder / "out" / "dialogues.jsonl").read_text().splitlines()]
    if summary.verified != seeds:
        raise SystemExit(f"only {summary.verified} of {seeds} dialogues verified with {workers} workers")
    overheads = [r["timings"]["wall_s"] - r["timings"]["model_s"] - r["timings"]["execution_s"] for r in records]
    client = [r["timings"]["model_s"] - 2 * latency_s for r in records]
    return {
        "workers": workers,
        "startup_s": ready[0] - started,
        "wall_s": last_record[-1] - ready[0],
        "teardown_s": ended - last_record[-1],
        "per_minute": seeds / (last_record[-1] - ready[0]) * 60,
        "overhead_ms": statistics.mean(overheads) * 1000,
        "client_ms": statistics.mean(client) * 1000,
        "execution_ms": statistics.mean(r["timings"]["execution_s"] for r in records) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--image", default=os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest"))
    args = parser.parse_args()

    rows = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure(workers, args.seeds, args.latency, args.image, Path(folder)))
    base = rows[0]["wall_s"]
    print(f"{args.seeds} dialogues, {args.latency * 1000:.0f} ms per model call, 2 calls + 1 run each")
    print(f"{os.cpu_count()} CPUs")
    header = (
        "workers  start-up s  wall s  teardown s  dialogues/min  speed-up  overhead ms/dlg  client ms/dlg  exec ms/dlg"
    )
    print(header)
    for row in rows:
        print(
            f"{row['workers']:>7}  {row['startup_s']:>10.2f}  {row['wall_s']:>6.2f}  {row['teardown_s']:>10.2f}"
            f"  {row['per_minute']:>13.1f}"
            f"  {base / row['wall_s']:>7.2f}x  {row['overhead_ms']:>15.1f}  {row['client_ms']:>13.1f}"
            f"  {row['execution_ms']:>11.1f}"
        )
    print("wall = sandboxes ready -> last record written (start-up and teardown shown apart)")
    print("overhead = dialogue wall time - model wait - execution; client = model wait - server latency")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
