"""Per-execution latency and start-up time: bare interpreter vs AG2's Docker executor vs ours.

Usage::

    python benchmarks/bench_sandbox.py [--runs 50] [--image aiev-sandbox:latest] [--pool 4]

For ``print(1)`` and for a program importing ``json`` and ``re`` it times, ``--runs`` times
each after 3 warm-up runs:

* floor: ``sys.executable -I -S -c PROGRAM`` on the host, through ``subprocess`` (no container);
* AG2: ``autogen.coding.DockerCommandLineCodeExecutor`` on the same image (a ``docker exec``
  of ``timeout N python FILE`` per run; it needs ``python`` and ``timeout`` in the image);
* ours: ``DockerSandbox.run`` (the warm runner forks a child per run).

It prints p50/p95 per execution side by side with ratios, then container start-up times
(ours, AG2's, and a pool of ``--pool`` sandboxes started in parallel).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiev_agents.sandbox import DockerSandbox, SandboxPool, SandboxSettings  # noqa: E402

PROGRAMS = {"print(1)": "print(1)\n", "import json, re": "import json, re\nprint(1)\n"}
WARMUP = 3


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def floor_call(code: str) -> Callable[[], object]:
    command = [sys.executable, "-I", "-S", "-c", code]

    def call() -> None:
        done = subprocess.run(command, capture_output=True, check=True)
        assert done.stdout == b"1\n"

    return call


def ours_call(box: DockerSandbox, code: str) -> Callable[[], object]:
    def call() -> None:
        result = box.run(code)
        assert result.output == "1\n", result

    return call


def ag2_call(executor: object, code: str) -> Callable[[], object]:
    from autogen.coding import CodeBlock

    blocks = [CodeBlock(code=code, language="python")]

    def call() -> None:
        result = executor.execute_code_blocks(blocks)  # type: ignore[attr-defined]
        assert result.output == "1\n", result

    return call


def bench_ours(settings: SandboxSettings, runs: int) -> tuple[dict[str, tuple[float, float]], float]:
    started = time.perf_counter()
    box = DockerSandbox(settings)
    try:
        box.start()
        startup = time.perf_counter() - started
        return {name: timed(ours_call(box, code), runs) for name, code in PROGRAMS.items()}, startup
    finally:
        box.stop()


def bench_ag2(image: str, runs: int) -> tuple[dict[str, tuple[float, float]], float]:
    from autogen.coding import DockerCommandLineCodeExecutor

    with tempfile.TemporaryDirectory(prefix="aiev-bench-ag2-") as work_dir:
        started = time.perf_counter()
        executor = DockerCommandLineCodeExecutor(image=image, timeout=30, work_dir=work_dir)
        try:  # it leaks its container if this process is killed: stop it whatever happens
            startup = time.perf_counter() - started
            return {name: timed(ag2_call(executor, code), runs) for name, code in PROGRAMS.items()}, startup
        finally:
            executor.stop()


def bench_pool(settings: SandboxSettings, size: int) -> float:
    pool = SandboxPool(settings, size=size)
    started = time.perf_counter()
    try:
        pool.start()
        return time.perf_counter() - started
    finally:
        pool.close()


def report(floor: dict, ag2: dict, ours: dict, runs: int) -> None:
    print(f"\nPer execution, {runs} runs each after {WARMUP} warm-up runs (milliseconds):\n")
    head = f"{'program':<16} {'floor p50':>9} {'p95':>6} {'AG2 p50':>8} {'p95':>6} {'ours p50':>9} {'p95':>6}"
    print(head + f" {'ours/floor':>10} {'AG2/ours':>9}")
    for name in PROGRAMS:
        (f50, f95), (a50, a95), (o50, o95) = floor[name], ag2[name], ours[name]
        cells = f"{f50:9.2f} {f95:6.2f} {a50:8.2f} {a95:6.2f} {o50:9.2f} {o95:6.2f}"
        print(f"{name:<16} {cells} {o50 / f50:9.2f}x {a50 / o50:8.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per program (default: 50)")
    parser.add_argument("--image", default="aiev-sandbox:latest", help="image for AG2 and ours")
    parser.add_argument("--pool", type=int, default=4, help="sandboxes in the parallel start (default: 4)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = SandboxSettings(image=args.image, pull=False)
    floor = {name: timed(floor_call(code), args.runs) for name, code in PROGRAMS.items()}
    ag2, ag2_start = bench_ag2(args.image, args.runs)
    ours, ours_start = bench_ours(settings, args.runs)
    pool_start = bench_pool(settings, args.pool)
    report(floor, ag2, ours, args.runs)
    print("\nContainer start-up (seconds, until the first program can run):\n")
    print(f"ours, one sandbox               {ours_start:6.3f}")
    print(f"AG2 DockerCommandLineCodeExecutor {ag2_start:4.3f}")
    print(f"ours, pool of {args.pool} in parallel      {pool_start:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
