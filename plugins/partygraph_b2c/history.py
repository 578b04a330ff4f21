"""One party's purchase history up to a point in time, and the rules evaluated on it.

Loaded with two indexed queries (the purchases the party took part in, with
their refunds, purchasers and consumers; its product usage), never a scan of
the population. Every rule is a function of time, so the
same history answers "is she loyal today?" and "since when?": a role holds
from the start of the current stretch in which its rule held without a break
(:func:`stretch_start`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import Connection

from partygraph import Party, PartySummary
from partygraph.times import from_storage, to_storage
from partygraph_b2c import statements
from partygraph_b2c.currencies import MINOR_UNITS, converted
from partygraph_b2c.settings import Settings

__all__ = ["Consumed", "History", "Order", "Usage", "age_at", "load_history", "stretch_start"]


def _aware(value: Any) -> datetime:
    moment = from_storage(value)
    assert moment is not None
    return moment


@attrs.frozen
class Order:
    """A purchase with its refunds (up to the time the history was loaded)."""

    interaction_id: int
    order_id: str
    at: datetime
    currency: str
    total: int
    factor: float
    refunds: tuple[tuple[datetime, int], ...] = ()

    def returned(self, at: datetime) -> int:
        """Refunded by *at*, in the order's minor units."""
        return sum(amount for when, amount in self.refunds if when <= at)

    @property
    def full_return_at(self) -> datetime | None:
        """When the refunds reached the order's total (the purchase is undone), if ever."""
        refunded = 0
        for when, amount in self.refunds:
            refunded += amount
            if refunded >= self.total:
                return when
        return None

    def kept(self, at: datetime) -> bool:
        """Placed by *at* and not returned in full by then."""
        if self.at > at:
            return False
        undone = self.full_return_at
        return undone is None or at < undone

    def net(self, at: datetime) -> float:
        """What the order is worth at *at*, in minor units of the reporting currency."""
        if self.at > at:
            return 0.0
        return self._convert(self.total - self.returned(at))

    def gross(self) -> float:
        """The order's total in minor units of the reporting currency."""
        return self._convert(self.total)

    def _convert(self, amount: int) -> float:
        # As the population statements do: exact when no conversion is needed,
        # else rounded to a whole minor unit of the reporting currency.
        return converted(amount, self.factor)


@attrs.frozen
class Consumed:
    """A purchase the party is named consumer of, and who bought it (maybe itself)."""

    order: Order
    purchaser: PartySummary | None


@attrs.frozen
class Usage:
    """The party's product usage: how often, first and last time, what was used last."""

    count: int
    first_at: datetime
    last_at: datetime
    last_product: str | None
    last_id: int
    products: tuple[str, ...]


@attrs.frozen
class History:
    """What the b2c plugin knows about one party at one time."""

    party: Party
    as_of: datetime
    orders: tuple[Order, ...]
    bought_for: dict[int, tuple[PartySummary, ...]]
    consumed: tuple[Consumed, ...]
    usage: Usage | None
    settings: Settings

    @property
    def empty(self) -> bool:
        """Nothing to say: never bought, never consumed, never used a product."""
        return not self.orders and not self.consumed and self.usage is None

    # -- the purchaser's rules, as functions of time ---------------------------------------

    def kept_orders(self, at: datetime) -> list[Order]:
        """Orders placed by *at* and not returned in full by then."""
        return [order for order in self.orders if order.kept(at)]

    def is_customer(self, at: datetime) -> bool:
        """Has a kept purchase at *at*."""
        return any(order.kept(at) for order in self.orders)

    def last_kept(self, at: datetime) -> Order | None:
        """The latest kept purchase at *at*."""
        kept = self.kept_orders(at)
        return max(kept, key=lambda order: (order.at, order.interaction_id)) if kept else None

    def net_minor(self, at: datetime) -> float:
        """Historic lifetime value (net revenue) at *at*, minor units of the reporting currency."""
        return sum(order.net(at) for order in self.orders)

    def is_lapsed(self, at: datetime) -> bool:
        """A customer whose latest kept purchase is at least ``lapse_after_days`` old."""
        last = self.last_kept(at)
        return last is not None and at - last.at >= timedelta(days=self.settings.lapse_after_days)

    def window_orders(self, at: datetime) -> list[Order]:
        """Kept purchases within the loyalty window ending at *at*."""
        start = at - timedelta(days=self.settings.loyal.window_days)
        return [order for order in self.kept_orders(at) if order.at > start]

    def loyal_by_count(self, at: datetime) -> bool:
        """The purchase-count rule holds at *at*."""
        rule = self.settings.loyal
        return rule.min_orders is not None and len(self.window_orders(at)) >= rule.min_orders

    def loyal_by_value(self, at: datetime) -> bool:
        """The lifetime-value rule holds at *at*."""
        rule = self.settings.loyal
        if rule.min_clv is None:
            return False
        threshold = float(rule.min_clv) * 10.0 ** MINOR_UNITS[self.settings.currency]
        return self.net_minor(at) >= threshold - 1e-6

    def is_loyal(self, at: datetime) -> bool:
        """A customer, not lapsed, meeting a loyalty rule at *at*."""
        return (
            self.is_customer(at)
            and not self.is_lapsed(at)
            and (self.loyal_by_count(at) or self.loyal_by_value(at))
        )

    def events(self) -> list[datetime]:
        """Every time at which a rule's answer can change."""
        lapse = timedelta(days=self.settings.lapse_after_days)
        window = timedelta(days=self.settings.loyal.window_days)
        found: set[datetime] = set()
        for order in self.orders:
            found.update((order.at, order.at + lapse, order.at + window))
            found.update(when for when, _ in order.refunds)
        for consumed in self.consumed:
            found.add(consumed.order.at)
            found.update(when for when, _ in consumed.order.refunds)
        if self.usage is not None:
            found.add(self.usage.first_at)
        return sorted(when for when in found if when <= self.as_of)

    # -- the consumer's side ---------------------------------------------------------------

    def kept_consumed(self, at: datetime) -> list[Consumed]:
        """Purchases the party is consumer of, kept at *at*."""
        return [item for item in self.consumed if item.order.kept(at)]

    def is_consumer(self, at: datetime) -> bool:
        """Named consumer of a kept purchase, or used a product, by *at*."""
        if self.usage is not None and self.usage.first_at <= at:
            return True
        return bool(self.kept_consumed(at))


