"""Re-run every verified sample's final program in a fresh sandbox and report mismatches.

A *mismatch* is a record stored as verified whose ``final_program`` (with its
``final_packages``) does not pass again: a flaky test, a network dependency, a package
that changed, or a record edited after the fact. Verification starts its own container
(never the one that generated the data) and replaces it after any sample that installed
packages, so no sample passes thanks to another sample's packages; ``fresh_each`` replaces
it before every sample.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..atomic import write_atomic
from ..clock import utc_now
from ..codeblocks import split_program
from ..dialogue.transcript import ExecutionResult, Transcript
from ..dialogue.verdict.hidden import hidden_program
from ..errors import DatasetError
from ..sandbox.settings import SandboxSettings
from .curate.curator import dataset_records, resolve_dataset

logger = logging.getLogger(__name__)

VERIFY_SCHEMA_VERSION = 1
OUTPUT_TAIL_CHARS = 2_000
_CLEAN = ("pass", "no_tests")


class Rerun(BaseModel):
    """The outcome of re-running one verified sample."""

    model_config = ConfigDict(extra="forbid")

    id: str
    line: int
    recorded_status: str
    status: str
    exit_code: int
    assertions: int = 0
    test_cases: int = 0
    duration_s: float = 0.0
    packages: list[str] = Field(default_factory=list)
    output: str = Field("", description="The last characters of the run's output.")

    @property
    def passed(self) -> bool:
        return self.status == "pass"


class VerifyReport(BaseModel):
    """Totals and every mismatch of one ``aiev verify`` run (a versioned record)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(VERIFY_SCHEMA_VERSION, alias="schema")
    kind: Literal["aiev-verify-report"] = "aiev-verify-report"
    created_at: str
    source: str
    image: str
    checked: int = 0
    passed: int = 0
    skipped_unverified: int = 0
    invalid: int = 0
    mismatches: list[Rerun] = Field(default_factory=list)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every verified sample passed again."""
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def save(self, path: str | Path) -> Path:
        """Write the report as JSON, atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return path


def verify_dataset(
    source: str | Path,
    settings: SandboxSettings | None = None,
    *,
    limit: int | None = None,
    fresh_each: bool = False,
    on_result: Callable[[Rerun], None] | None = None,
) -> VerifyReport:
    """Re-run the verified samples of a dataset and collect the mismatches.

    Args:
        source: A dataset folder (``dialogues.jsonl`` inside) or a JSONL file.
        settings: The sandbox to run in; default ``SandboxSettings()``.
        limit: Re-run at most this many verified samples.
        fresh_each: Start a new container before every sample (slower, fully isolated).
        on_result: Called after each re-run (for progress display).

    Returns:
        The report; ``report.ok`` is False when a verified sample failed again.

    Raises:
        DatasetError: The source is missing or unreadable.
        SandboxUnavailable: Docker or the image cannot be used.
    """
    from ..sandbox.docker_sandbox import DockerSandbox

    settings = settings or SandboxSettings()
    started = time.perf_counter()
    report = VerifyReport(
        created_at=utc_now(),
        source=str(resolve_dataset(source)),
        image=settings.image,
    )
    toolchains = DockerSandbox(settings.for_language("toolchains"))  # other languages' samples: started on first use
    try:
        with DockerSandbox(settings) as sandbox:
            dirty = False
            for line, transcript in _verified(source, report):
                if limit is not None and report.checked >= limit:
                    break
                language = str(transcript.seed.get("language") or "python")
                if language != "python":
                    rerun = _rerun_in(toolchains, line, transcript, language)
                else:
                    if dirty or (fresh_each and report.checked):
                        sandbox.restart()
                    rerun = _rerun(sandbox, line, transcript)
                    dirty = bool(transcript.final_packages)
                _record(report, rerun)
                if on_result is not None:
                    on_result(rerun)
    finally:
        toolchains.stop()
    report.wall_s = round(time.perf_counter() - started, 3)
    return report


def _verified(source: str | Path, report: VerifyReport) -> Iterator[tuple[int, Transcript]]:
    for line, record in dataset_records(source):
        try:
            transcript = Transcript.from_dict(record or {})
        except ValidationError:
            report.invalid += 1
            logger.warning("line %d is not a valid transcript; skipped", line)
            continue
        if not transcript.verified:
            report.skipped_unverified += 1
            continue
        yield line, transcript


def _rerun(sandbox: Any, line: int, transcript: Transcript) -> Rerun:
    try:
        result: ExecutionResult = sandbox.execute(transcript.final_program, list(transcript.final_packages))
    except ValueError as exc:  # a requirement the sandbox refuses, such as "-e ."
        result = ExecutionResult(status="install_error", exit_code=-1, output=str(exc))
    result = _with_hidden_tests(sandbox, transcript, result)
    return _as_rerun(line, transcript, result, list(transcript.final_packages))


def _rerun_in(sandbox: Any, line: int, transcript: Transcript, language: str) -> Rerun:
    """Re-run a sample in another language than Python with its toolchain (no packages, no hidden tests)."""
    result: ExecutionResult = sandbox.run(transcript.final_program, language=language)
    return _as_rerun(line, transcript, result, [])


def _as_rerun(line: int, transcript: Transcript, result: ExecutionResult, packages: list[str]) -> Rerun:
    return Rerun(
        id=transcript.id,
        line=line,
        recorded_status=transcript.status,
        status=result.status,
        exit_code=result.exit_code,
        assertions=result.assertions,
        test_cases=result.test_cases,
        duration_s=result.duration_s,
        packages=packages,
        output=result.output[-OUTPUT_TAIL_CHARS:],
    )


def _with_hidden_tests(sandbox: Any, transcript: Transcript, result: ExecutionResult) -> ExecutionResult:
    """With hidden tests, the sample passes again when they pass again against its solution
    (and the program exits 0, with tests of its own or none): as the dialogue judged it."""
    hidden = transcript.executions[-1].hidden_tests if transcript.executions else None
    if not hidden or hidden.get("status") != "pass" or result.exit_code != 0 or result.status not in _CLEAN:
        return result
    tests = [split_program(turn.content).python for turn in transcript.side_turns]
    program, _ = hidden_program(transcript.final_program, [code for code in tests if code])
    if program is None:
        return result
    again = sandbox.run(program)
    if again.status == "pass":
        return result if result.status == "pass" else again
    return again.model_copy(update={"output": "Hidden tests: " + again.output})


def _record(report: VerifyReport, rerun: Rerun) -> None:
    report.checked += 1
    if rerun.passed:
        report.passed += 1
    else:
        report.mismatches.append(rerun)
        logger.info("mismatch: %s re-ran as %s (exit %d)", rerun.id, rerun.status, rerun.exit_code)


def load_verify_report(path: str | Path) -> VerifyReport:
    """Read a report written by :meth:`VerifyReport.save`.

    Raises:
        DatasetError: The file is missing or not a verify report.
    """
    try:
        return VerifyReport.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise DatasetError(f"{path} is not a readable verify report ({exc})") from exc
