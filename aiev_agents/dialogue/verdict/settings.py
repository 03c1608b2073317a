"""Settings of the verdict: which checks a passing program must also pass to be verified."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Chosen from the verifier benchmark (``benchmarks/bench_verifier.py``): see docs/verdict.md.
DEFAULT_MIN_MUTATION_SCORE = 0.5  # 0.9 halves exit-0's false-verified rate (docs/verdict.md)
DEFAULT_MUTANTS = 16


class VerdictSettings(BaseModel):
    """``dialogue.verdict`` in a config: the gates after a run that exited 0 with tests."""

    model_config = ConfigDict(extra="forbid")

    min_tests: int = Field(
        1, ge=1, description="Assertions executed in test code plus test cases run that the program's own tests need."
    )
    mutation: bool = Field(True, description="Run the tests against mutants of the solution (mutation testing).")
    mutants: int = Field(DEFAULT_MUTANTS, gt=0, description="Most mutants run per sample (each a warm sandbox run).")
    min_mutation_score: float = Field(
        DEFAULT_MIN_MUTATION_SCORE,
        ge=0,
        le=1,
        description="Killed / (killed + survived) a sample needs; at least one mutant must be killed too.",
    )
    mutant_timeout_s: float = Field(
        5.0, gt=0, description="Wall-clock limit of one mutant's run (a mutant that loops is inconclusive)."
    )
    coverage: bool = Field(True, description="Measure line and branch coverage of the solution by the tests.")
    min_line_coverage: float = Field(0.0, ge=0, le=1, description="Share of the solution's lines the tests run.")
    min_branch_coverage: float = Field(0.0, ge=0, le=1, description="Share of branch outcomes the tests take.")
