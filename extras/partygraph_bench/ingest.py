"""Ingest and single-write measurements, interleaved with their baselines.

Each repetition writes the same interaction rows four ways, one after the
other, each into its own copy of a structure database: the floor (driver
only), ``core_only`` (the bulk API, no plugin), the pipeline (the bulk API
with every first-party plugin: validation, the privacy gate, derived writes,
hooks) and the naive ORM. Ratios are medians of the per-repetition ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from partygraph_bench.baselines import floor_write, naive_orm_single, naive_orm_write
from partygraph_bench.context import BenchContext, open_core_only, open_pipeline
from partygraph_bench.timing import clock, median_ratio, percentile, timed, us
from partygraph_bench.world import interaction_records

__all__ = ["measure_ingest", "measure_single_write"]

Record = Mapping[str, Any]


def _bulk(context: BenchContext, how: str, records: Sequence[Record]) -> float:
    """Seconds one way of writing took (the database prepared untimed, discarded after)."""
    url = context.prepared(f"ingest-{how}", full=how == "pipeline")
    try:
        if how == "floor":
            seconds, _ = timed(lambda: floor_write(url, records, context.core_ids))
        elif how == "naive_orm":
            seconds, _ = timed(lambda: naive_orm_write(url, records, context.core_ids))
        else:
            opened = (
                open_pipeline(url)
                if how == "pipeline"
                else open_core_only(url, context.core_vocabulary())
            )
            with opened as toolkit:
                seconds, report = timed(lambda: toolkit.write(records))
            if report.created["interaction"] != len(records):
                raise RuntimeError(
                    f"{how}: wrote {report.created['interaction']} of {len(records)}"
                )
        return seconds
    finally:
        context.workspace.discard(url)


def measure_ingest(context: BenchContext) -> dict[str, Any]:
    """Rows per second of each way, and the ratios the targets are set on."""
    records = list(interaction_records(context.plan, context.scale.ingest_rows))
    ways = ("floor", "core_only", "pipeline", "naive_orm")
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    with context.progress.task(
        "ingest (floor, core, pipeline, naive ORM)", context.repeat * 4
    ) as advance:
        for _ in range(context.repeat):
            for way in ways:
                seconds[way].append(_bulk(context, way, records))
                advance(1)
    rows = len(records)

    def rate(way: str) -> float:
        return round(rows / statistics.median(seconds[way]))

    return {
        "rows": rows,
        "pipeline_rows_per_s": rate("pipeline"),
        "floor_rows_per_s": rate("floor"),
        "ratio_to_floor": round(median_ratio(seconds["floor"], seconds["pipeline"]), 3),
        "core_only_rows_per_s": rate("core_only"),
        "plugin_overhead_ratio": round(median_ratio(seconds["pipeline"], seconds["core_only"]), 3),
        "core_only_ratio_to_floor": round(median_ratio(seconds["floor"], seconds["core_only"]), 3),
        "naive_orm_rows_per_s": rate("naive_orm"),
        "ratio_to_naive_orm": round(median_ratio(seconds["naive_orm"], seconds["pipeline"]), 2),
    }


def _pipeline_single(context: BenchContext, records: Sequence[Record]) -> list[float]:
    url = context.prepared("single-pipeline", full=True)
    times = []
    try:
        with open_pipeline(url) as toolkit:
            for record in records:
                body = record["interaction"]
                started = clock()
                toolkit.record_interaction(
                    body["type"], body["occurred_at"], body["participants"], body["payload"]
                )
                times.append(clock() - started)
    finally:
        context.workspace.discard(url)
    return times


def _naive_single(context: BenchContext, records: Sequence[Record]) -> list[float]:
    url = context.prepared("single-naive", full=False)
    try:
        return naive_orm_single(url, records, context.core_ids, clock)
    finally:
        context.workspace.discard(url)


def measure_single_write(context: BenchContext) -> dict[str, Any]:
    """One interaction per transaction: the public API against ``add`` + ``commit``."""
    records = list(interaction_records(context.plan, context.scale.single_writes))
    pipeline: list[float] = []
    naive: list[float] = []
    with context.progress.task("single writes", context.repeat * 2) as advance:
        for _ in range(context.repeat):
            pipeline += _pipeline_single(context, records)
            advance(1)
            naive += _naive_single(context, records)
            advance(1)
    p50 = percentile(pipeline, 0.5)
    naive_p50 = percentile(naive, 0.5)
    return {
        "writes": len(pipeline),
        "p50_us": us(p50),
        "p99_us": us(percentile(pipeline, 0.99)),
        "naive_orm_p50_us": us(naive_p50),
        "naive_orm_p99_us": us(percentile(naive, 0.99)),
        "ratio_to_naive_orm": round(p50 / naive_p50, 3),
    }
