"""Population analytics, set-based: lifetime value, RFM and category audiences.

Each computation is one parameterised SQL statement over the whole
population (SQLAlchemy Core; the same statement on SQLite and PostgreSQL),
with the cut-off time and exchange rates passed as parameters; Python only
does arithmetic on the rows it returns, never a query per party.

RFM, as computed here (``docs/plugins/b2c.md`` has the worked definition):
the population is every party with at least one kept purchase as purchaser
at the cut-off (placed by then and not returned in full by then);

- recency is the number of calendar days (UTC) from the last kept purchase's
  date to the cut-off's date, frequency the number of kept purchases,
  monetary the net revenue (purchases minus refunds, in minor units of the
  reporting currency);
- each score is ``1 + floor(5 * below / n)``, where *n* is the population
  size and *below* the number of customers strictly worse on that measure
  (a longer recency, fewer purchases, less revenue), so ties share a score
  and the best fifth scores 5. In SQL: ``1 + 5 * (RANK() - 1) / COUNT(*)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Float,
    Numeric,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)

from partygraph import GraphReader, Party
from partygraph.reading import party_from_row
from partygraph.storage.tables import participant_table, party_table
from partygraph.times import from_storage, to_storage
from partygraph.times import naive_utc as _naive
from partygraph_b2c import statements, tables
from partygraph_b2c.currencies import MINOR_UNITS, converted, from_minor
from partygraph_b2c.settings import Settings
from partygraph_b2c.vocabulary import PURCHASE

__all__ = [
    "RfmScale",
    "audience_statement",
    "category_audience",
    "customer_rows",
    "customer_totals",
    "customers_statement",
    "excluded_customers",
    "kept_orders",
    "rfm_scale",
    "score",
    "scored_customers",
]

_order = tables.order
_refund = tables.refund
_category = tables.order_category

#: The figures every population row carries.
Row = dict[str, Any]


def score(below: int, population: int) -> int:
    """The 1-5 score of a customer with *below* customers strictly worse, out of *population*."""
    return 1 + (5 * below) // population


# -- building blocks -----------------------------------------------------------------------


def _factor(settings: Settings, currency: ColumnElement[Any]) -> ColumnElement[Any] | None:
    """Minor units of the order's currency -> minor units of the reporting currency."""
    if not settings.exchange_rates:
        return None
    whens = [(currency == settings.currency, literal(1.0))]
    whens += [
        (currency == code, literal(settings.factor(code)))
        for code in sorted(settings.exchange_rates)
    ]
    return case(*whens, else_=literal(0.0))


def _convert(value: ColumnElement[Any], factor: ColumnElement[Any] | None) -> ColumnElement[Any]:
    """Whole minor units of the reporting currency, halves away from zero (as
    :func:`~partygraph_b2c.currencies.converted`): SQLite's ``round`` does that on
    any number, PostgreSQL's on numeric only (on a float it rounds halves to even)."""
    if factor is None:
        return value
    return cast(func.round(cast(value * factor, Numeric)), Float)


def _excluding(column: ColumnElement[Any], excluded: Sequence[int]) -> ColumnElement[bool] | None:
    """``column NOT IN (...)``; the ids are integers from the database, rendered inline so
    that no parameter limit applies however many parties are left out."""
    if not excluded:
        return None
    values: BindParameter[list[int]] = bindparam(
        "excluded_ids", sorted(excluded), expanding=True, literal_execute=True
    )
    return column.not_in(values)


def kept_orders(settings: Settings, cut: datetime, excluded: Sequence[int] = ()) -> Any:
    """Every purchase placed by *cut* with its purchaser, whether it is kept, and its value.

    Columns: party_id, interaction_id, occurred_at, kept (1/0), gross, refunded, net --
    amounts in minor units of the reporting currency.
    """
    buyer = participant_table.alias("buyer")
    # Unique: a segment may embed several of these selects in one statement.
    until: BindParameter[datetime] = bindparam("cut", cut, unique=True)
    refunded = (
        select(
            _refund.c.order_interaction_id.label("order_ref"),
            func.sum(_refund.c.amount_minor).label("amount"),
        )
        .where(_refund.c.occurred_at <= until)
        .group_by(_refund.c.order_interaction_id)
        .subquery("refunded")
    )
    back = func.coalesce(refunded.c.amount, 0)
    factor = _factor(settings, _order.c.currency)
    gross = _convert(_order.c.total_minor, factor)
    net = _convert(_order.c.total_minor - back, factor)
    query = (
        select(
            buyer.c.party_id,
            _order.c.interaction_id,
            _order.c.occurred_at,
            _order.c.currency,
            case((back < _order.c.total_minor, 1), else_=0).label("kept"),
            gross.label("gross"),
            (gross - net).label("refunded"),
            net.label("net"),
        )
        .select_from(
            _order.join(
                buyer,
                and_(
                    buyer.c.interaction_id == _order.c.interaction_id,
                    buyer.c.type == PURCHASE,
                    buyer.c.role == "purchaser",
                ),
            ).outerjoin(refunded, refunded.c.order_ref == _order.c.interaction_id)
        )
        .where(_order.c.occurred_at <= until)
    )
    left_out = _excluding(buyer.c.party_id, excluded)
    if left_out is not None:
        query = query.where(left_out)
    return query.subquery("orders")


