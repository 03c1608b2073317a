"""``aiev seeds mine`` and ``aiev seeds benchmark``: subcommands registered on the main parser.

Handlers import their library module on first use and raise ``AievError`` subclasses for
user errors, which the main CLI prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .args import count, positive_count


def add_commands(commands: Any) -> None:
    """Register ``seeds mine`` and ``seeds benchmark`` on the main parser's ``add_subparsers()``."""
    from ..generate.mining import MiningOptions  # stdlib only (~10 ms): its defaults are the help's defaults

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
    mine.add_argument("--limit", type=count, metavar="N", help="keep at most N seeds (after --sample)")
    mine.add_argument("--sample", type=count, metavar="N", help="keep a reproducible random sample of N seeds")
    mine.add_argument("--seed", type=int, default=defaults.sample_seed, metavar="S", help="random seed of --sample")
    mine.add_argument("--min-lines", type=count, metavar="N", default=defaults.min_lines, help="default: %(default)s")
    mine.add_argument(
        "--max-lines",
        type=count,
        metavar="N",
        default=defaults.max_lines,
        help="longer classes go method by method (%(default)s)",
    )
    mine.add_argument("--min-chars", type=count, metavar="N", default=defaults.min_chars, help="default: %(default)s")
    mine.add_argument("--max-chars", type=count, metavar="N", default=defaults.max_chars, help="default: %(default)s")
    mine.add_argument(
        "--max-file-bytes",
        type=count,
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
    benchmark.add_argument("--limit", type=positive_count, metavar="N", help="the first N tasks only")
    benchmark.set_defaults(func=_cmd_seeds_benchmark)


def _cmd_seeds_mine(args: argparse.Namespace) -> int:
    from ..generate.mining import MiningOptions, mine, write_seeds_file

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
    from ..data.benchmark_seeds import write_benchmark_seeds
    from ..evaluate.evaluation import load_tasks

    loaded = load_tasks(args.name, args.source, limit=args.limit)
    written = write_benchmark_seeds(loaded.tasks, args.out)
    print(f"{written} seed(s) from {loaded.name} ({loaded.source}) -> {args.out}")
    return 0
