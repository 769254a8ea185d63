"""Small statistics for latency samples: percentiles by nearest rank and millisecond rounding.

Nearest rank (the value at or above the p-th fraction of sorted samples) is what load tools
such as wrk2 and HdrHistogram report, and never invents a value that was not measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (0 < p <= 100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded to 0.1 ms."""
    return round(seconds * 1000, 1)


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max of second-valued samples, in milliseconds."""
    return {
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(max(values)) if values else math.nan,
    }
