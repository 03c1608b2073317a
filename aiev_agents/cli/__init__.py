"""The ``aiev`` command: thin wrappers over the library, and the one place errors are printed."""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AievError
from .args import positive_float, positive_int

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
VERBOSE_HELP = "log debug messages and AG2's own INFO lines (default: warnings and errors only)"
#: AG2 loggers that print through a handler of their own (on stdout), not only through the root's.
AG2_OWN_HANDLER_LOGGERS = ("autogen.oai.client", "autogen.oai.cohere")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aiev`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    try:
        return int(args.func(args) or 0)
    except AievError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted; finished dialogues are saved", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiev", description="AIEV-INSTRUCT data generation with AG2 agents.")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(commands)
    _add_chat(commands)
    _add_sandbox(commands)

    from .data import add_commands as add_data_commands
    from .eval import add_commands as add_eval_commands
    from .models import add_commands as add_model_commands
    from .report import add_commands as add_report_commands
    from .seeds import add_commands as add_seeds_commands
    from .view import add_commands as add_view_commands

    add_model_commands(commands)
    add_seeds_commands(commands)
    add_report_commands(commands)
    add_data_commands(commands)
    add_eval_commands(commands)
    add_view_commands(commands)
    _add_verbose_to_commands(parser)
    return parser


def _add_generate(commands: Any) -> None:
    generate = commands.add_parser("generate", help="run a dialogue per seed and store the samples")
    generate.add_argument("--config", required=True, type=Path, help="YAML config")
    generate.add_argument("--seeds", required=True, type=Path, nargs="+", help="JSONL seeds file(s)")
    generate.add_argument("--out", type=Path, help="output folder (default: output.dir of the config)")
    generate.add_argument("--workers", type=positive_int, default=1, help="dialogues at once (default 1)")
    generate.add_argument("--max-dialogues", "--limit", type=positive_int, help="most dialogues this call starts")
    generate.add_argument("--max-samples", type=positive_int, help="stop at N verified samples in --out")
    generate.add_argument(
        "--max-budget", type=positive_float, metavar="USD", help="stop when --out has cost this much (more than 0)"
    )
    generate.add_argument("--no-cache", action="store_true", help="always call the models (no response cache)")
    generate.add_argument("--cache-path", type=Path, help="response cache file (default: OUT/llm_cache.sqlite)")
    generate.add_argument(
        "--max-consecutive-model-errors", type=positive_int, default=5, metavar="N",
        help="stop after N dialogues in a row fail on a model (default: %(default)s)",
    )  # fmt: skip
    generate.add_argument("--force", action="store_true", help="add to --out even if another config made it")
    generate.add_argument("--no-progress", action="store_true", help="one line per dialogue, no progress bar")
    generate.add_argument("--backend", choices=["threads", "ray"], default="threads", help="where dialogues run")
    generate.add_argument("--address", help="with --backend ray: the cluster address (default: local Ray)")
    generate.add_argument("--log-db", type=Path, help="also keep AG2's sqlite runtime log of every LLM call here")
    generate.set_defaults(func=_cmd_generate)


def _add_chat(commands: Any) -> None:
    chat = commands.add_parser("chat", help="run one dialogue and print it turn by turn")
    chat.add_argument("--config", required=True, type=Path, help="YAML config")
    source = chat.add_mutually_exclusive_group(required=True)
    source.add_argument("--seed-file", type=Path, help="JSONL seeds file (first seed, or --seed-id)")
    source.add_argument("--snippet", help="code that inspires the problem")
    source.add_argument("--problem", help="a ready problem statement")
    chat.add_argument("--seed-id", help="with --seed-file: the seed to use")
    chat.set_defaults(func=_cmd_chat)


def _add_sandbox(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="the Docker sandbox image")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    build = sandbox_commands.add_parser("build", help="build the sandbox image")
    build.add_argument("--offline", action="store_true", help="build from a debootstrap rootfs, no registry")
    build.add_argument(
        "--tag", help="image name (default: aiev-sandbox:latest, with --toolchains aiev-sandbox-polyglot:latest)"
    )
    build.add_argument("--base-image", default="python:3.12-slim", help="online: base image (default: %(default)s)")
    build.add_argument("--if-missing", action="store_true", help="do nothing when a current image exists")
    build.add_argument(
        "--toolchains",
        action="store_true",
        help="offline: add Node.js, g++, OpenJDK 17, rustc and Go (tag it aiev-sandbox-polyglot:latest)",
    )
    build.add_argument(
        "--node",
        choices=("official", "debian"),
        default="official",
        help="with --toolchains: an official Node.js build, pinned, from the npm registry (default), "
        "or Debian's nodejs (18; every program starts ~70 ms slower)",
    )
    build.set_defaults(func=_cmd_sandbox_build)


def _add_verbose_to_commands(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` after any command too (``aiev generate ... --verbose``), as before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.add_argument(
                    "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
                )
                _add_verbose_to_commands(command)


