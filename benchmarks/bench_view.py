"""`aiev view` on a big run: index build rate, first page, filter changes, against the targets.

Usage::

    python benchmarks/bench_view.py [--dialogues 100000] [--image aiev-sandbox:latest] [--keep DIR]

It makes a real run of 4 dialogues with `aiev generate` against the scripted teacher (Docker and
the sandbox image; the tests' run: verified first try, fixed in round 2, failed twice, ...), then
a synthetic run of ``--dialogues`` records that repeats those records with new ids and a numbered
problem, and measures, over HTTP to the viewer's server on 127.0.0.1:

* index build: records/s of a first ``refresh()`` (target ≥ 20,000/s);
* first page: a new viewer on the run whose index exists (as a second ``aiev view`` finds it),
  started and asked for the first list page (target ≤ 1 s);
* filter changes: each of a few list requests with other filters (target ≤ 200 ms each).

No baseline exists in the project (reading JSONL was the only way); the line ``read whole file``
shows what one pass of ``json.loads`` over every line costs, the floor of any reader that parses
each record (the index reads less: see ``aiev_agents/view/fastread.py``). The machine's load
average is printed too: on a shared machine the rates move with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from aiev_agents.view import ViewedRun, ViewServer  # noqa: E402

TARGET_INDEX_RATE = 20_000
TARGET_FIRST_PAGE_S = 1.0
TARGET_FILTER_S = 0.2
FILTERS = {
    "verified=no": "verified=no",
    "status=fail, rounds=2": "status=fail&rounds=2",
    "model + stage": "model=scripted-teacher&stage=teaching",
    "text in code, sorted by rounds": "q=return+a+*+b&sort=rounds&order=desc",
    "text in problem, page 100": "q=(variant+9999&offset=0",
    "page 1000 of all": "offset=50000",
}


def synthetic_run(template: list[dict], count: int, folder: Path) -> Path:
    """``count`` records repeating ``template`` with ids ``bench-N`` and a numbered problem."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dialogues.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for number in range(count):
            record = dict(template[number % len(template)])
            record["id"] = f"bench-{number:06d}"
            record["problem"] = f"{record['problem']} (variant {number})"
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def timed_get(url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    with urllib.request.urlopen(url) as response:
        body = json.load(response)
    return time.perf_counter() - started, body


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=100_000)
    parser.add_argument("--image", default="aiev-sandbox:latest")
    parser.add_argument("--keep", type=Path, help="build the synthetic run here and keep it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from view_runs import make_scripted_run

    with tempfile.TemporaryDirectory() as scratch:
        real = make_scripted_run(Path(scratch) / "real", args.image)
        template = [json.loads(line) for line in (real / "dialogues.jsonl").read_text().splitlines()]
        folder = args.keep or Path(scratch) / "synthetic"
        path = synthetic_run(template, args.dialogues, folder)
        size_mb = path.stat().st_size / 1e6
        print(f"synthetic run: {args.dialogues} dialogues, {size_mb:.0f} MB ({path})")
        cores, load = os.cpu_count(), os.getloadavg()[0]
        print(f"machine: {cores} cores, load average {load:.2f} (other work competes for the cores above {cores})")

        started = time.perf_counter()
        with path.open("rb") as handle:
            for line in handle:
                json.loads(line)
        floor_s = time.perf_counter() - started
        print(f"read whole file (json.loads per line): {floor_s:.2f} s, {args.dialogues / floor_s:,.0f} records/s")

        run = ViewedRun(folder)
        run.index.index_path.unlink(missing_ok=True)
        started = time.perf_counter()
        indexed = run.refresh()
        build_s = time.perf_counter() - started
        rate = indexed / build_s
        print(
            f"index build: {indexed} records in {build_s:.2f} s = {rate:,.0f} records/s "
            f"(target >= {TARGET_INDEX_RATE:,}: {verdict(rate >= TARGET_INDEX_RATE)})"
        )
        run.index.close()

        started = time.perf_counter()
        with ViewServer(ViewedRun(folder), port=0) as server:
            _, first = timed_get(server.url + "api/dialogues")
            first_s = time.perf_counter() - started
            print(
                f"first page (new viewer, index exists): {first_s * 1000:.0f} ms, {len(first['rows'])} of "
                f"{first['total']} rows (target <= {TARGET_FIRST_PAGE_S * 1000:.0f} ms: "
                f"{verdict(first_s <= TARGET_FIRST_PAGE_S)})"
            )
            worst = 0.0
            for name, query in FILTERS.items():
                seconds, body = timed_get(server.url + "api/dialogues?" + query)
                worst = max(worst, seconds)
                print(f"filter change {name!r}: {seconds * 1000:.0f} ms, {body['total']} match")
            print(
                f"slowest filter change: {worst * 1000:.0f} ms (target <= {TARGET_FILTER_S * 1000:.0f} ms: "
                f"{verdict(worst <= TARGET_FILTER_S)})"
            )
            seconds, _ = timed_get(server.url + "api/overview")
            print(f"overview, first time (the run report over every record): {seconds:.2f} s")
        with ViewServer(ViewedRun(folder), port=0) as server:
            seconds, _ = timed_get(server.url + "api/overview")
            print(f"overview, a new viewer (kept in the index): {seconds * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
