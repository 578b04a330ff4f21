"""The benchmark's scales: how big a world, how many rows per measurement.

A scale multiplies one shape of world (the ``medium`` one: about 100,000
parties and 1,000,000 interactions) by a factor, so every scale exercises
the same mix of plugins in the same proportions.
"""

from __future__ import annotations

import attrs

__all__ = ["REFERENCE_SCALE", "SCALES", "Scale", "scale_named"]


@attrs.frozen
class Scale:
    """One scale: the world's size factor and the sizes of the timed samples."""

    name: str
    #: Multiplies the medium world's counts (1.0 = about 100k parties, 1M interactions).
    factor: float
    #: Interaction rows written per ingest measurement (floor, core, pipeline, naive ORM).
    ingest_rows: int
    #: Single writes timed per repetition (pipeline and naive ORM each).
    single_writes: int
    #: Parties read per repetition (view and roles each).
    reads: int


SCALES: dict[str, Scale] = {
    # Tests only: a few hundred parties; every measurement still runs.
    "tiny": Scale("tiny", 0.002, ingest_rows=1_000, single_writes=20, reads=10),
    # CI's smoke run (after the test suite, on 2 shared cores): about 3,400 parties and
    # 30,000 interactions, and samples small enough to finish in about a minute.
    "small": Scale("small", 0.03, ingest_rows=5_000, single_writes=50, reads=40),
    "medium": Scale("medium", 1.0, ingest_rows=100_000, single_writes=200, reads=300),
    "large": Scale("large", 10.0, ingest_rows=200_000, single_writes=200, reads=300),
}

#: The scale ``growth_ratio_p50`` compares against.
REFERENCE_SCALE = "small"


def scale_named(name: str) -> Scale:
    """The scale called *name* (one of :data:`SCALES`)."""
    return SCALES[name]
