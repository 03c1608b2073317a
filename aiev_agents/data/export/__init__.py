"""Export verified dialogues as training data: OpenAI chat, ShareGPT, Alpaca, HF datasets, AutoCoder.

The source is the output folder of ``aiev generate`` or ``aiev curate`` (or a JSONL file);
only verified records are exported. Every export writes its data and a dataset card
(``README.md``) into the output folder. JSONL formats are streamed to ``train.jsonl``;
``hf`` saves a ``datasets.DatasetDict`` (split ``train``, loadable with
``datasets.load_from_disk``) plus ``data/train-00000-of-00001.parquet``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ...atomic import atomic_writer
from ...dialogue.transcript import Transcript
from ...errors import DatasetError
from ...jsonl import dumps_line
from ..curate.curator import dataset_records, resolve_dataset
from ..curate.report import REPORT_JSON, CurateReport, load_report
from .card import ExportStats, render_card
from .formats import (
    EXPORT_SCHEMA_VERSION,
    FORMATS,
    ExportFormat,
    conversation,
    to_alpaca,
    to_autocoder,
    to_hf_row,
    to_openai,
    to_sharegpt,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EXPORT_SCHEMA_VERSION",
    "FORMATS",
    "ExportFormat",
    "ExportResult",
    "ExportStats",
    "export_dataset",
    "to_alpaca",
    "to_autocoder",
    "to_hf_row",
    "to_openai",
    "to_sharegpt",
    "verified_transcripts",
]

JSONL_FILE = "train.jsonl"
CARD_FILE = "README.md"
PARQUET_FILE = "data/train-00000-of-00001.parquet"
MANIFEST_FILE = "run.json"
# What an export may leave in its folder; --overwrite removes only these.
_EXPORT_PATHS = (JSONL_FILE, CARD_FILE, "data", "train", "dataset_dict.json")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    format: str
    out_dir: Path
    files: list[Path]
    card: Path
    stats: ExportStats


def verified_transcripts(source: str | Path, stats: ExportStats | None = None) -> Iterator[Transcript]:
    """Stream the verified, valid transcripts of a dataset, counting what is skipped in ``stats``."""
    stats = stats if stats is not None else ExportStats()
    for line, record in dataset_records(source):
        stats.read += 1
        try:
            transcript = Transcript.from_dict(record or {})
        except ValidationError as exc:
            stats.invalid += 1
            logger.warning("record at line %d is not a valid transcript (%s); skipped", line, exc.errors()[0]["msg"])
            continue
        if not transcript.verified:
            stats.not_verified += 1
        elif not conversation(transcript):
            stats.empty += 1
        else:
            stats.add(transcript)
            yield transcript


def export_dataset(
    source: str | Path,
    fmt: str,
    out_dir: str | Path,
    *,
    merge: bool = True,
    overwrite: bool = False,
) -> ExportResult:
    """Export the verified samples of ``source`` as ``fmt`` into ``out_dir``, with a dataset card.

    Args:
        source: A dataset folder (``dialogues.jsonl`` inside) or a JSONL file.
        fmt: One of ``openai``, ``sharegpt``, ``alpaca``, ``hf``, ``autocoder``.
        out_dir: The folder to write.
        merge: Join consecutive same-role turns (see :func:`~aiev_agents.data.export.formats.conversation`).
        overwrite: Replace an earlier export in ``out_dir``.

    Returns:
        The files written and the counts.

    Raises:
        DatasetError: Unknown format, missing source, no verified sample, an ``out_dir`` that
            holds other files, or ``datasets`` missing for ``hf``.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
    source_file = resolve_dataset(source)
    out = Path(out_dir)
    _check_output(out, overwrite)
    stats = ExportStats()
    transcripts = _non_empty(verified_transcripts(source_file, stats), source_file)
    _clear_output(out)
    if fmt == "hf":
        files = _write_hf(transcripts, out, merge)
        data_files = ["data/train-*.parquet"]
    else:
        files = [_write_jsonl(_ROW_MAKERS[fmt](merge), transcripts, out / JSONL_FILE)]
        data_files = [JSONL_FILE]
    card = out / CARD_FILE
    report = _curate_report(source_file)
    card.write_text(render_card(fmt, stats, data_files, report, _manifest(source_file)), encoding="utf-8")
    logger.info("exported %d sample(s) as %s to %s", stats.exported, fmt, out)
    return ExportResult(format=fmt, out_dir=out, files=files, card=card, stats=stats)


_ROW_MAKERS: dict[str, Callable[[bool], Callable[[Transcript], dict[str, Any]]]] = {
    "openai": lambda merge: lambda t: to_openai(t, merge=merge),
    "sharegpt": lambda merge: lambda t: to_sharegpt(t, merge=merge),
    "alpaca": lambda merge: to_alpaca,
    "autocoder": lambda merge: lambda t: to_autocoder(t, merge=merge),
}


def _non_empty(transcripts: Iterator[Transcript], source_file: Path) -> Iterator[Transcript]:
    first = next(transcripts, None)
    if first is None:
        raise DatasetError(f"{source_file} holds no verified sample; nothing to export")
    return chain([first], transcripts)


def _write_jsonl(
    make_row: Callable[[Transcript], dict[str, Any]], transcripts: Iterator[Transcript], path: Path
) -> Path:
    with atomic_writer(path) as handle:
        for transcript in transcripts:
            handle.write(dumps_line(make_row(transcript)))
    return path


def _write_hf(transcripts: Iterator[Transcript], out: Path, merge: bool) -> list[Path]:
    datasets = _import_datasets()
    from .formats import hf_features

    def rows() -> Iterator[dict[str, Any]]:
        for transcript in transcripts:
            yield to_hf_row(transcript, merge=merge)

    parquet = out / PARQUET_FILE
    parquet.parent.mkdir(parents=True, exist_ok=True)
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the library prints nothing; the CLI reports the result
    try:
        with tempfile.TemporaryDirectory(prefix="aiev-export-") as cache:
            # Rows stream into an Arrow file in a private cache; a random fingerprint spares
            # datasets hashing the generator and never reuses an older cache.
            dataset = datasets.Dataset.from_generator(
                rows, features=hf_features(), cache_dir=cache, fingerprint=os.urandom(8).hex()
            )
            datasets.DatasetDict({"train": dataset}).save_to_disk(str(out))
            dataset.to_parquet(str(parquet))
            del dataset
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    return [out / "dataset_dict.json", out / "train", parquet]


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise DatasetError("the hf format needs the datasets package: pip install 'aiev-agents[datasets]'") from exc
    return datasets


def _check_output(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} is a file; give a folder")
    if not out.is_dir():
        return
    others = sorted(p.name for p in out.iterdir() if p.name not in _EXPORT_PATHS)
    if others:
        raise DatasetError(f"--out {out} holds other files ({', '.join(others[:3])}); use an empty folder")
    if any((out / name).exists() for name in _EXPORT_PATHS) and not overwrite:
        raise DatasetError(f"--out {out} already holds an export; pass --overwrite to replace it")


def _clear_output(out: Path) -> None:
    """Remove an earlier export's files (only those an export writes) and make the folder."""
    for name in _EXPORT_PATHS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _curate_report(source_file: Path) -> CurateReport | None:
    path = source_file.parent / REPORT_JSON
    return load_report(path) if path.exists() else None


def _manifest(source_file: Path) -> dict[str, Any] | None:
    path = source_file.parent / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
