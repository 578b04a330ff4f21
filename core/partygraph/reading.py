"""Reading the graph: what hooks receive, and what the toolkit's reads use.

Every query is an indexed lookup by party id (relationships by source or
target, participations by party and time), so reading one party costs the
same at a thousand parties as at a million. Reads take an ``as_of``; being
current is computed from dates, never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection

from partygraph import _statements as statements
from partygraph.errors import NotFoundError
from partygraph.model import (
    Interaction,
    Participant,
    Party,
    PartyRef,
    PartySummary,
    Relationship,
    RelationshipView,
    RoleAssignment,
)
from partygraph.storage.prepared import bucketed
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph.times import MIN_TIME, from_storage, to_storage
from partygraph.vocabulary import Vocabulary

__all__ = ["GraphReader", "SqlGraph", "once_per_read"]

Direction = Literal["outgoing", "incoming", "both"]

_party = party_table
_rel = relationship_table
_inter = interaction_table
_part = participant_table


@runtime_checkable
class GraphReader(Protocol):
    """Read access to the party graph, as plugins' hooks receive it."""

    @property
    def connection(self) -> Connection:
        """The open connection (inside the current transaction when writing)."""

    @property
    def as_of(self) -> datetime:
        """The time reads default to."""

    def party(self, ref: PartyRef | Party) -> Party:
        """The party a key or id refers to; :class:`NotFoundError` if none."""

    def find_party(self, ref: PartyRef | Party) -> Party | None:
        """The party a key or id refers to, or None."""

    def relationships(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        direction: Direction = "both",
        as_of: datetime | None = None,
        history: bool = False,
    ) -> list[RelationshipView]:
        """Relationships seen from *party*: current at *as_of*, or all with *history*."""

    def interactions(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        limit: int | None = None,
    ) -> list[Interaction]:
        """The party's interactions, newest first."""

    def count_interactions(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
    ) -> int:
        """How many interactions the party took part in (in *role*, of *type*)."""

    def roles(self, party: PartyRef | Party, as_of: datetime | None = None) -> list[RoleAssignment]:
        """Every enabled plugin's role assignments for another party."""

    def metrics(
        self, party: PartyRef | Party, as_of: datetime | None = None
    ) -> dict[str, Mapping[str, Any]]:
        """Every enabled plugin's figures for a party, by plugin."""

    def excluded(
        self, parties: Sequence[PartyRef | Party], purpose: str, as_of: datetime | None = None
    ) -> dict[int, str]:
        """Which of *parties* may not be processed for *purpose*: ``{id: reason}``."""

    def memo(self, owner: str) -> dict[Any, Any] | None:
        """Scratch space for *owner* (a plugin's name) for as long as this reader lives.

        What a plugin computed for one hook of a read (a party's snapshot for its
        roles) can serve its other hooks of the same read (metrics, view section):
        a reader is one look at the graph. None when the reader belongs to a write,
        whose data change as the write goes on: compute afresh then.
        """


T = TypeVar("T")


def once_per_read(graph: GraphReader, owner: str, key: Hashable, compute: Callable[[], T]) -> T:
    """What *compute* gives, computed once per read-only reader and kept in *owner*'s memo.

    A view asks a plugin for a party's roles, metrics and section in turn: what
    the first needed (a snapshot, a summary) serves the others. In a write's
    reader (``graph.memo`` is None) it is computed at every call, since the
    data change as the write goes on.
    """
    memo = graph.memo(owner)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    found: T = memo[key]
    return found


RolesFn = Callable[[Party, datetime, "SqlGraph"], list[RoleAssignment]]
ExcludedFn = Callable[[Sequence[Party], str, datetime, "SqlGraph"], dict[int, str]]
MetricsFn = Callable[[Party, datetime, "SqlGraph"], dict[str, Mapping[str, Any]]]


def party_from_row(row: Any) -> Party:
    """A :class:`Party` from a ``party`` row."""
    return Party(
        key=row.key,
        kind=row.kind,
        name=row.name,
        attributes=row.attributes or {},
        id=row.id,
        created_at=from_storage(row.created_at),
        updated_at=from_storage(row.updated_at),
    )


