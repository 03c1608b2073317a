"""The run report's figures drawn as PNG images beside ``report.md``, with matplotlib (optional).

The same five charts as ``aiev view``'s overview: verified share, cumulative verified rate by
round, failure categories, tokens per verified sample, throughput over time. matplotlib is the
``report`` extra; without it the report says how to get the charts and is otherwise the same.
matplotlib's object API is used (``Figure``, no ``pyplot``): no global backend or state is touched.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...atomic import write_atomic

#: Chart file name → its title.
CHARTS = {
    "report-verified.png": "Verified",
    "report-pass-by-round.png": "Verified by round (cumulative rate)",
    "report-failures.png": "Failure categories",
    "report-tokens.png": "Tokens per verified sample",
    "report-throughput.png": "Throughput over time",
}
INSTALL_HINT = "pip install 'aiev-agents[report]'"
_GREEN, _RED, _BLUE, _ORANGE = "#2f7d32", "#c62828", "#1565c0", "#ef6c00"


def charts_available() -> bool:
    """Whether matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def write_charts(folder: Path, report: Mapping[str, Any], throughput: Mapping[str, Any]) -> list[str]:
    """Draw the charts into ``folder`` (each file written atomically); returns their file names.

    Raises:
        ImportError: matplotlib is not installed (see :func:`charts_available`).
    """
    from matplotlib.figure import Figure

    drawers: dict[str, Callable[[Any], None]] = {
        "report-verified.png": lambda ax: _verified(ax, report),
        "report-pass-by-round.png": lambda ax: _pass_by_round(ax, report),
        "report-failures.png": lambda ax: _failures(ax, report),
        "report-tokens.png": lambda ax: _tokens(ax, report),
        "report-throughput.png": lambda ax: _throughput(ax, throughput),
    }
    for name, draw in drawers.items():
        figure = Figure(figsize=(6, 3.6), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        axes.set_title(CHARTS[name])
        draw(axes)
        png = io.BytesIO()
        figure.savefig(png, format="png", metadata={"Software": None})
        write_atomic(folder / name, png.getvalue())
    return list(drawers)


def charts_markdown(names: list[str] | None) -> str:
    """The report's Charts section: the images, or (None) how to get them."""
    if names is None:
        return f"\n## Charts\n\nInstall matplotlib (`{INSTALL_HINT}`) and run `aiev report` again to draw them.\n"
    return "\n## Charts\n\n" + "\n".join(f"![{CHARTS[name]}]({name})" for name in names) + "\n"


def _verified(ax: Any, report: Mapping[str, Any]) -> None:
    counts = report["counts"]
    ax.bar(["verified", "not verified"], [counts["verified"], counts["not_verified"]], color=[_GREEN, _RED])
    ax.set_ylabel("dialogues")


def _pass_by_round(ax: Any, report: Mapping[str, Any]) -> None:
    rows = report["pass_at_round"]
    ax.plot([row["round"] for row in rows], [row["rate"] or 0 for row in rows], marker="o", color=_BLUE)
    ax.set_ylim(0, 1)
    ax.set_xlabel("round")
    ax.set_ylabel("verified rate")
    ax.set_xticks([row["round"] for row in rows])


def _failures(ax: Any, report: Mapping[str, Any]) -> None:
    failures = [(name, n) for name, n in report["failures"].items() if n]
    ax.barh([name for name, _ in failures], [n for _, n in failures], color=_RED)
    ax.set_xlabel("dialogues")
    if not failures:
        ax.text(0.5, 0.5, "no failures", ha="center", va="center", transform=ax.transAxes)


def _tokens(ax: Any, report: Mapping[str, Any]) -> None:
    per = report["usage"]["per_verified_sample"] or {}
    ax.bar(["prompt", "completion"], [per.get("prompt_tokens", 0), per.get("completion_tokens", 0)], color=_ORANGE)
    ax.set_ylabel("tokens")
    cost = per.get("cost")
    ax.set_xlabel(f"cost per verified sample: {cost:.4f} USD" if cost is not None else "no verified sample")


def _throughput(ax: Any, throughput: Mapping[str, Any]) -> None:
    points = throughput["points"]
    minutes = [point["minute"] for point in points]
    ax.plot(minutes, [point["dialogues"] for point in points], marker="o", color=_BLUE, label="dialogues")
    ax.plot(minutes, [point["verified"] for point in points], marker="o", color=_GREEN, label="verified")
    ax.set_xlabel(f"minutes since the first dialogue ended (intervals of {throughput['interval_s']} s)")
    ax.set_ylabel("per interval")
    ax.legend()
