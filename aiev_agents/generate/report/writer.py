"""Writing the run report into a run folder: ``report.json`` and ``report.md``, each atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...atomic import write_atomic
from ...errors import DatasetError
from ...stage.summary import stage_summary
from .charts import charts_available, charts_markdown, write_charts
from .figures import DEFAULT_TOP_ERRORS, build_report
from .markdown import render_markdown
from .records import read_run
from .throughput import throughput

REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"


def write_report(
    out_dir: str | os.PathLike[str], *, top_errors: int = DEFAULT_TOP_ERRORS, charts: bool = False
) -> dict[str, Any]:
    """Read a run folder and write ``report.json`` and ``report.md`` in it, each atomically.

    Args:
        charts: Also draw the figures as PNG images beside ``report.md`` and link them from it
            (with matplotlib; without it, ``report.md`` says how to get them). The returned
            report then has ``charts``: the files written, or None when matplotlib is missing
            (``report.json`` holds the figures only).

    Returns:
        The report, with the stage switch's decisions when the folder has a ``stage.json``.

    Raises:
        DatasetError: The folder is not a run folder, or the report cannot be written.
    """
    folder = Path(out_dir)
    run = read_run(folder)
    report = build_report(run.dialogues, run.errors, skipped_lines=run.skipped_lines, top_errors=top_errors)
    stage = stage_summary(folder)
    if stage is not None:
        report["stage_switch"] = stage
    markdown = render_markdown(report)
    try:
        write_atomic(folder / REPORT_JSON, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        if charts:
            names = write_charts(folder, report, throughput(run.dialogues)) if charts_available() else None
            markdown += charts_markdown(names)
            report = {**report, "charts": names}
        write_atomic(folder / REPORT_MARKDOWN, markdown)
    except OSError as exc:
        raise DatasetError(f"cannot write the report in {folder}: {exc.strerror or exc}") from exc
    return report
