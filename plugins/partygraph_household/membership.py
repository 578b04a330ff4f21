"""Membership changes made whole before the core writes them (``partygraph_before_write``).

The core enforces the cardinality rules of ``member_of``: at most one current
head per household (a new head ends the previous head's link on its
``valid_from``) and at most N households per person. This module adds what a
rule alone cannot say, as further relationship items of the same batch, so
the core validates the dates, allocates the ids and reports them like any
other write, in the same transaction:

- naming a new head keeps the previous head as a member: his head membership
  ends on the new head's ``valid_from`` and a membership in
  ``former_head_role`` starts that day (until his old end, if any);
- a person's new membership of the household they already belong to, in
  another role, is a role change: the current one ends that day (a partner
  becoming head, a dependent becoming a partner) instead of counting as a
  second, overlapping membership.

It also checks that the shares of an account holding (``holds``) never add up
to more than 1 at any date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Connection, select

from partygraph import Relationship, ValidationError, WriteBatch, WriteSession
from partygraph.storage.tables import relationship_table
from partygraph.times import MIN_TIME, from_storage, to_storage
from partygraph_household.settings import Settings
from partygraph_household.vocabulary import HEAD, HOLDS, MEMBER_OF

__all__ = ["arrange_memberships", "check_shares"]

_rel = relationship_table
_EPSILON = 1e-9


@attrs.define
class _Link:
    """A membership as it will stand once the items before it are written."""

    source: int
    target: int
    role: str
    start: datetime
    end: datetime | None
    primary: bool = False
    attributes: dict[str, Any] = attrs.field(factory=dict)

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or self.end > at)


def _start(rel: Relationship) -> datetime:
    return to_storage(rel.valid_from) if rel.valid_from is not None else MIN_TIME


def _end(rel: Relationship) -> datetime | None:
    return to_storage(rel.valid_to) if rel.valid_to is not None else None


def _stored(connection: Connection, type_name: str, targets: Collection[int]) -> list[Any]:
    """The stored relationships of *type_name* to these targets, oldest first."""
    found: list[Any] = []
    ordered = sorted(targets)
    for start in range(0, len(ordered), 500):
        query = (
            select(_rel)
            .where(_rel.c.type == type_name, _rel.c.target_id.in_(ordered[start : start + 500]))
            .order_by(_rel.c.valid_from, _rel.c.id)
        )
        found.extend(connection.execute(query))
    return found


def _link_of_row(row: Any) -> _Link:
    return _Link(
        source=int(row.source_id),
        target=int(row.target_id),
        role=row.role or "",
        start=_naive(row.valid_from),
        end=None if row.valid_to is None else _naive(row.valid_to),
        primary=bool(row.is_primary),
        attributes=dict(row.attributes or {}),
    )


def _naive(value: Any) -> datetime:
    moment = from_storage(value)
    return to_storage(moment) if moment is not None else MIN_TIME


def _ending(link: _Link, at: datetime) -> Relationship:
    """An item that ends a stored, open membership on *at* (the core matches it by identity)."""
    return Relationship(
        MEMBER_OF,
        link.source,
        link.target,
        link.role or None,
        link.primary,
        {},
        from_storage(link.start),
        from_storage(at),
    )


def _by_target(links: Iterable[_Link]) -> dict[int, list[_Link]]:
    found: dict[int, list[_Link]] = defaultdict(list)
    for link in links:
        found[link.target].append(link)
    return found


def arrange_memberships(batch: WriteBatch, session: WriteSession, settings: Settings) -> None:
    """Add the items that end a replaced head's or a changed role's membership."""
    items: list[Relationship] = batch.relationships
    if not any(item.type == MEMBER_OF for item in items):
        return
    # Items a plugin before this one refused or withheld are not written: nothing follows
    # from them.
    targets = {int(item.target) for item in items if item.type == MEMBER_OF}
    stored = _stored(session.connection, MEMBER_OF, targets)
    # Everything below concerns one household at a time: its memberships, by household.
    households = _by_target(_link_of_row(row) for row in stored)
    people = _People(session, settings, items)
    starting = {
        (int(item.source), _start(item))
        for item in items
        if item.type == MEMBER_OF and item.valid_from is not None and not batch.is_settled(item)
    }
    arranged: list[Relationship] = []
    for item in items:
        if item.type != MEMBER_OF or batch.is_settled(item):
            arranged.append(item)
            continue
        source, target, role = int(item.source), int(item.target), item.role or ""
        start = _start(item)
        links = households[target]
        same = [
            link for link in links if (link.source, link.role, link.start) == (source, role, start)
        ]
        if same:  # an update of a stored (or earlier) item: its end may change
            if item.valid_to is not None:
                same[0].end = _end(item)
            arranged.append(item)
            continue
        before: list[Relationship] = []
        after: list[Relationship] = []
        if item.valid_from is not None and not people.refused(source, target, start):
            before.extend(_role_changes(links, source, role, start))
            if role == HEAD:
                first, then = _head_changes(links, settings, source, target, start, starting)
                before.extend(first)
                after.extend(then)
        arranged.extend(before)
        arranged.append(item)
        arranged.extend(after)
        link = _Link(source, target, role, start, _end(item), item.primary, dict(item.attributes))
        links.append(link)
        people.add(link)
    if len(arranged) != len(items):
        batch.relationships[:] = arranged


class _People:
    """When the caller skips invalid records, a membership the core will refuse (one
    household too many) must not end anyone else's: this tells which ones it will."""

    def __init__(
        self, session: WriteSession, settings: Settings, items: Sequence[Relationship]
    ) -> None:
        self.limit = settings.max_households_per_person
        self.active = (
            session.skip_invalid
            and self.limit is not None
            and settings.joining_another_household == "refuse"
        )
        self.links: dict[int, list[_Link]] = defaultdict(list)
        if not self.active:
            return
        sources = sorted({int(item.source) for item in items if item.type == MEMBER_OF})
        for start in range(0, len(sources), 500):
            query = select(_rel).where(
                _rel.c.type == MEMBER_OF, _rel.c.source_id.in_(sources[start : start + 500])
            )
            for row in session.connection.execute(query):
                self.add(_link_of_row(row))

    def add(self, link: _Link) -> None:
        if self.active:
            self.links[link.source].append(link)

    def refused(self, source: int, target: int, start: datetime) -> bool:
        """Will the core refuse a membership of *source* in *target* from *start*?"""
        if not self.active or self.limit is None:
            return False
        others = [
            link for link in self.links[source] if link.target != target and link.covers(start)
        ]
        return len(others) >= self.limit


