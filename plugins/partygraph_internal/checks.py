"""Checks the core's schemas cannot express, once per batch (``partygraph_before_write``).

The payload schemas already refuse an unknown category or a satisfaction of
0. Here, with a constant number of queries per batch:

- a ``service_request`` goes to a department that serves someone (a
  ``serves`` link valid when the request is opened) and, when its links list
  categories, for a category it offers; the requester is a person or a
  department, the assignee a person; the SLA target is a duration in a unit
  SLAs use; it is resolved after it was opened;
- a ``lead_handoff`` goes between departments or employees, not to its
  sender, and is decided after it was handed;
- a ``crm_usage`` is about a person, with no more attributes filled than
  expected;
- a ``serves`` link has SLA overrides in a proper unit and does not serve its
  own department.

A bad item of a single write raises :class:`partygraph.ValidationError`
naming the field; in a bulk write it is refused and reported on its line
with the other invalid records (nothing written, unless the caller asked to
skip invalid records: then the rest is written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partygraph import Interaction, Relationship, ValidationError, WriteBatch, WriteSession
from partygraph.times import parse_time
from partygraph_internal.settings import parse_sla
from partygraph_internal.sql import Named, ServesLink, named, serves_links
from partygraph_internal.vocabulary import (
    CRM_USAGE,
    DEPARTMENT,
    LEAD_HANDOFF,
    SERVES,
    SERVICE_REQUEST,
)

if TYPE_CHECKING:
    from partygraph_internal.plugin import InternalPlugin

__all__ = ["check_batch", "payload_time"]

_OURS = frozenset({SERVICE_REQUEST, LEAD_HANDOFF, CRM_USAGE})


class _Invalid(Exception):
    def __init__(self, field: str, reason: str, value: object = None) -> None:
        super().__init__(reason)
        self.error = ValidationError(field, reason, value)


def payload_time(payload: Mapping[str, Any], field: str) -> datetime | None:
    """A time from the payload (validated by the schema), aware UTC, or None."""
    value = payload.get(field)
    if value is None:
        return None
    try:
        return parse_time(value, f"payload/{field}")
    except ValueError as error:
        raise _Invalid(f"payload/{field}", str(error), value) from None


def _day(value: datetime) -> str:
    return value.date().isoformat()


def check_batch(plugin: InternalPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """Check one batch; raise (all-or-nothing) or refuse single items (skip-invalid)."""
    if batch.interactions:
        items = [item for item in batch.interactions if item.type in _OURS]
        if items:
            _check_interactions(plugin, batch, session, items)
    elif batch.relationships:
        links = [rel for rel in batch.relationships if rel.type == SERVES]
        if links:
            _check_serves(batch, session, links)


def _fail(batch: WriteBatch, session: WriteSession, item: object, problem: _Invalid) -> None:
    """A single write raises the error naming the field; a bulk write refuses the item.

    Refused items of a bulk write are reported on their lines with every other
    invalid record: all of them, nothing written, in all-or-nothing mode; the
    rest written with ``skip_invalid``.
    """
    if len(batch) == 1 and not session.skip_invalid:
        raise problem.error
    batch.refuse(item, str(problem.error))


def _kind(parties: Mapping[int, Named], index: int, party_id: int, allowed: Iterable[str]) -> None:
    party = parties[party_id]
    allowed = tuple(allowed)
    if party.kind not in allowed:
        what = " or ".join(allowed)
        raise _Invalid(
            f"participants/{index}/party",
            f"must be a {what}, got {party.kind} {party.key!r}",
            party.key,
        )


def _check_interactions(
    plugin: InternalPlugin,
    batch: WriteBatch,
    session: WriteSession,
    items: list[Interaction],
) -> None:
    connection = session.connection
    parties = named(connection, (int(p.party) for item in items for p in item.participants))
    providers = {
        int(p.party)
        for item in items
        if item.type == SERVICE_REQUEST
        for p in item.participants
        if p.role == "provider" and parties[int(p.party)].kind == DEPARTMENT
    }
    links = serves_links(connection, providers) if providers else {}
    for item in items:
        try:
            if item.type == SERVICE_REQUEST:
                _check_request(plugin, item, parties, links)
            elif item.type == LEAD_HANDOFF:
                _check_handoff(item, parties)
            else:
                _check_usage(item, parties)
        except _Invalid as problem:
            _fail(batch, session, item, problem)


def _roles(item: Interaction, single: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Role -> (index, party id) for roles that appear at most once (checked)."""
    found: dict[str, tuple[int, int]] = {}
    for index, participant in enumerate(item.participants):
        role = participant.role
        if role in found and role in single:
            raise _Invalid("participants", f"a {item.type} has at most one {role!r}")
        found[role] = (index, int(participant.party))
    return found


