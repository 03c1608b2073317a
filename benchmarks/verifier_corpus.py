"""Build the verifier benchmark's corpus: model-written programs labelled by ground truth.

Three steps, each resumable (rows already in the corpus are skipped), run in any number of parts:

    python benchmarks/verifier_corpus.py generate --model qwen2.5-coder-0.5b-instruct-q4_k_m --samples 2
    python benchmarks/verifier_corpus.py tests --model qwen2.5-coder-1.5b-instruct-q4_k_m
    python benchmarks/verifier_corpus.py label

``generate`` asks the programmer role (its system prompt and task turn, as in a dialogue) for a
program, solution plus its own tests, for each HumanEval+ problem (``--benchmark mbpp`` for
MBPP), ``--samples`` times at ``--temperature``. ``tests`` asks the test writer role for hidden
tests once per problem. ``label`` runs each program's solution (its test code removed by the
one definition of test code) against the benchmark's own tests in the sandbox: HumanEval+'s
base and plus inputs, MBPP's assert lines. A program is ``correct`` when both pass.

The JavaScript and C++ slices (``--benchmark multipl_e_js`` / ``multipl_e_cpp``) ask for the
MultiPL-E problem in that language with the task turn a dialogue in that language gets
(tests the sandbox counts), and ``label`` runs the program's function (its ``main`` and tests
left out, its helpers kept, as ``aiev eval`` builds a chat model's answer) with MultiPL-E's
own test program in the toolchains image (``AIEV_POLYGLOT_IMAGE``): correct when it exits 0.

The corpus lives in ``benchmarks/data/verifier_corpus/`` as gzipped JSONL (``programs``,
``hidden_tests``, ``labels``: one per program id) plus ``config.yaml``, the model settings
that made it. Rows are written
whole, the files rewritten atomically every few rows, so a killed run loses at most those.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiev_agents.atomic import write_atomic  # noqa: E402
from aiev_agents.data.benchmarks import BenchmarkTask, problem_statement  # noqa: E402

CORPUS_DIR = ROOT / "benchmarks" / "data" / "verifier_corpus"
PROGRAMS = CORPUS_DIR / "programs.jsonl.gz"
HIDDEN_TESTS = CORPUS_DIR / "hidden_tests.jsonl.gz"
LABELS = CORPUS_DIR / "labels.jsonl.gz"
CONFIG = CORPUS_DIR / "config.yaml"
SHARED_DATA = ROOT.parent / "shared" / "data"
SOURCES = {
    "humaneval_plus": SHARED_DATA / "HumanEvalPlus-v0.1.10.jsonl.gz",
    "mbpp": SHARED_DATA / "mbpp.jsonl",
    "multipl_e_js": SHARED_DATA / "multipl-e" / "humaneval-js-reworded.jsonl",
    "multipl_e_cpp": SHARED_DATA / "multipl-e" / "humaneval-cpp-reworded.jsonl",
}
FLUSH_EVERY = 5


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a corpus file; [] when it does not exist yet."""
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite a corpus file whole (sorted, gzipped with a fixed mtime: reproducible bytes)."""
    rows = sorted(rows, key=lambda row: row["id"])
    text = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    data = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def load(benchmark: str, limit: int | None = None, start: int = 0) -> list[BenchmarkTask]:
    from aiev_agents.data.benchmarks import load_benchmark
    from aiev_agents.data.multipl_e import BENCHMARK_PREFIX, is_multipl_e, load_multipl_e

    if is_multipl_e(benchmark):
        tasks = load_multipl_e(benchmark[len(BENCHMARK_PREFIX) :], SOURCES[benchmark])
    else:
        tasks = load_benchmark(benchmark, SOURCES[benchmark])
    tasks = tasks[start:]
    return tasks[:limit] if limit else tasks


def _client(model: str, temperature: float, max_tokens: int) -> tuple[Any, dict[str, Any]]:
    from aiev_agents.config import ModelSpec
    from aiev_agents.evaluate.model import _wrapper

    spec = ModelSpec(
        backend="llama_cpp",
        model=model,
        n_ctx=4096,
        temperature=temperature,
        max_tokens=max_tokens,
        params={"repeat_penalty": 1.1},
    )
    settings = {"backend": "llama_cpp", "model": model, "n_ctx": 4096, "temperature": temperature,
                "max_tokens": max_tokens, "params": {"repeat_penalty": 1.1}}  # fmt: skip
    return _wrapper(spec), settings


def _ask(client: Any, system: str, user: str, temperature: float, max_tokens: int, seed: int) -> tuple[str, int]:
    response = client.create(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
    )
    text = client.extract_text_or_completion_object(response)[0] or ""
    return str(text), int(getattr(response.usage, "completion_tokens", 0) or 0)


def _remember_config(kind: str, settings: dict[str, Any], args: argparse.Namespace) -> None:
    import yaml

    config = yaml.safe_load(CONFIG.read_text()) if CONFIG.exists() else {}
    runs = config.setdefault("runs", [])
    entry = {"step": kind, "benchmark": args.benchmark, **settings}
    if kind == "programs":
        entry["samples"] = args.samples
    if entry not in runs:
        runs.append(entry)
    header = "# The settings that made the verifier corpus (benchmarks/verifier_corpus.py).\n"
    write_atomic(CONFIG, (header + yaml.safe_dump(config, sort_keys=False)).encode())


def task_turn(task: BenchmarkTask) -> str:
    """The programmer's task turn for ``task``, as a dialogue on it would hand it over: for a
    MultiPL-E task, the prompt in its language's fence and that language's note on tests."""
    from aiev_agents.data.multipl_e import BENCHMARK_PREFIX, is_multipl_e, language_of
    from aiev_agents.evaluate.prompts import LANGUAGE_NAMES
    from aiev_agents.roles.language_notes import NOTES, task_note
    from aiev_agents.roles.programmer import ProgrammerAgent

    if not is_multipl_e(task.benchmark):
        return ProgrammerAgent.task_message(problem_statement(task))
    language = language_of(task.benchmark)
    name = LANGUAGE_NAMES[task.benchmark[len(BENCHMARK_PREFIX) :]]
    statement = (
        f"Implement the {name} function `{task.entry_point}` as its signature and comment describe:\n\n"
        f"```{NOTES[language][1]}\n{task.prompt.rstrip()}\n```"
    )
    return f"{statement}\n\n{task_note(language)}"


def row_key(task: BenchmarkTask) -> str:
    """What a row id starts with: the task id, after the benchmark's name for MultiPL-E (whose
    task ids are the same in every language)."""
    from aiev_agents.data.multipl_e import is_multipl_e

    return f"{task.benchmark}:{task.task_id}" if is_multipl_e(task.benchmark) else task.task_id


def generate(args: argparse.Namespace) -> None:
    """Programs (solution and the model's own tests) from the programmer role."""

    def jobs(task: BenchmarkTask) -> list[tuple[str, str, int, dict[str, Any]]]:
        request = task_turn(task)
        return [
            (f"{row_key(task)}#{args.model}#{sample}", request, args.seed + sample,
             {"sample": sample, "temperature": args.temperature, "seed": args.seed + sample})
            for sample in range(args.samples)
        ]  # fmt: skip

    _fill(PROGRAMS, "programs", "programmer", jobs, args)


def hidden_tests(args: argparse.Namespace) -> None:
    """Hidden tests from the test writer role, once per problem."""
    from aiev_agents.roles.test_writer import TestWriterAgent

    def jobs(task: BenchmarkTask) -> list[tuple[str, str, int, dict[str, Any]]]:
        return [(f"{task.task_id}#{args.model}", TestWriterAgent.tests_request(problem_statement(task)), args.seed, {})]

    _fill(HIDDEN_TESTS, "hidden_tests", "test_writer", jobs, args)


def _fill(path: Path, step: str, role: str, jobs: Any, args: argparse.Namespace) -> None:
    """Ask ``role`` for every row ``jobs(task)`` names that ``path`` lacks; rewrite the file every few rows.

    ``jobs(task)`` gives ``(row id, user turn, seed, extra row fields)`` for each row a task needs.
    """
    from aiev_agents.roles.prompts import read_prompt

    rows = read_rows(path)
    done = {row["id"] for row in rows}
    client, settings = _client(args.model, args.temperature, args.max_tokens)
    _remember_config(step, settings, args)
    system = read_prompt(role)
    pending = 0
    for task in load(args.benchmark, args.limit, args.start):
        for row_id, user, seed, extra in jobs(task):
            if row_id in done:
                continue
            started = time.perf_counter()
            reply, tokens = _ask(client, system, user, args.temperature, args.max_tokens, seed)
            rows.append({"id": row_id, "benchmark": task.benchmark, "task_id": task.task_id, "model": args.model,
                         **extra, "reply": reply})  # fmt: skip
            done.add(row_id)
            pending += 1
            print(f"{row_id}: {tokens} tokens in {time.perf_counter() - started:.1f} s", flush=True)
            if pending >= FLUSH_EVERY:
                write_rows(path, rows)
                pending = 0
    write_rows(path, rows)


def label(args: argparse.Namespace) -> None:
    """Ground truth for every unlabelled program: does its solution pass the benchmark's tests?"""
    from aiev_agents.data.multipl_e import is_multipl_e, language_of
    from aiev_agents.evaluate.candidates import multipl_e_code
    from aiev_agents.evaluate.execute import checker_for, eval_sandbox_settings
    from aiev_agents.sandbox import DockerSandbox, SandboxPool
    from aiev_agents.sandbox.guest.testcode import solution_only
    from aiev_agents.sandbox.settings import SandboxSettings

    rows = read_rows(PROGRAMS)
    labels = {label["id"]: label for label in read_rows(LABELS)}
    todo = [row for row in rows if row["id"] not in labels or args.relabel]
    if not todo:
        print("every program is labelled")
        return
    by_benchmark: dict[str, dict[str, BenchmarkTask]] = {}
    for name in sorted({row["benchmark"] for row in todo}):
        by_benchmark[name] = {task.task_id: task for task in load(name)}
    for name, tasks in by_benchmark.items():
        image = _image(language_of(name))
        settings = eval_sandbox_settings(SandboxSettings(image=image))
        checker = checker_for(name, cache_dir=ROOT / "runs" / "oracle_cache", image=image)
        wanted = [tasks[row["task_id"]] for row in todo if row["benchmark"] == name]
        with SandboxPool(settings, 1) as pool:
            checker.prepare(list({t.task_id: t for t in wanted}.values()), pool, 1)
        with DockerSandbox(settings) as sandbox:
            for index, row in enumerate(r for r in todo if r["benchmark"] == name):
                task = tasks[row["task_id"]]
                if is_multipl_e(name):
                    code = multipl_e_code(task, row["reply"])
                else:
                    code = solution_only(_program_of(row["reply"]))
                verdict = checker.check(sandbox, task, code)
                labels[row["id"]] = {"id": row["id"], "correct": verdict.status == "pass",
                                     "status": verdict.status, "error": verdict.error}  # fmt: skip
                print(f"{row['id']}: {verdict.status} {verdict.error[:80]}", flush=True)
                if index % 20 == 19:
                    write_rows(LABELS, list(labels.values()))
    write_rows(LABELS, list(labels.values()))
    correct = sum(1 for label in labels.values() if label["correct"])
    print(f"{len(labels)} programs labelled, {correct} correct, {len(labels) - correct} wrong")


def _image(language: str) -> str:
    """The sandbox image for programs in ``language``: the Python image, or the toolchains image."""
    if language == "python":
        return os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest")
    return os.environ.get("AIEV_POLYGLOT_IMAGE", "aiev-sandbox-polyglot:latest")


def labelled_programs() -> list[dict[str, Any]]:
    """The programs that have a label, each with ``correct`` and ``ground_truth`` added."""
    labels = {label["id"]: label for label in read_rows(LABELS)}
    return [
        {**row, "correct": labels[row["id"]]["correct"], "ground_truth": labels[row["id"]]}
        for row in read_rows(PROGRAMS)
        if row["id"] in labels
    ]


def _program_of(reply: str) -> str:
    from aiev_agents.codeblocks import split_program

    return split_program(reply).python


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("generate", "programs from the programmer role"), ("tests", "hidden tests")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--model", required=True, help="a known local model name")
        command.add_argument("--benchmark", default="humaneval_plus", choices=sorted(SOURCES))
        command.add_argument("--samples", type=int, default=2)
        command.add_argument("--temperature", type=float, default=0.8)
        command.add_argument("--max-tokens", type=int, default=768)
        command.add_argument("--seed", type=int, default=1000)
        command.add_argument("--limit", type=int, default=None, help="first N problems (after --start)")
        command.add_argument("--start", type=int, default=0)
    relabel = commands.add_parser("label", help="ground-truth labels in the sandbox")
    relabel.add_argument("--relabel", action="store_true", help="label every program again")
    args = parser.parse_args(argv)
    {"generate": generate, "tests": hidden_tests, "label": label}[args.command](args)


if __name__ == "__main__":
    main()
