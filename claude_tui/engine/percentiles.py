"""The one percentile: linear interpolation between closest ranks (numpy's default method).

Used by the live metrics, the history's `stats` and the benchmark report, so a p99 means the same
thing on the stats panel, in `claude-tui history stats` and in BENCHMARKS.md.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence


def percentile_sorted(ordered: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) of values already in ascending order (the caller sorted once)."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def percentile(values: Iterable[float], p: float) -> float | None:
    """The ``p``-th percentile (0–100) of ``values`` in any order."""
    return percentile_sorted(sorted(values), p)
