"""Per-party reads: the 360-degree view and the roles, at this scale and at the small one.

Parties are drawn (seeded) from every kind the world holds. The view p50 is
also measured on a world of the reference (small) scale in the same run,
interleaved party by party, for ``growth_ratio_p50``: a read that touches one
party's rows should not slow down as the database grows.

Reads are measured against a warm operating-system cache, as on a server that
has been running: on SQLite each world's database file is read through once,
untimed, just before. Otherwise the figure depends on what the earlier
sections left cached: the world is written first, and several minutes of
ingest and single writes on other files go by before the reads, long enough
for the kernel to drop the world's pages; a read that waits for the disk
measures the disk, not partygraph. (PostgreSQL keeps its own buffers; its
files are not touched.)
"""

from __future__ import annotations

import random
from typing import Any

from partygraph import Toolkit
from partygraph_bench.context import BenchContext, open_pipeline, refresh_after_import
from partygraph_bench.databases import sqlite_path
from partygraph_bench.scales import REFERENCE_SCALE, SCALES
from partygraph_bench.timing import clock, percentile, us
from partygraph_bench.world import (
    AS_OF,
    Plan,
    interaction_records,
    structure_records,
)

__all__ = ["KINDS", "measure_reads", "sample_keys", "warm_file_cache"]

#: The kind of party each sampled key's prefix names (``reads.by_kind`` in the report).
KINDS = {
    "hm": "household_member",
    "rdr": "rider",
    "drv": "driver",
    "cm": "committee_member",
    "emp": "employee",
    "acct": "account",
    "hh": "household",
    "dept": "department",
}


def sample_keys(plan: Plan, count: int, seed: int) -> list[str]:
    """*count* party keys of every kind: household members, riders, drivers, stakeholders,
    employees, accounts, households, departments."""
    rng = random.Random(seed)
    makers = [
        lambda: f"hm-{rng.randrange(plan.households)}-{rng.randrange(3)}",
        lambda: f"rdr-{rng.randrange(plan.riders)}",
        lambda: f"drv-{rng.randrange(plan.drivers)}",
        lambda: f"cm-{rng.randrange(plan.accounts)}-{rng.randrange(plan.committee_size)}",
        lambda: f"emp-{rng.randrange(plan.employees)}",
        lambda: f"acct-{rng.randrange(plan.accounts)}",
        lambda: f"hh-{rng.randrange(plan.households)}",
        lambda: f"dept-{rng.randrange(plan.departments)}",
    ]
    return [makers[index % len(makers)]() for index in range(count)]


def warm_file_cache(url: str) -> int:
    """Read a SQLite database's files once, so their pages are in the OS cache; bytes read."""
    path = sqlite_path(url)
    if path is None:
        return 0
    total = 0
    for name in (str(path), f"{path}-wal"):
        try:
            with open(name, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
        except FileNotFoundError:
            continue
    return total


def _time_view(toolkit: Toolkit, key: str) -> float:
    started = clock()
    toolkit.view(key, AS_OF)
    return clock() - started


def _reference_world(context: BenchContext) -> tuple[Toolkit | None, Plan]:
    """The small world's toolkit, or None when this run's scale is not above it."""
    reference = SCALES[REFERENCE_SCALE]
    if context.scale.factor <= reference.factor:
        return None, context.plan
    plan = Plan.for_scale(reference, subjects=0, seed=context.plan.seed)
    toolkit = open_pipeline(context.workspace.fresh("reference"))
    with context.progress.task(f"{REFERENCE_SCALE} world for growth_ratio", None):
        toolkit.write(structure_records(plan), batch_size=20_000)
        toolkit.write(interaction_records(plan), batch_size=20_000)
        refresh_after_import(toolkit)
    return toolkit, plan


def measure_reads(context: BenchContext) -> dict[str, Any]:
    """p50 and p99 of view and roles; the view's growth against the small world."""
    toolkit = context.world_toolkit()
    reference, reference_plan = _reference_world(context)
    views: list[float] = []
    roles: list[float] = []
    small_views: list[float] = []
    by_kind: dict[str, tuple[list[float], list[float]]] = {}
    count = context.scale.reads
    warm_file_cache(context.world_url)
    if reference is not None:
        warm_file_cache(reference.config.database_url)
    try:
        with context.progress.task("reads (view, roles)", context.repeat * count) as advance:
            for repetition in range(context.repeat):
                keys = sample_keys(context.plan, count, seed=100 + repetition)
                small_keys = sample_keys(reference_plan, count, seed=200 + repetition)
                for key, small_key in zip(keys, small_keys, strict=True):
                    views.append(_time_view(toolkit, key))
                    started = clock()
                    toolkit.roles(key, AS_OF)
                    roles.append(clock() - started)
                    kind_views, kind_roles = by_kind.setdefault(KINDS[key.split("-")[0]], ([], []))
                    kind_views.append(views[-1])
                    kind_roles.append(roles[-1])
                    small_views.append(_time_view(reference or toolkit, small_key))
                    advance(1)
    finally:
        if reference is not None:
            reference.close()
    view_p50 = percentile(views, 0.5)
    small_p50 = percentile(small_views, 0.5)
    return {
        "reads": len(views),
        "view_p50_us": us(view_p50),
        "view_p99_us": us(percentile(views, 0.99)),
        "roles_p50_us": us(percentile(roles, 0.5)),
        "roles_p99_us": us(percentile(roles, 0.99)),
        "small_scale_view_p50_us": us(small_p50),
        "growth_ratio_p50": round(view_p50 / small_p50, 3),
        "by_kind": {
            kind: {
                "view_p50_us": us(percentile(kind_views, 0.5)),
                "roles_p50_us": us(percentile(kind_roles, 0.5)),
            }
            for kind, (kind_views, kind_roles) in sorted(by_kind.items())
        },
    }
