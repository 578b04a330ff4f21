"""Weeks and months in the marketplace's time zone, and money rounded to the cent.

Period boundaries are computed here, in Python, and passed to SQL as
parameters; a row's period is found in SQL by a balanced ``CASE`` over those
boundaries (a handful of comparisons per row), which reads the same on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, literal

from partygraph.times import to_storage

__all__ = [
    "CENT",
    "Period",
    "bounds",
    "bucket",
    "cents",
    "money",
    "period_label",
    "period_of",
    "period_start",
    "stamp",
    "upto",
]

CENT = Decimal("0.01")


def money(value: float | Decimal | None) -> Decimal:
    """An amount rounded to the cent (half up), float noise removed first."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = Decimal(repr(round(value, 9)))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: float) -> int | None:
    """:func:`money` of a non-negative float in whole cents, without a Decimal when the
    value is clearly on one side of a half cent; None for a negative value (whose
    rounding, down to a negative zero, is :func:`money`'s to do).

    A value more than a millionth of a cent from the half-cent boundary rounds the
    same way whatever :func:`money`'s float-noise removal does to it (that moves it
    by less than a billionth), so only the values close to the boundary take the
    exact path.
    """
    if value < 0:
        return None
    scaled = value * 100
    if scaled < 1e9:
        whole = int(scaled)
        fraction = scaled - whole
        if abs(fraction - 0.5) > 1e-6:
            return whole + 1 if fraction > 0.5 else whole
    return int(money(value) * 100)


def stamp(at: datetime) -> str:
    """A time as full ISO 8601 UTC: ``2026-03-02T00:00:00Z``."""
    return at.isoformat().replace("+00:00", "Z")


def upto(at: datetime) -> datetime:
    """The exclusive end that includes an event at exactly *at*."""
    return at + timedelta(microseconds=1)


def period_start(at: datetime, period: str, tz: tzinfo) -> datetime:
    """The start (aware UTC) of the week (Monday) or month containing *at*, in *tz*."""
    local = at.astimezone(tz).date()
    day = local - timedelta(days=local.weekday()) if period == "week" else local.replace(day=1)
    return _midnight(day, tz)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def _next(start: datetime, period: str, tz: tzinfo) -> datetime:
    local = start.astimezone(tz).date()
    if period == "week":
        return _midnight(local + timedelta(days=7), tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return _midnight(date(year, month, 1), tz)


def bounds(since: datetime, until: datetime, period: str, tz: tzinfo) -> list[datetime]:
    """Starts of every period from the one containing *since* to the one ending after *until*."""
    out = [period_start(since, period, tz)]
    while out[-1] < until:
        out.append(_next(out[-1], period, tz))
    if len(out) == 1:
        out.append(_next(out[0], period, tz))
    return out


def period_label(start: datetime, period: str, tz: tzinfo) -> str:
    """``2026-W10`` for a week, ``2026-03`` for a month."""
    local = start.astimezone(tz).date()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


class Period:
    """One week or month: its start, its end (exclusive) and its label."""

    __slots__ = ("end", "label", "name", "start")

    def __init__(self, start: datetime, end: datetime, name: str, label: str) -> None:
        self.start = start
        self.end = end
        self.name = name
        self.label = label

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "period": self.label,
            "start": stamp(self.start),
            "end": stamp(self.end),
        }


def period_of(at: datetime, period: str, tz: tzinfo) -> Period:
    """The week or month containing *at*."""
    start = period_start(at, period, tz)
    return Period(start, _next(start, period, tz), period, period_label(start, period, tz))


def bucket(column: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    """The index ``i`` of the period ``edges[i] <= column < edges[i + 1]`` (rows outside
    the edges must be filtered out by the caller), as a balanced CASE."""
    stored = [to_storage(edge) for edge in edges]

    def build(low: int, high: int) -> ColumnElement[int]:
        if high - low == 1:
            return literal(low, Integer)
        middle = (low + high) // 2
        return case((column < stored[middle], build(low, middle)), else_=build(middle, high))

    return build(0, len(stored) - 1)
