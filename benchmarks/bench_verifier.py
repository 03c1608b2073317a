"""How often is "verified" correct? Each gate's precision and recall against ground truth.

Replays the labelled corpus of ``benchmarks/data/verifier_corpus/`` (model-written programs
for benchmark problems, each labelled by the benchmark's own tests; see
``benchmarks/verifier_corpus.py``) through the sandbox, no model needed: each program runs
as a dialogue's program would (the harness's evidence), then its hidden tests (the test
writer's, against the solution alone), its mutants and a coverage run. Then every verdict
rule is applied to the same measurements:

* ``exit_zero``: AutoCoder's rule (the program exited 0);
* ``any_assert``: this project's rule before issue 11 (exit 0 and any assert ran);
* each gate alone on top of exit 0, and their combinations up to the default.

Printed, one table, same run: verified count, precision (verified and correct / verified),
recall (verified and correct / correct), false-verified rate (wrong programs verified /
wrong programs) and the sandbox seconds per sample the rule needs.

The corpus's JavaScript and C++ programs (MultiPL-E problems) get a table each, measured in the
toolchains image (``AIEV_POLYGLOT_IMAGE``) as a dialogue in that language judges its last
round: the counted assertions are the evidence (``tests_ran``), and the broken-solution check
is the default-return one (each solution function's body replaced by a default return) in
place of Python's mutants; hidden tests and coverage are Python's only.

    python benchmarks/bench_verifier.py [--limit N] [--mutants 16] [--json out.json]
                                        [--languages python,javascript,cpp]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from verifier_corpus import HIDDEN_TESTS, labelled_programs, read_rows  # noqa: E402

from aiev_agents.codeblocks import code_in_language, split_program  # noqa: E402
from aiev_agents.data.multipl_e import language_of  # noqa: E402
from aiev_agents.dialogue.transcript import ExecutionResult  # noqa: E402
from aiev_agents.dialogue.verdict.checks import coverage_check, mutation_check  # noqa: E402
from aiev_agents.dialogue.verdict.default_return import default_return_check  # noqa: E402
from aiev_agents.dialogue.verdict.gates import judge  # noqa: E402
from aiev_agents.dialogue.verdict.hidden import hidden_program  # noqa: E402
from aiev_agents.dialogue.verdict.settings import VerdictSettings  # noqa: E402

MUTATION_THRESHOLDS = (0.25, 0.5, 0.75, 0.9, 1.0)
MIN_TESTS = (3, 5)
LINE_COVERAGE = 0.9


@dataclass
class Measured:
    """Everything the sandbox said about one program; every rule reads from here."""

    id: str
    correct: bool
    run: ExecutionResult
    checks: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)


def measure(rows: list[dict[str, Any]], hidden: dict[str, str], mutants: int) -> list[Measured]:
    from aiev_agents.sandbox import DockerSandbox
    from aiev_agents.sandbox.settings import SandboxSettings

    image = os.environ.get("AIEV_SANDBOX_IMAGE", "aiev-sandbox:latest")
    ca_bundle = os.environ.get("AIEV_SANDBOX_CA_BUNDLE") or None
    settings = SandboxSettings(image=image, pull=False, timeout_s=10, ca_bundle=ca_bundle)
    everything = VerdictSettings(mutants=mutants)
    measured = []
    with DockerSandbox(settings) as sandbox:
        for index, row in enumerate(rows):
            sandbox.reset()
            program = split_program(row["reply"])
            seconds: dict[str, float] = {}
            started = time.perf_counter()
            run = sandbox.execute(program.python, program.packages)
            seconds["run"] = time.perf_counter() - started
            checks: dict[str, Any] = {}
            tests = hidden.get(row["task_id"])
            if tests:
                started = time.perf_counter()
                combined, reason = hidden_program(program.python, [tests])
                if combined is None:
                    checks["hidden_tests"] = {"status": "rejected", "reason": reason}
                else:
                    checks["hidden_tests"] = {"status": sandbox.run(combined).status}
                seconds["hidden_tests"] = time.perf_counter() - started
            if run.exit_code == 0:  # measured for every rule, whatever the evidence says

                def aside(code: str, **options: Any) -> ExecutionResult:
                    return sandbox.run(code, **options)

                started = time.perf_counter()
                checks["mutation"] = mutation_check(aside, program.python, everything)
                seconds["mutation"] = time.perf_counter() - started
                started = time.perf_counter()
                checks["coverage"] = coverage_check(aside, program.python)
                seconds["coverage"] = time.perf_counter() - started
            measured.append(Measured(row["id"], bool(row["correct"]), run, checks, seconds))
            if index % 25 == 24:
                print(f"  measured {index + 1}/{len(rows)}", file=sys.stderr, flush=True)
    return measured


def measure_language(rows: list[dict[str, Any]], language: str, mutants: int) -> list[Measured]:
    """The programs of one language other than Python: each runs as a dialogue's program in
    that language; one that exits 0 gets the default-return check, whatever its evidence."""
    from aiev_agents.sandbox import DockerSandbox
    from aiev_agents.sandbox.settings import SandboxSettings

    image = os.environ.get("AIEV_POLYGLOT_IMAGE", "aiev-sandbox-polyglot:latest")
    settings = SandboxSettings(image=image, pull=False, timeout_s=10)
    mutant_timeout = VerdictSettings().mutant_timeout_s
    measured = []
    with DockerSandbox(settings) as sandbox:
        for row in rows:
            program = code_in_language(row["reply"], language)
            started = time.perf_counter()
            run = sandbox.run(program, language=language)
            seconds = {"run": time.perf_counter() - started}
            checks: dict[str, Any] = {"language": language}
            if run.exit_code == 0:

                def aside(code: str) -> ExecutionResult:
                    return sandbox.run(code, timeout_s=mutant_timeout, language=language)

                started = time.perf_counter()
                checks["mutation"] = default_return_check(aside, program, language, mutants)
                seconds["mutation"] = time.perf_counter() - started
            measured.append(Measured(row["id"], bool(row["correct"]), run, checks, seconds))
    return measured


@dataclass(frozen=True)
class Rule:
    name: str
    gates: tuple[str, ...]
    settings: VerdictSettings
    costs: tuple[str, ...]


def rules(mutants: int) -> list[Rule]:
    """The rules compared: the baselines, each gate alone, and combinations up to the default."""
    off = VerdictSettings(mutation=False, coverage=False, mutants=mutants)
    default = VerdictSettings(mutants=mutants)

    def mutation(threshold: float) -> VerdictSettings:
        return off.model_copy(update={"mutation": True, "min_mutation_score": threshold})

    coverage = off.model_copy(update={"coverage": True, "min_line_coverage": LINE_COVERAGE})
    found = [
        Rule("exit_zero (AutoCoder)", ("exit_zero",), off, ("run",)),
        Rule("any_assert (before)", ("any_assert",), off, ("run",)),
        Rule("tests_ran", ("tests_ran",), off, ("run",)),
        *(
            Rule(f"tests_ran, >= {k} tests", ("tests_ran",), off.model_copy(update={"min_tests": k}), ("run",))
            for k in MIN_TESTS
        ),
        Rule("hidden_tests", ("exit_zero", "hidden_tests"), off, ("run", "hidden_tests")),
        Rule(f"line coverage >= {LINE_COVERAGE}", ("any_assert", "coverage"), coverage, ("run", "coverage")),
    ]
    found += [
        Rule(f"mutation >= {t}", ("any_assert", "mutation"), mutation(t), ("run", "mutation"))
        for t in MUTATION_THRESHOLDS
    ]
    found += [
        Rule(f"tests_ran + mutation >= {t}", ("tests_ran", "mutation"), mutation(t), ("run", "mutation"))
        for t in MUTATION_THRESHOLDS
    ]
    found += [
        Rule("tests_ran + hidden", ("tests_ran", "hidden_tests"), off, ("run", "hidden_tests")),
        Rule(
            f"tests_ran + hidden + mutation >= {default.min_mutation_score}",
            ("tests_ran", "hidden_tests", "mutation"),
            mutation(default.min_mutation_score),
            ("run", "hidden_tests", "mutation"),
        ),
        Rule(
            f"tests_ran + mutation >= {default.min_mutation_score} + line coverage >= {LINE_COVERAGE}",
            ("tests_ran", "mutation", "coverage"),
            mutation(default.min_mutation_score).model_copy(
                update={"coverage": True, "min_line_coverage": LINE_COVERAGE}
            ),
            ("run", "mutation", "coverage"),
        ),
        Rule(
            "default (shipped settings)",
            ("tests_ran", "hidden_tests", "mutation", "coverage"),
            default,
            ("run", "hidden_tests", "mutation", "coverage"),
        ),  # fmt: skip
    ]
    return found


def language_rules(mutants: int) -> list[Rule]:
    """The rules that apply outside Python: the baselines, the evidence, and the evidence with
    the default-return check at each threshold (the last one the shipped verdict)."""
    off = VerdictSettings(mutation=False, coverage=False, mutants=mutants)
    default = VerdictSettings(mutants=mutants)
    found = [
        Rule("exit_zero (AutoCoder)", ("exit_zero",), off, ("run",)),
        Rule("any_assert", ("any_assert",), off, ("run",)),
        Rule("tests_ran", ("tests_ran",), off, ("run",)),
    ]
    for threshold in MUTATION_THRESHOLDS:
        name = f"tests_ran + default-return >= {threshold}"
        if threshold == default.min_mutation_score:
            name = f"default (shipped settings: {name})"
        update = {"mutation": True, "min_mutation_score": threshold}
        found.append(Rule(name, ("tests_ran", "mutation"), off.model_copy(update=update), ("run", "mutation")))
    return found


def score(rule: Rule, samples: Sequence[Measured]) -> dict[str, Any]:
    verified = [s for s in samples if judge(s.run, s.checks, rule.settings, rule.gates)[0]]
    correct = sum(s.correct for s in samples)
    wrong = len(samples) - correct
    hits = sum(s.correct for s in verified)
    false = len(verified) - hits
    seconds = [sum(s.seconds.get(part, 0.0) for part in rule.costs) for s in samples]
    return {
        "rule": rule.name,
        "verified": len(verified),
        "precision": round(hits / len(verified), 3) if verified else None,
        "recall": round(hits / correct, 3) if correct else None,
        "false_verified_rate": round(false / wrong, 3) if wrong else None,
        "f_half": f_half(hits / len(verified), hits / correct) if verified and correct else None,
        "ms_per_sample": round(1000 * statistics.mean(seconds), 1) if seconds else None,
    }


def f_half(precision: float, recall: float) -> float:
    """F0.5: precision weighs twice recall (a wrong sample costs more than a lost one)."""
    return round(1.25 * precision * recall / (0.25 * precision + recall), 3) if precision + recall else 0.0


def table(results: list[dict[str, Any]], samples: Sequence[Measured]) -> str:
    correct = sum(s.correct for s in samples)
    head = (
        f"{len(samples)} programs: {correct} correct, {len(samples) - correct} wrong "
        "(ground truth: the benchmark's own tests)\n\n"
        "| rule | verified | precision | recall | false-verified rate | F0.5 | sandbox ms/sample |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = [
        f"| {r['rule']} | {r['verified']} | {r['precision']} | {r['recall']} | {r['false_verified_rate']} "
        f"| {r['f_half']} | {r['ms_per_sample']} |"
        for r in results
    ]
    return head + "\n".join(rows) + "\n"


def python_tables(rows: list[dict[str, Any]], mutants: int) -> tuple[list[dict[str, Any]], list[Measured]]:
    """Measure the Python programs and print their tables; the rules' scores and the measurements."""
    hidden = {}
    for row in read_rows(HIDDEN_TESTS):
        tests = split_program(row["reply"]).python
        if tests:
            hidden.setdefault(row["task_id"], tests)
    started = time.perf_counter()
    samples = measure(rows, hidden, mutants)
    results = [score(rule, samples) for rule in rules(mutants)]
    print(table(results, samples))
    tested = [s for s, row in zip(samples, rows, strict=True) if row["task_id"] in hidden]
    if 0 < len(tested) < len(samples):
        print("Only the programs whose problem has hidden tests:\n")
        print(table([score(rule, tested) for rule in rules(mutants)], tested))
    print(f"measured in {time.perf_counter() - started:.0f} s; {len(hidden)} problems with hidden tests")
    return results, samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N labelled programs (of each slice)")
    parser.add_argument("--mutants", type=int, default=VerdictSettings().mutants, help="mutant budget per program")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements and table here")
    parser.add_argument("--languages", default=None, help="comma-separated slices (default: every one)")
    args = parser.parse_args(argv)
    every_row = labelled_programs()
    found = sorted({language_of(row["benchmark"]) for row in every_row})
    wanted = args.languages.split(",") if args.languages else found
    if not found or set(wanted) - set(found):
        sys.exit(f"no labelled programs for {wanted} (labelled: {found}): run `benchmarks/verifier_corpus.py label`")
    results: list[dict[str, Any]] = []
    samples: list[Measured] = []
    if "python" in wanted:
        rows = [row for row in every_row if language_of(row["benchmark"]) == "python"][: args.limit]
        results, samples = python_tables(rows, args.mutants)
    by_language = {}
    for language in (name for name in wanted if name != "python"):
        started = time.perf_counter()
        chosen = [row for row in every_row if language_of(row["benchmark"]) == language][: args.limit]
        measured = measure_language(chosen, language, args.mutants)
        by_language[language] = [score(rule, measured) for rule in language_rules(args.mutants)]
        print(f"\n{language} (MultiPL-E problems, toolchains image):\n")
        print(table(by_language[language], measured))
        print(f"measured in {time.perf_counter() - started:.0f} s")
        samples += measured
    if args.json:
        data = {
            "results": results,
            "languages": by_language,
            "samples": [
                {
                    "id": s.id,
                    "correct": s.correct,
                    "run": s.run.model_dump(exclude={"output"}),
                    "checks": s.checks,
                    "seconds": s.seconds,
                }
                for s in samples
            ],  # fmt: skip
        }
        args.json.write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
