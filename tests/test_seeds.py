"""Seeds files: valid lines become seeds, bad lines are reported with their number and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiev_agents import Seed, SeedError
from aiev_agents.generate.seeds import read_seed_files, read_seeds


def read_all(path: Path) -> tuple[list[Seed], list[str]]:
    errors: list[str] = []
    seeds = list(read_seeds(path, on_error=lambda e: errors.append(str(e))))
    return seeds, errors


def test_snippet_and_problem_seeds_are_read_with_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": 1, "snippet": "def f(): pass", "source": "x.py"}\n\n{"id": "b", "problem": "Add."}\n')
    seeds, errors = read_all(path)
    assert errors == []
    assert [s.id for s in seeds] == ["1", "b"]
    assert seeds[0].model_dump(exclude_none=True) == {"id": "1", "snippet": "def f(): pass", "source": "x.py"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"snippet": "x"}', "`id`"),
        ('{"id": "a"}', "exactly one of `snippet`"),
        ('{"id": "a", "snippet": "x", "problem": "y"}', "exactly one of `snippet`"),
    ],
)
def test_bad_line_is_reported_with_its_number_and_skipped(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(f'{{"id": "ok1", "problem": "p"}}\n{line}\n{{"id": "ok2", "problem": "q"}}\n')
    seeds, errors = read_all(path)
    assert [s.id for s in seeds] == ["ok1", "ok2"]
    assert len(errors) == 1
    assert f"{path}:2:" in errors[0]
    assert reason in errors[0]
    assert "line skipped" in errors[0]


def test_repeated_id_is_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a", "problem": "p"}\n{"id": "a", "problem": "q"}\n')
    seeds, errors = read_all(path)
    assert [s.problem for s in seeds] == ["p"]
    assert "appears twice" in errors[0]


def test_unreadable_seeds_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read seeds file"):
        read_all(tmp_path / "missing.jsonl")


def test_coerce_accepts_a_dict_and_a_bare_problem() -> None:
    assert Seed.coerce({"id": 7, "snippet": "x = 1"}).id == "7"
    assert Seed.coerce("Reverse a string.").problem == "Reverse a string."
    with pytest.raises(SeedError, match="exactly one"):
        Seed.coerce({"id": "x"})


def test_several_files_are_read_in_order_and_ids_stay_unique_across_them(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"id": "x", "problem": "p"}\n')
    second.write_text('{"id": "y", "problem": "q"}\n{"id": "x", "problem": "r"}\n')
    errors: list[str] = []
    seeds = list(read_seed_files([first, second], on_error=lambda e: errors.append(str(e))))
    assert [s.id for s in seeds] == ["x", "y"]
    assert errors == [f"{second}:2: id 'x' appears twice; ids must be unique; line skipped"]


def test_a_missing_file_among_several_fails_before_any_is_read(tmp_path: Path) -> None:
    present = tmp_path / "a.jsonl"
    present.write_text('{"id": "x", "problem": "p"}\n')
    with pytest.raises(SeedError, match="missing.jsonl"):
        read_seed_files([present, tmp_path / "missing.jsonl"], on_error=lambda e: None)
