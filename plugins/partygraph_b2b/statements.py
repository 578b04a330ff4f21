"""The snapshot's statements, built once per shape and run as prepared statements.

Building a SQLAlchemy expression costs more than running the indexed query it
describes (the engagement statement took milliseconds to build, microseconds
to run), so :func:`partygraph_b2b.analytics.load` asks this module for each
statement by its *shape*: which id lists filter it and how long they are.
Every shape is built and compiled once (:class:`~partygraph.storage.prepared.Prepared`)
and then runs with bound parameters only.

An id list is bound one parameter per id (``accounts_0``, ``accounts_1`` ...),
padded to a power of two with its last id (a repeated id changes no ``IN``),
so a few compiled shapes serve every scope of a party's read. A list longer
than :data:`MAX_BOUND` ids (a scope of a whole group of companies) is bound as
one expanding parameter instead: the statement then takes SQLAlchemy's
ordinary path, as before.

Shapes: ``None`` for a list that does not filter the statement, ``0`` for an
expanding list, else the number of parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
)

from partygraph.storage.prepared import IdShape as Shape
from partygraph.storage.prepared import Prepared, ids_in
from partygraph.storage.tables import participant_table, party_table, relationship_table
from partygraph_b2b.settings import Settings
from partygraph_b2b.vocabulary import ACCOUNT_ROLE

__all__ = [
    "contracts",
    "current",
    "engagement",
    "engagement_statement",
    "hierarchy",
    "jobs",
    "names",
    "recency_cutoffs",
    "stakes",
    "touched",
    "touches",
]

_rel = relationship_table
_part = participant_table
_party = party_table


def current(table: Any = _rel) -> ColumnElement[bool]:
    """The relationship holds at ``:at`` (valid_to is exclusive)."""
    return and_(
        table.c.valid_from <= bindparam("at"),
        or_(table.c.valid_to.is_(None), table.c.valid_to > bindparam("at")),
    )


@functools.cache
def stakes(accounts: Shape, persons: Shape, detail: bool) -> Prepared:
    """Current ``stakeholder_of`` links, of ``accounts`` and/or ``persons`` (param ``at``)."""
    columns: list[Any] = [_rel.c.id, _rel.c.target_id, _rel.c.source_id, _rel.c.role]
    if detail:
        columns += [
            _rel.c.valid_from,
            _rel.c.valid_to,
            _rel.c.attributes["track"].as_string().label("track"),
        ]
    query = select(*columns).where(_rel.c.type == "stakeholder_of", current())
    if accounts is not None:
        query = query.where(ids_in(_rel.c.target_id, "accounts", accounts))
    if persons is not None:
        query = query.where(ids_in(_rel.c.source_id, "persons", persons))
    return Prepared(query)


def touched(
    accounts: Shape,
    persons: Shape,
    bound: Mapping[str, Any] | None = None,
    types: int = 0,
) -> Any:
    """(account, stakeholder, interaction) rows within ``[:horizon, :at)``, deduplicated.

    An interaction that names accounts (participants in role ``account``) counts
    for those only: the left join finds them with the participant table's
    primary key (interaction id first). With *bound* (``at``, ``horizon``,
    ``types``), the values travel with the statement as unique parameters, so
    it can be embedded in a larger one (a segment). Otherwise the engagement
    types are ``types`` parameters ``etype_0`` ... (or one expanding ``types``).
    """

    def value(name: str) -> Any:
        if bound is None:
            return bindparam(name)
        return bindparam(name, bound[name], unique=True)

    if bound is not None:
        kinds: Any = bindparam("types", list(bound["types"]), unique=True, expanding=True)
    elif types:
        kinds = [bindparam(f"etype_{index}") for index in range(types)]
    else:
        kinds = bindparam("types", expanding=True)
    at = value("at")
    stake = _rel.alias("stake")
    part = _part.alias("touch")
    named = _part.alias("named")
    conditions = [
        stake.c.type == "stakeholder_of",
        stake.c.valid_from <= at,
        or_(stake.c.valid_to.is_(None), stake.c.valid_to > at),
        part.c.type.in_(kinds),
        part.c.role != ACCOUNT_ROLE,
        part.c.occurred_at >= value("horizon"),
        part.c.occurred_at < at,
        or_(named.c.party_id.is_(None), named.c.party_id == stake.c.target_id),
    ]
    if accounts is not None:
        conditions.append(ids_in(stake.c.target_id, "accounts", accounts))
    if persons is not None:
        conditions.append(ids_in(stake.c.source_id, "persons", persons))
    joined = stake.join(part, part.c.party_id == stake.c.source_id).outerjoin(
        named,
        and_(named.c.interaction_id == part.c.interaction_id, named.c.role == ACCOUNT_ROLE),
    )
    return (
        select(
            stake.c.target_id.label("account_id"),
            stake.c.source_id.label("person_id"),
            part.c.interaction_id,
            part.c.type,
            part.c.occurred_at,
        )
        .select_from(joined)
        .where(*conditions)
        .distinct()
        .subquery("touched")
    )


def engagement_statement(
    settings: Settings,
    accounts: Shape,
    persons: Shape,
    bound: Mapping[str, Any] | None = None,
) -> Select[Any]:
    """Per (account, stakeholder): interactions in the window, the last one, the raw score.

    With *bound*, every value (``at``, ``horizon``, ``types``, ``since`` and the
    recency cut-offs ``cutoffs``) travels with the statement. Otherwise they are
    the parameters ``at``, ``horizon``, ``etype_0``..., ``since``, ``cut_0``...
    (see :func:`recency_cutoffs`).
    """
    kinds = settings.engagement_types
    found = touched(accounts, persons, bound, len(kinds))
    type_weight = case(
        {name: literal(settings.type_weight(name), Float()) for name in kinds},
        value=found.c.type,
        else_=literal(1.0, Float()),
    )

    def moment(name: str) -> Any:
        if bound is None:
            return bindparam(name)
        value = bound["cutoffs"][int(name[4:])] if name.startswith("cut_") else bound[name]
        return bindparam(name, value, unique=True)

    recency = case(
        *[
            (found.c.occurred_at >= moment(f"cut_{index}"), literal(weight, Float()))
            for index, (_, weight) in enumerate(settings.recency)
        ],
        else_=literal(0.0, Float()),
    )
    in_window = found.c.occurred_at >= moment("since")
    return select(
        found.c.account_id,
        found.c.person_id,
        func.count(case((in_window, found.c.interaction_id))).label("interactions"),
        func.max(case((in_window, found.c.occurred_at))).label("last"),
        func.sum(type_weight * recency).label("raw_score"),
    ).group_by(found.c.account_id, found.c.person_id)


def recency_cutoffs(settings: Settings, at: datetime) -> list[datetime]:
    """The start of each recency step before *at*, in the settings' order."""
    return [at - timedelta(days=days) for days, _ in settings.recency]


