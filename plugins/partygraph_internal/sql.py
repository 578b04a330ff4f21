"""Set-based building blocks shared by roles, checks, derived writes and analytics.

Crediting a department: a request (or a lead hand-off) made by a department
is credited to it; one made by a person is credited to the department the
person was ``employed_in`` at the time of the event (one department at a
time, see the vocabulary). The join below does that for any population in
one statement, on SQLite and PostgreSQL alike (timestamps are naive UTC on
both, so comparisons of stored columns are plain comparisons).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    func,
    or_,
    select,
    update,
)

from partygraph import Party
from partygraph.reading import party_from_row
from partygraph.storage.prepared import MAX_BOUND, Prepared, bind_ids, ids_in
from partygraph.storage.prepared import IdShape as Shape
from partygraph.storage.tables import party_table, relationship_table
from partygraph.times import from_storage, to_storage
from partygraph_internal import tables
from partygraph_internal.vocabulary import DEPARTMENT, EMPLOYED_IN, SERVES

__all__ = [
    "Named",
    "ServesLink",
    "chunks",
    "credit_requests",
    "credited_department",
    "employment_join",
    "load_parties",
    "named",
    "serves_links",
    "stored",
]

_party = party_table
_rel = relationship_table


def stored(value: datetime | None) -> datetime | None:
    """An aware datetime -> naive UTC, as stored (None stays None)."""
    return to_storage(value) if value is not None else None


def chunks(values: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """Slices of at most *size* ids (for IN lists)."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def employment_join(
    base: FromClause, person: ColumnElement[Any], at: ColumnElement[Any], alias: str
) -> tuple[FromClause, ColumnElement[Any]]:
    """Outer-join the ``employed_in`` link of *person* valid at *at*; return (join, target)."""
    employment = _rel.alias(alias)
    joined = base.outerjoin(
        employment,
        and_(
            employment.c.type == EMPLOYED_IN,
            employment.c.source_id == person,
            employment.c.valid_from <= at,
            or_(employment.c.valid_to.is_(None), employment.c.valid_to > at),
        ),
    )
    return joined, employment.c.target_id


def credited_department(
    base: FromClause, party: ColumnElement[Any], at: ColumnElement[Any], alias: str
) -> tuple[FromClause, ColumnElement[Any]]:
    """The department an event by *party* at *at* is credited to (the party itself, if one).

    Only persons are ``employed_in`` (the vocabulary's source kinds), so the
    employment of the day, when there is one, is the answer; the party's kind
    is looked up only when there is none (a department acting itself, or a
    person employed nowhere then): one probe fewer per event of an employee.
    """
    joined, target = employment_join(base, party, at, f"{alias}_employment")
    kind = _party.alias(f"{alias}_party")
    itself = select(kind.c.id).where(kind.c.id == party, kind.c.kind == DEPARTMENT)
    return joined, func.coalesce(target, itself.scalar_subquery())


def _credit() -> ColumnElement[Any]:
    """:func:`credited_department` of a stored request, correlated to ``internal_request``."""
    request = tables.request
    link = _rel.alias("credit_employment")
    employment = (
        select(link.c.target_id)
        .where(
            link.c.type == EMPLOYED_IN,
            link.c.source_id == request.c.requester_id,
            link.c.valid_from <= request.c.opened_at,
            or_(link.c.valid_to.is_(None), link.c.valid_to > request.c.opened_at),
        )
        .order_by(link.c.valid_from.desc())
        .limit(1)
        .correlate(request)
        .scalar_subquery()
    )
    itself = (
        select(_party.c.id)
        .where(_party.c.id == request.c.requester_id, _party.c.kind == DEPARTMENT)
        .correlate(request)
        .scalar_subquery()
    )
    return func.coalesce(employment, itself)


@functools.cache
def _credit_by(column: str, shape: Shape) -> Prepared:
    request = tables.request
    return Prepared(
        update(request).where(ids_in(request.c[column], "ids", shape)).values(customer_id=_credit())
    )


