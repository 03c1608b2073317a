"""``aiev view --html``: the same browser as one self-contained file, for sharing a small run.

Every row, every dialogue page and the overview go into the file as JSON, with the page's
scripts and styles; the browser filters in the page. Past a few thousand dialogues the file
gets too big to open quickly, so a bigger run is refused with a pointer to ``aiev view``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..atomic import write_output
from ..errors import DatasetError
from .assets import page_html
from .query import Query, facets, page
from .run import ViewedRun

#: The most dialogues one ``--html`` file holds.
MAX_HTML_DIALOGUES = 5000


def run_data(run: ViewedRun, *, limit: int = MAX_HTML_DIALOGUES) -> dict[str, Any]:
    """What the self-contained page needs: overview, list rows (with their search text), dialogue pages."""
    run.refresh()
    total = page(run.index, Query(limit=1))["total"]
    if total > limit:
        raise DatasetError(
            f"{run.dialogues} has {total} dialogues; --html holds at most {limit} (a file that opens "
            "quickly): serve this run with `aiev view` instead, or write a filtered copy first"
        )
    rows = []
    for offset in range(0, total, 500):
        rows += page(run.index, Query(offset=offset, limit=500))["rows"]
    search = dict(run.index.rows("SELECT seq, text FROM search"))
    for row in rows:
        row["search"] = search.get(row["seq"], "")
    return {
        "overview": run.overview(),
        "rows": rows,
        "facets": facets(run.index),
        "dialogues": {str(row["seq"]): run.dialogue(seq=row["seq"]) for row in rows},
    }


def write_html(run: ViewedRun, path: str | os.PathLike[str], *, limit: int = MAX_HTML_DIALOGUES) -> int:
    """Write the run's browser into one HTML file (atomically); returns the dialogues it holds.

    Raises:
        DatasetError: The run has more than ``MAX_HTML_DIALOGUES`` dialogues, or the file cannot be written.
    """
    data = run_data(run, limit=limit)
    write_output(Path(path), page_html(json.dumps(data, ensure_ascii=False)))
    return len(data["rows"])