def _weights(settings: Settings) -> tuple[Any, ...]:
    """What the engagement statement takes from the settings (a hashable cache key)."""
    kinds = settings.engagement_types
    return (
        kinds,
        tuple(settings.type_weight(name) for name in kinds),
        tuple(weight for _, weight in settings.recency),
    )


_ENGAGEMENT: dict[tuple[Any, ...], Prepared] = {}


def engagement(settings: Settings, accounts: Shape, persons: Shape) -> Prepared:
    """The engagement statement of a scope, prepared once per weights and shape.

    Settings hold mappings and cannot be a cache key; what the statement takes
    from them can.
    """
    key = (*_weights(settings), accounts, persons)
    found = _ENGAGEMENT.get(key)
    if found is None:
        found = _ENGAGEMENT[key] = Prepared(engagement_statement(settings, accounts, persons))
    return found


@functools.cache
def touches(accounts: Shape, persons: Shape, types: int) -> Prepared:
    """The engagement interactions of a scope since ``:since`` (evidence for reasons)."""
    found = touched(accounts, persons, None, types)
    return Prepared(select(found).where(found.c.occurred_at >= bindparam("since")))


@functools.cache
def jobs(persons: Shape) -> Prepared:
    """Current ``works_at`` links (of ``persons``), oldest first (param ``at``)."""
    query = (
        select(
            _rel.c.id,
            _rel.c.source_id,
            _rel.c.target_id,
            _rel.c.attributes["title"].as_string().label("title"),
            _rel.c.attributes["department"].as_string().label("department"),
        )
        .where(_rel.c.type == "works_at", current())
        .order_by(_rel.c.valid_from, _rel.c.id)
    )
    if persons is not None:
        query = query.where(ids_in(_rel.c.source_id, "persons", persons))
    return Prepared(query)


@functools.cache
def hierarchy(direction: str, start: Shape) -> Prepared:
    """Current subsidiary_of edges reachable up (ancestors) or down from ``start``."""
    child, parent = _rel.c.source_id, _rel.c.target_id
    anchor = child if direction == "up" else parent
    base = (
        select(child.label("child"), parent.label("parent"))
        .where(_rel.c.type == "subsidiary_of", current(), ids_in(anchor, "start", start))
        .cte(f"hierarchy_{direction}", recursive=True)
    )
    step = _rel.alias("step")
    known = base.alias(f"known_{direction}")
    follow = (
        step.c.source_id == known.c.parent
        if direction == "up"
        else step.c.target_id == known.c.child
    )
    tree = base.union(
        select(step.c.source_id, step.c.target_id).where(
            step.c.type == "subsidiary_of", current(step), follow
        )
    )
    return Prepared(select(tree.c.child, tree.c.parent))


@functools.cache
def contracts(accounts: Shape) -> Prepared:
    """Signed contracts before ``:at`` naming the accounts (or any), in time order."""
    query = (
        select(_part.c.party_id, _part.c.interaction_id, _part.c.occurred_at)
        .where(
            _part.c.type == "contract_signed",
            _part.c.role == ACCOUNT_ROLE,
            _part.c.occurred_at < bindparam("at"),
        )
        .order_by(_part.c.occurred_at, _part.c.interaction_id)
    )
    if accounts is not None:
        query = query.where(ids_in(_part.c.party_id, "accounts", accounts))
    return Prepared(query)


@functools.cache
def names(ids: Shape, held: str) -> Prepared:
    """Id, key, kind, name of the parties ``ids``, and what is held of each.

    *held*: ``attributes`` (a privacy plugin judges people by them), ``email``
    or ``none``.
    """
    value: Any = (
        _party.c.attributes
        if held == "attributes"
        else _party.c.attributes["email"].as_string()
        if held == "email"
        else literal(None)
    )
    return Prepared(
        select(_party.c.id, _party.c.key, _party.c.kind, _party.c.name, value.label("held")).where(
            ids_in(_party.c.id, "ids", ids)
        )
    )
