"""What the b2c plugin says in SQL for segments: its roles and its per-customer figures.

The roles are those of :mod:`partygraph_b2c.roles`, with the same rules:
``customer`` (a kept purchase as purchaser at ``as_of``), ``lapsed_customer``,
``loyal_customer``, ``consumer`` (with the purchaser as context: ``{role =
"consumer", of = ...}`` asks for the people others bought for) and
``prospect``. The figures come from
:func:`partygraph_b2c.analytics.customer_totals`, the per-customer totals the
population analytics score, so a segment and ``partygraph b2c customers`` agree.

``prospect`` reads the ``birth_date`` attribute as ``YYYY-MM-DD`` (its first ten
characters), the format the core's attribute schema checks; a value that is not
one (stored before that check) counts as unknown, as in Python.

Times follow the plugin's rules: a purchase counts from the moment it was
placed (``occurred_at <= as_of``), a return from the moment it was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph_b2c.analytics import customer_totals, kept_orders
from partygraph_b2c.currencies import MINOR_UNITS
from partygraph_b2c.settings import Settings
from partygraph_b2c.vocabulary import PRODUCT_USAGE, PURCHASE

__all__ = ["metrics", "predicates"]

#: The roles answered in SQL, each by its own predicate.
ROLES = ("customer", "lapsed_customer", "loyal_customer", "consumer", "prospect")


def _customers(settings: Settings, scope: SegmentScope) -> Any:
    """Per customer at ``scope.as_of``: kept orders, net spend, first and last kept purchase."""
    return customer_totals(settings, scope.as_of).subquery("b2c_customers")


def _days_since(scope: SegmentScope, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """Calendar days (UTC) from *moment*'s date to ``as_of``'s date."""
    today = scope.as_of.date()
    if scope.dialect == "postgresql":
        return literal(today, Date) - func.date(moment)
    days = func.julianday(literal(today.isoformat(), String)) - func.julianday(func.date(moment))
    return cast(days, Integer)


def _role_customer(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    found = _customers(settings, scope)
    return select(found.c.party_id)


def _role_lapsed(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    found = _customers(settings, scope)
    cut = scope.as_of - timedelta(days=settings.lapse_after_days)
    return select(found.c.party_id).where(found.c.last_at <= cut)


def _role_loyal(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    found = _customers(settings, scope)
    rule = settings.loyal
    lapse = scope.as_of - timedelta(days=settings.lapse_after_days)
    ways: list[ColumnElement[bool]] = []
    if rule.min_orders is not None:
        orders = kept_orders(settings, scope.as_of)
        start = scope.as_of - timedelta(days=rule.window_days)
        recent = (
            select(orders.c.party_id)
            .where(orders.c.kept == 1, orders.c.occurred_at > start)
            .group_by(orders.c.party_id)
            .having(func.count() >= rule.min_orders)
        )
        ways.append(found.c.party_id.in_(recent))
    if rule.min_clv is not None:
        threshold = float(rule.min_clv) * 10.0 ** MINOR_UNITS[settings.currency]
        ways.append(found.c.net >= threshold - 1e-6)
    if not ways:
        return select(found.c.party_id).where(literal(False))
    return select(found.c.party_id).where(found.c.last_at > lapse, or_(*ways))


def _role_consumer(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    """Named consumer of a kept purchase (of someone else's, for ``of``), or a product user."""
    taking_part = scope.tables["participant"]
    consumer = taking_part.alias("b2c_consumer")
    buyer = taking_part.alias("b2c_buyer")
    orders = kept_orders(settings, scope.as_of)
    kept = select(orders.c.interaction_id).where(orders.c.kept == 1)
    named = select(consumer.c.party_id).where(
        consumer.c.type == PURCHASE,
        consumer.c.role == "consumer",
        consumer.c.interaction_id.in_(kept),
    )
    if "of" in params:
        return named.where(
            select(buyer.c.party_id)
            .where(
                buyer.c.interaction_id == consumer.c.interaction_id,
                buyer.c.type == PURCHASE,
                buyer.c.role == "purchaser",
                buyer.c.party_id != consumer.c.party_id,
                buyer.c.party_id.in_(scope.members(params["of"])),
            )
            .exists()
        )
    users = select(taking_part.c.party_id).where(
        taking_part.c.type == PRODUCT_USAGE,
        taking_part.c.role == "user",
        taking_part.c.occurred_at <= scope.as_of,
    )
    both = named.union(users).subquery("b2c_consumers")
    return select(both.c.party_id)


def _birth_date(scope: SegmentScope, attributes: Any) -> ColumnElement[Any]:
    """The first ten characters of the ``birth_date`` attribute when it is a string."""
    if scope.dialect == "postgresql":
        text = attributes.op("->>", return_type=String)(literal("birth_date", String))
        kind = func.jsonb_typeof(attributes.op("->")(literal("birth_date", String)))
        found = case((kind == "string", text), else_=None)
    else:
        path = literal('$."birth_date"', String)
        kind = func.json_type(attributes, path)
        found = case((kind == "text", func.json_extract(attributes, path)), else_=None)
    return func.substr(found, 1, 10)


def _is_date(scope: SegmentScope, text: ColumnElement[Any]) -> ColumnElement[bool]:
    """``YYYY-MM-DD`` with a month 01-12 and a day 01-31."""
    if scope.dialect == "postgresql":
        shaped = text.regexp_match("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    else:
        shaped = text.op("GLOB")(literal("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]", String))
    month, day = func.substr(text, 6, 2), func.substr(text, 9, 2)
    return and_(
        text.is_not(None),
        shaped,
        month.between("01", "12"),
        day.between("01", "31"),
    )


def _role_prospect(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    """People known to the system with no kept purchase and no consumption: leads."""
    rule = settings.prospects
    party = scope.tables["party"]
    if not rule.enabled or not rule.kinds:
        return select(party.c.id).where(false())
    customers = _customers(settings, scope)
    consumers = _role_consumer(settings, {}, scope).subquery("b2c_consuming")
    chosen = select(party.c.id).where(
        party.c.kind.in_(rule.kinds),
        party.c.id.not_in(select(customers.c.party_id)),
        party.c.id.not_in(select(consumers.c.party_id)),
    )
    if rule.min_age is not None:
        # Younger than min_age <=> born after this day, min_age years before as_of
        # (ISO dates compare as text).
        today = scope.as_of.date()
        cutoff = f"{today.year - rule.min_age:04d}-{today.month:02d}-{today.day:02d}"
        born = _birth_date(scope, party.c.attributes)
        chosen = chosen.where(not_(and_(_is_date(scope, born), born > cutoff)))
    if rule.exclude_relationship_types:
        edge = scope.tables["relationship"]
        working = select(edge.c.source_id).where(
            edge.c.type.in_(rule.exclude_relationship_types),
            edge.c.valid_from <= scope.as_of,
            or_(edge.c.valid_to.is_(None), edge.c.valid_to > scope.as_of),
        )
        chosen = chosen.where(party.c.id.not_in(working))
    return chosen


def _metric_orders(settings: Settings, scope: SegmentScope) -> Select[Any]:
    found = _customers(settings, scope)
    return select(found.c.party_id, found.c.orders.label("value"))


def _metric_net_spend(settings: Settings, scope: SegmentScope) -> Select[Any]:
    found = _customers(settings, scope)
    scale = 10.0 ** MINOR_UNITS[settings.currency]
    return select(found.c.party_id, (cast(found.c.net, Float) / scale).label("value"))


def _metric_recency(settings: Settings, scope: SegmentScope) -> Select[Any]:
    found = _customers(settings, scope)
    return select(found.c.party_id, _days_since(scope, found.c.last_at).label("value"))


def _days_between(scope: SegmentScope, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """Days (with fractions) from *moment* to ``as_of``."""
    cut = literal(scope.as_of, DateTime)
    if scope.dialect == "postgresql":
        return extract("epoch", cut - moment) / 86400.0
    return func.julianday(cut) - func.julianday(moment)


def _metric_clv(settings: Settings, scope: SegmentScope) -> Select[Any]:
    """Historic plus predicted lifetime value, as :mod:`partygraph_b2c.figures` works it out."""
    found = _customers(settings, scope)
    model = settings.clv
    scale = 10.0 ** MINOR_UNITS[settings.currency]
    floor = float(model.min_tenure_days)
    days = _days_between(scope, found.c.first_at)
    tenure = case((days > floor, days), else_=floor)
    lapse = scope.as_of - timedelta(days=settings.lapse_after_days)
    factor = case((found.c.last_at <= lapse, model.lapsed_factor), else_=1.0)
    net = cast(found.c.net, Float)
    # aov x frequency = (net / orders) x (orders x 365.25 / tenure)
    predicted = net * 365.25 / tenure * model.multiplier * factor
    return select(found.c.party_id, ((net + predicted) / scale).label("value"))


def _metric_consumer_purchases(settings: Settings, scope: SegmentScope) -> Select[Any]:
    consumer = scope.tables["participant"]
    orders = kept_orders(settings, scope.as_of)
    kept = select(orders.c.interaction_id).where(orders.c.kept == 1)
    return (
        select(consumer.c.party_id, func.count().label("value"))
        .where(
            consumer.c.type == PURCHASE,
            consumer.c.role == "consumer",
            consumer.c.interaction_id.in_(kept),
        )
        .group_by(consumer.c.party_id)
    )


def _with(settings_of: Any, build: Any) -> Any:
    """Bind a builder to the plugin's settings as they are when the segment is compiled."""

    def bound(*args: Any) -> Any:
        return build(settings_of(), *args)

    return bound


def predicates(settings_of: Any) -> list[SegmentPredicate]:
    """The b2c roles, each a predicate answering ``{role = ...}`` (and ``of`` for consumer)."""
    return [
        SegmentPredicate(
            "customer",
            _with(settings_of, _role_customer),
            description="Billing customers: a kept purchase as purchaser at as_of.",
            roles={"customer"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "lapsed_customer",
            _with(settings_of, _role_lapsed),
            description="Customers whose latest kept purchase is lapse_after_days old or more.",
            roles={"lapsed_customer"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "loyal_customer",
            _with(settings_of, _role_loyal),
            description="Customers, not lapsed, meeting the loyalty rule (count or value).",
            roles={"loyal_customer"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "prospect",
            _with(settings_of, _role_prospect),
            description=(
                "Leads: people of the configured kinds with no kept purchase and no "
                "consumption, old enough, not in an excluding relationship."
            ),
            roles={"prospect"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "consumer",
            _with(settings_of, _role_consumer),
            description=(
                "Service customers: named consumer of a kept purchase or a product user; "
                "with of, consumers of purchases made by those purchasers."
            ),
            schema={
                "type": "object",
                "properties": {"of": {"type": "object"}},
                "additionalProperties": False,
            },
            roles={"consumer"},
        ),
    ]


def metrics(settings_of: Any) -> list[SegmentMetric]:
    """Per-customer figures, as the population analytics compute them."""
    return [
        SegmentMetric(
            "orders",
            _with(settings_of, _metric_orders),
            description="Kept purchases as purchaser (RFM frequency); customers only.",
            unit="orders",
        ),
        SegmentMetric(
            "clv",
            _with(settings_of, _metric_clv),
            description="Lifetime value: net spend plus the predicted value; customers only.",
            unit="reporting currency",
        ),
        SegmentMetric(
            "historic_clv",
            _with(settings_of, _metric_net_spend),
            description="Net spend, purchases less refunds (RFM monetary); customers only.",
            unit="reporting currency",
        ),
        SegmentMetric(
            "recency_days",
            _with(settings_of, _metric_recency),
            description="Days since the latest kept purchase (RFM recency); customers only.",
            unit="days",
        ),
        SegmentMetric(
            "consumer_purchases",
            _with(settings_of, _metric_consumer_purchases),
            description="Kept purchases the party is named consumer of.",
            unit="purchases",
        ),
    ]