_REQUEST_ROLES = frozenset({"requester", "provider", "assignee"})


def _check_request(
    plugin: InternalPlugin,
    item: Interaction,
    parties: Mapping[int, Named],
    links: Mapping[int, list[ServesLink]],
) -> None:
    found = _roles(item, _REQUEST_ROLES)
    index, provider = found["provider"]
    _kind(parties, index, provider, (DEPARTMENT,))
    requester_index, requester = found["requester"]
    _kind(parties, requester_index, requester, ("person", DEPARTMENT))
    assignee = found.get("assignee")
    if assignee is not None:
        _kind(parties, assignee[0], assignee[1], ("person",))
    at = item.occurred_at
    current = [link for link in links.get(provider, ()) if link.valid_at(at)]
    if not current:
        raise _Invalid(
            f"participants/{index}/party",
            f"department {parties[provider].key!r} serves no one on {_day(at)}: no serves "
            "relationship from it is valid then; declare what it serves (a serves "
            "relationship) before recording requests to it",
            parties[provider].key,
        )
    payload = item.payload
    category = payload.get("category")
    if all(link.categories is not None for link in current):
        offered = {name for link in current for name in link.categories or ()}
        if category not in offered:
            raise _Invalid(
                "payload/category",
                f"{category!r} is not a service {parties[provider].label} offers on {_day(at)}; "
                "it offers: " + ", ".join(sorted(offered)),
                category,
            )
    if "sla_target" in payload:
        try:
            parse_sla(payload["sla_target"], "payload/sla_target")
        except ValidationError as error:
            raise _Invalid(error.field, error.reason, error.value) from None
    if "resolved_at" in payload:
        resolved = payload_time(payload, "resolved_at")
        if resolved is not None and resolved < at:
            raise _Invalid(
                "payload/resolved_at",
                f"{payload['resolved_at']!r} is before the request was opened "
                f"(occurred_at {at.isoformat()})",
                payload["resolved_at"],
            )


def _check_handoff(item: Interaction, parties: Mapping[int, Named]) -> None:
    found = _roles(item, ("from", "to"))
    index, sender = found["from"]
    _kind(parties, index, sender, (DEPARTMENT, "person"))
    to_index, receiver = found["to"]
    _kind(parties, to_index, receiver, (DEPARTMENT, "person"))
    if sender == receiver:
        raise _Invalid(
            f"participants/{to_index}/party",
            f"a lead is handed to someone else, not back to {parties[sender].key!r}",
            parties[sender].key,
        )
    decided = payload_time(item.payload, "decided_at")
    if decided is not None and decided < item.occurred_at:
        raise _Invalid(
            "payload/decided_at",
            f"{item.payload['decided_at']!r} is before the lead was handed "
            f"(occurred_at {item.occurred_at.isoformat()})",
            item.payload["decided_at"],
        )


def _check_usage(item: Interaction, parties: Mapping[int, Named]) -> None:
    index, user = _roles(item, ("user",))["user"]
    _kind(parties, index, user, ("person",))
    filled = item.payload.get("fields_filled")
    expected = item.payload.get("fields_expected")
    if filled is not None and expected is not None and filled > expected:
        raise _Invalid(
            "payload/fields_filled",
            f"{filled} attributes filled out of {expected} expected; at most {expected}",
            filled,
        )


def _check_serves(batch: WriteBatch, session: WriteSession, links: list[Relationship]) -> None:
    for rel in links:
        try:
            if int(rel.source) == int(rel.target):
                raise _Invalid("target", "a department does not serve itself", rel.target)
            for category, value in (rel.attributes.get("sla") or {}).items():
                try:
                    parse_sla(value, f"attributes/sla/{category}")
                except ValidationError as error:
                    raise _Invalid(error.field, error.reason, error.value) from None
        except _Invalid as problem:
            _fail(batch, session, rel, problem)
