"""Verified samples per hour from the local model, today's settings against each improvement.

Runs ``aiev generate`` with ``agent_configs/local.yaml`` on a fixed, shipped seed set
(``benchmarks/data/local_yield_seeds.jsonl``: 4 ready problems, one of them a package task, 7
snippets, 11 HumanEval+ problems) once per variant, in the same run, each in a fresh folder,
and prints one table, a row per variant (cumulative: each row adds one improvement):

* verified samples per hour (wall clock of the whole run), dialogues, verified;
* seconds, prompt tokens and generated tokens per dialogue (the records' ``usage``);
* first-round pass rate (round 1's program passed) and repair rate (dialogues whose round 1
  failed that still ended verified);
* correct share: of the verified samples whose seed is a HumanEval+ problem, the part whose
  solution passes HumanEval+'s own tests (``aiev audit``; needs ``--humaneval-plus``).

Variants:

* ``baseline``: a bare ``AssertionError``, the plain feedback request, every call evaluating
  its whole prompt (what the project shipped before these improvements);
* ``explain``: + a failed assert says what it compared (``sandbox.explain_assertions``);
* ``pointer``: + the questioner's feedback starts from the failing check and asks which side
  of it is wrong (``roles.questioner.options.point_at_check``);
* ``cache``: + the RAM prefix cache (``prefix_cache_mb: 1024``);
* ``loops``: + a reply that repeats one stretch over 128 tokens ends there (``loop_stop_tokens``);
* ``repeats``: + an answer repeating a program that already failed is sent back once before it
  runs (``dialogue.send_back_repeats``);
* ``slots``: ``pointer`` + each role's conversation kept in a llama.cpp slot of its own
  (``parallel: 2``) instead of the RAM cache;
* ``lock-w2``: ``cache`` with 2 workers taking turns on the model (one sequence at a time);
* ``slots-w2``, ``slots-w4``: 2 and 4 workers decoded in one batch (``parallel``: 2 slots per
  worker);
* ``cand-2``: one worker, two candidate programs per turn (``dialogue.candidates: 2``), sampled
  together (``parallel: 4``).
* ``t07``: ``loops`` sampled at temperature 0.7 instead of 0.2 (every other variant: 0.2, the
  temperature the project shipped): a repair round then draws a new program instead of the one
  that failed;
* ``t07-cand-2``: ``t07`` with two candidate programs per turn, sampled together (``parallel: 4``).
* ``t07-seeds``: ``t07`` with each call's seed derived from the seed and its prompt (every
  other variant: ``fixed_seed: true``, one seed for every call, as the project shipped), so a
  repair round draws other random numbers than the round that failed;
* ``t07-prose``: ``t07-seeds`` with a questioner that stops at the first code fence it opens
  (``roles.questioner.options.stop_at_code``): its problems and explanations hold no program
  for the programmer to copy, and no time goes into generating one.

Besides the table's other columns, ``gen tok/s`` is the generated tokens of all dialogues per
second of the run's wall clock (aggregate over workers).

    python benchmarks/bench_local_yield.py [--model M] [--every K] [--limit N] [--variants baseline explain ...]
        [--humaneval-plus ../shared/data/HumanEvalPlus-v0.1.10.jsonl.gz] [--out runs/bench_local_yield] [--json F]

Needs the sandbox image and the local model (``aiev models fetch``). Run it alone: llama.cpp
on a busy CPU is several times slower, and the variants are compared by their wall clock.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiev_agents import load_config  # noqa: E402
from aiev_agents.generate.pipeline import Generation, GenerationOptions  # noqa: E402
from aiev_agents.jsonl import read_records  # noqa: E402

SEEDS = ROOT / "benchmarks" / "data" / "local_yield_seeds.jsonl"
LOCAL = ROOT / "agent_configs" / "local.yaml"
PROMPT_CACHE = {"prefix_cache_mb": 1024}
LOOP_STOP = {"loop_stop_tokens": 128}
#: The model settings a variant sets; local.yaml's own values of them are dropped first.
SWITCHED = ("prefix_cache_mb", "parallel", "loop_stop_tokens", "fixed_seed")


def _variant(
    explain: bool,
    pointer: bool,
    load: dict[str, Any],
    *,
    workers: int = 1,
    candidates: int = 1,
    send_back_repeats: bool = False,
    temperature: float = 0.2,
    stop_at_code: bool = False,
    fixed_seed: bool = True,
) -> dict[str, Any]:
    """A variant's switches; ``fixed_seed`` (every call sampled with the seed itself) is how the
    project shipped, so every variant before ``t07-seeds`` keeps it."""
    if fixed_seed:
        load = {**load, "fixed_seed": True}
    return {
        "send_back_repeats": send_back_repeats,
        "temperature": temperature,
        "sandbox": {"explain_assertions": explain},
        "questioner": {"point_at_check": pointer, "stop_at_code": stop_at_code},
        "load": load,
        "workers": workers,
        "candidates": candidates,
    }


VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": _variant(False, False, {}),
    "explain": _variant(True, False, {}),
    "pointer": _variant(True, True, {}),
    "cache": _variant(True, True, PROMPT_CACHE),
    "loops": _variant(True, True, {**PROMPT_CACHE, **LOOP_STOP}),
    "repeats": _variant(True, True, {**PROMPT_CACHE, **LOOP_STOP}, send_back_repeats=True),
    "slots": _variant(True, True, {"parallel": 2}),
    "lock-w2": _variant(True, True, PROMPT_CACHE, workers=2),
    "slots-w2": _variant(True, True, {"parallel": 4}, workers=2),
    "slots-w4": _variant(True, True, {"parallel": 8}, workers=4),
    "cand-2": _variant(True, True, {"parallel": 4}, candidates=2),
    "t07": _variant(True, True, {**PROMPT_CACHE, **LOOP_STOP}, temperature=0.7),
    "t07-cand-2": _variant(True, True, {"parallel": 4, **LOOP_STOP}, candidates=2, temperature=0.7),
    "t07-seeds": _variant(True, True, {**PROMPT_CACHE, **LOOP_STOP}, temperature=0.7, fixed_seed=False),
    "t07-prose": _variant(
        True, True, {**PROMPT_CACHE, **LOOP_STOP}, temperature=0.7, fixed_seed=False, stop_at_code=True
    ),
}


def variant_config(name: str, model: str, folder: Path) -> Path:
    """``local.yaml`` with the variant's switches, written to ``folder``."""
    os.environ["AIEV_LOCAL_MODEL"] = model
    os.environ.setdefault("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest")
    data = yaml.safe_load(LOCAL.read_text())
    switches = VARIANTS[name]
    data["sandbox"].update(switches["sandbox"])
    data["roles"]["questioner"] = {"options": switches["questioner"]}
    params = data["models"]["student"].get("params", {})
    kept = {key: value for key, value in params.items() if key not in SWITCHED}
    data["models"]["student"]["params"] = {**kept, **switches["load"]}
    data["dialogue"]["candidates"] = switches["candidates"]
    data["dialogue"]["send_back_repeats"] = switches["send_back_repeats"]
    data["models"]["student"]["temperature"] = switches["temperature"]
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def every_kth(seeds: Path, k: int, out: Path) -> Path:
    """``seeds`` itself for ``k`` 1, else a copy in ``out`` of its lines 1, 1 + k, 1 + 2k, ..."""
    if k <= 1:
        return seeds
    out.mkdir(parents=True, exist_ok=True)
    lines = [line for line in seeds.read_text().splitlines() if line.strip()]
    picked = out / f"seeds-every-{k}.jsonl"
    picked.write_text("".join(f"{line}\n" for line in lines[::k]))
    return picked


