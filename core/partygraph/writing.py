"""The write pipeline: every public write, single or bulk, goes through it.

A write is one database transaction. Records are cut into batches; within a
batch they are applied in phases -- parties, relationships, plugin record
types, interactions -- and each phase is validated against the vocabulary's
compiled schemas, shown to the plugins (``partygraph_before_write``), written
(parties and interactions with one ``executemany`` per table; relationships
too, except those that meet a stored link or another of the batch under their
identity or a cardinality rule: those go one by one, in order, since each may
end an earlier one), and
shown again (``partygraph_after_write``). Hooks run once per batch and phase, never per
row; no ORM object is built per row. A raising plugin rolls everything back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from sqlalchemy import Connection, and_, bindparam, or_, select, update

from partygraph import _statements as statements
from partygraph.errors import NotFoundError, UserError, ValidationError
from partygraph.model import Context, Interaction, Participant, Party, PartyRef, Relationship
from partygraph.reading import SqlGraph, party_from_row, relationship_from_row
from partygraph.schemas import load_schema
from partygraph.storage.prepared import bucketed, copy_rows, execute_many
from partygraph.storage.tables import party_table, relationship_table
from partygraph.times import MIN_TIME, from_storage, parse_time, to_storage, utcnow
from partygraph.validation import CompiledSchema
from partygraph.vocabulary import Cardinality, Vocabulary

if TYPE_CHECKING:
    from partygraph.hooks import Hooks

__all__ = ["Rejection", "WriteBatch", "WriteReport", "WriteSession"]

_party = party_table
_rel = relationship_table
Item = Party | Relationship | Interaction | Mapping[str, Any]


@attrs.frozen
class Rejection:
    """A record that was not written: its line (or position) and why."""

    line: int
    reason: str
    record_type: str | None = None


@attrs.define
class WriteReport:
    """What a write did: counts by record type, and every rejected record."""

    created: Counter[str] = attrs.field(factory=Counter)
    updated: Counter[str] = attrs.field(factory=Counter)
    unchanged: Counter[str] = attrs.field(factory=Counter)
    rejected: list[Rejection] = attrs.field(factory=list)
    withheld: list[Rejection] = attrs.field(factory=list)
    read: int = 0

    @property
    def written(self) -> int:
        """Records created or updated."""
        return sum(self.created.values()) + sum(self.updated.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "read": self.read,
            "written": self.written,
            "created": dict(sorted(self.created.items())),
            "updated": dict(sorted(self.updated.items())),
            "unchanged": dict(sorted(self.unchanged.items())),
            "rejected": [attrs.asdict(item) for item in self.rejected],
            "withheld": [attrs.asdict(item) for item in self.withheld],
        }


@attrs.define(eq=False)
class WriteBatch:
    """One phase of one batch, as hooks see it.

    Exactly one of ``parties``, ``relationships``, ``records`` (of
    ``record_type``) or ``interactions`` is filled. Parties and interactions
    carry their ids already in ``partygraph_before_write`` (allocated up
    front; the rows exist only after it); relationships get theirs when they
    are written, one by one, because each may end an earlier one.
    """

    phase: str
    parties: list[Party] = attrs.field(factory=list)
    relationships: list[Relationship] = attrs.field(factory=list)
    interactions: list[Interaction] = attrs.field(factory=list)
    records: list[Mapping[str, Any]] = attrs.field(factory=list)
    record_type: str | None = None
    _lines: dict[int, int] = attrs.field(factory=dict, alias="_lines")
    _refused: dict[int, str] = attrs.field(factory=dict, alias="_refused")
    _withheld: dict[int, str] = attrs.field(factory=dict, alias="_withheld")

    def __len__(self) -> int:
        return (
            len(self.parties) + len(self.relationships) + len(self.interactions) + len(self.records)
        )

    def items(self) -> list[Any]:
        """Every item of this phase."""
        return [*self.parties, *self.relationships, *self.records, *self.interactions]

    def refuse(self, item: object, reason: str) -> None:
        """Refuse one item: it is not written, and the write reports *reason*."""
        self._refused[id(item)] = reason

    def withhold(self, item: object, reason: str) -> None:
        """Keep one item from the core's tables (the plugin stored it elsewhere)."""
        self._withheld[id(item)] = reason

    def is_settled(self, item: object) -> bool:
        """Whether a plugin has already refused or withheld *item* in this batch."""
        return id(item) in self._refused or id(item) in self._withheld

    def line_of(self, item: object) -> int:
        """The line (or position) the item came from."""
        return self._lines.get(id(item), 0)


@attrs.define(eq=False)
class WriteSession:
    """What write hooks and record types receive: the transaction and its context."""

    connection: Connection
    context: Context
    graph: SqlGraph
    vocabulary: Vocabulary
    _resolver: Callable[[PartyRef], int]
    #: True when the caller asked to write the valid records and report the rest
    #: (``--skip-invalid``): a gate then refuses single items with ``batch.refuse``.
    skip_invalid: bool = False
    #: Scratch space for plugins, living as long as this write (one transaction):
    #: what a plugin looked up for one batch can serve the next. Key it by plugin.
    cache: dict[str, Any] = attrs.field(factory=dict)

    def resolve(self, ref: PartyRef | Party) -> int:
        """The id of the party a key or id refers to (written earlier in this write too)."""
        if isinstance(ref, Party):
            if ref.id is not None:
                return ref.id
            ref = ref.key
        return self._resolver(ref)


