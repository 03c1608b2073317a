"""``aiev verify``: verified samples re-run in a fresh container; a tampered record is a mismatch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from aiev_agents.cli.data import EXIT_MISMATCH, add_commands
from aiev_agents.data.reverify import VerifyReport, load_verify_report, verify_dataset
from aiev_agents.errors import DatasetError
from aiev_agents.sandbox.settings import SandboxSettings

import transcripts as tx
from helpers import host_ca_bundle

FAILING_PROGRAM = "def add(a, b):\n    return a - b\n\n\nassert add(2, 3) == 5, 'add(2, 3) should be 5'\n"


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aiev")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def tampered() -> dict:
    """A record stored as verified whose final program fails."""
    record = tx.first_try("tampered").to_dict()
    record["final_program"] = FAILING_PROGRAM
    return record


@pytest.mark.docker
def test_verify_reports_a_tampered_record_as_mismatch(
    tmp_path: Path, sandbox_settings: SandboxSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    tx.write_dataset(tmp_path / "run", [tx.first_try(), tampered(), tx.never_passed(), tx.repaired_assertion()])
    report_path = tmp_path / "verify.json"
    code = run_cli(["verify", str(tmp_path / "run"), "--image", sandbox_settings.image, "--report", str(report_path)])
    out = capsys.readouterr().out
    assert code == EXIT_MISMATCH
    assert "MISMATCH tampered (line 2): recorded pass, re-ran fail" in out
    report = load_verify_report(report_path)
    assert (report.checked, report.passed, report.skipped_unverified) == (3, 2, 1)
    assert [(m.id, m.status, m.exit_code) for m in report.mismatches] == [("tampered", "fail", 1)]
    assert "add(2, 3) should be 5" in report.mismatches[0].output
    assert json.loads(report_path.read_text())["schema"] == 1


@pytest.mark.docker
def test_verify_passes_when_every_record_reruns(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    tx.write_dataset(tmp_path / "run", [tx.first_try(), tx.repaired_assertion()])
    report = verify_dataset(tmp_path / "run", sandbox_settings, fresh_each=True)
    assert report.ok and (report.checked, report.passed) == (2, 2)


@pytest.mark.docker
def test_a_sample_never_passes_on_packages_another_sample_installed(
    tmp_path: Path, sandbox_settings: SandboxSettings
) -> None:
    borrower = tx.repaired_with_install("borrower").to_dict()
    borrower["final_packages"] = []  # imports tabulate without asking for it
    tx.write_dataset(tmp_path / "run", [tx.repaired_with_install(), borrower])
    settings = sandbox_settings.model_copy(update={"ca_bundle": host_ca_bundle(), "timeout_s": 30})
    report = verify_dataset(tmp_path / "run", settings)
    assert [(m.id, m.status) for m in report.mismatches] == [("borrower", "fail")]
    assert "No module named 'tabulate'" in report.mismatches[0].output


def test_verify_of_a_missing_dataset_fails_before_docker(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset at"):
        verify_dataset(tmp_path / "nothing", SandboxSettings(docker_host="tcp://127.0.0.1:9"))


def test_verify_report_round_trips(tmp_path: Path) -> None:
    report = VerifyReport(created_at="2025-05-01T10:00:00+00:00", source="d.jsonl", image="img", checked=1, passed=1)
    assert load_verify_report(report.save(tmp_path / "r.json")) == report


def hidden_only(record_id: str, hidden: str) -> dict:
    """A sample verified by a test writer's hidden tests: its own program has no tests."""
    record = tx.first_try(record_id).to_dict()
    record["final_program"] = "def add(a, b):\n    return a + b\n"
    record["executions"][-1].update(status="no_tests", assertions=0, hidden_tests={"status": "pass"})
    record["side_turns"] = [{"role": "assistant", "name": "test_writer", "content": f"```python\n{hidden}```\n"}]
    return record


@pytest.mark.docker
def test_a_sample_verified_by_hidden_tests_reruns_them(tmp_path: Path, sandbox_settings: SandboxSettings) -> None:
    good, bad = (
        hidden_only("hidden-good", "assert add(2, 3) == 5\n"),
        hidden_only("hidden-bad", "assert add(2, 3) == 6\n"),
    )
    tx.write_dataset(tmp_path / "run", [good, bad])
    report = verify_dataset(tmp_path / "run", sandbox_settings)
    assert (report.checked, report.passed) == (2, 1)
    assert [(m.id, m.status) for m in report.mismatches] == [("hidden-bad", "fail")]
    assert report.mismatches[0].output.startswith("Hidden tests: ")
