"""HumanEval+ as evalplus runs it: expected outputs from the reference, candidates compared on them.

The expected outputs are computed by running the task's reference solution (prompt +
canonical solution) on every ``base_input`` and ``plus_input`` *in the sandbox*, once per
task; they are cached on disk, keyed by a hash of the reference, the inputs, the sandbox
image and the driver. Outputs too big to ship (HumanEval/15 and /130: about 100 MB each)
are recomputed inside each candidate's run instead, input by input, beside the candidate.

Each candidate runs on the same inputs in the sandbox; an input's time limit is
``max(1 s, 4 x the reference's time)`` (evalplus's defaults), and the whole run's limit is
the sandbox timeout plus 4 x the reference's total time.

The host never unpickles what the sandbox printed: the expected outputs travel as an
opaque base64 string from the reference's run to the candidate's run. Dataset quirks live
here: :data:`SPECIAL_ORACLES` (HumanEval/32, ``find_zero``, is checked by
``|poly(xs, x)| <= atol``, as evalplus does).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..data.benchmarks import BenchmarkTask
from ..errors import DatasetError

logger = logging.getLogger(__name__)

MIN_TIME_LIMIT_S = 1.0
TIME_LIMIT_FACTOR = 4.0
ORACLE_TIMEOUT_S = 300.0
DRIVER_VERSION = 3
#: Task id → the special comparison evalplus applies to it (see ``plus_driver.matches``).
SPECIAL_ORACLES = {"HumanEval/32": "poly_root"}
_MARKER = "__AIEV_EVAL_{}__"


@dataclass(frozen=True)
class Oracle:
    """What the reference produced on one task's inputs.

    Attributes:
        expected_b64: The outputs, pickled and compressed in the sandbox, base64-coded; opaque
            to the host. None when too big to ship: the check then reruns the reference.
        times: ``base`` and ``plus`` → the reference's seconds per input.
    """

    expected_b64: str | None
    times: dict[str, list[float]]

    @property
    def total_s(self) -> float:
        """The reference's run time over all inputs."""
        return sum(self.times["base"]) + sum(self.times["plus"])

    def limits(self) -> dict[str, list[float]]:
        """The time limit of each input: ``max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR x reference)``."""
        return {
            phase: [max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR * t) for t in times] for phase, times in self.times.items()
        }

    def run_timeout(self, base_timeout_s: float) -> float:
        """The whole candidate run's wall-clock limit (plus the reference's own time when it reruns)."""
        rerun = self.total_s if self.expected_b64 is None else 0.0
        return base_timeout_s + TIME_LIMIT_FACTOR * self.total_s + rerun


def new_marker() -> str:
    """A marker for one run's verdict line, unguessable by the program."""
    return _MARKER.format(secrets.token_hex(8))


def inputs_json(task: BenchmarkTask) -> str:
    """The task's ``base_input`` and ``plus_input`` as one JSON text.

    Raises:
        DatasetError: The task has no ``base_input`` (not an evalplus file).
    """
    if "base_input" not in task.raw:
        raise DatasetError(
            f"{task.task_id} has no base_input: HumanEval+ needs the evalplus release file (HumanEvalPlus.jsonl.gz)"
        )
    return json.dumps({"base": task.raw["base_input"], "plus": task.raw.get("plus_input") or []})


def oracle_program(task: BenchmarkTask, marker: str) -> str:
    """The program that runs the reference on every input and prints the marker line."""
    call = f"oracle({task.code!r}, {task.entry_point!r}, {inputs_json(task)!r}, {marker!r})"
    return _driver_source() + "\n\n" + call + "\n"


def check_program(task: BenchmarkTask, code: str, oracle: Oracle, marker: str) -> str:
    """The program that checks ``code`` on every input against the reference's outputs."""
    atol = float(task.raw.get("atol") or 0)
    special = SPECIAL_ORACLES.get(task.task_id)
    call = (
        f"check({code!r}, {task.entry_point!r}, {inputs_json(task)!r}, {oracle.expected_b64!r}, "
        f"{None if oracle.expected_b64 is not None else task.code!r}, "
        f"{json.dumps(oracle.limits())}, {atol!r}, {special!r}, {marker!r})"
    )
    return _driver_source() + "\n\n" + call + "\n"


def parse_marker(output: str, marker: str) -> dict[str, Any] | None:
    """The JSON the driver printed after ``marker`` (the last such line), or None."""
    found = re.findall(rf"^{re.escape(marker)} (\{{.*\}})$", output, flags=re.MULTILINE)
    if not found:
        return None
    try:
        payload = json.loads(found[-1])
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def oracle_from_output(output: str, marker: str) -> Oracle | None:
    """The oracle the reference's run printed, or None when it printed none."""
    payload = parse_marker(output, marker)
    if payload is None or not isinstance(payload.get("times"), dict):
        return None
    return Oracle(expected_b64=payload["expected"], times=payload["times"])


class OracleCache:
    """Expected outputs on disk, one JSON file per task, keyed by a content hash."""

    def __init__(self, folder: Path | None, image: str) -> None:
        """Args: folder: where files go (None: no cache); image: the sandbox image, part of the key."""
        self.folder = folder
        self.image = image

    def key(self, task: BenchmarkTask) -> str:
        """Hash of the reference, the inputs, the image and the driver version."""
        text = json.dumps([task.code, task.entry_point, inputs_json(task), self.image, DRIVER_VERSION])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def get(self, task: BenchmarkTask) -> Oracle | None:
        """The cached oracle of ``task``, or None."""
        if self.folder is None:
            return None
        path = self.folder / f"{self.key(task)}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Oracle(expected_b64=data["expected"], times=data["times"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, task: BenchmarkTask, oracle: Oracle) -> None:
        """Store ``oracle`` atomically; a failure only logs."""
        if self.folder is None:
            return
        path = self.folder / f"{self.key(task)}.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({"expected": oracle.expected_b64, "times": oracle.times}))
        except OSError as exc:
            logger.warning("cannot cache the expected outputs of %s in %s: %s", task.task_id, path, exc)


def default_oracle_cache_dir() -> Path:
    """The user cache folder for HumanEval+ expected outputs."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("aiev-agents")) / "eval-oracle"


@functools.lru_cache(maxsize=1)
def _driver_source() -> str:
    return resources.files(__package__).joinpath("plus_driver.py").read_text(encoding="utf-8")
