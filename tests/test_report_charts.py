"""`aiev report` draws the report's figures as images beside report.md (matplotlib), or says how to get them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aiev_agents.generate.report.charts import CHARTS
from aiev_agents.generate.report.throughput import throughput

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def aiev_report(run_dir: Path, *, without_matplotlib: bool = False) -> subprocess.CompletedProcess[str]:
    block = "import sys; sys.modules['matplotlib'] = None; " if without_matplotlib else ""
    code = f"{block}from aiev_agents.cli import main; raise SystemExit(main(['report', {str(run_dir)!r}, '--quiet']))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.docker
def test_report_writes_the_charts_beside_report_md_and_links_them(scripted_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the charts need matplotlib: pip install -e '.[report]'")
    run_dir = Path(shutil.copytree(scripted_run, tmp_path / "run"))
    proc = aiev_report(run_dir)
    assert proc.returncode == 0, proc.stderr
    for name in CHARTS:
        assert (run_dir / name).read_bytes().startswith(PNG_SIGNATURE)
    markdown = (run_dir / "report.md").read_text()
    assert markdown.endswith(
        "## Charts\n\n"
        "![Verified](report-verified.png)\n"
        "![Verified by round (cumulative rate)](report-pass-by-round.png)\n"
        "![Failure categories](report-failures.png)\n"
        "![Tokens per verified sample](report-tokens.png)\n"
        "![Throughput over time](report-throughput.png)\n"
    )
    assert f"charts: {run_dir / 'report-verified.png'}," in proc.stdout


@pytest.mark.docker
def test_report_without_matplotlib_says_how_to_get_the_charts(scripted_run: Path, tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(scripted_run, tmp_path / "run"))
    proc = aiev_report(run_dir, without_matplotlib=True)
    assert proc.returncode == 0, proc.stderr
    assert "no charts: matplotlib is not installed (pip install 'aiev-agents[report]')" in proc.stdout
    assert (
        (run_dir / "report.md")
        .read_text()
        .endswith(
            "## Charts\n\nInstall matplotlib (`pip install 'aiev-agents[report]'`) "
            "and run `aiev report` again to draw them.\n"
        )
    )
    assert not list(run_dir.glob("report-*.png"))


def test_throughput_counts_dialogues_and_verified_per_interval() -> None:
    def ended(at: str, verified: bool) -> dict[str, object]:
        return {"verified": verified, "timings": {"ended_at": at}}

    records = [
        ended("2024-05-01T10:00:00Z", True),
        ended("2024-05-01T10:00:30Z", False),
        ended("2024-05-01T10:01:00Z", True),
        ended("2024-05-01T10:02:00Z", True),
        {"verified": True},  # no timings: left out
    ]
    assert throughput(records, buckets=4) == {
        "interval_s": 30.0,
        "points": [
            {"minute": 0.0, "dialogues": 1, "verified": 1},
            {"minute": 0.5, "dialogues": 1, "verified": 0},
            {"minute": 1.0, "dialogues": 1, "verified": 1},
            {"minute": 1.5, "dialogues": 1, "verified": 1},
        ],
    }
    assert throughput([]) == {"interval_s": None, "points": []}
