"""Dialogues at once on one local model: calls that take turns against calls decoded in one batch.

Each of W threads replays the six model calls of a three-round dialogue (``bench_local_turns``'s
calls, each thread on a snippet of its own) through its own ``LlamaCppClient`` on one shared
model, as W ``--workers`` of ``aiev generate`` would. Variants, interleaved and repeated so a
noisy machine hits them alike:

* ``lock``: the default; calls into the model take turns (one sequence at a time), with the RAM
  prefix cache (``prefix_cache_mb``);
* ``slots``: ``parallel: 2W``; the W threads' calls are decoded together in one batch, each role's
  conversation in a slot of its own.

Printed per variant and W: wall seconds, tokens generated and evaluated (all threads), the
aggregate generated tokens per second, and the speed-up over ``lock`` with W = 1.

    python benchmarks/bench_local_concurrency.py [--model qwen2.5-coder-0.5b-instruct-q4_k_m] [--workers 1 2 4]
        [--repeat 2]

Run it alone: llama.cpp on a busy CPU is several times slower.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_local_turns import dialogue_calls  # noqa: E402

from aiev_agents.llm.clients.llama_cpp import LlamaCppClient, clear_loaded_models  # noqa: E402

SNIPPETS = (
    "def clamp(value, low, high):\n    return max(low, min(value, high))\n",
    "def is_palindrome(text):\n    cleaned = [c.lower() for c in text if c.isalnum()]\n"
    "    return cleaned == cleaned[::-1]\n",
    "def chunks(items, size):\n    return [items[i:i + size] for i in range(0, len(items), size)]\n",
    "def word_count(text):\n    counts = {}\n    for word in text.split():\n"
    "        counts[word] = counts.get(word, 0) + 1\n    return counts\n",
)


def run(model: str, n_ctx: int, workers: int, load: dict[str, Any]) -> dict[str, float]:
    """W threads replay a dialogue each on one shared model; wall clock and token counts."""
    clear_loaded_models()
    config = {"model": model, "n_ctx": n_ctx, **load}
    clients = [LlamaCppClient(config) for _ in range(workers)]
    rows: list[list[dict[str, Any]]] = [[] for _ in range(workers)]

    def replay(index: int) -> None:
        rows[index] = dialogue_calls(clients[index], SNIPPETS[index % len(SNIPPETS)])

    threads = [threading.Thread(target=replay, args=(index,)) for index in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    calls = [row for thread_rows in rows for row in thread_rows]
    generated = sum(row["generated"] for row in calls)
    return {"wall_s": wall, "generated": generated, "evaluated": sum(row["evaluated"] for row in calls),
            "tokens_per_s": generated / wall}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    variants = {"lock": lambda w: {"prefix_cache_mb": 1024}, "slots": lambda w: {"parallel": 2 * w}}
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    for repeat in range(args.repeat):
        for workers in args.workers:
            for name, load in variants.items():
                result = run(args.model, args.n_ctx, workers, load(workers))
                results.setdefault((name, workers), []).append(result)
                print(f"repeat {repeat + 1}: {name} W={workers}: {result['wall_s']:.1f} s, "
                      f"{result['generated']} generated, {result['tokens_per_s']:.1f} tok/s", flush=True)  # fmt: skip
    base = statistics.median(r["tokens_per_s"] for r in results[("lock", min(args.workers))])
    print(f"\n{'variant':8} {'W':>2} {'wall s':>7} {'generated':>9} {'evaluated':>9} {'tok/s':>6} {'vs lock W=1':>11}")
    for (name, workers), runs in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"{name:8} {workers:>2} {median['wall_s']:>7.1f} {median['generated']:>9.0f} {median['evaluated']:>9.0f} "
              f"{median['tokens_per_s']:>6.1f} {median['tokens_per_s'] / base:>10.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