def run_variant(name: str, model: str, seeds: Path, out: Path, limit: int | None) -> dict[str, Any]:
    """One generate run of the variant; its wall clock and records."""
    folder = out / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = load_config(variant_config(name, model, out))
    options = GenerationOptions(workers=VARIANTS[name]["workers"], max_dialogues=limit, use_cache=False)
    started = time.perf_counter()
    Generation(config, options=options).run(seeds, folder / "run")
    wall_s = time.perf_counter() - started
    records = list(read_records(folder / "run" / "dialogues.jsonl"))
    return {"name": name, "wall_s": wall_s, "records": records, "run_dir": folder / "run"}


def figures(result: dict[str, Any], correct: dict[str, bool]) -> dict[str, Any]:
    """The table row of one variant (``correct``: record id -> its solution passes the benchmark)."""
    records = result["records"]
    verified = [r for r in records if r["verified"]]
    first_failed = [r for r in records if r["executions"] and r["executions"][0]["status"] != "pass"]
    judged = [r for r in verified if r["id"] in correct]
    usage = [sum_usage(r) for r in records]
    return {
        "variant": result["name"],
        "dialogues": len(records),
        "verified": len(verified),
        "verified_per_hour": len(verified) / result["wall_s"] * 3600 if result["wall_s"] else 0.0,
        "s_per_dialogue": result["wall_s"] / len(records) if records else 0.0,
        "tokens_per_s": sum(u[1] for u in usage) / result["wall_s"] if result["wall_s"] else 0.0,
        "prompt_tokens": statistics.fmean(u[0] for u in usage) if usage else 0.0,
        "generated_tokens": statistics.fmean(u[1] for u in usage) if usage else 0.0,
        "first_round_pass": ratio(sum(1 for r in records if r not in first_failed and r["executions"]), len(records)),
        "repair_rate": ratio(sum(1 for r in first_failed if r["verified"]), len(first_failed)),
        "correct_share": ratio(sum(1 for r in judged if correct[r["id"]]), len(judged)),
    }


