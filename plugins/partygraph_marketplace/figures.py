"""Set-based figures: one parameterised statement per question, over ``marketplace_activity``.

Each row of the activity table is one side's part in one transaction (or one
payout), so a party on both sides has its figures from each side's rows only.
Cut-off times are computed in Python and bound as parameters; a row's week or
month is found by a balanced ``CASE`` over those boundaries
(:func:`partygraph_marketplace.periods.bucket`). The same statements run on
SQLite and PostgreSQL. The functions take an optional list of party ids: the
population's statement, narrowed to one party, is what the view and the
metrics use (the ``(party, side, kind, time)`` index answers it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    distinct,
    extract,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.types import NullType

from partygraph.storage.prepared import Prepared
from partygraph.storage.tables import party_table
from partygraph.times import from_storage, to_storage
from partygraph_marketplace.periods import Period, bounds, bucket, period_label
from partygraph_marketplace.settings import Settings, Side
from partygraph_marketplace.tables import KIND_PAYOUT, KIND_TRANSACTION, activity

__all__ = [
    "EarningsRow",
    "PeriodActivity",
    "Totals",
    "activity_by_week",
    "chunks",
    "earnings_by_period",
    "hourly_supply_demand",
    "period_activity",
    "retention_cohorts",
    "routes",
]

_a = activity
_CHUNK = 500


def _scope(
    side: str,
    since: datetime | None,
    until: datetime | None,
    party_ids: Sequence[int] | None = None,
    kinds: Sequence[str] = (KIND_TRANSACTION,),
) -> list[Any]:
    """Rows of one side (and kind) in ``[since, until)``, of some parties or all."""
    conditions: list[Any] = [_a.c.side == side]
    conditions.append(_a.c.kind == kinds[0] if len(kinds) == 1 else _a.c.kind.in_(kinds))
    if party_ids is not None:
        ids = list(party_ids)
        conditions.append(_a.c.party_id == ids[0] if len(ids) == 1 else _a.c.party_id.in_(ids))
    if since is not None:
        conditions.append(_a.c.occurred_at >= to_storage(since))
    if until is not None:
        conditions.append(_a.c.occurred_at < to_storage(until))
    return conditions


def _done() -> ColumnElement[bool]:
    """A completed transaction."""
    return and_(_a.c.kind == KIND_TRANSACTION, _a.c.completed.is_(True))


def _when_done(column: Any) -> ColumnElement[Any]:
    return case((_done(), column), else_=0.0)


def _payout() -> ColumnElement[Any]:
    return case((_a.c.kind == KIND_PAYOUT, _a.c.amount), else_=0.0)


def _float(value: Any) -> float:
    return float(value) if value is not None else 0.0


# -- totals of one side --------------------------------------------------------------------


@attrs.frozen
class Totals:
    """What one party did on one side in a window: completed transactions and money."""

    transactions: int = 0
    gross: Decimal = Decimal("0.00")
    fee: Decimal = Decimal("0.00")
    tips: Decimal = Decimal("0.00")
    incentives: Decimal = Decimal("0.00")
    payouts: Decimal = Decimal("0.00")
    rated: int = 0
    average_rating: float | None = None
    first: datetime | None = None
    last: datetime | None = None


# -- earnings by period --------------------------------------------------------------------


def _first_time(connection: Connection, side: str, ids: Sequence[int] | None) -> datetime | None:
    kinds = (KIND_TRANSACTION, KIND_PAYOUT)
    query = select(func.min(_a.c.occurred_at)).where(*_scope(side, None, None, ids, kinds))
    return from_storage(connection.execute(query).scalar())


#: One earnings statement as the database adds it up: (party id, index of its period,
#: completed transactions, gross, fee, tips, incentives), money as unrounded floats.
EarningsRow = tuple[int, int, int, float, float, float, float]


def earnings_by_period(
    connection: Connection,
    settings: Settings,
    side: Side,
    period: str,
    *,
    since: datetime | None,
    until: datetime,
    party_ids: Sequence[int] | None = None,
) -> tuple[list[Period], list[EarningsRow]]:
    """Per party and week (or month): completed transactions, gross, fee, tips, incentives
    (on transactions and paid out). One statement for the whole population, grouped
    by party and period; periods without activity are left out.

    Returns the periods once and the rows as plain tuples that index them: a
    population has hundreds of thousands of statements, and each row's label,
    times and money are the caller's to format once it knows what it needs.
    """
    start = since or _first_time(connection, side.name, party_ids)
    if start is None or start >= until:
        return [], []
    tz = settings.tz
    edges = bounds(start, until, period, tz)
    begin = max(start, edges[0])
    query = (
        select(
            _a.c.party_id,
            bucket(_a.c.occurred_at, edges).label("bucket"),
            func.count(case((_done(), 1))).label("n"),
            func.sum(_when_done(_a.c.amount)).label("gross"),
            func.sum(_when_done(_a.c.fee)).label("fee"),
            func.sum(_when_done(_a.c.tip)).label("tips"),
            func.sum(_when_done(_a.c.incentive) + _payout()).label("incentives"),
        )
        .where(
            *_scope(side.name, begin, until, party_ids, (KIND_TRANSACTION, KIND_PAYOUT)),
            or_(_a.c.completed.is_(True), _a.c.kind == KIND_PAYOUT),
        )
        .group_by(_a.c.party_id, literal_column("bucket"))
        .order_by(_a.c.party_id, literal_column("bucket"))
    )
    periods = [
        Period(edges[index], edges[index + 1], period, period_label(edges[index], period, tz))
        for index in range(len(edges) - 1)
    ]
    rows: list[EarningsRow] = [
        (
            int(party_id),
            int(index),
            int(n),
            gross or 0.0,
            fee or 0.0,
            tips or 0.0,
            incentives or 0.0,
        )
        for party_id, index, n, gross, fee, tips, incentives in connection.execute(query)
    ]
    return periods, rows


# -- incentive programs ----------------------------------------------------------------------


class PeriodActivity(NamedTuple):
    """One member's completed transactions in a period, and the member's key and name."""

    transactions: int
    rated: int
    average_rating: float | None
    key: str | None
    name: str | None


@functools.cache
def _period_activity(one_party: bool) -> Prepared:
    """The statement of :func:`period_activity`, for the population or one party."""
    conditions = [
        _a.c.side == bindparam("side"),
        _a.c.kind == KIND_TRANSACTION,
        _a.c.occurred_at >= bindparam("start"),
        _a.c.occurred_at < bindparam("end"),
        _a.c.completed.is_(True),
    ]
    if one_party:
        conditions.append(_a.c.party_id == bindparam("party"))
    grouped = (
        select(
            _a.c.party_id,
            func.count().label("n"),
            func.count(_a.c.rating).label("rated"),
            # as the driver sends it (a Float type would need PostgreSQL's column type)
            func.avg(_a.c.rating, type_=NullType()).label("rating"),
        )
        .where(*conditions)
        .group_by(_a.c.party_id)
        .subquery("grouped")
    )
    return Prepared(
        select(grouped, party_table.c.key, party_table.c.name).select_from(
            grouped.outerjoin(party_table, party_table.c.id == grouped.c.party_id)
        )
    )


def period_activity(
    connection: Connection,
    side: Side,
    start: datetime,
    end: datetime,
    party_ids: Sequence[int] | None = None,
) -> dict[int, PeriodActivity]:
    """Per party with activity in a period: its completed transactions, rated ones, average
    rating received, key and name (one prepared statement for the population, one per
    party given)."""
    params: dict[str, Any] = {
        "side": side.name,
        "start": to_storage(start),
        "end": to_storage(end),
    }
    if party_ids is None:
        rows = _period_activity(False).rows(connection, params)
    else:
        statement = _period_activity(True)
        rows = [
            row
            for party_id in dict.fromkeys(party_ids)
            for row in statement.rows(connection, {**params, "party": party_id})
        ]
    return {
        int(party_id): PeriodActivity(
            int(n), int(rated), float(rating) if rating is not None else None, key, name
        )
        for party_id, n, rated, rating, key, name in rows
    }


# -- churn risk ----------------------------------------------------------------------------


def activity_by_week(
    connection: Connection, side: Side, edges: Sequence[datetime]
) -> dict[int, list[int]]:
    """Per party: completed transactions in each window ``edges[i] <= t < edges[i + 1]``."""
    query = (
        select(
            _a.c.party_id,
            bucket(_a.c.occurred_at, edges).label("bucket"),
            func.count().label("n"),
        )
        .where(*_scope(side.name, edges[0], edges[-1]), _a.c.completed.is_(True))
        .group_by(_a.c.party_id, literal_column("bucket"))
    )
    found: dict[int, list[int]] = {}
    for row in connection.execute(query):
        counts = found.setdefault(int(row.party_id), [0] * (len(edges) - 1))
        counts[int(row.bucket)] = int(row.n)
    return found


# -- retention -------------------------------------------------------------------------------


def retention_cohorts(
    connection: Connection, side: Side, edges: Sequence[datetime]
) -> dict[tuple[int, int], int]:
    """``{(cohort, period): members}``: members whose first completed transaction fell in
    period *cohort*, active (a completed transaction) in period *period*."""
    # One pass over the side's history: each row with its member's first one (a window
    # function), then the window's rows grouped by (cohort, period).
    history = (
        select(
            _a.c.party_id,
            _a.c.occurred_at,
            func.min(_a.c.occurred_at).over(partition_by=_a.c.party_id).label("first_at"),
        )
        .where(*_scope(side.name, None, edges[-1]), _a.c.completed.is_(True))
        .subquery("history")
    )
    begin = to_storage(edges[0])
    query = (
        select(
            bucket(history.c.first_at, edges).label("cohort"),
            bucket(history.c.occurred_at, edges).label("period"),
            func.count(distinct(history.c.party_id)).label("n"),
        )
        .where(history.c.first_at >= begin, history.c.occurred_at >= begin)
        .group_by(literal_column("cohort"), literal_column("period"))
    )
    return {(int(row.cohort), int(row.period)): int(row.n) for row in connection.execute(query)}


# -- supply and demand ------------------------------------------------------------------------


def hourly_supply_demand(
    connection: Connection, settings: Settings, since: datetime, until: datetime
) -> list[tuple[str | None, datetime, int, int, int, int]]:
    """Per pickup zone and UTC hour: (zone, hour, requested, completed, unfulfilled,
    distinct active supply-side members)."""
    supply = [side.name for side in settings.positioned("supply")]
    day = func.date(_a.c.occurred_at)
    hour = extract("hour", _a.c.occurred_at)
    trip = _a.c.interaction_id
    query = (
        select(
            _a.c.pickup_zone.label("zone"),
            day.label("day"),
            hour.label("hour"),
            func.count(distinct(trip)).label("requested"),
            func.count(distinct(case((_a.c.completed.is_(True), trip)))).label("completed"),
            func.count(distinct(case((_a.c.status == "unfulfilled", trip)))).label("unfulfilled"),
            func.count(distinct(case((_a.c.side.in_(supply), _a.c.party_id)))).label("supply"),
        )
        .where(
            _a.c.side.in_(settings.side_names),
            _a.c.kind == KIND_TRANSACTION,
            _a.c.occurred_at >= to_storage(since),
            _a.c.occurred_at < to_storage(until),
        )
        .group_by(literal_column("zone"), literal_column("day"), literal_column("hour"))
    )
    out = []
    for row in connection.execute(query):
        day_value = row.day if isinstance(row.day, str) else row.day.isoformat()
        at = from_storage(f"{day_value[:10]} {int(row.hour):02d}:00:00")
        assert at is not None
        out.append(
            (
                row.zone,
                at,
                int(row.requested),
                int(row.completed),
                int(row.unfulfilled),
                int(row.supply),
            )
        )
    return out


# -- routes (suggestions) -------------------------------------------------------------------


def routes(
    connection: Connection, side: str, party_id: int, until: datetime
) -> list[tuple[int, datetime, str | None, str | None]]:
    """A party's completed transactions on a side: (id, time, pickup zone, drop-off zone)."""
    query = (
        select(_a.c.interaction_id, _a.c.occurred_at, _a.c.pickup_zone, _a.c.dropoff_zone)
        .where(*_scope(side, None, until, [party_id]), _a.c.completed.is_(True))
        .order_by(_a.c.occurred_at, _a.c.interaction_id)
    )
    out = []
    for row in connection.execute(query):
        at = from_storage(row.occurred_at)
        assert at is not None
        out.append((int(row.interaction_id), at, row.pickup_zone, row.dropoff_zone))
    return out


def chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    """Ids in lists of at most 500 (bound-parameter limits)."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]
