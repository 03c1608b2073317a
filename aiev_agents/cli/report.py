"""``aiev report``: summarize a run folder; registered on the main parser.

The handler imports its library module on first use and raises ``AievError`` subclasses for
user errors, which the main CLI prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .args import count


def add_commands(commands: Any) -> None:
    """Register ``report`` on the main parser's ``add_subparsers()``."""
    report = commands.add_parser("report", help="summarize a run folder into report.json and report.md")
    report.add_argument("run_dir", type=Path, metavar="DIR", help="the --out folder of `aiev generate`")
    report.add_argument(
        "--top", type=count, metavar="N", default=10, help="error messages to list (default: %(default)s)"
    )
    report.add_argument("--no-charts", action="store_true", help="skip the chart images (report-*.png)")
    report.add_argument("--quiet", action="store_true", help="write the files without printing the report")
    report.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from ..generate.report import REPORT_JSON, REPORT_MARKDOWN, render_markdown, write_report
    from ..generate.report.charts import INSTALL_HINT

    report = write_report(args.run_dir, top_errors=args.top, charts=not args.no_charts)
    if not args.quiet:
        print(render_markdown(report), end="")
    print(f"wrote {args.run_dir / REPORT_JSON} and {args.run_dir / REPORT_MARKDOWN}")
    if report.get("charts"):
        print(f"charts: {', '.join(str(args.run_dir / name) for name in report['charts'])}")
    elif not args.no_charts:
        print(f"no charts: matplotlib is not installed ({INSTALL_HINT})")
    return 0