def sum_usage(record: dict[str, Any]) -> tuple[int, int]:
    usage = record.get("usage") or {}
    return sum(u.get("prompt_tokens", 0) for u in usage.values()), sum(
        u.get("completion_tokens", 0) for u in usage.values()
    )


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def correctness(run_dir: Path, source: Path | None) -> dict[str, bool]:
    """Record id -> does its solution pass HumanEval+'s tests (records of HumanEval+ seeds only)."""
    if source is None:
        return {}
    from aiev_agents.evaluate.audit import audit
    from aiev_agents.sandbox.settings import SandboxSettings

    image = os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest")
    result = audit(run_dir, "humaneval+", source, SandboxSettings(image=image))
    return {row["id"]: row["correct"] for row in result["rows"] if row.get("correct") is not None}


def render(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'variant':10} {'dialogues':>9} {'verified':>8} {'verif/h':>8} {'s/dial':>7} {'gen tok/s':>9} "
        f"{'prompt':>7} {'gen':>6} "
        f"{'1st pass':>8} {'repair':>7} {'correct':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['variant']:10} {row['dialogues']:>9} {row['verified']:>8} {row['verified_per_hour']:>8.1f} "
            f"{row['s_per_dialogue']:>7.0f} {row['tokens_per_s']:>9.1f} {row['prompt_tokens']:>7.0f} "
            f"{row['generated_tokens']:>6.0f} "
            f"{pct(row['first_round_pass']):>8} {pct(row['repair_rate']):>7} {pct(row['correct_share']):>7}"
        )
    if rows:
        base = rows[0]["verified_per_hour"]
        lines.append("")
        lines += [f"{r['variant']}: {r['verified_per_hour'] / base:.2f}x baseline" for r in rows[1:] if base]
    return "\n".join(lines)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    parser.add_argument("--seeds", type=Path, default=SEEDS)
    parser.add_argument("--limit", type=int, default=None, help="the first N seeds only")
    parser.add_argument("--every", type=int, default=1, help="every K-th seed only (from the first), before --limit")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--humaneval-plus", type=Path, default=None, help="HumanEval+ file, for the correct share")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_local_yield")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    seeds = every_kth(args.seeds, args.every, args.out)
    for name in args.variants:
        result = run_variant(name, args.model, seeds, args.out, args.limit)
        rows.append(figures(result, correctness(result["run_dir"], args.humaneval_plus)))
        print(render(rows), flush=True)
        print()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