def customer_totals(settings: Settings, cut: datetime, excluded: Sequence[int] = ()) -> Select[Any]:
    """Every customer at *cut* (a kept purchase) with their figures, before any scoring.

    Columns: party_id, orders (kept), placed, gross, refunded, net (minor units of the
    reporting currency), first_at, last_at (kept purchases).
    """
    orders = kept_orders(settings, to_storage(cut), excluded)
    kept_at = case((orders.c.kept == 1, orders.c.occurred_at))
    return (
        select(
            orders.c.party_id,
            func.sum(orders.c.kept).label("orders"),
            func.count().label("placed"),
            func.sum(orders.c.gross).label("gross"),
            func.sum(orders.c.refunded).label("refunded"),
            func.sum(orders.c.net).label("net"),
            func.min(kept_at).label("first_at"),
            func.max(kept_at).label("last_at"),
        )
        .group_by(orders.c.party_id)
        .having(func.sum(orders.c.kept) > 0)
    )


def customers_statement(
    settings: Settings,
    cut: datetime,
    excluded: Sequence[int] = (),
    *,
    keys: bool = True,
) -> Select[Any]:
    """One statement: every customer at *cut* with their figures and R, F, M scores.

    Columns: party_id, [key, name,] orders (kept), placed, gross, refunded, net (minor
    units of the reporting currency), first_at, last_at (kept purchases), r, f, m.
    """
    per = customer_totals(settings, cut, excluded).subquery("customers")
    population = func.count().over()
    last_day = func.date(per.c.last_at)

    def scored(order_by: ColumnElement[Any]) -> ColumnElement[Any]:
        return 1 + (5 * (func.rank().over(order_by=order_by) - 1)) // population

    columns: list[Any] = [per.c.party_id]
    if keys:
        columns += [party_table.c.key, party_table.c.name]
    columns += [
        per.c.orders,
        per.c.placed,
        per.c.gross,
        per.c.refunded,
        per.c.net,
        per.c.first_at,
        per.c.last_at,
        scored(last_day).label("r"),
        scored(per.c.orders).label("f"),
        scored(per.c.net).label("m"),
    ]
    query = select(*columns)
    if keys:
        query = query.select_from(per.join(party_table, party_table.c.id == per.c.party_id))
    return query


def _aware(value: Any) -> datetime:
    moment = from_storage(value)
    assert moment is not None
    return moment


def customer_rows(
    connection: Connection, settings: Settings, as_of: datetime, excluded: Sequence[int] = ()
) -> list[Row]:
    """Every customer at *as_of* with lifetime value, order value, frequency and RFM."""
    return scored_customers(connection, settings, as_of, excluded)[0]