_FIELD_REASON = re.compile(r"([A-Za-z_]\w*(?:/\w+)*): (.+)", re.DOTALL)


class _Rejected(Exception):
    def __init__(self, reason: str, error: UserError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if error is None and (found := _FIELD_REASON.fullmatch(reason)):
            # "field: what is wrong" -> the error names the field, as callers expect.
            error = ValidationError(found.group(1), found.group(2))
        self.error = error


def _reason(error: Exception) -> str:
    return str(error)


_RECORD_SCHEMAS: dict[str, CompiledSchema] = {}


def record_schema(name: str) -> CompiledSchema:
    """The compiled interchange schema of a core record type."""
    if name not in _RECORD_SCHEMAS:
        _RECORD_SCHEMAS[name] = CompiledSchema(load_schema(f"records/{name}"))
    return _RECORD_SCHEMAS[name]


class Pipeline:
    """Validates and writes records within one connection's transaction."""

    def __init__(
        self,
        connection: Connection,
        vocabulary: Vocabulary,
        hooks: Hooks,
        graph: SqlGraph,
        context: Context,
        *,
        skip_invalid: bool = False,
        raise_first: bool = False,
    ) -> None:
        self.connection = connection
        self.vocabulary = vocabulary
        self.hooks = hooks
        self.context = context
        self.skip_invalid = skip_invalid
        self.raise_first = raise_first
        self.report = WriteReport()
        self.first_error: UserError | None = None
        self.dialect = connection.dialect.name
        self.now = to_storage(context.at or utcnow())
        self._keys: dict[str, tuple[int, str]] = {}
        self._ids: dict[int, tuple[str, str]] = {}
        self._next_id: dict[str, int] = {}
        self.session = WriteSession(
            connection, context, graph, vocabulary, self._resolve_one, skip_invalid
        )
        self.created_objects: list[Any] = []
        # Participants are immutable and repeat (the same rider, the same role):
        # share one object per (party, role) instead of building one per row.
        self._participants: dict[tuple[int, str], Participant] = {}

    def _keep(self, items: Sequence[Any]) -> None:
        """Remember written objects for single writes (bulk writes would hold them all)."""
        if self.raise_first:
            self.created_objects.extend(items)

    # -- identifiers -----------------------------------------------------------------------

    def _allocate(self, table: str, count: int) -> list[int]:
        if count == 0:
            return []
        if self.dialect == "postgresql":
            rows = self.connection.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                f"FROM generate_series(1, {int(count)})"
            )
            return [int(row[0]) for row in rows]
        if table not in self._next_id:
            # The highest id ever used (sqlite_sequence survives deletions), so
            # an erased party's id is never handed to someone else.
            top = statements.highest_sqlite_id(table).scalar(self.connection)
            self._next_id[table] = int(top or 0) + 1
        start = self._next_id[table]
        self._next_id[table] = start + count
        return list(range(start, start + count))

    def _remember(self, party_id: int, key: str, kind: str) -> None:
        if len(self._keys) > 1_000_000:
            self._keys.clear()
            self._ids.clear()
        self._keys[key] = (party_id, kind)
        self._ids[party_id] = (key, kind)

    def _lookup(self, refs: Iterable[PartyRef]) -> None:
        keys = sorted({ref for ref in refs if isinstance(ref, str) and ref not in self._keys})
        ids = sorted({ref for ref in refs if isinstance(ref, int) and ref not in self._ids})
        for found, statement in (
            (keys, statements.party_refs_by_keys),
            (ids, statements.party_refs_by_ids),
        ):
            for size, params in bucketed(found):
                for row in statement(size).rows(self.connection, params):
                    self._remember(row.id, row.key, row.kind)

    def _party_of(self, ref: PartyRef, field: str) -> tuple[int, str]:
        """(id, kind) of a party already looked up; raises a rejection naming *field*."""
        if isinstance(ref, bool):
            raise _Rejected(f"{field}: must be a party key or id, got {ref!r}")
        if isinstance(ref, int):
            known = self._ids.get(ref)
            if known is None:
                raise _Rejected(f"{field}: no party with id {ref}")
            return ref, known[1]
        found = self._keys.get(ref)
        if found is None:
            raise _Rejected(f"{field}: no party with key {ref!r}")
        return found

    def _resolve_one(self, ref: PartyRef) -> int:
        self._lookup([ref])
        try:
            return self._party_of(ref, "party")[0]
        except _Rejected as rejected:
            raise NotFoundError(rejected.reason) from None

    # -- bookkeeping ---------------------------------------------------------------------

    def reject(self, line: int, record_type: str, reason: str, error: UserError | None) -> None:
        """Record a rejected record; stop at once when the caller wants the first error."""
        if self.first_error is None:
            self.first_error = error or ValidationError("", reason)
        if self.raise_first:
            raise self.first_error
        self.report.rejected.append(Rejection(line, reason, record_type))

    def _settle(self, batch: WriteBatch, items: list[Any]) -> list[Any]:
        """Drop the items plugins refused or withheld, reporting them."""
        if not batch._refused and not batch._withheld:
            return items
        kept = []
        for item in items:
            key = id(item)
            if key in batch._refused:
                reason = batch._refused[key]
                self.reject(batch.line_of(item), batch.phase, reason, _Rejected(reason).error)
            elif key in batch._withheld:
                self.report.withheld.append(
                    Rejection(batch.line_of(item), batch._withheld[key], batch.phase)
                )
            else:
                kept.append(item)
        return kept

    # -- the batch -----------------------------------------------------------------------

    def run_batch(self, records: Sequence[tuple[int, str, Any]]) -> None:
        """Apply one batch of ``(line, record type, body)`` in phases."""
        parties = [(line, body) for line, kind, body in records if kind == "party"]
        relationships = [(line, body) for line, kind, body in records if kind == "relationship"]
        interactions = [(line, body) for line, kind, body in records if kind == "interaction"]
        extra: dict[str, list[tuple[int, Any]]] = {}
        for line, kind, body in records:
            if kind == "<unreadable>":
                reason = getattr(body, "reason", "unreadable record")
                self.reject(line, "", reason, ValidationError("", reason))
            elif kind not in ("party", "relationship", "interaction"):
                extra.setdefault(kind, []).append((line, body))
        self.report.read += len(records)
        if parties:
            self._parties(parties)
        if relationships:
            self._relationships(relationships)
        for kind, bodies in extra.items():
            self._records(kind, bodies)
        if interactions:
            self._interactions(interactions)

    # -- parties -------------------------------------------------------------------------

    def _party_fields(self, body: Any) -> tuple[str, str, str | None, dict[str, Any], bool]:
        if isinstance(body, Party):
            return body.key, body.kind, body.name, dict(body.attributes), body.name is not None
        schema = record_schema("party")
        if not schema.is_valid(body):
            error = schema.explain(body)
            raise _Rejected(_reason(error), error)
        return (
            body["key"],
            body["kind"],
            body.get("name"),
            dict(body.get("attributes") or {}),
            "name" in body,
        )

    def _parties(self, bodies: list[tuple[int, Any]]) -> None:
        parsed: list[tuple[int, str, str, str | None, dict[str, Any], bool]] = []
        for line, body in bodies:
            try:
                key, kind, name, attributes, has_name = self._party_fields(body)
                self.vocabulary.party_kind(kind, "kind")
            except _Rejected as rejected:
                self.reject(line, "party", rejected.reason, rejected.error)
                continue
            except ValidationError as error:
                self.reject(line, "party", str(error), error)
                continue
            parsed.append((line, key, kind, name, attributes, has_name))
        keys = sorted({item[1] for item in parsed})
        existing: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            query = select(_party).where(_party.c.key.in_(chunk))
            if self.dialect == "postgresql":
                # Lock the rows whose attributes this write merges, in key order (no
                # deadlock between writers): a concurrent writer waits, then merges
                # into what was committed -- no lost update. SQLite's writers are
                # already serialised by BEGIN IMMEDIATE.
                query = query.order_by(_party.c.key).with_for_update()
            for row in self.connection.execute(query):
                existing[row.key] = row
        merged: dict[str, Party] = {}
        lines: dict[str, int] = {}
        for line, key, kind, name, attributes, has_name in parsed:
            before = merged.get(key)
            if before is None and key in existing:
                before = party_from_row(existing[key])
            if before is not None and before.kind != kind:
                self.reject(
                    line,
                    "party",
                    f"kind: party {key!r} is a {before.kind}; its kind cannot change to {kind!r}",
                    ValidationError("kind", f"party {key!r} is a {before.kind}", kind),
                )
                continue
            combined = {**(before.attributes if before else {}), **attributes}
            try:
                self.vocabulary.party_schema(kind).check(combined, "attributes")
            except ValidationError as error:
                self.reject(line, "party", str(error), error)
                continue
            new_name = name if has_name else (before.name if before else None)
            merged[key] = Party(
                key=key,
                kind=kind,
                name=new_name,
                attributes=combined,
                id=before.id if before else None,
                created_at=before.created_at if before else None,
            )
            lines[key] = line
        if not merged:
            return
        fresh = [key for key, party in merged.items() if party.id is None]
        new_ids = iter(self._allocate("party", len(fresh)))
        now = from_storage(self.now)
        batch = WriteBatch("party")
        for key, party in merged.items():
            if party.id is None:
                party = attrs.evolve(party, id=next(new_ids), created_at=now, updated_at=now)
            else:
                party = attrs.evolve(party, updated_at=now)
            batch.parties.append(party)
            batch._lines[id(party)] = lines[key]
        self.hooks.before_write(batch, self.session)
        kept: list[Party] = self._settle(batch, batch.parties)
        inserts = []
        updates = []
        for party in kept:
            if party.key in existing:
                previous = existing[party.key]
                if previous.name == party.name and (previous.attributes or {}) == dict(
                    party.attributes
                ):
                    self.report.unchanged["party"] += 1
                    self._remember(int(previous.id), party.key, party.kind)
                    continue
                updates.append(
                    {
                        "b_id": party.id,
                        "b_name": party.name,
                        "b_attributes": dict(party.attributes),
                        "b_updated": self.now,
                    }
                )
                self.report.updated["party"] += 1
            else:
                inserts.append(
                    {
                        "id": party.id,
                        "key": party.key,
                        "kind": party.kind,
                        "name": party.name,
                        "attributes": dict(party.attributes),
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
                self.report.created["party"] += 1
            assert party.id is not None
            self._remember(party.id, party.key, party.kind)
        if inserts:
            self.connection.execute(_party.insert(), inserts)
        if updates:
            self.connection.execute(
                update(_party)
                .where(_party.c.id == bindparam("b_id"))
                .values(
                    name=bindparam("b_name"),
                    attributes=bindparam("b_attributes"),
                    updated_at=bindparam("b_updated"),
                ),
                updates,
            )
        batch.parties = kept
        self._keep(kept)
        self.hooks.after_write(batch, self.session)

    # -- relationships -------------------------------------------------------------------

    def _relationship_fields(self, body: Any) -> Relationship:
        if isinstance(body, Relationship):
            return body
        schema = record_schema("relationship")
        if not schema.is_valid(body):
            error = schema.explain(body)
            raise _Rejected(_reason(error), error)
        try:
            valid_from = body.get("valid_from")
            valid_to = body.get("valid_to")
            return Relationship(
                type=body["type"],
                source=body["source"],
                target=body["target"],
                role=body.get("role") or None,
                primary=bool(body.get("primary", False)),
                attributes=body.get("attributes") or {},
                valid_from=parse_time(valid_from, "valid_from") if valid_from else None,
                valid_to=parse_time(valid_to, "valid_to") if valid_to else None,
            )
        except ValueError as error:
            raise _Rejected(str(error)) from None

    def _check_relationship(self, rel: Relationship) -> tuple[int, int]:
        rtype = self.vocabulary.relationship_types.get(rel.type)
        if rtype is None:
            error = self.vocabulary_error("relationship", rel.type)
            raise _Rejected(str(error), error)
        source_id, source_kind = self._party_of(rel.source, "source")
        target_id, target_kind = self._party_of(rel.target, "target")
        if rtype.source_kinds is not None and source_kind not in rtype.source_kinds:
            allowed = ", ".join(sorted(rtype.source_kinds))
            raise _Rejected(
                f"source: a {rel.type} relationship starts at a {allowed}, "
                f"got {rel.source!r}, a {source_kind}"
            )
        if rtype.target_kinds is not None and target_kind not in rtype.target_kinds:
            allowed = ", ".join(sorted(rtype.target_kinds))
            raise _Rejected(
                f"target: a {rel.type} relationship ends at a {allowed}, "
                f"got {rel.target!r}, a {target_kind}"
            )
        if rel.role is None and rtype.role_required:
            allowed = ", ".join(sorted(rtype.roles or ()))
            raise _Rejected(f"role: a {rel.type} relationship needs a role ({allowed})")
        if rel.role is not None and rtype.roles is not None and rel.role not in rtype.roles:
            allowed = ", ".join(sorted(rtype.roles)) or "none"
            raise _Rejected(f"role: {rel.role!r} is not a role of {rel.type}; allowed: {allowed}")
        if rel.valid_from and rel.valid_to and rel.valid_to <= rel.valid_from:
            raise _Rejected("valid_to: must be after valid_from")
        try:
            self.vocabulary.relationship_schema(rel.type).check(dict(rel.attributes), "attributes")
        except ValidationError as error:
            raise _Rejected(str(error), error) from None
        return source_id, target_id

    def vocabulary_error(self, what: str, name: str) -> ValidationError:
        """The error for an unknown type name."""
        try:
            if what == "relationship":
                self.vocabulary.relationship_type(name, "type")
            else:
                self.vocabulary.interaction_type(name, "type")
        except ValidationError as error:
            return error
        return ValidationError("type", f"unknown {what} type {name!r}", name)

    def _relationships(self, bodies: list[tuple[int, Any]]) -> None:
        parsed: list[tuple[int, Relationship]] = []
        for line, body in bodies:
            try:
                parsed.append((line, self._relationship_fields(body)))
            except _Rejected as rejected:
                self.reject(line, "relationship", rejected.reason, rejected.error)
        self._lookup([ref for _, rel in parsed for ref in (rel.source, rel.target)])
        batch = WriteBatch("relationship")
        for line, rel in parsed:
            try:
                source_id, target_id = self._check_relationship(rel)
            except _Rejected as rejected:
                self.reject(line, "relationship", rejected.reason, rejected.error)
                continue
            resolved = attrs.evolve(rel, source=source_id, target=target_id)
            batch.relationships.append(resolved)
            batch._lines[id(resolved)] = line
        if not batch.relationships:
            return
        self.hooks.before_write(batch, self.session)
        kept: list[Relationship] = self._settle(batch, batch.relationships)
        written: list[Relationship] = []
        if self.dialect == "postgresql":
            self._lock_anchors(kept)
        independent = self._independent(kept)
        pending: list[Relationship] = []
        for rel in kept:
            if id(rel) in independent:
                pending.append(rel)
                continue
            # Written in input order: what is pending goes first, as it would one by one.
            written.extend(self._insert_relationships(pending))
            pending = []
            try:
                written.extend(self._write_relationship(rel))
            except _Rejected as rejected:
                self.reject(batch.line_of(rel), "relationship", rejected.reason, rejected.error)
        written.extend(self._insert_relationships(pending))
        batch.relationships = written
        self._keep(written)
        self.hooks.after_write(batch, self.session)

    def _independent(self, rels: Sequence[Relationship]) -> set[int]:
        """The relationships (by ``id()``) that can be inserted together with one statement.

        One that is new (no stored link and no other in the batch with its
        identity), has no id, and meets no other link under any of its
        cardinality rules -- no stored link of its type at the rule's anchor
        that the rule counts (its role, primary links), nor another such link
        in the batch: then its identity lookup finds nothing and its rules can
        neither end nor refuse anything, so writing it alone or with others
        gives the same rows. The rest go one by one. Two set-based lookups per
        500 parties decide it.
        """
        if not rels:
            return set()
        types = self.vocabulary.relationship_types
        identities: Counter[tuple[Any, ...]] = Counter()
        anchors: Counter[tuple[str, int, int]] = Counter()
        for rel in rels:
            identities[self._identity(rel)] += 1
            for key in self._anchors(rel.type, rel.source, rel.target, rel.role, rel.primary):
                anchors[key] += 1
        stored_identities: set[tuple[Any, ...]] = set()
        stored_anchors: set[tuple[str, int, int]] = set()
        columns = (
            _rel.c.type,
            _rel.c.source_id,
            _rel.c.target_id,
            _rel.c.role,
            _rel.c.is_primary,
            _rel.c.valid_from,
        )
        sources = sorted({int(rel.source) for rel in rels})
        for start in range(0, len(sources), 500):
            chunk = sources[start : start + 500]
            for row in self.connection.execute(select(*columns).where(_rel.c.source_id.in_(chunk))):
                stored_identities.add(
                    (row.type, row.source_id, row.target_id, row.role, row.valid_from)
                )
                stored_anchors.update(
                    self._anchors(row.type, row.source_id, row.target_id, row.role, row.is_primary)
                )
        target_types = sorted(
            {
                rel.type
                for rel in rels
                if any(r.per == "target" for r in types[rel.type].cardinality)
            }
        )
        targets = sorted({int(rel.target) for rel in rels if rel.type in target_types})
        for start in range(0, len(targets), 500):
            chunk = targets[start : start + 500]
            query = (
                select(*columns[:5])
                .where(_rel.c.target_id.in_(chunk), _rel.c.type.in_(target_types))
                .distinct()
            )
            for found in self.connection.execute(query):
                stored_anchors.update(
                    self._anchors(
                        found.type, found.source_id, found.target_id, found.role, found.is_primary
                    )
                )
        independent = set()
        for rel in rels:
            identity = self._identity(rel)
            if rel.id is not None or identities[identity] > 1 or identity in stored_identities:
                continue
            keys = self._anchors(rel.type, rel.source, rel.target, rel.role, rel.primary)
            if all(anchors[key] == 1 and key not in stored_anchors for key in keys):
                independent.add(id(rel))
        return independent

    @staticmethod
    def _identity(rel: Relationship) -> tuple[Any, ...]:
        valid_from = to_storage(rel.valid_from) if rel.valid_from else MIN_TIME
        return (rel.type, int(rel.source), int(rel.target), rel.role or "", valid_from)

    def _lock_anchors(self, rels: Sequence[Relationship]) -> None:
        """Lock, in id order, the parties whose links a cardinality rule of *rels* counts.

        Two writers adding a department's one manager at once would each count
        no manager and both write one. With the department's row locked, the
        second waits, then counts what the first committed. (PostgreSQL only:
        SQLite's writers are serialised by ``BEGIN IMMEDIATE``.)
        """
        anchors = sorted(
            {
                key[2]
                for rel in rels
                for key in self._anchors(rel.type, rel.source, rel.target, rel.role, rel.primary)
            }
        )
        for start in range(0, len(anchors), 500):
            chunk = anchors[start : start + 500]
            query = select(_party.c.id).where(_party.c.id.in_(chunk)).order_by(_party.c.id)
            self.connection.execute(query.with_for_update()).all()

    def _anchors(
        self, type_name: str, source: Any, target: Any, role: str | None, primary: Any
    ) -> list[tuple[str, int, int]]:
        """(type, rule number, anchor party) of each cardinality rule that counts this link
        (the rule's role, primary links only), as ``_enforce`` selects them."""
        found = []
        for number, rule in enumerate(self.vocabulary.relationship_types[type_name].cardinality):
            if rule.role is not None and (role or "") != rule.role:
                continue
            if rule.primary_only and not primary:
                continue
            found.append((type_name, number, int(source if rule.per == "source" else target)))
        return found

    def _insert_relationships(self, rels: list[Relationship]) -> list[Relationship]:
        """Insert relationships known to be independent (see ``_independent``) at once."""
        if not rels:
            return []
        ids = self._allocate("relationship", len(rels))
        rows = []
        written = []
        for new_id, rel in zip(ids, rels, strict=True):
            valid_to = to_storage(rel.valid_to) if rel.valid_to else None
            rows.append(
                {
                    "id": new_id,
                    "type": rel.type,
                    "source_id": rel.source,
                    "target_id": rel.target,
                    "role": rel.role or "",
                    "is_primary": rel.primary,
                    "attributes": dict(rel.attributes),
                    "valid_from": to_storage(rel.valid_from) if rel.valid_from else MIN_TIME,
                    "valid_to": valid_to,
                    "created_at": self.now,
                }
            )
            written.append(attrs.evolve(rel, id=new_id, valid_to=from_storage(valid_to)))
        self.connection.execute(_rel.insert(), rows)
        self.report.created["relationship"] += len(rels)
        return written

    def _write_relationship(self, rel: Relationship) -> list[Relationship]:
        valid_from = to_storage(rel.valid_from) if rel.valid_from else MIN_TIME
        valid_to = to_storage(rel.valid_to) if rel.valid_to else None
        identity = and_(
            _rel.c.type == rel.type,
            _rel.c.source_id == rel.source,
            _rel.c.target_id == rel.target,
            _rel.c.role == (rel.role or ""),
            _rel.c.valid_from == valid_from,
        )
        query = select(_rel).where(identity)
        if self.dialect == "postgresql":
            # As for parties: a concurrent writer merging into this link waits,
            # then merges into what was committed (SQLite's writers are serialised).
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if rel.id is not None and row is None:
            raise _Rejected(f"id: no relationship with id {rel.id}")
        if row is not None:
            return self._update_relationship(row, rel, valid_to)
        written: list[Relationship] = []
        rtype = self.vocabulary.relationship_types[rel.type]
        if len(rtype.cardinality) > 1:
            # Several rules: a later one may refuse after an earlier one ended a
            # link; a savepoint makes the rules apply all together or not at all.
            with self.connection.begin_nested():
                for rule in rtype.cardinality:
                    ended, valid_to = self._enforce(rule, rel, valid_from, valid_to)
                    written.extend(ended)
        else:
            for rule in rtype.cardinality:
                ended, valid_to = self._enforce(rule, rel, valid_from, valid_to)
                written.extend(ended)
        (new_id,) = self._allocate("relationship", 1)
        self.connection.execute(
            _rel.insert(),
            {
                "id": new_id,
                "type": rel.type,
                "source_id": rel.source,
                "target_id": rel.target,
                "role": rel.role or "",
                "is_primary": rel.primary,
                "attributes": dict(rel.attributes),
                "valid_from": valid_from,
                "valid_to": valid_to,
                "created_at": self.now,
            },
        )
        self.report.created["relationship"] += 1
        written.append(attrs.evolve(rel, id=new_id, valid_to=from_storage(valid_to)))
        return written

    def _update_relationship(
        self, row: Any, rel: Relationship, valid_to: datetime | None
    ) -> list[Relationship]:
        current = relationship_from_row(row)
        changes: dict[str, Any] = {}
        if valid_to is not None and row.valid_to is None:
            changes["valid_to"] = valid_to
        elif valid_to is not None and row.valid_to is not None and row.valid_to != valid_to:
            ended = from_storage(row.valid_to)
            raise _Rejected(
                f"valid_to: relationship #{row.id} already ended on "
                f"{ended.isoformat() if ended else ''}; history is never rewritten"
            )
        attributes = {**(row.attributes or {}), **dict(rel.attributes)}
        if attributes != (row.attributes or {}):
            changes["attributes"] = attributes
        if rel.primary != bool(row.is_primary) and rel.id is None:
            changes["is_primary"] = rel.primary
        if not changes:
            self.report.unchanged["relationship"] += 1
            return []
        self.connection.execute(update(_rel).where(_rel.c.id == row.id).values(**changes))
        self.report.updated["relationship"] += 1
        return [
            attrs.evolve(
                current,
                valid_to=from_storage(changes.get("valid_to", row.valid_to)),
                attributes=changes.get("attributes", current.attributes),
                primary=changes.get("is_primary", current.primary),
            )
        ]

    def _enforce(
        self, rule: Cardinality, rel: Relationship, start: datetime, end: datetime | None
    ) -> tuple[list[Relationship], datetime | None]:
        """Apply one cardinality rule to a new link valid over [start, end).

        Every stored link overlapping that interval counts, not only those current
        at *start*: history may be written in any order. Returns the links ended
        (``end_previous``: the oldest current at *start* end there) and the new
        link's end (a later link that would exceed the limit ends the new one).
        """
        if rule.role is not None and rel.role != rule.role:
            return [], end
        if rule.primary_only and not rel.primary:
            return [], end
        column = _rel.c.source_id if rule.per == "source" else _rel.c.target_id
        anchor = rel.source if rule.per == "source" else rel.target
        conditions = [
            _rel.c.type == rel.type,
            column == anchor,
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > start),
        ]
        if end is not None:
            conditions.append(_rel.c.valid_from < end)
        if rule.role is not None:
            conditions.append(_rel.c.role == rule.role)
        if rule.primary_only:
            conditions.append(_rel.c.is_primary.is_(True))
        rows = list(
            self.connection.execute(
                select(_rel).where(and_(*conditions)).order_by(_rel.c.valid_from, _rel.c.id)
            )
        )
        what = f"{rule.role} " if rule.role else ("primary " if rule.primary_only else "")
        refuse = rule.on_excess == "fail" or start == MIN_TIME
        hint = "" if rule.on_excess == "fail" else " (give valid_from to end the previous one)"
        anchor_key = self._ids.get(int(anchor), (str(anchor), ""))[0]
        at_start = [row for row in rows if row.valid_from <= start]
        excess = len(at_start) + 1 - rule.max
        ended: list[Relationship] = []
        if excess > 0:
            if refuse:
                raise _Rejected(
                    f"{rule.per}: {anchor_key!r} already has {len(at_start)} current {what}"
                    f"{rel.type} relationship(s); at most {rule.max} allowed" + hint
                )
            for row in at_start[:excess]:
                self.connection.execute(
                    update(_rel).where(_rel.c.id == row.id).values(valid_to=start)
                )
                self.report.updated["relationship"] += 1
                ended.append(attrs.evolve(relationship_from_row(row), valid_to=from_storage(start)))
        gone = {relationship.id for relationship in ended}
        for point in sorted({row.valid_from for row in rows if row.valid_from > start}):
            if end is not None and point >= end:
                break
            count = sum(
                1
                for row in rows
                if row.id not in gone
                and row.valid_from <= point
                and (row.valid_to is None or row.valid_to > point)
            )
            if count + 1 > rule.max:
                if refuse:
                    when = from_storage(point)
                    raise _Rejected(
                        f"{rule.per}: {anchor_key!r} has {count} {what}{rel.type} "
                        f"relationship(s) from {when.isoformat() if when else point}; "
                        f"at most {rule.max} allowed" + hint
                    )
                end = point  # the later link ends this one, as if written in date order
                break
        return ended, end

    # -- plugin record types -------------------------------------------------------------

    def _records(self, kind: str, bodies: list[tuple[int, Any]]) -> None:
        rtype = self.vocabulary.record_types.get(kind)
        if rtype is None:
            known = ", ".join(
                sorted({"party", "relationship", "interaction", *self.vocabulary.record_types})
            )
            for line, _ in bodies:
                self.reject(
                    line,
                    kind,
                    f"unknown record type {kind!r}; known: {known}",
                    ValidationError("", f"unknown record type {kind!r}", kind),
                )
            return
        schema = self.vocabulary.record_schema(kind)
        batch = WriteBatch(kind, record_type=kind)
        for line, body in bodies:
            if not schema.is_valid(body):
                error = schema.explain(body, "")
                self.reject(line, kind, str(error), error)
                continue
            batch.records.append(body)
            batch._lines[id(body)] = line
        if not batch.records:
            return
        self.hooks.before_write(batch, self.session)
        batch.records = self._settle(batch, batch.records)
        if batch.records:
            rtype.apply(batch.records, self.session)
            self.report.created[kind] += len(batch.records)
        self.hooks.after_write(batch, self.session)

    # -- interactions (the hot path) -----------------------------------------------------

    def _interaction_fields(
        self, body: Any
    ) -> tuple[str | None, str, datetime, list[tuple[PartyRef, str]], Mapping[str, Any]]:
        if isinstance(body, Interaction):
            return (
                body.key,
                body.type,
                body.occurred_at,
                [(p.party, p.role) for p in body.participants],
                body.payload,
            )
        schema = record_schema("interaction")
        if not schema.is_valid(body):
            error = schema.explain(body)
            raise _Rejected(_reason(error), error)
        try:
            occurred = parse_time(body["occurred_at"], "occurred_at")
        except ValueError as error:
            raise _Rejected(str(error)) from None
        return (
            body.get("key"),
            body["type"],
            occurred,
            [(p["party"], p["role"]) for p in body["participants"]],
            body.get("payload") or {},
        )

    def _interactions(self, bodies: list[tuple[int, Any]]) -> None:
        types = self.vocabulary.interaction_types
        staged = []
        refs: set[PartyRef] = set()
        for line, body in bodies:
            try:
                key, type_name, occurred, participants, payload = self._interaction_fields(body)
                itype = types.get(type_name)
                if itype is None:
                    error = self.vocabulary_error("interaction", type_name)
                    raise _Rejected(str(error), error)
                roles = [role for _, role in participants]
                if itype.roles is not None:
                    for index, role in enumerate(roles):
                        if role not in itype.roles:
                            allowed = ", ".join(sorted(itype.roles))
                            raise _Rejected(
                                f"participants/{index}/role: {role!r} is not a role of "
                                f"{type_name}; allowed: {allowed}"
                            )
                for role in itype.required_roles:
                    if role not in roles:
                        raise _Rejected(f"participants: a {type_name} needs a {role!r}")
                schema = self.vocabulary.payload_schema(type_name)
                if not schema.is_valid(payload):
                    error = schema.explain(payload, "payload")
                    raise _Rejected(str(error), error)
            except _Rejected as rejected:
                self.reject(line, "interaction", rejected.reason, rejected.error)
                continue
            for ref, _ in participants:
                refs.add(ref)
            staged.append((line, key, type_name, occurred, participants, payload, body))
        self._lookup(refs)
        keys = [item[1] for item in staged if item[1] is not None]
        seen: set[str] = set()
        for size, params in bucketed(keys):
            seen.update(
                row.key for row in statements.interaction_keys(size).rows(self.connection, params)
            )
        ids = iter(self._allocate("interaction", len(staged)))
        batch = WriteBatch("interaction")
        append = batch.interactions.append
        lines = batch._lines
        known_participants = self._participants
        # A key repeated in this batch is decided after the first copy is settled:
        # if a plugin refuses or withholds that copy, the next one gets its own chance.
        first_here: set[str] = set()
        later: list[tuple[int, Any]] = []
        for line, key, type_name, occurred, participants, payload, body in staged:
            if key is not None and key in seen:
                if key in first_here:
                    later.append((line, body))
                else:
                    self.report.unchanged["interaction"] += 1
                continue
            try:
                resolved = []
                pairs = set()
                for index, (ref, role) in enumerate(participants):
                    party_id = self._party_of(ref, f"participants/{index}/party")[0]
                    pair = (party_id, role)
                    if pair in pairs:
                        raise _Rejected(f"participants/{index}: {ref!r} appears twice as {role!r}")
                    pairs.add(pair)
                    participant = known_participants.get(pair)
                    if participant is None:
                        participant = known_participants[pair] = Participant(party_id, role)
                    resolved.append(participant)
            except _Rejected as rejected:
                self.reject(line, "interaction", rejected.reason, rejected.error)
                continue
            if key is not None:
                seen.add(key)  # only once valid: a rejected first copy must not hide the next
                first_here.add(key)
            item = Interaction(type_name, occurred, tuple(resolved), payload, key, next(ids))
            append(item)
            lines[id(item)] = line
        if not batch.interactions:
            return
        self.hooks.before_write(batch, self.session)
        kept: list[Interaction] = self._settle(batch, batch.interactions)
        self._insert_interactions(kept)
        self.report.created["interaction"] += len(kept)
        batch.interactions = kept
        self._keep(kept)
        self.hooks.after_write(batch, self.session)
        if later:
            self._interactions(later)

    def _insert_interactions(self, items: list[Interaction]) -> None:
        created = self.now
        rows: list[tuple[Any, ...]] = []
        participant_rows: list[tuple[Any, ...]] = []
        dumps = orjson.dumps
        if self.dialect == "sqlite":
            created_text = created.isoformat(sep=" ", timespec="microseconds")
            for item in items:
                at = item.occurred_at
                if at.tzinfo is not None:
                    at = to_storage(at)
                at_text = at.isoformat(sep=" ", timespec="microseconds")
                rows.append(
                    (
                        item.id,
                        item.key,
                        item.type,
                        at_text,
                        dumps(item.payload).decode(),
                        created_text,
                    )
                )
                for participant in item.participants:
                    participant_rows.append(
                        (item.id, participant.party, participant.role, item.type, at_text)
                    )
            marker = "?"
        else:
            for item in items:
                at = to_storage(item.occurred_at)
                rows.append(
                    (item.id, item.key, item.type, at, dumps(item.payload).decode(), created)
                )
                for participant in item.participants:
                    participant_rows.append(
                        (item.id, participant.party, participant.role, item.type, at)
                    )
            marker = "%s"
        cast = "::jsonb" if self.dialect == "postgresql" else ""
        columns = ("id", "key", "type", "occurred_at", "payload", "created_at")
        if not copy_rows(self.connection, "interaction", columns, rows):
            execute_many(
                self.connection,
                f"INSERT INTO interaction ({', '.join(columns)}) "
                f"VALUES ({marker}, {marker}, {marker}, {marker}, {marker}{cast}, {marker})",
                rows,
            )
        part_columns = ("interaction_id", "party_id", "role", "type", "occurred_at")
        if not copy_rows(self.connection, "participant", part_columns, participant_rows):
            execute_many(
                self.connection,
                f"INSERT INTO participant ({', '.join(part_columns)}) "
                f"VALUES ({marker}, {marker}, {marker}, {marker}, {marker})",
                participant_rows,
            )


def batches(
    records: Iterable[tuple[int, str, Any]], size: int
) -> Iterator[list[tuple[int, str, Any]]]:
    """Cut a stream of records into lists of at most *size*."""
    batch: list[tuple[int, str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
