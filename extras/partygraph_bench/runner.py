"""The benchmark from start to end: prepare, measure, report one JSON-ready dict."""

from __future__ import annotations

import os
import platform
import sqlite3
from typing import Any

import partygraph
from partygraph_bench.analytics import measure_analytics
from partygraph_bench.context import BenchContext
from partygraph_bench.databases import Workspace
from partygraph_bench.ingest import measure_ingest, measure_single_write
from partygraph_bench.privacy import measure_privacy
from partygraph_bench.progress import Progress, Silent
from partygraph_bench.reads import measure_reads
from partygraph_bench.scales import REFERENCE_SCALE, scale_named
from partygraph_bench.world import Plan

__all__ = ["machine", "run_benchmark"]

_TABLES = ("party", "relationship", "interaction", "participant")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "partygraph": partygraph.__version__,
    }


def _counts(context: BenchContext, plan: Plan) -> dict[str, Any]:
    toolkit = context.world_toolkit()
    with toolkit.engine.connect() as connection:
        found = {
            f"{table}s" if table != "party" else "parties": int(
                connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            )
            for table in _TABLES
        }
    return {
        "name": context.scale.name,
        "factor": context.scale.factor,
        "seed": plan.seed,
        **found,
        "accounts": plan.accounts,
        "households": plan.households,
        "departments": plan.departments,
        "drivers": plan.drivers,
        "riders": plan.riders,
        "subjects": plan.subjects,
        "reference_scale": REFERENCE_SCALE,
    }


def run_benchmark(
    scale: str = "small",
    *,
    database: str | None = None,
    repeat: int = 3,
    seed: int = 11,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every measurement at *scale*; *database* a PostgreSQL URL (default: SQLite files)."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    chosen = scale_named(scale)
    plan = Plan.for_scale(chosen, subjects=repeat, seed=seed)
    with Workspace(database).session() as workspace:
        context = BenchContext(chosen, plan, repeat, workspace, progress or Silent())
        try:
            context.prepare()
            result: dict[str, Any] = {
                "scale": _counts(context, plan),
                "database": workspace.dialect,
                "repeat": repeat,
                "machine": machine(),
                "world": dict(context.figures),
            }
            result["ingest"] = measure_ingest(context)
            result["single_write"] = measure_single_write(context)
            result["reads"] = measure_reads(context)
            result["analytics"] = measure_analytics(context)
            result["privacy"] = measure_privacy(context)  # last: it erases people
            return result
        finally:
            context.close()