def configure_logging(*, verbose: bool) -> None:
    """Warnings and errors on stderr; with ``verbose``, debug messages and AG2's own INFO lines too.

    AG2 sets its ``autogen`` logger to INFO when imported and gives ``autogen.oai.client`` a
    handler of its own on stdout ("Detected custom model client ...", twice per agent); by
    default those stay off the terminal, which shows our progress and results.
    """
    level = logging.DEBUG if verbose else logging.WARNING
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "aiev_cli", False)]:
        root.removeHandler(handler)  # main() called again in one process: one handler, on today's stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)  # propagated records skip the root's level, not its handlers' levels
    handler.aiev_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in AG2_OWN_HANDLER_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def _cmd_generate(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..generate.pipeline import Generation, GenerationOptions
    from ..generate.progress import progress_events

    config = load_config(args.config)
    out = args.out or config.output.dir
    if out is None:
        raise AievError("no output folder: pass --out DIR or set output.dir in the config")
    options = GenerationOptions(
        workers=args.workers,
        max_dialogues=args.max_dialogues,
        max_samples=args.max_samples,
        max_budget_usd=args.max_budget,
        use_cache=not args.no_cache,
        cache_path=args.cache_path,
        max_consecutive_model_errors=args.max_consecutive_model_errors,
        force=args.force,
        backend=args.backend,
        ray_address=args.address,
        log_db=args.log_db,
    )
    with progress_events(bar=sys.stderr.isatty() and not args.no_progress) as events:
        summary = Generation(config, options=options, events=events).run(args.seeds, out)
    print(
        f"{summary.dialogues} dialogue(s), {summary.verified} verified, {summary.model_errors} model error(s), "
        f"{summary.skipped_existing} already done, {len(summary.bad_seeds)} bad seed line(s) "
        f"-> {summary.out_path} (stopped: {summary.stop_reason})"
    )
    if summary.report_path is not None:
        print(f"report: {summary.report_path}")
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..generate.pipeline import Generation, GenerationEvents
    from ..generate.workers import Agents

    config = load_config(args.config)
    seed = _chat_seed(args)
    generation = Generation(config, events=GenerationEvents(on_turn=_print_turn))
    agents = Agents.from_config(config)
    try:
        agents.start()
        transcript = generation.run_one(seed, agents)
    finally:
        agents.close()
    verdict = "VERIFIED" if transcript.verified else "NOT VERIFIED"
    print(f"\n=== {verdict}: {transcript.status} after {transcript.rounds} round(s) ===")
    return 0


def _chat_seed(args: argparse.Namespace):  # noqa: ANN202 - returns a Seed
    from ..errors import SeedError
    from ..generate.seeds import Seed, read_seeds

    if args.snippet:
        return Seed(id="chat", snippet=args.snippet)
    if args.problem:
        return Seed(id="chat", problem=args.problem)
    for seed in read_seeds(args.seed_file, on_error=lambda e: print(f"warning: {e}", file=sys.stderr)):
        if args.seed_id is None or seed.id == args.seed_id:
            return seed
    wanted = f" with id '{args.seed_id}'" if args.seed_id else ""
    raise SeedError(f"{args.seed_file} has no valid seed{wanted}")


def _print_turn(turn) -> None:  # noqa: ANN001 - a Turn
    if turn.role == "system":
        return
    print(f"\n--- {turn.name} ({turn.role}) ---")
    print(textwrap.dedent(turn.content).rstrip())


def _cmd_sandbox_build(args: argparse.Namespace) -> int:
    from ..sandbox.image import DEFAULT_TAG, IMAGE_RECIPE, POLYGLOT_RECIPES, POLYGLOT_TAG, build_image, image_is_current

    recipe = POLYGLOT_RECIPES[args.node] if args.toolchains else IMAGE_RECIPE
    name = args.tag or (POLYGLOT_TAG if args.toolchains else DEFAULT_TAG)
    if args.if_missing and image_is_current(name, recipe=recipe):
        print(f"{name} is present and current")
        return 0
    tag = build_image(
        name,
        offline=args.offline,
        base_image=args.base_image,
        toolchains=args.toolchains,
        node=args.node,
        on_progress=print,
    )
    print(f"built {tag}")
    return 0
