"""A seed's `language`: any alias of a language the sandbox runs, stored by its canonical name."""

from __future__ import annotations

import pytest

from aiev_agents.dialogue.seed import Seed
from aiev_agents.errors import SeedError


@pytest.mark.parametrize(("given", "stored"), [("JS", "javascript"), ("c++", "cpp"), ("rs", "rust"), ("sh", "bash")])
def test_an_alias_is_stored_by_its_canonical_name(given: str, stored: str):
    seed = Seed.coerce({"id": 1, "problem": "p", "language": given})
    assert (seed.language, seed.program_language) == (stored, stored)
    assert seed.model_dump(exclude_none=True)["language"] == stored


def test_python_is_the_default_and_is_left_out_of_records():
    for seed in (Seed.coerce({"id": 1, "problem": "p"}), Seed.coerce({"id": 1, "problem": "p", "language": "py"})):
        assert seed.program_language == "python"
        assert "language" not in seed.model_dump(exclude_none=True)


def test_an_unknown_language_is_a_seed_error_that_names_the_known_ones():
    with pytest.raises(
        SeedError, match="`language` 'cobol' is not one the sandbox runs: use one of python, javascript"
    ):
        Seed.coerce({"id": 1, "problem": "p", "language": "cobol"})
