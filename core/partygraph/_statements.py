"""Point-read statements, built once and reused with bound parameters.

Building a SQLAlchemy expression costs more than running the indexed query it
describes, so every read a hook or a view makes repeatedly is constructed
here once per shape (which optional filters are present) and cached.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select

from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)

__all__ = [
    "count_participations",
    "interactions_by_ids",
    "participants_by_ids",
    "participations",
    "party_by_id",
    "party_by_key",
    "relationships_of",
    "summaries_by_ids",
]

_party = party_table
_rel = relationship_table
_inter = interaction_table
_part = participant_table

party_by_key = select(_party).where(_party.c.key == bindparam("ref"))
party_by_id = select(_party).where(_party.c.id == bindparam("ref"))
summaries_by_ids = select(_party.c.id, _party.c.key, _party.c.kind, _party.c.name).where(
    _party.c.id.in_(bindparam("ids", expanding=True))
)
interactions_by_ids = select(_inter).where(_inter.c.id.in_(bindparam("ids", expanding=True)))
participants_by_ids = (
    select(_part.c.interaction_id, _part.c.party_id, _part.c.role)
    .where(_part.c.interaction_id.in_(bindparam("ids", expanding=True)))
    .order_by(_part.c.interaction_id, _part.c.role, _part.c.party_id)
)


@functools.cache
def relationships_of(outgoing: bool, has_type: bool, has_role: bool, history: bool) -> Select[Any]:
    """Relationships from (outgoing) or to a party; params ``party``, ``type``, ``role``, ``at``."""
    column = _rel.c.source_id if outgoing else _rel.c.target_id
    conditions = [column == bindparam("party")]
    if has_type:
        conditions.append(_rel.c.type == bindparam("type"))
    if has_role:
        conditions.append(_rel.c.role == bindparam("role"))
    if not history:
        conditions.append(_rel.c.valid_from <= bindparam("at"))
        conditions.append(or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > bindparam("at")))
    return select(_rel).where(and_(*conditions))


def _participation_filter(
    has_type: bool, has_role: bool, has_since: bool, has_before: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_part.c.party_id == bindparam("party")]
    if has_type:
        conditions.append(_part.c.type == bindparam("type"))
    if has_role:
        conditions.append(_part.c.role == bindparam("role"))
    if has_since:
        conditions.append(_part.c.occurred_at >= bindparam("since"))
    if has_before:
        conditions.append(_part.c.occurred_at < bindparam("before"))
    return conditions


@functools.cache
def count_participations(
    has_type: bool, has_role: bool, has_since: bool, has_before: bool
) -> Select[Any]:
    """How many interactions a party took part in, filtered."""
    conditions = _participation_filter(has_type, has_role, has_since, has_before)
    return select(func.count(func.distinct(_part.c.interaction_id))).where(and_(*conditions))


@functools.cache
def participations(
    has_type: bool, has_role: bool, has_since: bool, has_before: bool, has_limit: bool
) -> Select[Any]:
    """Ids of a party's interactions, newest first, filtered (param ``limit``)."""
    conditions = _participation_filter(has_type, has_role, has_since, has_before)
    newest = func.max(_part.c.occurred_at)
    query = (
        select(_part.c.interaction_id)
        .where(and_(*conditions))
        .group_by(_part.c.interaction_id)
        .order_by(newest.desc(), _part.c.interaction_id.desc())
    )
    if has_limit:
        query = query.limit(bindparam("limit"))
    return query
