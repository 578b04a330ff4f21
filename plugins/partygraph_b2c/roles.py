"""Role assignments with reasons a support agent can read out.

``customer`` (billing perspective: bought as purchaser, net of full returns),
``consumer`` (service perspective: named consumer of a purchase -- one
assignment per purchaser, relative to that purchaser -- or used a product),
``prospect`` (a person known to the system with no purchase kept, not a
consumer), ``loyal_customer`` and ``lapsed_customer`` (by the configured
rules; a lapsed customer is never loyal). Each role's ``since`` is the start
of the current unbroken stretch in which its rule held, so
``roles(p, as_of=...)`` tells the prospect -> customer -> loyal -> lapsed story.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from partygraph import PartySummary, RoleAssignment
from partygraph_b2c.currencies import MINOR_UNITS, from_minor
from partygraph_b2c.history import Consumed, History, Order, age_at, stretch_start

__all__ = ["assign_roles", "money", "who"]

_EVIDENCE = 10


def day(moment: datetime) -> str:
    """A date as an agent reads it."""
    return moment.date().isoformat()


def money(minor: float, currency: str) -> str:
    """Minor units of *currency* as text: ``1,234.50 EUR``."""
    digits = MINOR_UNITS[currency]
    return f"{from_minor(minor, currency):,.{digits}f} {currency}"


def who(summary: PartySummary) -> str:
    """A party as an agent reads it: ``Léa Martin (lea)``."""
    return f"{summary.name} ({summary.key})" if summary.name else summary.key


def _evidence(orders: Sequence[Order]) -> tuple[str, ...]:
    newest = sorted(orders, key=lambda order: (order.at, order.interaction_id), reverse=True)
    return tuple(f"interaction #{order.interaction_id}" for order in newest[:_EVIDENCE])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _names(items: Sequence[PartySummary], limit: int = 3) -> str:
    shown = ", ".join(who(item) for item in items[:limit])
    more = len(items) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def assign_roles(history: History, excluded_by: Callable[[], str | None]) -> list[RoleAssignment]:
    """Every b2c role the party plays at the history's time, each with its reason.

    *excluded_by* tells (asked only for a possible lead) the current relationship type
    that keeps the party from being one (an employee of the shop), if any.
    """
    at = history.as_of
    events = history.events()
    roles: list[RoleAssignment] = []
    customer = history.is_customer(at)
    if customer:
        roles.append(_customer(history, events))
        if history.is_lapsed(at):
            roles.append(_lapsed(history, events))
        elif history.is_loyal(at):
            roles.append(_loyal(history, events))
    roles.extend(_consumer(history, events, customer))
    prospect = _prospect(history, events, customer, excluded_by)
    if prospect is not None:
        roles.append(prospect)
    return roles


def _since(history: History, holds: Callable[[datetime], bool], events: list[datetime]) -> datetime:
    found = stretch_start(holds, events, history.as_of)
    return found if found is not None else history.as_of


def _customer(history: History, events: list[datetime]) -> RoleAssignment:
    at = history.as_of
    currency = history.settings.currency
    kept = history.kept_orders(at)
    latest = history.last_kept(at)
    assert latest is not None
    first = min(kept, key=lambda order: order.at)
    if len(kept) == 1:
        when = f"on {day(first.at)}"
    else:
        when = f"between {day(first.at)} and {day(latest.at)}"
    text = (
        f"Billing customer: bought {_plural(len(kept), 'order')} as purchaser {when} "
        f"(latest: order {latest.order_id}, {money(latest.net(at), currency)}); "
        f"net spend {money(history.net_minor(at), currency)}."
    )
    recipients: list[PartySummary] = []
    for order in kept:
        for summary in history.bought_for.get(order.interaction_id, ()):
            if summary not in recipients:
                recipients.append(summary)
    if recipients:
        who_is = (
            "who is the consumer (the service customer)"
            if len(recipients) == 1
            else "who are the consumers (the service customers)"
        )
        text += f" Bought for {_names(recipients)}, {who_is}."
    undone = [order for order in history.orders if order.at <= at and not order.kept(at)]
    if undone:
        ids = ", ".join(order.order_id for order in undone[:3])
        text += f" {_plural(len(undone), 'order')} returned in full ({ids}) not counted."
    return RoleAssignment(
        "customer",
        reason=text,
        customer=True,
        kind="external",
        since=_since(history, history.is_customer, events),
        evidence=_evidence(kept),
    )


def _loyal(history: History, events: list[datetime]) -> RoleAssignment:
    at = history.as_of
    rule = history.settings.loyal
    currency = history.settings.currency
    reasons = []
    evidence: list[Order] = []
    if history.loyal_by_count(at):
        window = history.window_orders(at)
        latest = max(window, key=lambda order: order.at)
        reasons.append(
            f"{_plural(len(window), 'purchase')} in the last {rule.window_days} days "
            f"(rule: at least {rule.min_orders}), latest on {day(latest.at)}"
        )
        evidence = window
    if history.loyal_by_value(at):
        assert rule.min_clv is not None
        threshold = float(rule.min_clv) * 10.0 ** MINOR_UNITS[currency]
        reasons.append(
            f"net spend {money(history.net_minor(at), currency)} "
            f"(rule: at least {money(threshold, currency)})"
        )
        evidence = evidence or history.kept_orders(at)
    return RoleAssignment(
        "loyal_customer",
        reason="Loyal customer: " + "; and ".join(reasons) + ".",
        customer=True,
        kind="external",
        since=_since(history, history.is_loyal, events),
        evidence=_evidence(evidence),
    )


def _lapsed(history: History, events: list[datetime]) -> RoleAssignment:
    at = history.as_of
    latest = history.last_kept(at)
    assert latest is not None
    idle = (at.date() - latest.at.date()).days
    became = _since(history, history.is_customer, events)

    def lapsed(moment: datetime) -> bool:
        return history.is_customer(moment) and history.is_lapsed(moment)

    return RoleAssignment(
        "lapsed_customer",
        reason=(
            f"Lapsed customer: no purchase for {idle} days, since order {latest.order_id} on "
            f"{day(latest.at)} (a customer lapses after {history.settings.lapse_after_days} "
            f"days without buying); a customer since {day(became)}."
        ),
        customer=True,
        kind="external",
        since=_since(history, lapsed, events),
        evidence=_evidence([latest]),
    )


def _consumer(history: History, events: list[datetime], customer: bool) -> list[RoleAssignment]:
    at = history.as_of
    me = history.party.id
    groups: dict[int | None, list[Consumed]] = {}
    for item in history.kept_consumed(at):
        buyer = item.purchaser.id if item.purchaser is not None else None
        groups.setdefault(None if buyer == me else buyer, []).append(item)
    tail = (
        "" if customer else " Not the billing customer: has no purchase of their own as purchaser."
    )
    roles: list[RoleAssignment] = []
    for buyer, items in groups.items():
        if buyer is None:
            continue
        summary = items[0].purchaser
        assert summary is not None
        latest = max(items, key=lambda item: item.order.at)
        ids = {item.order.interaction_id for item in items}

        def holds(moment: datetime, ids: set[int] = ids) -> bool:
            return any(
                c.order.kept(moment) for c in history.consumed if c.order.interaction_id in ids
            )

        roles.append(
            RoleAssignment(
                "consumer",
                reason=(
                    f"Service customer: named as consumer of {_plural(len(items), 'purchase')} "
                    f"made by {who(summary)} (latest: order {latest.order.order_id} on "
                    f"{day(latest.order.at)}); the products are for them.{tail}"
                ),
                customer=False,
                kind="external",
                context=summary,
                since=_since(history, holds, events),
                evidence=_evidence([item.order for item in items]),
            )
        )
    own = groups.get(None, [])
    usage = history.usage if history.usage is not None and history.usage.first_at <= at else None
    if own or usage is not None:
        parts = []
        if own:
            mine = [item for item in own if item.purchaser is not None]
            unknown = len(own) - len(mine)
            if mine:
                parts.append(f"named themselves consumer of {_plural(len(mine), 'own purchase')}")
            if unknown:
                parts.append(
                    f"named consumer of {_plural(unknown, 'purchase')} whose purchaser is no "
                    "longer on record"
                )
        if usage is not None:
            last = f"; latest: {usage.last_product}" if usage.last_product else ""
            parts.append(
                f"used products {_plural(usage.count, 'time')} between {day(usage.first_at)} "
                f"and {day(usage.last_at)}{last}"
            )
        own_ids = {item.order.interaction_id for item in own}

        def own_holds(moment: datetime) -> bool:
            if usage is not None and usage.first_at <= moment:
                return True
            return any(
                c.order.kept(moment) for c in history.consumed if c.order.interaction_id in own_ids
            )

        evidence = list(_evidence([item.order for item in own]))
        if usage is not None:
            evidence.insert(0, f"interaction #{usage.last_id}")
        roles.append(
            RoleAssignment(
                "consumer",
                reason="Service customer: " + "; ".join(parts) + "." + tail,
                customer=False,
                kind="external",
                since=_since(history, own_holds, events),
                evidence=tuple(evidence[:_EVIDENCE]),
            )
        )
    return roles


def _prospect(
    history: History,
    events: list[datetime],
    customer: bool,
    excluded_by: Callable[[], str | None],
) -> RoleAssignment | None:
    settings = history.settings.prospects
    party = history.party
    at = history.as_of
    if not settings.enabled or party.kind not in settings.kinds or customer:
        return None
    if history.is_consumer(at):
        return None
    age = age_at(party, at)
    if settings.min_age is not None and age is not None and age < settings.min_age:
        return None
    if excluded_by() is not None:
        return None

    def holds(moment: datetime) -> bool:
        return not history.is_customer(moment) and not history.is_consumer(moment)

    undone = [order for order in history.orders if order.at <= at]
    since = stretch_start(holds, events, at) if undone or history.consumed else None
    if undone:
        last = max(undone, key=lambda order: order.full_return_at or order.at)
        returned_on = last.full_return_at or last.at
        ids = ", ".join(order.order_id for order in undone[:3])
        text = (
            f"Prospect again: bought {_plural(len(undone), 'order')} ({ids}) but returned "
            f"everything in full, last on {day(returned_on)}; no purchase kept, so a lead."
        )
        evidence = _evidence(undone)
    else:
        created = party.created_at
        if created is not None and created <= at:
            text = f"Prospect: known since {day(created)} with no purchase yet: a lead."
        else:
            text = "Prospect: known to the system with no purchase yet: a lead."
        evidence = ()
        if since is None and created is not None and created <= at:
            since = created
    return RoleAssignment(
        "prospect",
        reason=text,
        customer=False,
        kind="external",
        since=since,
        evidence=evidence,
    )