def stretch_start(
    holds: Callable[[datetime], bool], events: Iterable[datetime], as_of: datetime
) -> datetime | None:
    """Since when *holds* has held without a break up to *as_of*.

    A rule's answer only changes at an event; between two events it keeps the
    answer it has at the earlier one. The answer is the event that began the
    current stretch (the earliest event if it held at every one), or None when
    there is no event up to *as_of*.
    """
    points = [when for when in events if when <= as_of]
    since: datetime | None = None
    for when in reversed(points):
        if not holds(when):
            break
        since = when
    return since


def age_at(party: Party, at: datetime) -> int | None:
    """Age in whole years at *at*, from the ``birth_date`` attribute (None if unknown)."""
    value = party.attributes.get("birth_date")
    if not isinstance(value, str):
        return None
    try:
        born = date.fromisoformat(value[:10])
    except ValueError:
        return None
    day = at.astimezone(UTC).date()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# -- loading -------------------------------------------------------------------------------


def load_history(
    connection: Connection,
    settings: Settings,
    party: Party,
    as_of: datetime,
) -> History:
    """The party's purchases, consumption and usage up to *as_of*.

    Two indexed queries: the purchases it took part in (with their refunds, purchasers
    and consumers) and its product usage.
    """
    assert party.id is not None
    until = to_storage(as_of)
    params = {"party": party.id, "until": until}
    rows: dict[tuple[str, int], Any] = {}
    refunds: dict[int, dict[int, tuple[datetime, int]]] = {}
    buyers: dict[int, PartySummary] = {}
    named: dict[int, dict[int, PartySummary]] = {}
    for row in statements.orders_of_party.rows(connection, params):
        interaction_id = int(row.interaction_id)
        rows.setdefault((row.role, interaction_id), row)
        if row.refund_id is not None:
            refunds.setdefault(interaction_id, {})[int(row.refund_id)] = (
                _aware(row.refund_at),
                int(row.refund_amount),
            )
        if row.buyer_id is not None:
            buyers[interaction_id] = PartySummary(
                int(row.buyer_id), row.buyer_key, row.buyer_kind, row.buyer_name
            )
        if row.consumer_id is not None:
            named.setdefault(interaction_id, {})[int(row.consumer_id)] = PartySummary(
                int(row.consumer_id), row.consumer_key, row.consumer_kind, row.consumer_name
            )
    orders: list[Order] = []
    consumed: list[Consumed] = []
    for (role, interaction_id), row in rows.items():
        currency = row.currency
        order = Order(
            interaction_id=interaction_id,
            order_id=row.order_id,
            at=_aware(row.occurred_at),
            currency=currency,
            total=int(row.total_minor),
            factor=settings.factor(currency) if settings.accepts(currency) else 0.0,
            refunds=tuple(
                item
                for _, item in sorted(
                    refunds.get(interaction_id, {}).items(),
                    key=lambda entry: (entry[1][0], entry[0]),
                )
            ),
        )
        if role == "purchaser":
            orders.append(order)
        elif role == "consumer":
            consumed.append(Consumed(order, buyers.get(interaction_id)))
    bought_for = {
        key: tuple(sorted(found.values(), key=lambda item: item.key))
        for key, found in named.items()
    }
    return History(
        party=party,
        as_of=as_of,
        orders=tuple(orders),
        bought_for=bought_for,
        consumed=tuple(consumed),
        usage=_usage(connection, party.id, until),
        settings=settings,
    )


def _usage(connection: Connection, party_id: int, until: datetime) -> Usage | None:
    recent = statements.usage_of_party.rows(
        connection, {"party": party_id, "until": until, "limit": 20}
    )
    if not recent:
        return None
    products = [str((row.payload or {}).get("product")) for row in recent]
    return Usage(
        count=int(recent[0].uses),
        first_at=_aware(recent[0].first_at),
        last_at=_aware(recent[0].occurred_at),
        last_product=products[0],
        last_id=int(recent[0].id),
        products=tuple(dict.fromkeys(products))[:5],
    )


def has_excluding_relationship(
    connection: Connection, party_id: int, types: tuple[str, ...], at: datetime
) -> str | None:
    """The type of a current outgoing relationship that keeps the party from being a lead."""
    if not types:
        return None
    found = statements.excluding_relationship(types).scalar(
        connection, {"party": party_id, "at": to_storage(at)}
    )
    return str(found) if found is not None else None
