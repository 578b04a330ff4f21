"""Point-read statements, built once and reused with bound parameters.

Building a SQLAlchemy expression costs more than running the indexed query it
describes, so every read a hook or a view makes repeatedly is constructed
here once per shape (which optional filters are present), cached, and run as
a :class:`~partygraph.storage.prepared.Prepared` statement. Lists of ids are
bound one parameter per id, in buckets of powers of two (the last id
repeated; see :func:`~partygraph.storage.prepared.bucketed`), so a handful of
compiled shapes serve every list length.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, text

from partygraph.storage.prepared import Prepared
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)

__all__ = [
    "highest_sqlite_id",
    "interaction_keys",
    "party_refs_by_ids",
    "party_refs_by_keys",
    "count_participations",
    "interactions_by_ids",
    "participants_by_ids",
    "participations",
    "recent_participations",
    "party_by_id",
    "party_by_key",
    "relationships_of",
    "summaries_by_ids",
]

_party = party_table
_rel = relationship_table
_inter = interaction_table
_part = participant_table

party_by_key = Prepared(select(_party).where(_party.c.key == bindparam("ref")))
party_by_id = Prepared(select(_party).where(_party.c.id == bindparam("ref")))


def _ids(size: int) -> list[Any]:
    return [bindparam(f"id{index}") for index in range(size)]


@functools.cache
def highest_sqlite_id(table: str) -> Prepared:
    """The highest id *table* ever used on SQLite (``sqlite_sequence`` survives deletions)."""
    return Prepared(
        text(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0),"
            f" coalesce((SELECT max(id) FROM {table}), 0))"
        )
    )


@functools.cache
def party_refs_by_keys(size: int) -> Prepared:
    """Id, key and kind of up to *size* parties by key (params ``id0``...)."""
    columns = (_party.c.id, _party.c.key, _party.c.kind)
    return Prepared(select(*columns).where(_party.c.key.in_(_ids(size))))


@functools.cache
def party_refs_by_ids(size: int) -> Prepared:
    """Id, key and kind of up to *size* parties by id (params ``id0``...)."""
    columns = (_party.c.id, _party.c.key, _party.c.kind)
    return Prepared(select(*columns).where(_party.c.id.in_(_ids(size))))


@functools.cache
def interaction_keys(size: int) -> Prepared:
    """Which of up to *size* interaction keys are stored (params ``id0``...)."""
    return Prepared(select(_inter.c.key).where(_inter.c.key.in_(_ids(size))))


@functools.cache
def summaries_by_ids(size: int) -> Prepared:
    """Id, key, kind and name of up to *size* parties (params ``id0``...)."""
    return Prepared(
        select(_party.c.id, _party.c.key, _party.c.kind, _party.c.name).where(
            _party.c.id.in_(_ids(size))
        )
    )


@functools.cache
def interactions_by_ids(size: int) -> Prepared:
    """Up to *size* interactions (params ``id0``...)."""
    return Prepared(select(_inter).where(_inter.c.id.in_(_ids(size))))


@functools.cache
def participants_by_ids(size: int) -> Prepared:
    """The participants of up to *size* interactions (params ``id0``...)."""
    return Prepared(
        select(_part.c.interaction_id, _part.c.party_id, _part.c.role)
        .where(_part.c.interaction_id.in_(_ids(size)))
        .order_by(_part.c.interaction_id, _part.c.role, _part.c.party_id)
    )


@functools.cache
def relationships_of(outgoing: bool, has_type: bool, has_role: bool, history: bool) -> Prepared:
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
    return Prepared(select(_rel).where(and_(*conditions)))


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
) -> Prepared:
    """How many interactions a party took part in, filtered."""
    conditions = _participation_filter(has_type, has_role, has_since, has_before)
    return Prepared(
        select(func.count(func.distinct(_part.c.interaction_id))).where(and_(*conditions))
    )


@functools.cache
def participations(
    has_type: bool, has_role: bool, has_since: bool, has_before: bool, has_limit: bool
) -> Prepared:
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
    return Prepared(query)


@functools.cache
def recent_participations(
    has_type: bool, has_role: bool, has_since: bool, has_before: bool
) -> Prepared:
    """A party's participation rows, newest first, at most ``fetch`` (no grouping).

    Read straight off the ``(party_id, occurred_at)`` index, so the cost is the
    rows asked for, not the party's whole history. An interaction the party
    joined in two roles appears twice, side by side: the caller drops repeats.
    """
    conditions = _participation_filter(has_type, has_role, has_since, has_before)
    return Prepared(
        select(_part.c.interaction_id)
        .where(and_(*conditions))
        .order_by(_part.c.occurred_at.desc(), _part.c.interaction_id.desc())
        .limit(bindparam("fetch"))
    )
