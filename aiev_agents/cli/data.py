"""The ``aiev verify``, ``aiev curate`` and ``aiev export`` subcommands (data after generation).

``add_commands`` registers them on the ``aiev`` parser. Handlers import their modules when
they run, so ``aiev --help`` stays fast; none of them imports AG2. User errors are raised as
``AievError`` subclasses and printed by ``aiev_agents.cli.main``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .config_flags import load_optional_config, sandbox_settings

if TYPE_CHECKING:
    from ..data.curate import CurateReport, CurateSettings

#: Mirrors ``aiev_agents.data.export.FORMATS`` (a test keeps the two equal) so building the parser imports nothing.
EXPORT_FORMATS = ("openai", "sharegpt", "alpaca", "hf", "autocoder")
BENCHMARKS = ("humaneval", "humaneval_plus", "mbpp")
EXIT_MISMATCH = 1


def add_commands(commands: Any) -> None:
    """Register ``verify``, ``curate`` and ``export`` on an argparse subparsers object.

    Args:
        commands: What ``ArgumentParser.add_subparsers()`` returned.
    """
    _add_verify(commands)
    _add_curate(commands)
    _add_export(commands)


def _add_verify(commands: Any) -> None:
    verify = commands.add_parser(
        "verify", help="re-run every verified sample's final program in a fresh container; report mismatches"
    )
    verify.add_argument("dataset", type=Path, help="output folder of generate or curate, or a JSONL file")
    verify.add_argument("--config", type=Path, help="YAML config whose `sandbox:` section is used")
    verify.add_argument("--image", help="sandbox image (overrides the config and AIEV_SANDBOX_IMAGE)")
    verify.add_argument("--limit", type=int, help="re-run at most this many samples")
    verify.add_argument("--fresh-each", action="store_true", help="a new container for every sample")
    verify.add_argument("--report", type=Path, help="also write the report as JSON to this file")
    verify.set_defaults(func=_cmd_verify)


def _add_curate(commands: Any) -> None:
    curate = commands.add_parser(
        "curate", help="keep verified samples without duplicates or benchmark overlap; write a report"
    )
    curate.add_argument("dataset", type=Path, help="output folder of generate, or a JSONL file")
    curate.add_argument("--out", required=True, type=Path, help="folder for dialogues.jsonl and the report")
    curate.add_argument("--config", type=Path, help="YAML config whose `curate:` section is used")
    curate.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="NAME=SOURCE",
        help=f"benchmark source ({', '.join(BENCHMARKS)}): a path, a URL, `package` (humaneval) or `none`",
    )
    curate.add_argument("--near-dup-threshold", type=float, help="Jaccard threshold of near-duplicates")
    curate.add_argument("--levenshtein-threshold", type=float, help="similarity that counts as contamination")
    curate.add_argument("--ngram-size", type=int, help="word n-gram length for decontamination")
    curate.add_argument("--no-decontaminate", action="store_true", help="skip decontamination")
    curate.add_argument("--overwrite", action="store_true", help="replace OUT/dialogues.jsonl")
    curate.set_defaults(func=_cmd_curate)


def _add_export(commands: Any) -> None:
    export = commands.add_parser("export", help="write verified samples as training data with a dataset card")
    export.add_argument("dataset", type=Path, help="output folder of generate or curate, or a JSONL file")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="training data format")
    export.add_argument("--out", required=True, type=Path, help="folder to write")
    export.add_argument(
        "--keep-turns", action="store_true", help="keep consecutive user turns apart (default: join them)"
    )
    export.add_argument("--overwrite", action="store_true", help="replace an earlier export in OUT")
    export.set_defaults(func=_cmd_export)


# -- handlers ------------------------------------------------------------------------------


def _cmd_verify(args: argparse.Namespace) -> int:
    from ..data.reverify import verify_dataset

    def show(rerun: Any) -> None:
        if not rerun.passed:
            print(f"MISMATCH {rerun.id} (line {rerun.line}): recorded {rerun.recorded_status}, re-ran {rerun.status}")

    settings = sandbox_settings(load_optional_config(args.config), args.image)
    report = verify_dataset(args.dataset, settings, limit=args.limit, fresh_each=args.fresh_each, on_result=show)
    if args.report:
        report.save(args.report)
    print(
        f"{report.checked} verified sample(s) re-run: {report.passed} passed, {len(report.mismatches)} "
        f"mismatch(es); {report.skipped_unverified} unverified and {report.invalid} invalid record(s) skipped "
        f"({report.wall_s:.1f} s)"
    )
    return 0 if report.ok else EXIT_MISMATCH


def _cmd_curate(args: argparse.Namespace) -> int:
    from ..data.curate.curator import curate_dataset

    report = curate_dataset(args.dataset, args.out, _curate_settings(args), overwrite=args.overwrite)
    _print_curate(report, args.out)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ..data.export import export_dataset

    result = export_dataset(args.dataset, args.format, args.out, merge=not args.keep_turns, overwrite=args.overwrite)
    stats = result.stats
    print(
        f"{stats.exported} sample(s) exported as {result.format} to {result.out_dir} "
        f"({stats.not_verified} unverified, {stats.invalid} invalid skipped); card: {result.card}"
    )
    return 0


# -- settings from config and flags ----------------------------------------------------------


def _curate_settings(args: argparse.Namespace) -> CurateSettings:
    from pydantic import ValidationError

    from ..data.curate.settings import CurateSettings

    settings = CurateSettings()
    if args.config:
        from ..config import load_config

        section = getattr(load_config(args.config), "curate", None)
        if section is not None:
            settings = CurateSettings.model_validate(section.model_dump()).resolved(args.config.parent)
    data = settings.model_dump()
    data["benchmarks"].update(_benchmark_overrides(args.benchmark))
    flags = {
        "near_dup_threshold": args.near_dup_threshold,
        "levenshtein_threshold": args.levenshtein_threshold,
        "ngram_size": args.ngram_size,
    }
    data.update({key: value for key, value in flags.items() if value is not None})
    if args.no_decontaminate:
        data["decontaminate"] = False
    try:
        return CurateSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"curate setting {where}: {first['msg']}") from exc


def _benchmark_overrides(items: list[str]) -> dict[str, str | None]:
    overrides: dict[str, str | None] = {}
    for item in items:
        name, sep, source = item.partition("=")
        if not sep or name not in BENCHMARKS:
            raise ConfigError(f"--benchmark {item!r}: write NAME=SOURCE with NAME one of {', '.join(BENCHMARKS)}")
        overrides[name] = None if source.strip().lower() in ("", "none", "null") else source
    return overrides


def _print_curate(report: CurateReport, out: Path) -> None:
    for step in report.filters:
        print(f"{step.name:>16}: {step.before} -> {step.after}")
    for name, tasks in report.contamination().items():
        print(f"contaminated ({name}): {', '.join(tasks)}")
    print(f"{report.kept} of {report.input_records} record(s) kept -> {out} ({report.wall_s:.1f} s)")