def _role_changes(
    links: list[_Link], source: int, role: str, start: datetime
) -> Iterable[Relationship]:
    """End the person's open membership of this household in another role."""
    for link in links:
        if link.source == source and link.role != role and link.start < start and link.end is None:
            link.end = start
            yield _ending(link, start)


def _head_changes(
    links: list[_Link],
    settings: Settings,
    source: int,
    target: int,
    start: datetime,
    starting: set[tuple[int, datetime]],
) -> tuple[list[Relationship], list[Relationship]]:
    """Keep a replaced head as a member: (items before the new head's, items after)."""
    before: list[Relationship] = []
    after: list[Relationship] = []
    for link in list(links):
        if link.role != HEAD or link.source == source or not link.covers(start):
            continue
        old_end = link.end
        link.end = start
        if (link.source, start) in starting:
            continue  # the batch says itself what becomes of him from that day
        kept = Relationship(
            MEMBER_OF,
            link.source,
            target,
            settings.former_head_role,
            False,
            {},
            from_storage(start),
            from_storage(old_end) if old_end is not None else None,
        )
        if old_end is None and link.start < start:
            before.extend([_ending(link, start), kept])
        else:  # the core's head rule ends it when the new head is written
            after.append(kept)
        links.append(_Link(link.source, target, settings.former_head_role, start, old_end))
    return before, after


# -- shares of joint holdings ------------------------------------------------------------------


def check_shares(batch: WriteBatch, session: WriteSession) -> None:
    """Refuse a ``holds`` item that would make its holding's shares exceed 1."""
    items = [item for item in batch.relationships if item.type == HOLDS]
    if not items:
        return
    targets = {int(item.target) for item in items}
    holdings = _by_target(_link_of_row(row) for row in _stored(session.connection, HOLDS, targets))
    for item in items:
        source, target, start = int(item.source), int(item.target), _start(item)
        end = _end(item)
        links = holdings[target]
        identity = (source, item.role or "", start)
        same = [link for link in links if (link.source, link.role, link.start) == identity]
        # An update of a stored holding merges its attributes (a new share) and may end it.
        stored = same[0] if same else None
        attributes = {**(stored.attributes if stored else {}), **item.attributes}
        candidate = _Link(
            source,
            target,
            item.role or "",
            start,
            end if end is not None or stored is None else stored.end,
            attributes=attributes,
        )
        share = _share(attributes)
        if share is not None:
            problem = _excess(links, candidate, share)
            if problem is not None:
                _refuse(batch, session, item, problem)
                continue
        if stored is not None:
            stored.attributes, stored.end = candidate.attributes, candidate.end
        else:
            links.append(candidate)


def _share(attributes: Any) -> float | None:
    value = attributes.get("share") if attributes else None
    return float(value) if isinstance(value, int | float) else None


def _excess(links: Sequence[_Link], candidate: _Link, share: float) -> str | None:
    """Why the candidate's share is too much at some date it holds, or None."""
    others = [
        link
        for link in links
        if link.target == candidate.target
        and link.source != candidate.source
        and _share(link.attributes) is not None
        and (candidate.end is None or link.start < candidate.end)
        and (link.end is None or link.end > candidate.start)
    ]
    points = sorted(
        {candidate.start, *(link.start for link in others if link.start > candidate.start)}
    )
    for point in points:
        total = share + sum(_share(link.attributes) or 0.0 for link in others if link.covers(point))
        if total > 1 + _EPSILON:
            when = from_storage(point)
            day = f" on {when.date().isoformat()}" if when is not None else ""
            return (
                f"the shares of this holding would add up to {round(total, 6)}{day}; "
                "at most 1 (end or reduce another holder's share first)"
            )
    return None


def _refuse(batch: WriteBatch, session: WriteSession, item: Relationship, reason: str) -> None:
    if session.skip_invalid:
        batch.refuse(item, f"attributes/share: {reason}")
        return
    line = batch.line_of(item)
    where = f" (record {line})" if line else ""
    raise ValidationError("attributes/share", reason + where, _share(item.attributes))
