"""The per-party statements of views and roles, built once and run with bound parameters.

Building the roll-up statements (a JSON subquery per amount, a union for the
categories) costs far more than running them for one household, so the
statements a view sends are built here once per dialect and purchase settings
and run as :class:`~partygraph.storage.prepared.Prepared` statements. Each is
scoped by a bound ``household`` or ``person`` id and starts from an index on
it, so one household's summary costs the same at a thousand households as at
a million. Times are bound naive UTC (``at``, ``since``).

The population statements (every household at once, segments) stay in
:mod:`partygraph_household.queries`, built per call: they run once per
computation, where building is negligible.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    bindparam,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.types import NullType

from partygraph.storage.prepared import Prepared
from partygraph.storage.tables import participant_table
from partygraph.times import from_storage
from partygraph_household import queries
from partygraph_household.settings import PurchaseSettings

__all__ = ["Household", "Influence", "for_household", "for_person", "influence_rows"]


def _at() -> Any:
    return bindparam("at", type_=DateTime())


def _since() -> Any:
    return bindparam("since", type_=DateTime())


def _plain_numbers(statement: Any) -> Any:
    """*statement* with its floating-point columns read as the driver returns them.

    A prepared statement converts results without knowing the driver's column
    types, which SQLAlchemy's PostgreSQL float conversion needs; the rows are
    turned into floats by :func:`partygraph_household.queries.spend_rows` anyway.
    """
    found = statement.subquery("figures")
    return select(
        *[
            type_coerce(item, NullType()).label(item.name)
            if isinstance(item.type, Float | Numeric)
            else item
            for item in found.c
        ]
    )


@attrs.frozen
class Household:
    """The statements of one household's summary (params ``household``, ``at``, ``since``).

    ``spend`` and ``categories`` are None when no purchase type is configured.
    """

    members: Prepared
    spend: Prepared | None
    categories: Prepared | None
    holdings: Prepared


@functools.lru_cache(maxsize=16)
def for_household(dialect: str, settings: PurchaseSettings) -> Household:
    """The summary statements for *dialect* and *settings*, built once."""
    household = bindparam("household", type_=Integer())
    spend = queries.spend_statement(dialect, settings, _at(), _since(), household)
    categories = queries.categories_statement(dialect, settings, _at(), _since(), household)
    by_members, direct = queries.holdings_statements(_at(), household)
    return Household(
        members=Prepared(queries.memberships_statement(_at(), household)),
        spend=None if spend is None else Prepared(_plain_numbers(spend)),
        categories=None if categories is None else Prepared(categories),
        # One round trip: the members' holdings, then the household's own, as two queries did.
        holdings=Prepared(union_all(by_members, direct)),
    )


#: What a row of :func:`for_person`'s statement is: a purchase naming the person
#: consumer, a use of a product another member bought, or the count of the person's
#: own purchases.
NAMED, USED, OWN = "named", "used", "own"


@attrs.frozen
class Influence:
    """What the ``household_influencer`` rule needs of one member, from one statement."""

    named: list[tuple[int, datetime]]
    used: list[tuple[int, datetime, int]]
    own: int


@functools.lru_cache(maxsize=16)
def for_person(dialect: str, settings: PurchaseSettings) -> Prepared | None:
    """One statement: a member's influence and own purchases (params ``person``,
    ``household``, ``since``, ``at``); None when the rule cannot hold."""
    person = bindparam("person", type_=Integer())
    household = bindparam("household", type_=Integer())
    named = queries.influence_statement(settings, person, household, _since(), _at())
    used = queries.usage_influence_statement(dialect, settings, person, household, _since(), _at())
    parts: list[Any] = []
    if named is not None:
        found = named.subquery("named")
        parts.append(
            select(
                literal(NAMED, String()).label("kind"),
                found.c.interaction_id.label("interaction_id"),
                found.c.occurred_at.label("occurred_at"),
                null().label("bought"),
            )
        )
    if used is not None:
        found = used.subquery("used")
        parts.append(
            select(
                literal(USED, String()).label("kind"),
                found.c.interaction_id,
                found.c.occurred_at,
                found.c.bought,
            )
        )
    if not parts:
        return None
    if settings.types and settings.buyer_roles:
        part = participant_table
        own = select(func.count(func.distinct(part.c.interaction_id))).where(
            *queries.own_purchase_conditions(settings, part, person, _since(), _at())
        )
        parts.append(
            select(
                literal(OWN, String()).label("kind"),
                own.scalar_subquery(),
                null(),
                null(),
            )
        )
    return Prepared(union_all(*parts))


def influence_rows(rows: list[Any]) -> Influence:
    """The rows of :func:`for_person`'s statement, in the order the rule reports them."""
    named: list[tuple[int, datetime]] = []
    used: list[tuple[int, datetime, int]] = []
    own = 0
    for row in rows:
        if row.kind == OWN:
            own = int(row.interaction_id or 0)
            continue
        when = from_storage(row.occurred_at)
        assert when is not None
        if row.kind == NAMED:
            named.append((int(row.interaction_id), when))
        else:
            used.append((int(row.interaction_id), when, int(row.bought)))
    # As the rule's statements ordered them: by time, then interaction.
    named.sort(key=lambda item: (item[1], item[0]))
    used.sort(key=lambda item: (item[1], item[0], item[2]))
    return Influence(named, used, own)
