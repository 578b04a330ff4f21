"""Side memberships over time: which stage a member was at, when, and since when.

A membership is a chain of ``side_of`` rows (one per stage of its lifecycle)
from a member to a platform, with the side as the role. Rows are read once
for a whole batch of parties (one prepared query per 512 parties), never per row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, bindparam, or_, select

from partygraph.storage.prepared import Prepared, bucketed
from partygraph.storage.tables import party_table, relationship_table
from partygraph.times import from_storage, to_storage
from partygraph_marketplace.vocab import SIDE_OF

__all__ = [
    "ROLE_STAGES",
    "Stage",
    "active_members",
    "load_stages",
    "party_names",
    "period_at",
    "stage_at",
    "stage_from_row",
]

_rel = relationship_table
#: Most ids bound in one lookup (one parameter each, in power-of-two shapes).
_CHUNK = 512
#: Stages in which a member holds the side's role (a suspended driver is still a driver).
ROLE_STAGES = ("active", "suspended")


@attrs.frozen
class Stage:
    """One ``side_of`` row: a member at one stage of its membership of one side."""

    id: int
    party_id: int
    platform_id: int
    side: str
    status: str
    start: datetime | None
    end: datetime | None
    reason: str | None = None

    def holds_at(self, at: datetime) -> bool:
        """True when this stage is the one in force at *at*."""
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)


def stage_from_row(row: Any) -> Stage:
    """A :class:`Stage` from a ``relationship`` row (id, source, target, role, attributes,
    valid_from, valid_to)."""
    attributes = row.attributes or {}
    return Stage(
        id=int(row.id),
        party_id=int(row.source_id),
        platform_id=int(row.target_id),
        side=str(row.role),
        status=str(attributes.get("status") or "active"),
        start=from_storage(row.valid_from),
        end=from_storage(row.valid_to),
        reason=attributes.get("reason"),
    )


@functools.cache
def _stages_of(size: int) -> Prepared:
    """Every ``side_of`` row from up to *size* parties (params ``id0``...)."""
    wanted: list[Any] = [bindparam(f"id{index}") for index in range(size)]
    return Prepared(
        select(
            _rel.c.id,
            _rel.c.source_id,
            _rel.c.target_id,
            _rel.c.role,
            _rel.c.attributes,
            _rel.c.valid_from,
            _rel.c.valid_to,
        ).where(_rel.c.type == SIDE_OF, _rel.c.source_id.in_(wanted))
    )


def load_stages(
    connection: Connection, party_ids: Iterable[int], sides: Sequence[str]
) -> dict[tuple[int, str], list[Stage]]:
    """Every stage of these parties' memberships of these sides, oldest first (one
    prepared statement per 512 parties)."""
    wanted = set(sides)
    found: dict[tuple[int, str], list[Stage]] = {}
    for size, params in bucketed(sorted(set(party_ids)), _CHUNK):
        for row in _stages_of(size).rows(connection, params):
            if row.role in wanted:
                stage = stage_from_row(row)
                found.setdefault((stage.party_id, stage.side), []).append(stage)
    for stages in found.values():
        stages.sort(key=lambda s: (to_storage(s.start) if s.start else datetime.min, s.id))
    return found


def stage_at(stages: Sequence[Stage], at: datetime) -> Stage | None:
    """The stage in force at *at* (the latest one starting by then, if still running)."""
    current = None
    for stage in stages:
        if stage.holds_at(at):
            current = stage  # the latest start wins should two overlap
    return current


def period_at(stages: Sequence[Stage], at: datetime) -> list[Stage]:
    """The unbroken run of stages (same platform, no churn, no gap) in force at *at*."""
    current = stage_at(stages, at)
    if current is None or current.status == "churned":
        return []
    run = [current]
    index = stages.index(current)
    while index > 0:
        before = stages[index - 1]
        first = run[0]
        if (
            before.platform_id != first.platform_id
            or before.status == "churned"
            or before.end is None
            or first.start is None
            or before.end != first.start
        ):
            break
        run.insert(0, before)
        index -= 1
    return run


def active_members(connection: Connection, side: str, at: datetime) -> dict[int, Stage]:
    """Every member whose stage of *side* at *at* is ``active``, by party id (one query)."""
    moment = to_storage(at)
    query = (
        select(
            _rel.c.id,
            _rel.c.source_id,
            _rel.c.target_id,
            _rel.c.role,
            _rel.c.attributes,
            _rel.c.valid_from,
            _rel.c.valid_to,
        )
        .where(
            _rel.c.type == SIDE_OF,
            _rel.c.role == side,
            _rel.c.valid_from <= moment,
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > moment),
        )
        .order_by(_rel.c.valid_from, _rel.c.id)
    )
    found: dict[int, Stage] = {}
    for row in connection.execute(query):
        stage = stage_from_row(row)
        found[stage.party_id] = stage
    return {party_id: stage for party_id, stage in found.items() if stage.status == "active"}


@functools.cache
def _names(size: int) -> Prepared:
    """Id, key and name of up to *size* parties (params ``id0``...)."""
    wanted: list[Any] = [bindparam(f"id{index}") for index in range(size)]
    return Prepared(
        select(party_table.c.id, party_table.c.key, party_table.c.name).where(
            party_table.c.id.in_(wanted)
        )
    )


def party_names(connection: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """``{id: (key, name)}`` for these parties (one prepared statement per 512 ids)."""
    found: dict[int, tuple[str, str | None]] = {}
    for size, params in bucketed(sorted(set(ids)), _CHUNK):
        for party_id, key, name in _names(size).rows(connection, params):
            found[int(party_id)] = (key, name)
    return found
