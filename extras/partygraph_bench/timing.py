"""Small timing helpers: a clock, percentiles, medians of ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["clock", "median_ratio", "percentile", "timed", "us"]

#: A monotonic clock in seconds.
clock = time.perf_counter


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds *function* took, and what it returned."""
    started = clock()
    result = function()
    return clock() - started, result


def percentile(values: Sequence[float], share: float) -> float:
    """The *share* percentile (0.5, 0.99) of *values*, by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the ratios of paired measurements (each pair from one repetition).

    Pairing before taking the median cancels what disturbed both members of a
    pair alike (another process on the machine), which medians taken apart do not.
    """
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def us(seconds: float) -> float:
    """Seconds as microseconds, rounded for reports."""
    return round(seconds * 1e6, 1)
