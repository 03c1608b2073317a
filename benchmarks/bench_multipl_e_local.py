"""pass@1 of the local models on MultiPL-E, per language, beside the Qwen2.5-Coder report's figures.

For each model and language it runs ``aiev eval --config agent_configs/local.yaml --model
student --benchmark multipl-e-<lang>`` (greedy, one sample per task) on the first ``--limit``
tasks of MultiPL-E's ``humaneval-<lang>-reworded.jsonl`` (in the file's order), then scores the
same replies again built the way MultiPL-E builds a completion model's program, from the
function alone (``prompt + completion``, no helpers), to show what keeping the helpers changes.
It prints one table: language, model, pass@1 (passed/tasks), pass@1 from the function alone,
and the Qwen2.5-Coder Technical Report's figure for the instruct model (arXiv 2409.12186v3,
Table 17, "instruct format MultiPL-E"; no Rust or Go there). Ours are q4_k_m quantized, asked
with this project's chat prompt, on a subset: a sanity check, not a replication.

    python benchmarks/bench_multipl_e_local.py [--models 0.5b 1.5b] [--languages js cpp ...]
        [--limit 15] [--data ../shared/data/multipl-e] [--out runs/bench_multipl_e_local]

A model's results already in ``--out`` (same limit) are reused: only the scoring runs again.
Needs the toolchains image (``aiev sandbox build --offline --toolchains``) and the models
(``aiev models fetch``). Run it alone: the models are slow on a busy CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiev_agents.cli import main as aiev  # noqa: E402
from aiev_agents.codeblocks import code_in_language  # noqa: E402
from aiev_agents.data.multipl_e import completion_from_code, language_of  # noqa: E402
from aiev_agents.evaluate import load_tasks  # noqa: E402

LANGUAGES = ("js", "cpp", "java", "rs", "go", "sh")
MODELS = {"0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m", "1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m"}
#: Qwen2.5-Coder Technical Report (arXiv 2409.12186v3), Table 17: instruct models on MultiPL-E.
REPORTED = {
    "0.5b": {"java": 46.2, "cpp": 43.5, "js": 50.3, "sh": 27.8},
    "1.5b": {"java": 55.7, "cpp": 50.9, "js": 62.1, "sh": 29.1},
}
LOCAL = ROOT / "agent_configs" / "local.yaml"
IMAGE = os.environ.get("AIEV_POLYGLOT_IMAGE", "aiev-sandbox-polyglot:latest")


def dataset(data: Path, language: str) -> Path:
    return data / f"humaneval-{language}-reworded.jsonl"


def generate(model: str, language: str, limit: int, data: Path, out: Path) -> dict:
    """The model's run on the language (reused when ``out`` holds one of the same limit)."""
    summary_path = out / "summary.json"
    if summary_path.exists():
        earlier = json.loads(summary_path.read_text())
        if earlier["counts"]["tasks"] == limit:
            return earlier
    os.environ["AIEV_LOCAL_MODEL"] = MODELS[model]
    argv = ["eval", "--config", str(LOCAL), "--model", "student", "--benchmark", f"multipl-e-{language}"]
    argv += ["--dataset", str(dataset(data, language)), "--limit", str(limit), "--image", IMAGE, "--out", str(out)]
    with contextlib.redirect_stdout(io.StringIO()):
        if aiev([*argv, "--quiet"]) != 0:
            raise SystemExit(f"aiev eval failed for {model} {language}")
    return json.loads(summary_path.read_text())


def function_alone(language: str, limit: int, data: Path, run: Path) -> dict:
    """The same replies scored as ``prompt + completion`` of the function alone (no helpers)."""
    tasks = {task.task_id: task for task in load_tasks(f"multipl-e-{language}", dataset(data, language)).tasks}
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    completions = run.parent / f"{run.name}-function-alone.jsonl"
    lines = []
    for row in rows:
        task = tasks[row["task_id"]]
        code = code_in_language(row["raw"], language_of(task.benchmark))
        lines.append(json.dumps({"task_id": row["task_id"], "completion": completion_from_code(task, code)}))
    completions.write_text("\n".join(lines) + "\n")
    out = run.parent / f"{run.name}-function-alone"
    argv = ["eval", "--benchmark", f"multipl-e-{language}", "--dataset", str(dataset(data, language))]
    argv += ["--limit", str(limit), "--completions", str(completions), "--image", IMAGE, "--out", str(out), "--quiet"]
    with contextlib.redirect_stdout(io.StringIO()):
        if aiev(argv) != 0:
            raise SystemExit(f"scoring the function alone failed for {run}")
    return json.loads((out / "summary.json").read_text())


def cell(summary: dict) -> str:
    passed = summary["counts"]["passed"]
    return f"{summary['pass@1']:.1%} ({passed}/{summary['counts']['tasks']})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--limit", type=int, default=15, help="the first N tasks of each file")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "multipl-e")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_multipl_e_local")
    args = parser.parse_args(argv)
    print("| language | model | pass@1 | function alone | Qwen2.5-Coder report (instruct) |\n|---|---|---|---|---|")
    for language in args.languages:
        for model in args.models:
            run = args.out / f"{model}-{language}-{args.limit}"
            summary = generate(model, language, args.limit, args.data, run)
            alone = function_alone(language, args.limit, args.data, run)
            reported = REPORTED[model].get(language)
            shown = f"{reported:.1f}%" if reported is not None else "not reported"
            print(f"| {language} | {model} | {cell(summary)} | {cell(alone)} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
