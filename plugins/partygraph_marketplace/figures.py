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
from typing import Any

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
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

from partygraph.times import from_storage, to_storage
from partygraph_marketplace.periods import bounds, bucket, money, period_label
from partygraph_marketplace.settings import Settings, Side
from partygraph_marketplace.tables import KIND_PAYOUT, KIND_TRANSACTION, activity

__all__ = [
    "Totals",
    "activity_by_week",
    "chunks",
    "earnings_by_period",
    "first_activity",
    "hourly_supply_demand",
    "period_activity",
    "retention_cohorts",
    "routes",
    "totals",
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


@functools.cache
def _totals_statement(has_since: bool, has_until: bool) -> Select[Any]:
    """The statement of :func:`totals`, built once per shape (a per-party read is hot:
    building the expression costs more than running it)."""
    conditions: list[Any] = [
        _a.c.side == bindparam("side"),
        _a.c.kind.in_((KIND_TRANSACTION, KIND_PAYOUT)),
        _a.c.party_id == bindparam("party"),
    ]
    if has_since:
        conditions.append(_a.c.occurred_at >= bindparam("since"))
    if has_until:
        conditions.append(_a.c.occurred_at < bindparam("until"))
    return select(
        func.count(case((_done(), 1))).label("n"),
        func.sum(_when_done(_a.c.amount)).label("gross"),
        func.sum(_when_done(_a.c.fee)).label("fee"),
        func.sum(_when_done(_a.c.tip)).label("tips"),
        func.sum(_when_done(_a.c.incentive)).label("incentives"),
        func.sum(_payout()).label("payouts"),
        func.count(case((_done(), _a.c.rating))).label("rated"),
        func.avg(case((_done(), _a.c.rating))).label("rating"),
        func.min(case((_done(), _a.c.occurred_at))).label("first"),
        func.max(case((_done(), _a.c.occurred_at))).label("last"),
    ).where(*conditions)


def totals(
    connection: Connection,
    side: Side,
    party_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Totals:
    """One party's totals on one side over ``[since, until)`` (one indexed statement)."""
    params: dict[str, Any] = {"side": side.name, "party": party_id}
    if since is not None:
        params["since"] = to_storage(since)
    if until is not None:
        params["until"] = to_storage(until)
    row = connection.execute(_totals_statement(since is not None, until is not None), params).one()
    return Totals(
        transactions=int(row.n or 0),
        gross=money(_float(row.gross)),
        fee=money(_float(row.fee)),
        tips=money(_float(row.tips)),
        incentives=money(_float(row.incentives)),
        payouts=money(_float(row.payouts)),
        rated=int(row.rated or 0),
        average_rating=float(row.rating) if row.rating is not None else None,
        first=from_storage(row.first),
        last=from_storage(row.last),
    )


def first_activity(
    connection: Connection, side: str, party_id: int, since: datetime | None, until: datetime
) -> tuple[int, datetime] | None:
    """The first completed transaction of a party on a side in ``[since, until)``: (id, time)."""
    row = connection.execute(
        select(_a.c.interaction_id, _a.c.occurred_at)
        .where(*_scope(side, since, until, [party_id]), _a.c.completed.is_(True))
        .order_by(_a.c.occurred_at, _a.c.interaction_id)
        .limit(1)
    ).first()
    if row is None:
        return None
    at = from_storage(row.occurred_at)
    assert at is not None
    return int(row.interaction_id), at


# -- earnings by period --------------------------------------------------------------------


def _first_time(connection: Connection, side: str, ids: Sequence[int] | None) -> datetime | None:
    kinds = (KIND_TRANSACTION, KIND_PAYOUT)
    query = select(func.min(_a.c.occurred_at)).where(*_scope(side, None, None, ids, kinds))
    return from_storage(connection.execute(query).scalar())


def earnings_by_period(
    connection: Connection,
    settings: Settings,
    side: Side,
    period: str,
    *,
    since: datetime | None,
    until: datetime,
    party_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Per party and week (or month): completed transactions, gross, fee, tips, incentives
    (on transactions and paid out), net. One statement for the whole population, grouped
    by party and period; periods without activity are left out."""
    start = since or _first_time(connection, side.name, party_ids)
    if start is None or start >= until:
        return []
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
    out = []
    for row in connection.execute(query):
        index = int(row.bucket)
        gross = money(_float(row.gross))
        fee = money(_float(row.fee))
        tips = money(_float(row.tips))
        incentives = money(_float(row.incentives))
        out.append(
            {
                "party_id": int(row.party_id),
                "period": period_label(edges[index], period, tz),
                "start": edges[index],
                "end": edges[index + 1],
                "transactions": int(row.n),
                "gross": gross,
                "platform_fee": fee,
                "tips": tips,
                "incentives": incentives,
                "net": gross - fee + tips + incentives,
            }
        )
    return out


# -- incentive programs ----------------------------------------------------------------------


def period_activity(
    connection: Connection,
    side: Side,
    start: datetime,
    end: datetime,
    party_ids: Sequence[int] | None = None,
) -> dict[int, tuple[int, int, float | None]]:
    """Per party: (completed transactions, rated ones, average rating received) in a period."""
    query = (
        select(
            _a.c.party_id,
            func.count().label("n"),
            func.count(_a.c.rating).label("rated"),
            func.avg(_a.c.rating).label("rating"),
        )
        .where(*_scope(side.name, start, end, party_ids), _a.c.completed.is_(True))
        .group_by(_a.c.party_id)
    )
    return {
        int(row.party_id): (
            int(row.n),
            int(row.rated),
            float(row.rating) if row.rating is not None else None,
        )
        for row in connection.execute(query)
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
