"""Data-subject requests on the world: export and erasure of subjects present everywhere.

Each erasure subject (see ``world.subject_records``) is a buyer, a
stakeholder, the head of a household, an employee and a rider, with consents.
The privacy plugin exports and then erases each one; its erasure report gives
the time of the erasure transaction, of the compaction after it, and of the
completeness scan (every text column of every table, and the SQLite file).
``residual_hits`` adds up what the scans found: it must be 0.
"""

from __future__ import annotations

import functools
import statistics
from typing import Any

from partygraph_bench.context import BenchContext
from partygraph_bench.timing import timed
from partygraph_bench.world import subject_key

__all__ = ["measure_privacy"]


def measure_privacy(context: BenchContext) -> dict[str, Any]:
    """Median export, erasure and scan times over the subjects; residual hits in total."""
    privacy = context.world_toolkit().plugin("privacy")
    exports: list[float] = []
    erasures: list[float] = []
    compactions: list[float] = []
    scans: list[float] = []
    residual = 0
    passed = True
    subjects = context.plan.subjects
    with context.progress.task("privacy (export, erase, scan)", subjects) as advance:
        for index in range(subjects):
            key = subject_key(index)
            seconds, document = timed(functools.partial(privacy.export, key))
            if not document:
                raise RuntimeError(f"the export of {key} is empty")
            exports.append(seconds * 1000)
            report = privacy.erase(key)
            erasures.append(float(report["erase_ms"]))
            compactions.append(float(report["compact_ms"]))
            scans.append(float(report["verify_scan_ms"]))
            residual += sum(int(hit["rows"]) for hit in report["residual_hits"])
            residual += int(report["file_residual_hits"] or 0)
            passed = passed and bool(report["passed"])
            advance(1)
    return {
        "subjects": subjects,
        "export_ms": round(statistics.median(exports), 1),
        "erase_ms": round(statistics.median(erasures), 1),
        "compact_ms": round(statistics.median(compactions), 1),
        "verify_scan_ms": round(statistics.median(scans), 1),
        "residual_hits": residual,
        "passed": passed,
    }
