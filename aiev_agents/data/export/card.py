"""The dataset card (``README.md`` with Hugging Face YAML front matter) written by every export."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml

from ...dialogue.transcript import Transcript
from ..curate.report import CurateReport
from .formats import EXPORT_SCHEMA_VERSION

_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))

#: Field → meaning, per format: the card's "Record schema" section.
SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "openai": [
        ("messages", "list of `{role, content}`; `role` is `system`, `user` or `assistant`; ends with `assistant`"),
    ],
    "sharegpt": [
        ("id", "the sample's id (the seed id)"),
        ("schema", f"export schema version ({EXPORT_SCHEMA_VERSION})"),
        ("conversations", "list of `{from, value}`; `from` is `system`, `human` or `gpt`; ends with `gpt`"),
    ],
    "alpaca": [
        ("id", "the sample's id (the seed id)"),
        ("schema", f"export schema version ({EXPORT_SCHEMA_VERSION})"),
        ("instruction", "the problem statement"),
        ("input", "always empty"),
        ("output", "the final solution: a `bash` pip block when packages are needed, then the `python` program"),
    ],
    "autocoder": [
        ("id", "the sample's id (the seed id)"),
        ("schema", f"export schema version ({EXPORT_SCHEMA_VERSION})"),
        (
            "messages",
            "list of `{role, content}`; runnable code in assistant turns is wrapped as "
            "`<API_RUN_START>```sh|python ...```<API_RUN_STOP>`; the next user turn is the execution report",
        ),
    ],
    "hf": [
        ("id, schema, stage, status, rounds", "sample id, export schema version, generation stage, last status"),
        ("problem", "the problem statement"),
        ("messages", "list of `{role, content}`, ending with `assistant`"),
        ("final_program, final_packages", "the verified program (solution and tests) and its pip requirements"),
        ("models", "list of `{role, model}`"),
        ("executions", "per run: `round, status, exit_code, output, packages, assertions, test_cases, duration_s`"),
        ("seed", "the seed line, as JSON text"),
        ("config_hash", "hash of the generation settings"),
    ],
}


@dataclass
class ExportStats:
    """What an export read and wrote, gathered while streaming."""

    read: int = 0
    exported: int = 0
    not_verified: int = 0
    invalid: int = 0
    empty: int = 0
    rounds: int = 0
    repaired: int = 0
    with_packages: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    models: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    config_hashes: Counter[str] = field(default_factory=Counter)
    seed_licenses: Counter[str] = field(default_factory=Counter)

    def add(self, transcript: Transcript) -> None:
        """Count one exported sample."""
        self.exported += 1
        self.rounds += transcript.rounds
        self.repaired += int(transcript.rounds > 1)
        self.with_packages += int(bool(transcript.final_packages))
        self.total_tokens += sum(usage.total_tokens for usage in transcript.usage.values())
        self.cost += sum(usage.cost for usage in transcript.usage.values())
        for role, model in transcript.models.items():
            self.models[(transcript.stage, role, model)] += 1
        self.config_hashes[transcript.config_hash or "unknown"] += 1
        self.seed_licenses[str(transcript.seed.get("license") or "unknown")] += 1


def render_card(
    fmt: str,
    stats: ExportStats,
    data_files: list[str],
    report: CurateReport | None = None,
    manifest: dict[str, Any] | None = None,
) -> str:
    """The dataset card: YAML front matter, then provenance, counts, schema and license.

    Args:
        fmt: The export format.
        stats: Counts gathered during the export.
        data_files: Data file paths relative to the card (globs allowed), for the ``configs`` entry.
        report: The curate report of the source, if it was curated.
        manifest: The source's run manifest (``run.json``), if any.
    """
    sections = [
        _front_matter(fmt, stats, data_files),
        f"# AIEV-INSTRUCT dialogues ({fmt})\n",
        "Multi-turn, execution-verified code dialogues made with aiev-agents (AIEV-INSTRUCT, AutoCoder "
        "arXiv 2405.14906): a questioner poses a problem, a programmer answers with code and unit tests, "
        "a Docker executor runs them, and failures are explained and repaired. Only dialogues whose last "
        "program passed its own tests are included; failed attempts and their fixes are kept.\n",
        _provenance(stats, manifest),
        _counts(stats, report),
        _decontamination(report),
        _schema(fmt),
        _license(stats),
    ]
    return "\n".join(sections).rstrip() + "\n"


def _front_matter(fmt: str, stats: ExportStats, data_files: list[str]) -> str:
    meta = {
        "pretty_name": f"AIEV-INSTRUCT dialogues ({fmt})",
        "license": "other",
        "license_name": "generated-data-see-card",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": ["code", "synthetic", "aiev-instruct", "multi-turn", "execution-verified", f"format:{fmt}"],
        "size_categories": [_size_category(stats.exported)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": data_files}]}],
        "aiev": {
            "export_format": fmt,
            "export_schema": EXPORT_SCHEMA_VERSION,
            "config_hashes": sorted(stats.config_hashes),
            "samples": stats.exported,
        },
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _provenance(stats: ExportStats, manifest: dict[str, Any] | None) -> str:
    lines = ["## Provenance", "", "| config hash | samples |", "|---|---:|"]
    lines += [f"| `{h}` | {n} |" for h, n in sorted(stats.config_hashes.items())]
    lines += ["", "| stage | role | model | samples |", "|---|---|---|---:|"]
    lines += [f"| {s} | {r} | {m} | {n} |" for (s, r, m), n in sorted(stats.models.items())]
    if manifest:
        lines += ["", f"Run manifest: code version `{manifest.get('code_version', '?')}`, "
                  f"stage `{manifest.get('stage', '?')}`, started {manifest.get('started_at', '?')}."]  # fmt: skip
    lines += [
        "",
        f"Rounds: {stats.rounds} in {stats.exported} sample(s) "
        f"({stats.rounds / max(stats.exported, 1):.2f} per sample); {stats.repaired} repaired after a "
        f"failed run; {stats.with_packages} need packages. Model tokens: {stats.total_tokens} "
        f"(cost ${stats.cost:.2f}).",
        "",
    ]
    return "\n".join(lines)


def _counts(stats: ExportStats, report: CurateReport | None) -> str:
    lines = ["## Counts", "", "| step | before | after |", "|---|---:|---:|"]
    if report is not None:
        lines += [f"| curate: {f.name} | {f.before} | {f.after} |" for f in report.filters]
    else:
        lines.insert(2, "Not curated: no deduplication or decontamination was run (see `aiev curate`).\n")
    skipped = stats.not_verified + stats.invalid + stats.empty
    lines += [f"| export: verified, valid, non-empty | {stats.read} | {stats.read - skipped} |", ""]
    lines.append(
        f"Export skipped {stats.not_verified} unverified, {stats.invalid} invalid and {stats.empty} "
        f"empty record(s); {stats.exported} written.\n"
    )
    return "\n".join(lines)


def _decontamination(report: CurateReport | None) -> str:
    if report is None:
        return "## Decontamination\n\nNot run.\n"
    settings = report.settings
    if not settings.get("decontaminate", True):
        return "## Decontamination\n\nSwitched off when curating.\n"
    lines = [
        "## Decontamination",
        "",
        f"Against {', '.join(f'{b.name} ({b.tasks} tasks)' for b in report.benchmarks) or 'no benchmark'}: "
        f"a word {settings.get('ngram_size')}-gram shared with a task's prompt, "
        f"{settings.get('min_code_overlap', 0.5):.0%} of a reference solution's n-grams, or normalised "
        f"Levenshtein similarity >= {settings.get('levenshtein_threshold')}, checked on the sample's "
        f"{' and '.join(settings.get('decontaminate_fields', []))}.",
        "",
    ]
    contamination = report.contamination()
    if not contamination:
        return "\n".join([*lines, "No sample matched a benchmark task.", ""])
    lines += ["| benchmark | task ids (samples removed) |", "|---|---|"]
    for name, tasks in contamination.items():
        lines.append(f"| {name} | {', '.join(f'{task} ({n})' for task, n in tasks.items())} |")
    return "\n".join([*lines, ""])


def _schema(fmt: str) -> str:
    lines = ["## Record schema", "", f"Format `{fmt}`, export schema {EXPORT_SCHEMA_VERSION}.", ""]
    lines += ["| field | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {meaning} |" for name, meaning in SCHEMAS[fmt]]
    return "\n".join([*lines, ""])


def _license(stats: ExportStats) -> str:
    licenses = ", ".join(f"{name} ({n})" for name, n in stats.seed_licenses.most_common()) or "none recorded"
    return (
        "## License\n\n"
        "No license is granted by this tool. The dialogues were written by the models listed above, so "
        "they inherit those models' terms of use (some providers restrict using outputs to train "
        "competing models). Problems derived from seed code also inherit the seeds' licenses; seed "
        f"licenses recorded: {licenses}. Check both before you publish or train on this data.\n"
    )


def _size_category(count: int) -> str:
    for limit, name in _SIZE_CATEGORIES:
        if count < limit:
            return name
    return "n>1M"