def credit_requests(connection: Connection, column: str, ids: Iterable[int]) -> None:
    """Store the customer department of the requests whose *column* is one of *ids*.

    *column* is ``interaction_id`` (requests just written) or ``requester_id``
    (people whose employment history was just written). One set-based
    statement per few hundred ids: each request costs two index probes, once,
    instead of one per read.
    """
    wanted = sorted(set(ids))
    for chunk in chunks(wanted, MAX_BOUND):
        params: dict[str, Any] = {}
        _credit_by(column, bind_ids(params, "ids", chunk)).execute(connection, params)


@attrs.frozen
class Named:
    """Enough of a party to name it in a reason."""

    id: int
    key: str
    kind: str
    name: str | None

    @property
    def label(self) -> str:
        """Its name, else its key."""
        return self.name or self.key


@functools.cache
def _named(shape: Shape) -> Prepared:
    return Prepared(
        select(_party.c.id, _party.c.key, _party.c.kind, _party.c.name).where(
            ids_in(_party.c.id, "ids", shape)
        )
    )


@functools.cache
def _parties(shape: Shape) -> Prepared:
    return Prepared(select(_party).where(ids_in(_party.c.id, "ids", shape)))


def named(
    connection: Connection, ids: Iterable[int | None], known: dict[int, Named] | None = None
) -> dict[int, Named]:
    """Key, kind and name of these parties, in as few queries as the ids need.

    With *known* (names a read already fetched), only the others are queried,
    and they are added to it.
    """
    wanted = sorted({int(value) for value in ids if value is not None})
    found: dict[int, Named] = {}
    if known is not None:
        found = {party: known[party] for party in wanted if party in known}
        wanted = [party for party in wanted if party not in found]
    for chunk in chunks(wanted, MAX_BOUND):
        params: dict[str, Any] = {}
        for row in _named(bind_ids(params, "ids", chunk)).rows(connection, params):
            found[int(row.id)] = Named(int(row.id), row.key, row.kind, row.name)
    if known is not None:
        known.update(found)
    return found


def load_parties(connection: Connection, ids: Iterable[int]) -> list[Party]:
    """Full parties (for ``graph.excluded``, which then needs no query per party)."""
    wanted = sorted(set(ids))
    found: list[Party] = []
    for chunk in chunks(wanted, MAX_BOUND):
        params: dict[str, Any] = {}
        rows = _parties(bind_ids(params, "ids", chunk)).rows(connection, params)
        found.extend(party_from_row(row) for row in rows)
    return found


@attrs.frozen
class ServesLink:
    """A ``serves`` relationship, as the checks and the SLA lookup need it."""

    id: int
    source: int
    target: int
    target_kind: str
    categories: tuple[str, ...] | None
    sla: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None

    def valid_at(self, at: datetime) -> bool:
        """Does the link hold at *at* (aware)?"""
        started = self.valid_from is None or self.valid_from <= at
        return started and (self.valid_to is None or at < self.valid_to)


@functools.cache
def _serves_from(shape: Shape) -> Prepared:
    target = _party.alias("serves_target")
    return Prepared(
        select(_rel, target.c.kind.label("target_kind"))
        .select_from(_rel.join(target, target.c.id == _rel.c.target_id))
        .where(_rel.c.type == SERVES, ids_in(_rel.c.source_id, "ids", shape))
        .order_by(_rel.c.valid_from, _rel.c.id)
    )


def serves_links(connection: Connection, providers: Iterable[int]) -> dict[int, list[ServesLink]]:
    """Every ``serves`` link (history included) from these providers, by provider."""
    wanted = sorted(set(providers))
    found: dict[int, list[ServesLink]] = {}
    for chunk in chunks(wanted, MAX_BOUND):
        params: dict[str, Any] = {}
        for row in _serves_from(bind_ids(params, "ids", chunk)).rows(connection, params):
            attributes = row.attributes or {}
            categories = attributes.get("categories")
            found.setdefault(int(row.source_id), []).append(
                ServesLink(
                    id=int(row.id),
                    source=int(row.source_id),
                    target=int(row.target_id),
                    target_kind=row.target_kind,
                    categories=tuple(categories) if categories else None,
                    sla=dict(attributes.get("sla") or {}),
                    valid_from=from_storage(row.valid_from),
                    valid_to=from_storage(row.valid_to),
                )
            )
    return found