def scored_customers(
    connection: Connection, settings: Settings, as_of: datetime, excluded: Sequence[int] = ()
) -> tuple[list[Row], RfmScale]:
    """:func:`customer_rows`, and the RFM scale of the same population."""
    digits = MINOR_UNITS[settings.currency]
    scale = 10.0**digits
    model = settings.clv
    multiplier = model.multiplier
    lapsed_multiplier = multiplier * model.lapsed_factor
    cut = to_storage(as_of)
    lapse_cut = cut - timedelta(days=settings.lapse_after_days)
    floor = float(model.min_tenure_days)
    today = cut.date()
    found = []
    figures: list[tuple[date, int, float]] = []
    statement = customers_statement(settings, as_of, excluded)
    for row in connection.execute(statement).all():
        party_id, key, name, orders, placed, gross, refunded, net, first, last, r, f, m = row
        first_at = _naive(first)
        last_at = _naive(last)
        orders = int(orders)
        net = float(net or 0)
        figures.append((last_at.date(), orders, net))
        aov = net / orders
        tenure = max((cut - first_at).total_seconds() / 86400.0, floor)
        frequency = orders * 365.25 / tenure
        lapsed = last_at <= lapse_cut
        predicted = aov * frequency * (lapsed_multiplier if lapsed else multiplier)
        found.append(
            {
                "party_id": int(party_id),
                "key": key,
                "name": name,
                "orders": orders,
                "returned_orders": int(placed) - orders,
                "gross_revenue": round(float(gross or 0) / scale, digits),
                "refunded": round(float(refunded or 0) / scale, digits),
                "historic_clv": round(net / scale, digits),
                "aov": round(aov / scale, digits),
                "frequency": round(frequency, 4),
                "predicted_clv": round(predicted / scale, digits),
                "clv": round((net + predicted) / scale, digits),
                "first_purchase_at": first_at.date().isoformat(),
                "last_purchase_at": last_at.date().isoformat(),
                "recency_days": (today - last_at.date()).days,
                "lapsed": lapsed,
                "rfm_r": int(r),
                "rfm_f": int(f),
                "rfm_m": int(m),
                "rfm": f"{r}{f}{m}",
            }
        )
    return found, RfmScale.of(cut, settings.analytics_purpose, figures)


# -- who may be counted ----------------------------------------------------------------------


def excluded_customers(
    graph: GraphReader, purpose: str | None, as_of: datetime, gated: bool
) -> dict[int, str]:
    """Purchasers up to *as_of* that may not be processed for *purpose*, with reasons.

    Asks the plugins once for the whole population (``graph.excluded``); skipped when
    no purpose is set or no enabled plugin gates purposes.
    """
    if purpose is None or not gated:
        return {}
    buyer = participant_table.alias("buyer")
    ids = (
        select(buyer.c.party_id)
        .where(
            buyer.c.type == "purchase",
            buyer.c.role == "purchaser",
            buyer.c.occurred_at <= to_storage(as_of),
        )
        .distinct()
        .scalar_subquery()
    )
    rows = graph.connection.execute(select(party_table).where(party_table.c.id.in_(ids)))
    parties: list[Party] = [party_from_row(row) for row in rows]
    if not parties:
        return {}
    return graph.excluded(parties, purpose, as_of)


# -- the per-party RFM scale ---------------------------------------------------------------


