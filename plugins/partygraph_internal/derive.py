"""Derived writes, once per batch (``partygraph_after_write``), on the write's connection.

- every ``service_request`` written gets its ``internal_request`` row: the SLA
  in force when it was opened (the payload's ``sla_target``, else the
  override of the ``serves`` link that covers the requester, else the
  catalogue's), the due date, the resolution time, and the customer
  department it is credited to;
- every ``employed_in`` link written credits its person's requests again, so
  a history written after the requests still decides their department;
- every ``crm_usage`` written gets an ``internal_usage`` row;
- a batch written with ``Context(actor=<party key>)`` by an employee (a person
  ``employed_in`` a department at the time of the write) adds one
  ``internal_usage`` row with what the batch created and updated, and how
  complete the parties it touched are. Unknown actors are ignored, and so are
  employees for whom ``graph.excluded([...], "employee_usage_analytics")``
  says anything (with the privacy plugin: no legitimate-interests basis with
  its balancing note, or an objection). Counts go to the plugin's own table,
  never through the write pipeline (a ``crm_usage`` interaction per write
  would be a write per write).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from partygraph import Interaction, Party, WriteBatch, WriteSession
from partygraph.storage.tables import party_table, relationship_table
from partygraph.times import parse_time, to_storage
from partygraph_internal import tables
from partygraph_internal.settings import EMPLOYEE_USAGE_PURPOSE, parse_sla
from partygraph_internal.sql import ServesLink, chunks, credit_requests, serves_links
from partygraph_internal.vocabulary import CRM_USAGE, DEPARTMENT, EMPLOYED_IN, SERVICE_REQUEST

if TYPE_CHECKING:
    from partygraph_internal.plugin import InternalPlugin

__all__ = ["derive_batch", "note_parties"]

_EMPTY: tuple[object, ...] = (None, "", [], {})


def derive_batch(plugin: InternalPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """All derived writes of one batch."""
    if batch.interactions:
        requests = []
        usages = []
        for item in batch.interactions:
            if item.type == SERVICE_REQUEST:
                requests.append(item)
            elif item.type == CRM_USAGE:
                usages.append(item)
        if requests:
            _record_requests(plugin, requests, session)
        if usages:
            _record_usage_interactions(usages, session)
    if batch.relationships:
        _recredit(batch, session)
    if session.context.actor and plugin.settings.record_usage:
        _record_actor(plugin, batch, session)


# -- service requests -------------------------------------------------------------------------


def _departments_at(
    session: WriteSession, people: set[int]
) -> dict[int, list[tuple[int, datetime, datetime | None]]]:
    """Employment history of these people: person -> [(department, from, to)] (naive UTC)."""
    rel = relationship_table
    found: dict[int, list[tuple[int, datetime, datetime | None]]] = {}
    for chunk in chunks(sorted(people)):
        query = select(rel.c.source_id, rel.c.target_id, rel.c.valid_from, rel.c.valid_to).where(
            rel.c.type == EMPLOYED_IN, rel.c.source_id.in_(chunk)
        )
        for row in session.connection.execute(query):
            found.setdefault(int(row.source_id), []).append(
                (int(row.target_id), row.valid_from, row.valid_to)
            )
    return found


def _credited(
    requester: int,
    kinds: Mapping[int, str],
    history: Mapping[int, list[tuple[int, datetime, datetime | None]]],
    at: datetime,
) -> int | None:
    if kinds.get(requester) == DEPARTMENT:
        return requester
    for department, start, end in history.get(requester, []):
        if start <= at and (end is None or at < end):
            return department
    return None


def _sla_of(
    plugin: InternalPlugin,
    item: Interaction,
    links: Sequence[ServesLink],
    customer: int | None,
) -> timedelta:
    category = str(item.payload["category"])
    if "sla_target" in item.payload:
        return parse_sla(item.payload["sla_target"], "payload/sla_target")
    current = [
        link
        for link in links
        if link.valid_at(item.occurred_at)
        and category in link.sla
        and (link.target == customer or link.target_kind != DEPARTMENT)
    ]
    # The link that names the requester's department wins over one that serves everyone.
    current.sort(key=lambda link: link.target != customer)
    if current:
        return parse_sla(current[0].sla[category], f"attributes/sla/{category}")
    found = plugin.settings.category(category)
    return found.sla if found is not None else timedelta(0)


_REQUEST_COLUMNS = (
    "interaction_id",
    "provider_id",
    "requester_id",
    "assignee_id",
    "category",
    "opened_at",
    "due_at",
    "sla_seconds",
    "resolved_at",
    "resolution_seconds",
    "satisfaction",
)


def _text(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


def _insert_requests(session: WriteSession, rows: list[tuple[Any, ...]]) -> None:
    """One executemany on the driver, as the core writes interactions (no per-row objects)."""
    connection = session.connection
    if connection.dialect.name == "sqlite":
        # SQLite stores timestamps as text, in the format SQLAlchemy reads back.
        marker = "?"
        rows = [
            (
                *row[:5],
                _text(row[5]),
                _text(row[6]),
                row[7],
                _text(row[8]) if row[8] is not None else None,
                *row[9:],
            )
            for row in rows
        ]
    else:
        marker = "%s"
    columns = ", ".join(_REQUEST_COLUMNS)
    markers = ", ".join([marker] * len(_REQUEST_COLUMNS))
    connection.exec_driver_sql(
        f"INSERT INTO {tables.request.name} ({columns}) VALUES ({markers})", rows
    )


def _record_requests(
    plugin: InternalPlugin, items: list[Interaction], session: WriteSession
) -> None:
    roles = [{p.role: int(p.party) for p in item.participants} for item in items]
    connection = session.connection
    links = serves_links(connection, {found["provider"] for found in roles})
    kinds: dict[int, str] = {}
    history: dict[int, list[tuple[int, datetime, datetime | None]]] = {}
    if any(link.sla for found in links.values() for link in found):
        # Only an SLA negotiated for one department needs the requester's department.
        requesters = sorted({found["requester"] for found in roles})
        for chunk in chunks(requesters):
            query = select(party_table.c.id, party_table.c.kind).where(party_table.c.id.in_(chunk))
            kinds.update((int(row.id), row.kind) for row in connection.execute(query))
        people = {party for party in requesters if kinds.get(party) != DEPARTMENT}
        history = _departments_at(session, people) if people else {}
    rows = []
    catalogue = plugin.settings.catalogue
    for item, found in zip(items, roles, strict=True):
        opened = to_storage(item.occurred_at)
        payload = item.payload
        category = str(payload["category"])
        provider_links = links.get(found["provider"], [])
        if "sla_target" in payload or any(link.sla for link in provider_links):
            customer = _credited(found["requester"], kinds, history, opened)
            sla = _sla_of(plugin, item, provider_links, customer)
        else:
            known = catalogue.get(category)
            sla = known.sla if known is not None else timedelta(0)
        resolved_at = payload.get("resolved_at")
        resolved = to_storage(parse_time(resolved_at)) if resolved_at is not None else None
        satisfaction = payload.get("satisfaction")
        rows.append(
            (
                item.id,
                found["provider"],
                found["requester"],
                found.get("assignee"),
                category,
                opened,
                opened + sla,
                sla.total_seconds(),
                resolved,
                (resolved - opened).total_seconds() if resolved is not None else None,
                int(satisfaction) if satisfaction is not None else None,
            )
        )
    _insert_requests(session, rows)
    credit_requests(connection, "interaction_id", [item.id for item in items if item.id])


def _recredit(batch: WriteBatch, session: WriteSession) -> None:
    """Credit again the requests of people whose employment history this batch wrote.

    A move, a backdated start or an end changes which department each of
    their requests belongs to, whenever they were filed.
    """
    people = {
        session.resolve(link.source) for link in batch.relationships if link.type == EMPLOYED_IN
    }
    if people:
        credit_requests(session.connection, "requester_id", people)


# -- CRM usage --------------------------------------------------------------------------------


def _record_usage_interactions(items: list[Interaction], session: WriteSession) -> None:
    rows = []
    for item in items:
        user = next(int(p.party) for p in item.participants if p.role == "user")
        payload = item.payload
        rows.append(
            {
                "party_id": user,
                "at": to_storage(item.occurred_at),
                "source": CRM_USAGE,
                "interaction_id": item.id,
                "records_created": int(payload.get("records_created", 0)),
                "records_updated": int(payload.get("records_updated", 0)),
                "fields_filled": int(payload.get("fields_filled", 0)),
                "fields_expected": int(payload.get("fields_expected", 0)),
            }
        )
    session.connection.execute(tables.usage.insert(), rows)


def _employee(plugin: InternalPlugin, session: WriteSession) -> int | None:
    """The actor's party id if it is an employee whose usage may be recorded.

    A found employee is remembered for the rest of the write; a miss is not (the
    same write may create the actor's employment in a later batch).
    """
    cached = plugin.actor_cache.get(id(session))
    if cached is not None and cached[0] is session:
        return cached[1]
    found = _resolve_employee(session)
    if found is not None:
        if len(plugin.actor_cache) > 64:
            plugin.actor_cache.clear()
        plugin.actor_cache[id(session)] = (session, found)
    return found


def _resolve_employee(session: WriteSession) -> int | None:
    context = session.context
    assert context.at is not None, "the toolkit stamps every write's context with its time"
    at = to_storage(context.at)
    party = party_table
    rel = relationship_table
    query = (
        select(party)
        .select_from(
            party.join(
                rel,
                and_(
                    rel.c.source_id == party.c.id,
                    rel.c.type == EMPLOYED_IN,
                    rel.c.valid_from <= at,
                    or_(rel.c.valid_to.is_(None), rel.c.valid_to > at),
                ),
            )
        )
        .where(party.c.key == context.actor, party.c.kind == "person")
        .limit(1)
    )
    row = session.connection.execute(query).first()
    if row is None:
        return None  # not a party, not a person, or not employed at the time: ignored
    employee = Party(row.key, row.kind, row.name, row.attributes or {}, id=int(row.id))
    if session.graph.excluded([employee], EMPLOYEE_USAGE_PURPOSE, as_of=context.at):
        return None  # no basis for monitoring this employee (or an objection): nothing recorded
    return int(row.id)


def _completeness(plugin: InternalPlugin, session: WriteSession, party: Party) -> tuple[int, int]:
    fields = plugin.expected_fields(session.vocabulary, party.kind)
    filled = 1 if party.name else 0
    filled += sum(1 for name in fields if party.attributes.get(name) not in _EMPTY)
    return filled, len(fields) + 1


def note_parties(plugin: InternalPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """Before a party batch is written by an actor: which parties exist, and as what.

    One query per batch; ``partygraph_after_write`` then tells created, updated
    and unchanged parties apart (only the first two are CRM usage).
    """
    if not (session.context.actor and plugin.settings.record_usage):
        return
    ids = [party.id for party in batch.parties if party.id is not None]
    stored: dict[int, tuple[str | None, dict[str, Any]]] = {}
    columns = (party_table.c.id, party_table.c.name, party_table.c.attributes)
    for chunk in chunks(ids):
        for row in session.connection.execute(select(*columns).where(party_table.c.id.in_(chunk))):
            stored[int(row.id)] = (row.name, dict(row.attributes or {}))
    if len(plugin.stored_parties) > 64:
        plugin.stored_parties.clear()
    plugin.stored_parties[id(batch)] = (batch, stored)


def _record_actor(plugin: InternalPlugin, batch: WriteBatch, session: WriteSession) -> None:
    created = updated = filled = expected = 0
    noted = plugin.stored_parties.pop(id(batch), None)
    stored = noted[1] if noted is not None and noted[0] is batch else {}
    for party in batch.parties:
        before = stored.get(party.id) if party.id is not None else None
        if before is None:
            created += 1
        elif before == (party.name, dict(party.attributes)):
            continue  # unchanged: saved again, not touched
        else:
            updated += 1
        have, want = _completeness(plugin, session, party)
        filled += have
        expected += want
    for rel in batch.relationships:
        if rel.valid_to is not None:
            updated += 1  # ending a relationship
        else:
            created += 1
    created += sum(1 for item in batch.interactions if item.type != CRM_USAGE)
    created += len(batch.records)
    if created + updated == 0:
        return
    employee = _employee(plugin, session)
    if employee is None:
        return
    at = session.context.at
    assert at is not None
    row: dict[str, Any] = {
        "party_id": employee,
        "at": to_storage(at),
        "source": "write",
        "interaction_id": None,
        "records_created": created,
        "records_updated": updated,
        "fields_filled": filled,
        "fields_expected": expected,
    }
    session.connection.execute(tables.usage.insert(), [row])
