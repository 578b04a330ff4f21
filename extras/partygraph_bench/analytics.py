"""Set-based analytics, each timed against the same SQL run raw.

Every measurement is one named function in :data:`MEASUREMENTS` that runs a
plugin's population computation on the world. A first, untimed run captures
the SQL it sends to the database (SQLAlchemy's ``before_cursor_execute``
event; listening sends every statement through SQLAlchemy's ordinary path,
so that run is not timed). Then, repetition by repetition, the computation is
timed as users run it, and the captured statements, with the same parameters,
are executed on a raw driver cursor and fetched; ``<name>_ratio_to_raw_sql``
is the computation's time over the raw SQL's (median of per-repetition
ratios). What the ratio
leaves is the plugin's Python around its SQL. ``<name>_statements`` says how
many statements that is: "one SQL statement or a few" for the set-based ones.

To add a measurement, write one small function ``(toolkit) -> result`` and
list it in :data:`MEASUREMENTS`.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from partygraph import Toolkit
from partygraph_bench.context import BenchContext
from partygraph_bench.timing import median_ratio, timed
from partygraph_bench.world import AS_OF

__all__ = ["MEASUREMENTS", "Statement", "measure_analytics"]

Statement = tuple[str, Any]
_REPORT_SINCE = (date.fromisoformat(AS_OF) - timedelta(days=90)).isoformat()


def rfm(toolkit: Toolkit) -> Any:
    """b2c: every customer's recency, frequency and monetary scores (one SQL pass)."""
    return toolkit.plugin("b2c").rfm(AS_OF)


def committee_coverage(toolkit: Toolkit) -> Any:
    """b2b: buying-committee coverage of every account."""
    return toolkit.plugin("b2b").coverage(AS_OF)


def household_rollups(toolkit: Toolkit) -> Any:
    """household: every household's roll-up (spend, members, offers)."""
    return toolkit.plugin("household").rollups(AS_OF)


def driver_earnings(toolkit: Toolkit) -> Any:
    """marketplace: every driver's weekly earnings statements over every trip."""
    return toolkit.plugin("marketplace").earnings(period="week", until=AS_OF)


def driver_incentives(toolkit: Toolkit) -> Any:
    """marketplace: every incentive program for the period before the analytics day."""
    return toolkit.plugin("marketplace").incentives(_REPORT_SINCE)


def sla_attainment(toolkit: Toolkit) -> Any:
    """internal: service levels of every provider department over 90 days."""
    return toolkit.plugin("internal").service_levels(_REPORT_SINCE, AS_OF)


#: Audiences over the whole population, each one SQL statement plus the privacy check
#: of its members (see docs/segments.md).
SEGMENTS: dict[str, dict[str, Any]] = {
    "at_risk_customers": {
        "purpose": "marketing",
        "where": {
            "all": [
                {"role": "customer", "plugin": "b2c"},
                {"metric": "b2c.recency_days", "op": ">=", "value": 90},
            ]
        },
    },
    "households_with_dependents": {
        "purpose": "marketing",
        "where": {
            "all": [
                {"kind": "household"},
                {"metric": "household.dependents", "op": ">=", "value": 1},
            ]
        },
    },
    "recent_buyers_or_riders": {
        "purpose": "analytics",
        "where": {
            "any": [
                {"interaction": {"type": "purchase", "role": "purchaser", "within_days": 90}},
                {"interaction": {"type": "trip", "role": "rider", "within_days": 30}},
            ]
        },
    },
}


def segments(toolkit: Toolkit) -> Any:
    """segments: a few audiences over every party (roles, metrics, windows, privacy)."""
    return {name: toolkit.segment(body, AS_OF).count for name, body in SEGMENTS.items()}


#: The analytics measured, by name (the JSON keys are ``<name>_s`` and so on).
MEASUREMENTS: dict[str, Callable[[Toolkit], Any]] = {
    "rfm": rfm,
    "committee_coverage": committee_coverage,
    "household_rollups": household_rollups,
    "driver_earnings": driver_earnings,
    "driver_incentives": driver_incentives,
    "sla_attainment": sla_attainment,
    "segments": segments,
}


@contextlib.contextmanager
def captured(toolkit: Toolkit) -> Iterator[list[Statement]]:
    """The read statements sent to the database while the block runs."""
    statements: list[Statement] = []

    def remember(
        _connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        head = statement.lstrip()[:6].upper()
        if not many and (head == "SELECT" or head.startswith("WITH")):
            statements.append((statement, parameters))

    event.listen(toolkit.engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", remember)


def run_raw(toolkit: Toolkit, statements: list[Statement]) -> int:
    """Execute and fetch *statements* on a raw driver cursor; rows fetched."""
    connection = toolkit.engine.raw_connection()
    try:
        cursor = connection.cursor()
        rows = 0
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            rows += len(cursor.fetchall())
        cursor.close()
        connection.rollback()
        return rows
    finally:
        connection.close()


def measure_analytics(context: BenchContext) -> dict[str, Any]:
    """Seconds of each measurement and its ratio to its own SQL run raw."""
    toolkit = context.world_toolkit()
    figures: dict[str, Any] = {}
    with context.progress.task("analytics", len(MEASUREMENTS) * context.repeat) as advance:
        for name, measurement in MEASUREMENTS.items():
            computed: list[float] = []
            raw: list[float] = []
            with captured(toolkit) as statements:
                result = measurement(toolkit)
            count = len(statements)
            for _ in range(context.repeat):
                computed.append(timed(functools.partial(measurement, toolkit))[0])
                raw.append(timed(functools.partial(run_raw, toolkit, statements))[0])
                advance(1)
            figures[f"{name}_s"] = round(statistics.median(computed), 4)
            figures[f"{name}_ratio_to_raw_sql"] = round(median_ratio(computed, raw), 3)
            figures[f"{name}_statements"] = count
            figures[f"{name}_rows"] = len(result) if hasattr(result, "__len__") else None
    return figures