def _boundaries(values: list[Any]) -> tuple[Any, ...]:
    """The values a score of 2, 3, 4 and 5 must exceed, out of a population's *values*.

    A score is ``1 + floor(5 * below / n)``, so it is at least *s* exactly when
    ``below >= ceil((s - 1) * n / 5)``, that is when the value exceeds the
    ``ceil((s - 1) * n / 5)``-th smallest value of the population.
    """
    ordered = sorted(values)
    count = len(ordered)
    return tuple(ordered[((step * count + 4) // 5) - 1] for step in range(1, 5))


@attrs.frozen
class RfmScale:
    """The boundaries of one population scoring, to score one party without the population.

    Scoring a party's own recency (its last kept purchase's day), frequency
    (kept purchases) and monetary value (net revenue) against them gives the
    scores the population pass gives it, as long as the population's figures
    are those the scale was built from.
    """

    cut: datetime
    purpose: str | None
    population: int
    recency: tuple[date, ...] = ()
    frequency: tuple[int, ...] = ()
    monetary: tuple[float, ...] = ()

    @classmethod
    def of(
        cls,
        cut: datetime,
        purpose: str | None,
        figures: Sequence[tuple[date, int, float]],
    ) -> RfmScale:
        """The scale of a population given as ``(last kept day, kept orders, net)``."""
        if not figures:
            return cls(cut, purpose, 0)
        return cls(
            cut,
            purpose,
            len(figures),
            _boundaries([item[0] for item in figures]),
            _boundaries([item[1] for item in figures]),
            _boundaries([item[2] for item in figures]),
        )

    def score(self, last_day: date, orders: int, net: float) -> tuple[int, int, int] | None:
        """(R, F, M) of a customer with these figures; None when the scale is empty."""
        if not self.population:
            return None
        return (
            1 + sum(1 for bound in self.recency if bound < last_day),
            1 + sum(1 for bound in self.frequency if bound < orders),
            1 + sum(1 for bound in self.monetary if bound < net),
        )


def _day(value: Any) -> date:
    return _naive(value).date()


def rfm_scale(
    connection: Connection, settings: Settings, as_of: datetime, excluded: Sequence[int] = ()
) -> RfmScale:
    """The population's RFM scale at *as_of* (one set-based statement, no ranking)."""
    statement = customer_totals(settings, as_of, excluded)
    figures = [
        (_day(row.last_at), int(row.orders), float(row.net or 0))
        for row in connection.execute(statement)
    ]
    return RfmScale.of(to_storage(as_of), settings.analytics_purpose, figures)


# -- preferences ---------------------------------------------------------------------------


def _rank_keys(rank_by: str, quantity: Any, spend: Any, orders: Any) -> list[Any]:
    primary = {"quantity": quantity, "spend": spend, "orders": orders}[rank_by]
    return [primary, spend, orders, quantity]


def audience_statement(
    settings: Settings,
    category: str,
    cut: datetime,
    top_n: int,
    excluded: Sequence[int] = (),
) -> Select[Any]:
    """One statement: purchasers for whom *category* is among their top *top_n* at *cut*.

    Ranked like ``top_categories``: by the configured measure, then spend, orders,
    quantity, and the category's name.
    """
    orders = kept_orders(settings, to_storage(cut), excluded)
    factor = _factor(settings, orders.c.currency)
    spend = func.sum(_convert(_category.c.amount_minor, factor))
    per = (
        select(
            orders.c.party_id,
            _category.c.category,
            func.sum(_category.c.quantity).label("quantity"),
            spend.label("spend"),
            func.count().label("orders"),
        )
        .select_from(orders.join(_category, _category.c.interaction_id == orders.c.interaction_id))
        .where(orders.c.kept == 1)
        .group_by(orders.c.party_id, _category.c.category)
        .subquery("per_category")
    )
    keys = _rank_keys(settings.preferences.rank_by, per.c.quantity, per.c.spend, per.c.orders)
    ranked = select(
        per,
        func.row_number()
        .over(
            partition_by=per.c.party_id,
            order_by=[*(key.desc() for key in keys), per.c.category.asc()],
        )
        .label("place"),
    ).subquery("ranked")
    return (
        select(
            ranked.c.party_id,
            party_table.c.key,
            party_table.c.name,
            ranked.c.place,
            ranked.c.quantity,
            ranked.c.spend,
            ranked.c.orders,
        )
        .select_from(ranked.join(party_table, party_table.c.id == ranked.c.party_id))
        .where(ranked.c.category == bindparam("category", category))
        .where(ranked.c.place <= bindparam("top_n", top_n))
        .order_by(ranked.c.party_id)
    )


def category_audience(
    connection: Connection,
    settings: Settings,
    category: str,
    as_of: datetime,
    top_n: int,
    excluded: Sequence[int] = (),
) -> list[Row]:
    """The rows of :func:`audience_statement`, amounts in the reporting currency."""
    statement = audience_statement(settings, category, as_of, top_n, excluded)
    return [
        {
            "party_id": int(row.party_id),
            "key": row.key,
            "name": row.name,
            "place": int(row.place),
            "quantity": float(row.quantity),
            "spend": from_minor(float(row.spend or 0), settings.currency),
            "orders": int(row.orders),
        }
        for row in connection.execute(statement)
    ]


def top_categories(
    connection: Connection,
    settings: Settings,
    party: Party,
    as_of: datetime,
    orders: Mapping[int, float],
    limit: int | None = None,
) -> list[Row]:
    """One party's categories over its kept orders (interaction id -> currency factor)."""
    totals: dict[str, list[float]] = {}
    rows = statements.categories_of_party.rows(
        connection, {"party": party.id, "until": to_storage(as_of)}
    )
    for row in rows:
        factor = orders.get(int(row.interaction_id))
        if factor is None:
            continue  # returned in full
        entry = totals.setdefault(row.category, [0.0, 0.0, 0])
        entry[0] += float(row.quantity)
        amount = float(row.amount_minor)
        entry[1] += converted(amount, factor)
        entry[2] += 1
    rank_by = settings.preferences.rank_by

    def order_key(item: tuple[str, list[float]]) -> tuple[Any, ...]:
        name, (quantity, spend, count) = item
        keys = _rank_keys(rank_by, quantity, spend, count)
        return (*(-key for key in keys), name)

    ranked = sorted(totals.items(), key=order_key)
    found = [
        {
            "category": name,
            "quantity": quantity,
            "spend": from_minor(spend, settings.currency),
            "orders": int(count),
        }
        for name, (quantity, spend, count) in ranked
    ]
    return found[:limit] if limit is not None else found
