"""Checks before a write, once per batch and phase, with a constant number of queries.

- organizations: the business attributes (industry, employees, annual
  revenue) against :data:`ORGANIZATION_ATTRIBUTES`;
- ``subsidiary_of``: an organisation is not its own parent, nor an ancestor of
  its parent (the hierarchy stays a tree, so roll-ups terminate);
- B2B interactions: a participant in role ``account`` is an organization;
  ``payload.deal`` names a known deal of that account;
- ``deal`` records: see :func:`partygraph_b2b.deals.check_deals`.

A problem is a :class:`partygraph.ValidationError` naming the field (nothing
is written); with ``skip_invalid`` the item is refused and the rest written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from partygraph import Interaction, Party, Relationship, ValidationError, WriteBatch, WriteSession
from partygraph.storage.tables import relationship_table
from partygraph.times import MIN_TIME, to_storage
from partygraph.times import naive_utc as _naive
from partygraph.validation import CompiledSchema
from partygraph_b2b import tables
from partygraph_b2b.deals import resolve_parties
from partygraph_b2b.settings import ENGAGEMENT_TYPES
from partygraph_b2b.vocabulary import ACCOUNT_ROLE, ORGANIZATION_ATTRIBUTES

__all__ = ["check_interactions", "check_organizations", "check_relationships", "settle"]

_ORGANIZATION = CompiledSchema(ORGANIZATION_ATTRIBUTES)
_rel = relationship_table


def settle(
    batch: WriteBatch, session: WriteSession, what: str, problems: Sequence[tuple[Any, str]]
) -> None:
    """Refuse the items with problems (``skip_invalid``), or raise for the first one."""
    if not problems:
        return
    if session.skip_invalid:
        for item, reason in problems:
            batch.refuse(item, reason)
        return
    item, reason = problems[0]
    field, _, message = reason.partition(": ")
    line = batch.line_of(item)
    where = f" (line {line})" if line else ""
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    raise ValidationError(field, f"{what}{where}: {message}{more}")


def check_organizations(batch: WriteBatch, session: WriteSession) -> None:
    """Business attributes of organisations must fit their schema."""
    problems: list[tuple[Party, str]] = []
    for party in batch.parties:
        if party.kind != "organization" or _ORGANIZATION.is_valid(dict(party.attributes)):
            continue
        error = _ORGANIZATION.explain(dict(party.attributes), "attributes")
        problems.append((party, f"{error.field}: {error.reason}"))
    if problems:
        settle(batch, session, f"organization {problems[0][0].key!r}", problems)


def check_relationships(batch: WriteBatch, session: WriteSession) -> None:
    """The account hierarchy stays a tree: no organisation above itself."""
    links = [rel for rel in batch.relationships if rel.type == "subsidiary_of"]
    if not links:
        return
    problems: list[tuple[Relationship, str]] = []
    earliest = min((to_storage(rel.valid_from) if rel.valid_from else MIN_TIME) for rel in links)
    query = select(_rel.c.source_id, _rel.c.target_id, _rel.c.valid_from, _rel.c.valid_to).where(
        _rel.c.type == "subsidiary_of",
        or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > earliest),
    )
    edges: list[tuple[int, int, datetime, datetime | None]] = [
        (
            int(row.source_id),
            int(row.target_id),
            _naive(row.valid_from),
            _naive_or_none(row.valid_to),
        )
        for row in session.connection.execute(query)
    ]
    names = resolve_parties(
        session.connection, [ref for rel in links for ref in (rel.source, rel.target)]
    )
    for rel in links:
        child, parent = int(rel.source), int(rel.target)
        start = to_storage(rel.valid_from) if rel.valid_from else MIN_TIME
        end = to_storage(rel.valid_to) if rel.valid_to else None
        child_key = names[child].key if child in names else child
        parent_key = names[parent].key if parent in names else parent
        if child == parent:
            problems.append((rel, f"target: {child_key!r} cannot be a subsidiary of itself"))
            continue
        overlapping = {
            (source, target)
            for source, target, valid_from, valid_to in edges
            if (end is None or valid_from < end) and (valid_to is None or valid_to > start)
        }
        parents: dict[int, set[int]] = {}
        for source, target in overlapping:
            parents.setdefault(source, set()).add(target)
        seen: set[int] = set()
        stack = [parent]
        while stack:
            current = stack.pop()
            if current == child:
                problems.append(
                    (
                        rel,
                        f"target: {parent_key!r} is itself a subsidiary of {child_key!r}; "
                        "the account hierarchy cannot loop",
                    )
                )
                break
            if current in seen:
                continue
            seen.add(current)
            stack.extend(parents.get(current, ()))
        else:
            edges.append((child, parent, start, end))
    if problems:
        settle(batch, session, "subsidiary_of relationship", problems)


def check_interactions(batch: WriteBatch, session: WriteSession) -> None:
    """The account of a B2B touchpoint is an organisation; its deal exists and is that account's."""
    items = [item for item in batch.interactions if item.type in ENGAGEMENT_TYPES]
    if not items:
        return
    accounts = {int(p.party) for item in items for p in item.participants if p.role == ACCOUNT_ROLE}
    parties = resolve_parties(session.connection, sorted(accounts)) if accounts else {}
    wanted = sorted(
        {item.payload["deal"] for item in items if isinstance(item.payload.get("deal"), str)}
    )
    deals: dict[str, int] = {}
    if wanted:
        deal = tables.deal
        query = select(deal.c.key, deal.c.account_id).where(deal.c.key.in_(wanted))
        deals = {row.key: int(row.account_id) for row in session.connection.execute(query)}
    problems: list[tuple[Interaction, str]] = []
    for item in items:
        named = [int(p.party) for p in item.participants if p.role == ACCOUNT_ROLE]
        wrong = next(
            (
                (index, parties[party_id])
                for index, p in enumerate(item.participants)
                if p.role == ACCOUNT_ROLE
                and (party_id := int(p.party)) in parties
                and parties[party_id].kind != "organization"
            ),
            None,
        )
        if wrong is not None:
            index, party = wrong
            problems.append(
                (
                    item,
                    f"participants/{index}/party: the account of a {item.type} is an "
                    f"organization; {party.key!r} is a {party.kind}",
                )
            )
            continue
        key = item.payload.get("deal")
        if isinstance(key, str):
            owner = deals.get(key)
            if owner is None:
                problems.append((item, f"payload/deal: no deal with key {key!r}"))
            elif named and owner not in named:
                problems.append(
                    (
                        item,
                        f"payload/deal: deal {key!r} belongs to another account than the "
                        f"one this {item.type} names",
                    )
                )
    if problems:
        settle(batch, session, f"{problems[0][0].type} interaction", problems)


def _naive_or_none(value: Any) -> datetime | None:
    return None if value is None else _naive(value)
