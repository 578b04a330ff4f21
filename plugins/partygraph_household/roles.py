"""Role assignments: head_of_household, household_member, dependent, household_influencer
(for people) and customer_household (for households), each with a reason an agent can read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from partygraph import (
    GraphReader,
    Party,
    PartySummary,
    RelationshipView,
    RoleAssignment,
    once_per_read,
)
from partygraph.times import to_storage
from partygraph_household import prepared
from partygraph_household.queries import MemberRow, birth_date_of
from partygraph_household.rollup import dependency, iso
from partygraph_household.settings import Settings
from partygraph_household.snapshot import snapshot_of
from partygraph_household.vocabulary import HEAD, MEMBER_OF, PURPOSE

__all__ = ["household_roles", "memberships_of", "person_roles"]


def _named(summary: PartySummary | Party) -> str:
    return summary.name or summary.key


def _the(household: PartySummary) -> str:
    name = _named(household)
    return name if name.lower().startswith("the ") else f"the {name}"


def _since(value: datetime | None) -> str:
    return f" since {iso(value)}" if value is not None else ""


def _until(value: datetime | None) -> str:
    return f" until {iso(value)}" if value is not None else ""


def person_roles(
    party: Party, at: datetime, graph: GraphReader, settings: Settings
) -> Iterator[RoleAssignment]:
    """The household roles of a person at *at*."""
    assert party.id is not None
    for view in memberships_of(graph, party, at):
        rel = view.relationship
        if not view.current or rel.id is None:
            continue
        household = view.other
        member = MemberRow(
            relationship_id=rel.id,
            party=party,
            household_id=household.id,
            role=rel.role or "other",
            since=rel.valid_from,
            until=rel.valid_to,
            born=birth_date_of(party.attributes),
        )
        evidence = (f"relationship #{rel.id}",)
        where = _the(household)
        yield RoleAssignment(
            "household_member",
            reason=(
                f"Member of {where} (role {member.role}){_since(rel.valid_from)}"
                f"{_until(rel.valid_to)} (relationship #{rel.id})."
            ),
            context=household,
            since=rel.valid_from,
            until=rel.valid_to,
            evidence=evidence,
        )
        if member.role == HEAD:
            yield RoleAssignment(
                "head_of_household",
                reason=(
                    f"Head of {where}{_since(rel.valid_from)}{_until(rel.valid_to)} "
                    f"(relationship #{rel.id})."
                ),
                context=household,
                since=rel.valid_from,
                until=rel.valid_to,
                evidence=evidence,
            )
        status = dependency(member, at, settings)
        if status.dependent:
            yield RoleAssignment(
                "dependent",
                reason=(
                    f"Dependent in {where}: {status.reason}; a member{_since(member.since)}"
                    + (f"; a dependent until {iso(status.until)}" if status.until else "")
                    + f" (relationship #{rel.id})."
                ),
                context=household,
                since=status.since,
                until=status.until,
                evidence=evidence,
            )
        influencer = _influencer(party, household, at, graph, settings)
        if influencer is not None:
            yield influencer


def memberships_of(graph: GraphReader, person: Party, at: datetime) -> list[RelationshipView]:
    """The person's memberships that started by *at* (current or not), read once per reader
    for the roles and the section."""
    assert person.id is not None
    return once_per_read(
        graph,
        "household",
        ("memberships_of", person.id, at),
        lambda: graph.relationships(
            person, type=MEMBER_OF, direction="outgoing", as_of=at, history=True
        ),
    )


def _influencer(
    party: Party, household: PartySummary, at: datetime, graph: GraphReader, settings: Settings
) -> RoleAssignment | None:
    """A member who bought nothing in the recent window, but for whom other members bought:
    named as a consumer of their purchases, or using products from them."""
    assert party.id is not None
    since = at - timedelta(days=settings.recent_days)
    purchases = settings.purchases
    connection = graph.connection
    statement = prepared.for_person(connection.dialect.name, purchases)
    if statement is None:
        return None
    params = {
        "person": party.id,
        "household": household.id,
        "since": to_storage(since),
        "at": to_storage(at),
    }
    found = prepared.influence_rows(statement.rows(connection, params))
    named, used = found.named, found.used
    if not named and not used:
        return None
    if found.own:
        return None
    moments = [when for _, when in named] + [when for _, when, _ in used]
    first, last = min(moments), max(moments)
    span = (
        f"on {iso(first)}" if iso(first) == iso(last) else f"between {iso(first)} and {iso(last)}"
    )
    shown = []
    if named:
        roles = "/".join(purchases.consumer_roles)
        shown.append(f"named as {roles} in {len(named)} purchase(s) ({_ids(i for i, _ in named)})")
    if used:
        bought = sorted({purchase for _, _, purchase in used})
        shown.append(
            f"used products from {len(bought)} purchase(s) ({_ids(bought)}): "
            f"{len(used)} use(s) ({_ids(i for i, _, _ in used)})"
        )
    evidence = [f"interaction #{i}" for i, _ in named]
    evidence += [f"interaction #{i}" for i, _, _ in used]
    evidence += [f"interaction #{p}" for _, _, p in used]
    return RoleAssignment(
        "household_influencer",
        reason=(
            f"Bought nothing in the last {settings.recent_days} days, but other members of "
            f"{_the(household)} bought for them {span}: {'; '.join(shown)}."
        ),
        context=household,
        since=first,
        evidence=tuple(dict.fromkeys(evidence)),
    )


def _ids(ids: Iterable[int]) -> str:
    found = list(dict.fromkeys(ids))
    shown = ", ".join(f"#{item}" for item in found[:5])
    return f"interaction {shown}" + (f" and {len(found) - 5} more" if len(found) > 5 else "")


def household_roles(
    household: Party, at: datetime, graph: GraphReader, settings: Settings
) -> Iterator[RoleAssignment]:
    """``customer_household`` when a current member (who may be aggregated) is a customer."""
    assert household.id is not None
    snapshot = snapshot_of(graph, settings, household, at)
    current = snapshot.current(household.id)
    if not current:
        return
    customers = snapshot.customers(household.id)
    if not customers:
        return
    since = None
    parts = []
    evidence: list[str] = []
    for row, roles in customers:
        first = min((role.since for role in roles if role.since is not None), default=None)
        started = max((moment for moment in (row.since, first) if moment is not None), default=None)
        since = started if since is None or (started is not None and started < since) else since
        names = ", ".join(sorted({f"{role.role} ({role.plugin})" for role in roles}))
        parts.append(f"{_named(row.party)} ({row.role}): {names}")
        evidence.append(f"relationship #{row.relationship_id}")
        evidence.extend(item for role in roles for item in role.evidence)
    shown = "; ".join(parts[:3]) + (f"; and {len(parts) - 3} more" if len(parts) > 3 else "")
    left_out = len({row.party.id for row in current if row.party.id in snapshot.excluded})
    note = (
        f" {left_out} member(s) left out: their data may not be aggregated ({PURPOSE})."
        if left_out
        else ""
    )
    yield RoleAssignment(
        "customer_household",
        reason=(
            f"{len(customers)} of its {len(current)} current member(s) "
            f"{'is a customer' if len(customers) == 1 else 'are customers'}: {shown}.{note}"
        ),
        customer=True,
        since=since,
        evidence=tuple(dict.fromkeys(evidence)),
    )