class SqlGraph:
    """The :class:`GraphReader` over one connection."""

    def __init__(
        self,
        connection: Connection,
        vocabulary: Vocabulary,
        as_of: datetime,
        roles_fn: RolesFn | None = None,
        metrics_fn: MetricsFn | None = None,
        excluded_fn: ExcludedFn | None = None,
        *,
        memo: bool = False,
    ) -> None:
        self._connection = connection
        self._memo: dict[str, dict[Any, Any]] | None = {} if memo else None
        # A read-only reader is one look at the graph, so what it fetched once
        # (a party, a party's relationships) serves every plugin's hooks after.
        self._parties: dict[PartyRef, Party | None] | None = {} if memo else None
        self._edges: dict[tuple[int, bool, bool], list[Any]] | None = {} if memo else None
        self._summaries: dict[int, PartySummary] | None = {} if memo else None
        self._vocabulary = vocabulary
        self._as_of = as_of
        self._roles_fn = roles_fn
        self._metrics_fn = metrics_fn
        self._excluded_fn = excluded_fn
        self._computing: set[int] = set()

    @property
    def connection(self) -> Connection:
        """The open connection."""
        return self._connection

    @property
    def as_of(self) -> datetime:
        """The time reads default to."""
        return self._as_of

    def memo(self, owner: str) -> dict[Any, Any] | None:
        """Scratch space for *owner* while this reader lives (None in a write's reader)."""
        if self._memo is None:
            return None
        return self._memo.setdefault(owner, {})

    # -- parties ---------------------------------------------------------------------------

    def find_party(self, ref: PartyRef | Party) -> Party | None:
        """The party a key or id refers to, or None."""
        if isinstance(ref, Party):
            if ref.id is not None:
                return ref
            ref = ref.key
        cache = self._parties
        if cache is not None and ref in cache:
            return cache[ref]
        statement = statements.party_by_id if isinstance(ref, int) else statements.party_by_key
        row = statement.first(self._connection, {"ref": ref})
        found = party_from_row(row) if row is not None else None
        if cache is not None:
            cache[ref] = found
            if found is not None:
                assert found.id is not None
                cache[found.id] = cache[found.key] = found
        return found

    def party(self, ref: PartyRef | Party) -> Party:
        """The party a key or id refers to; :class:`NotFoundError` if none."""
        found = self.find_party(ref)
        if found is None:
            what = "id" if isinstance(ref, int) else "key"
            shown = ref.key if isinstance(ref, Party) else ref
            raise NotFoundError(f"no party with {what} {shown!r}")
        return found

    def _id(self, ref: PartyRef | Party) -> int:
        if isinstance(ref, Party) and ref.id is not None:
            return ref.id
        party_id = self.party(ref).id
        assert party_id is not None
        return party_id

    def summaries(self, ids: set[int]) -> dict[int, PartySummary]:
        """Summaries of the parties with these ids."""
        if not ids:
            return {}
        known = self._summaries
        found = {}
        missing = ids if known is None else {number for number in ids if number not in known}
        for size, params in bucketed(sorted(missing)):
            for row in statements.summaries_by_ids(size).rows(self._connection, params):
                found[row.id] = PartySummary(row.id, row.key, row.kind, row.name)
        if known is not None:
            known.update(found)
            found.update((number, known[number]) for number in ids if number in known)
        return found

    # -- relationships -----------------------------------------------------------------

    def relationships(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        direction: Direction = "both",
        as_of: datetime | None = None,
        history: bool = False,
    ) -> list[RelationshipView]:
        """Relationships seen from *party*: current at *as_of*, or all with *history*."""
        party_id = self._id(party)
        at = as_of or self._as_of
        params = {"party": party_id, "type": type, "role": role, "at": to_storage(at)}
        found: list[tuple[str, Any]] = []
        for label in ("outgoing", "incoming"):
            if direction not in (label, "both"):
                continue
            outgoing = label == "outgoing"
            if self._edges is not None:
                rows = self._edges_of(party_id, outgoing, history, at)
                rows = [
                    row
                    for row in rows
                    if (type is None or row.type == type) and (role is None or row.role == role)
                ]
            else:
                statement = statements.relationships_of(
                    outgoing, type is not None, role is not None, history
                )
                rows = statement.rows(self._connection, params)
            found.extend((label, row) for row in rows)
        others = {row.target_id if label == "outgoing" else row.source_id for label, row in found}
        summaries = self.summaries(others)
        views = []
        for label, row in found:
            relationship = relationship_from_row(row)
            rtype = self._vocabulary.relationship_types.get(row.type)
            direction_label: Literal["outgoing", "incoming"] = (
                "outgoing" if label == "outgoing" else "incoming"
            )
            text = rtype.label_for(direction_label) if rtype else row.type
            other_id = row.target_id if label == "outgoing" else row.source_id
            views.append(
                RelationshipView(
                    relationship,
                    direction_label,
                    text,
                    summaries[other_id],
                    relationship.is_valid_at(at),
                )
            )
        views.sort(
            key=lambda v: (
                not v.current,
                v.relationship.type,
                v.relationship.valid_from or datetime.min.replace(tzinfo=at.tzinfo),
                v.relationship.id or 0,
            )
        )
        return views

    def _edges_of(self, party_id: int, outgoing: bool, history: bool, at: datetime) -> list[Any]:
        """A party's relationship rows in one direction, fetched once per reader."""
        assert self._edges is not None
        key = (party_id, outgoing, True)
        rows = self._edges.get(key)
        if rows is None:
            statement = statements.relationships_of(outgoing, False, False, True)
            rows = self._edges[key] = statement.rows(self._connection, {"party": party_id})
        if history:
            return rows
        stored = to_storage(at)
        return [
            row
            for row in rows
            if row.valid_from <= stored and (row.valid_to is None or row.valid_to > stored)
        ]

    # -- interactions ------------------------------------------------------------------

    def _participation_params(
        self,
        party: PartyRef | Party,
        type: str | None,
        role: str | None,
        since: datetime | None,
        before: datetime | None,
    ) -> tuple[tuple[bool, bool, bool, bool], dict[str, Any]]:
        shape = (type is not None, role is not None, since is not None, before is not None)
        params = {
            "party": self._id(party),
            "type": type,
            "role": role,
            "since": to_storage(since) if since is not None else None,
            "before": to_storage(before) if before is not None else None,
        }
        return shape, params

    def count_interactions(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
    ) -> int:
        """How many interactions the party took part in (in *role*, of *type*)."""
        shape, params = self._participation_params(party, type, role, since, before)
        statement = statements.count_participations(*shape)
        return int(statement.scalar(self._connection, params))

    def interactions(
        self,
        party: PartyRef | Party,
        *,
        type: str | None = None,
        role: str | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        limit: int | None = None,
    ) -> list[Interaction]:
        """The party's interactions, newest first."""
        shape, params = self._participation_params(party, type, role, since, before)
        if limit is not None:
            # Newest rows off the index; a party in two roles of one interaction has two
            # rows, so twice the limit nearly always holds enough distinct interactions.
            params["fetch"] = fetch = max(2 * limit, 8)
            found = statements.recent_participations(*shape).rows(self._connection, params)
            ids = list(dict.fromkeys(row.interaction_id for row in found))
            if len(ids) >= limit or len(found) < fetch:
                return self.interactions_by_id(ids[:limit])
        statement = statements.participations(*shape, limit is not None)
        params["limit"] = limit
        ids = [row.interaction_id for row in statement.rows(self._connection, params)]
        return self.interactions_by_id(ids)

    def interactions_by_id(self, ids: list[int]) -> list[Interaction]:
        """Interactions with these ids, in the order given."""
        if not ids:
            return []
        rows: dict[int, Any] = {}
        participants: dict[int, list[Participant]] = {}
        for size, params in bucketed(list(dict.fromkeys(ids))):
            for row in statements.interactions_by_ids(size).rows(self._connection, params):
                rows[row.id] = row
            for part in statements.participants_by_ids(size).rows(self._connection, params):
                participants.setdefault(part.interaction_id, []).append(
                    Participant(part.party_id, part.role)
                )
        found = []
        for interaction_id in ids:
            row = rows.get(interaction_id)
            if row is None:
                continue
            occurred = from_storage(row.occurred_at)
            assert occurred is not None
            found.append(
                Interaction(
                    type=row.type,
                    occurred_at=occurred,
                    participants=tuple(participants.get(interaction_id, ())),
                    payload=row.payload or {},
                    key=row.key,
                    id=row.id,
                )
            )
        return found

    # -- other plugins' answers --------------------------------------------------------

    def roles(self, party: PartyRef | Party, as_of: datetime | None = None) -> list[RoleAssignment]:
        """Every enabled plugin's role assignments for a party (cycles answer nothing)."""
        target = self.party(party)
        assert target.id is not None
        if self._roles_fn is None or target.id in self._computing:
            return []
        self._computing.add(target.id)
        try:
            return self._roles_fn(target, as_of or self._as_of, self)
        finally:
            self._computing.discard(target.id)

    def metrics(
        self, party: PartyRef | Party, as_of: datetime | None = None
    ) -> dict[str, Mapping[str, Any]]:
        """Every enabled plugin's figures for a party, by plugin."""
        target = self.party(party)
        if self._metrics_fn is None:
            return {}
        return self._metrics_fn(target, as_of or self._as_of, self)

    def excluded(
        self, parties: Sequence[PartyRef | Party], purpose: str, as_of: datetime | None = None
    ) -> dict[int, str]:
        """Which of *parties* may not be processed for *purpose*: ``{id: reason}``.

        Derived computations (roll-ups, segments) call this once for their whole
        population and leave the excluded parties out.
        """
        found = [self.party(item) for item in parties]
        if self._excluded_fn is None or not found:
            return {}
        at = as_of or self._as_of
        if self._memo is None:
            return self._excluded_fn(found, purpose, at, self)
        # One look at the graph: the same question within one read has the same answer.
        key = (tuple(sorted(party.id or 0 for party in found)), purpose, at)
        answers = self._memo.setdefault("partygraph.excluded", {})
        if key not in answers:
            answers[key] = self._excluded_fn(found, purpose, at, self)
        return dict(answers[key])


def relationship_from_row(row: Any) -> Relationship:
    """A :class:`Relationship` from a ``relationship`` row."""
    valid_from = None if row.valid_from in (None, MIN_TIME) else from_storage(row.valid_from)
    return Relationship(
        type=row.type,
        source=row.source_id,
        target=row.target_id,
        role=row.role or None,
        primary=bool(row.is_primary),
        attributes=row.attributes or {},
        valid_from=valid_from,
        valid_to=from_storage(row.valid_to),
        id=row.id,
    )
