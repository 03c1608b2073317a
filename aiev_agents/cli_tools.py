"""``aiev seeds mine``, ``aiev seeds benchmark`` and ``aiev report``: subcommands registered on the main parser.

Handlers import their library module on first use and raise ``AievError`` subclasses for
user errors, which the main CLI prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    """Register ``seeds mine``, ``seeds benchmark`` and ``report`` on the main parser's ``add_subparsers()``."""
    _add_seeds(commands)
    report = commands.add_parser("report", help="summarize a run folder into report.json and report.md")
    report.add_argument("run_dir", type=Path, metavar="DIR", help="the --out folder of `aiev generate`")
    report.add_argument(
        "--top", type=_count, metavar="N", default=10, help="error messages to list (default: %(default)s)"
    )
    report.add_argument("--quiet", action="store_true", help="write the files without printing the report")
    report.set_defaults(func=_cmd_report)


def _add_seeds(commands: Any) -> None:
    from .mining import MiningOptions  # stdlib only (~10 ms): its defaults are the help's defaults

    defaults = MiningOptions()
    seeds = commands.add_parser("seeds", help="seed files")
    actions = seeds.add_subparsers(dest="seeds_command", required=True, metavar="ACTION")
    mine = actions.add_parser(
        "mine",
        help="extract functions and classes of a code tree as snippet seeds",
        description="Parse (never import or run) the Python files of PATH and write one seed per "
        "function or class. PATH is a folder, a .py file, or the import name of an installed package.",
    )
    mine.add_argument("path", metavar="PATH", help="code tree, .py file or top-level import name (e.g. json)")
    mine.add_argument("--out", required=True, type=Path, help="seeds file to write (JSONL)")
    mine.add_argument("--project", help="project name recorded in each seed (default: found from PATH)")
    mine.add_argument("--limit", type=_count, metavar="N", help="keep at most N seeds (after --sample)")
    mine.add_argument("--sample", type=_count, metavar="N", help="keep a reproducible random sample of N seeds")
    mine.add_argument("--seed", type=int, default=defaults.sample_seed, metavar="S", help="random seed of --sample")
    mine.add_argument("--min-lines", type=_count, metavar="N", default=defaults.min_lines, help="default: %(default)s")
    mine.add_argument(
        "--max-lines",
        type=_count,
        metavar="N",
        default=defaults.max_lines,
        help="longer classes go method by method (%(default)s)",
    )
    mine.add_argument("--min-chars", type=_count, metavar="N", default=defaults.min_chars, help="default: %(default)s")
    mine.add_argument("--max-chars", type=_count, metavar="N", default=defaults.max_chars, help="default: %(default)s")
    mine.add_argument(
        "--max-file-bytes",
        type=_count,
        metavar="N",
        default=defaults.max_file_bytes,
        help="skip larger files (%(default)s)",
    )
    mine.add_argument("--include-tests", action="store_true", help="keep test files, folders and functions")
    mine.add_argument("--skip-private", action="store_true", help="drop _private functions and classes")
    mine.set_defaults(func=_cmd_seeds_mine)
    _add_seeds_benchmark(actions)


def _add_seeds_benchmark(actions: Any) -> None:
    benchmark = actions.add_parser(
        "benchmark",
        help="one problem seed per task of HumanEval(+) or MBPP (a run `aiev audit` can check)",
        description="Write one problem seed per benchmark task: id and task_id the task's id, problem the task "
        "phrased as a dialogue's problem. Runs generated from them can be audited with `aiev audit`.",
    )
    benchmark.add_argument("name", metavar="NAME", help="humaneval+, mbpp or humaneval")
    benchmark.add_argument("--out", required=True, type=Path, help="seeds file to write (JSONL)")
    benchmark.add_argument("--source", help="benchmark file (path or URL); default: the public one")
    benchmark.add_argument("--limit", type=_positive, metavar="N", help="the first N tasks only")
    benchmark.set_defaults(func=_cmd_seeds_benchmark)


def _cmd_seeds_mine(args: argparse.Namespace) -> int:
    from .mining import MiningOptions, mine, write_seeds_file

    options = MiningOptions(
        min_lines=args.min_lines,
        max_lines=args.max_lines,
        min_chars=args.min_chars,
        max_chars=args.max_chars,
        max_file_bytes=args.max_file_bytes,
        include_tests=args.include_tests,
        skip_private=args.skip_private,
        limit=args.limit,
        sample=args.sample,
        sample_seed=args.seed,
    )
    result = mine(args.path, options, project=args.project)
    written = write_seeds_file(result.snippets, args.out)
    stats = result.stats
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.skipped_files.items())) or "none"
    rejected = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.rejected.items())) or "none"
    print(
        f"{written} seed(s) from {stats.files} file(s) of {result.source.project} -> {args.out}\n"
        f"  definitions {stats.definitions}; left out: {rejected}; duplicates {stats.duplicates}; "
        f"files skipped: {skipped}"
    )
    if not written:
        print("warning: no seed kept; loosen the size filters or check PATH", file=sys.stderr)
    return 0


def _cmd_seeds_benchmark(args: argparse.Namespace) -> int:
    from .audit import write_benchmark_seeds
    from .evaluate.runner import load_tasks

    loaded = load_tasks(args.name, args.source, limit=args.limit)
    written = write_benchmark_seeds(loaded.tasks, args.out)
    print(f"{written} seed(s) from {loaded.name} ({loaded.source}) -> {args.out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import REPORT_JSON, REPORT_MARKDOWN, render_markdown, write_report

    report = write_report(args.run_dir, top_errors=args.top)
    if not args.quiet:
        print(render_markdown(report), end="")
    print(f"wrote {args.run_dir / REPORT_JSON} and {args.run_dir / REPORT_MARKDOWN}")
    return 0


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
