"""Roles: ``internal_customer`` and ``internal_supplier`` (kind ``internal``), with reasons.

A department is the internal customer of another when it is served by
declaration (a ``serves`` link valid at the as-of date, to it or to the whole
organization), when it (or its employees at the time) requested the other's
services, or when it received leads from it, within the activity window. The
other department is then its internal supplier. An employee who filed
requests is the internal customer of the provider department and of the
colleague who handled them (a recruiter's hiring managers are her internal
customers); that colleague is their internal supplier. When ``crm_owner``
names the department that runs the CRM, employees with recorded CRM usage are
its internal customers.

Requests are credited to the requester's department of the day, so an
employee who moves from marketing to finance leaves her past requests with
marketing. Every figure is computed as of the date asked: requests opened
after it, links that start after it, do not count.

Each party costs a handful of indexed statements (grouped in SQL), never one
per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Connection

from partygraph import GraphReader, Party, PartySummary, RoleAssignment
from partygraph.storage.prepared import Prepared
from partygraph.times import MIN_TIME, from_storage, to_storage
from partygraph_internal import statements
from partygraph_internal.settings import EMPLOYEE_USAGE_PURPOSE, Settings, format_duration
from partygraph_internal.sql import Named, named
from partygraph_internal.vocabulary import DEPARTMENT

if TYPE_CHECKING:
    from partygraph_internal.plugin import InternalPlugin

__all__ = ["INTERNAL_CUSTOMER", "INTERNAL_SUPPLIER", "roles_of"]

INTERNAL_CUSTOMER = "internal_customer"
INTERNAL_SUPPLIER = "internal_supplier"

_MICROSECOND = timedelta(microseconds=1)


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else "an unknown date"


def _between(first: datetime, last: datetime, count: int) -> str:
    if count == 1 or first.date() == last.date():
        return f"on {_day(first)}"
    return f"between {_day(first)} and {_day(last)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@attrs.define
class _Claim:
    """Evidence gathered for one (role, context) pair."""

    role: str
    context: int | None
    parts: list[str] = attrs.field(factory=list)
    starts: list[datetime | None] = attrs.field(factory=list)
    ends: list[datetime | None] = attrs.field(factory=list)
    evidence: list[str] = attrs.field(factory=list)
    declared_only: bool = True


@attrs.define
class _Group:
    """Requests rolled up for one counterpart."""

    count: int = 0
    categories: dict[str, int] = attrs.field(factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    met: int = 0
    breached: int = 0
    open: int = 0
    ids: set[int] = attrs.field(factory=set)
    others: set[int] = attrs.field(factory=set)

    def add(self, row: Any, other: int | None = None) -> None:
        count = int(row.n)
        self.count += count
        self.categories[row.category] = self.categories.get(row.category, 0) + count
        first = from_storage(row.first)
        last = from_storage(row.last)
        assert first is not None
        assert last is not None
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        self.met += int(row.met or 0)
        self.breached += int(row.breached or 0)
        self.open += int(row.open or 0)
        self.ids.update({int(row.first_id), int(row.last_id)})
        if other is not None:
            self.others.add(other)

    def what(self) -> str:
        """``(3 access, 1 hardware)``."""
        ordered = sorted(self.categories.items(), key=lambda item: (-item[1], item[0]))
        return "(" + ", ".join(f"{n} {name}" for name, n in ordered) + ")"

    def sla(self) -> str:
        """``SLA met for 3 of 4, 1 still open`` (of those decided: met or breached)."""
        decided = self.met + self.breached
        text = f"SLA met for {self.met} of {decided}" if decided else "no SLA decided yet"
        return text + (f", {self.open} still open" if self.open else "")

    def when(self) -> str:
        assert self.first is not None
        assert self.last is not None
        return _between(self.first, self.last, self.count)


class _Roles:
    """Collects claims for one party and turns them into role assignments."""

    def __init__(self, plugin: InternalPlugin, party: Party, as_of: datetime, graph: GraphReader):
        self.plugin = plugin
        self.settings: Settings = plugin.settings
        self.party = party
        assert party.id is not None
        self.id = party.id
        self.graph = graph
        self.connection: Connection = graph.connection
        self.as_of = as_of
        self.at = to_storage(as_of)
        window = self.settings.activity_window_days
        self.start = self.at - timedelta(days=window) if window is not None else MIN_TIME
        self.params = {"party": self.id, "at": self.at, "start": self.start}
        self.claims: dict[tuple[str, int | None], _Claim] = {}
        self.names: dict[int, Named] = plugin.known_names(graph)

    # -- plumbing --------------------------------------------------------------------------

    def claim(self, role: str, context: int | None) -> _Claim:
        key = (role, context)
        if key not in self.claims:
            self.claims[key] = _Claim(role, context)
        return self.claims[key]

    def label(self, party_id: int | None) -> str:
        if party_id is None:
            return "someone"
        found = self.names.get(party_id)
        return found.label if found is not None else f"#{party_id}"

    def groups(self, statement: Prepared) -> list[Any]:
        """Rows of a cached grouped statement for this party, as of the date, in the window."""
        return statement.rows(self.connection, self.params)

    def evidence(self, claim: _Claim, group: _Group) -> None:
        claim.declared_only = False
        claim.starts.append(group.first)
        claim.evidence.extend(f"interaction #{i}" for i in sorted(group.ids))

    # -- departments -------------------------------------------------------------------------

    def department(self) -> None:
        me = self.label(self.id)
        self.declarations()
        # As a customer: requests by the department or by its employees of the day.
        asked: dict[int, _Group] = {}
        for row in self.groups(statements.request_groups("asked")):
            asked.setdefault(int(row.provider_id), _Group()).add(row)
        # As a supplier: requests to it, by customer department.
        served: dict[int, _Group] = {}
        for row in self.groups(statements.request_groups("served")):
            if row.cust is not None and int(row.cust) != self.id:
                served.setdefault(int(row.cust), _Group()).add(row)
        named(self.connection, [*asked, *served], self.names)
        for provider, group in asked.items():
            if provider == self.id:
                continue
            claim = self.claim(INTERNAL_CUSTOMER, provider)
            claim.parts.append(
                f"{me} filed {_plural(group.count, 'service request')} with "
                f"{self.label(provider)} {group.when()} {group.what()}; {group.sla()}"
            )
            self.evidence(claim, group)
        for customer, group in served.items():
            claim = self.claim(INTERNAL_SUPPLIER, customer)
            claim.parts.append(
                f"{me} handled {_plural(group.count, 'service request')} from "
                f"{self.label(customer)} {group.when()} {group.what()}; {group.sla()}"
            )
            self.evidence(claim, group)
        self.leads()

    def leads(self) -> None:
        rows = statements.handoff_counts(True).rows(
            self.connection,
            {"party": self.id, "since": self.start, "until": self.at + _MICROSECOND},
        )
        pairs: dict[tuple[int, int], dict[str, Any]] = {}
        for row in rows:
            if row.from_id is None or row.to_id is None or row.from_id == row.to_id:
                continue
            pair = (int(row.from_id), int(row.to_id))
            if self.id not in pair:
                continue
            found = pairs.setdefault(
                pair, {"accepted": 0, "rejected": 0, "pending": 0, "ids": set(), "dates": []}
            )
            found[str(row.outcome)] = found.get(str(row.outcome), 0) + int(row.n)
            found["ids"].add(int(row.latest))
            found["dates"].extend([from_storage(row.first), from_storage(row.last)])
        named(self.connection, [side for pair in pairs for side in pair], self.names)
        for (sender, receiver), found in pairs.items():
            handed = found["accepted"] + found["rejected"] + found["pending"]
            dates = sorted(found["dates"])
            when = _between(dates[0], dates[-1], handed)
            decided = found["accepted"] + found["rejected"]
            outcome = (
                f"({found['accepted']} accepted, {found['rejected']} rejected, "
                f"{found['pending']} pending"
                + (f"; acceptance {round(100 * found['accepted'] / decided)}%" if decided else "")
                + ")"
            )
            if receiver == self.id:
                claim = self.claim(INTERNAL_CUSTOMER, sender)
                claim.parts.append(
                    f"{self.label(receiver)} received {_plural(handed, 'lead')} from "
                    f"{self.label(sender)} {when} {outcome}"
                )
            else:
                claim = self.claim(INTERNAL_SUPPLIER, receiver)
                claim.parts.append(
                    f"{self.label(sender)} handed {_plural(handed, 'lead')} to "
                    f"{self.label(receiver)} {when} {outcome}"
                )
            claim.declared_only = False
            claim.starts.append(dates[0])
            claim.evidence.extend(f"interaction #{i}" for i in sorted(found["ids"]))

    def catalogue_text(self, attributes: dict[str, Any]) -> str:
        """``; services: access within 8 h, hardware within 3 d``."""
        overrides = attributes.get("sla") or {}
        categories = attributes.get("categories")
        if not categories:
            if not overrides:
                return "; services: the whole catalogue"
            changed = ", ".join(f"{name} within {value}" for name, value in overrides.items())
            return f"; services: the whole catalogue ({changed})"
        parts = []
        for name in categories:
            category = self.settings.category(name)
            if name in overrides:
                parts.append(f"{name} within {overrides[name]}")
            elif category is not None:
                parts.append(f"{name} within {format_duration(category.sla)}")
        return "; services: " + ", ".join(parts)

    def declarations(self) -> None:
        """``serves`` links valid at the as-of date, both ways, and those serving everyone."""
        links = statements.serves_in_force().rows(self.connection, self.params)
        named(
            self.connection,
            [v for row in links for v in (row.source_id, row.target_id)],
            self.names,
        )
        for row in links:
            source, target_id = int(row.source_id), int(row.target_id)
            everyone = row.target_kind != DEPARTMENT
            whom = f"everyone at {self.label(target_id)}" if everyone else self.label(target_id)
            since = from_storage(row.valid_from)
            until = from_storage(row.valid_to)
            text = (
                f"{self.label(source)} serves {whom} by declaration since {_day(since)}"
                if since is not None
                else f"{self.label(source)} serves {whom} by declaration"
            )
            text += (f" until {_day(until)}" if until is not None else "") + self.catalogue_text(
                dict(row.attributes or {})
            )
            if source == self.id:
                claim = self.claim(INTERNAL_SUPPLIER, target_id)
            elif target_id == self.id or everyone:
                claim = self.claim(INTERNAL_CUSTOMER, source)
            else:  # pragma: no cover - the query selects only these
                continue
            claim.parts.append(text)
            claim.starts.append(since)
            claim.ends.append(until)
            claim.evidence.append(f"relationship #{row.id}")

    # -- people ------------------------------------------------------------------------------

    def person(self) -> None:
        me = self.label(self.id)
        if not self.plugin.person_activity(self.party, self.as_of, self.graph).active:
            self.crm_user(me)  # most people: one index probe, nothing more
            return
        rows = self.groups(statements.person_requests())
        by_provider: dict[int, _Group] = {}
        by_assignee: dict[int, _Group] = {}
        for row in rows:
            if row.side != "asked":
                continue
            by_provider.setdefault(int(row.provider_id), _Group()).add(row)
            if row.other_id is not None and int(row.other_id) != self.id:
                by_assignee.setdefault(int(row.other_id), _Group()).add(row, int(row.provider_id))
        by_requester: dict[int, _Group] = {}
        for row in rows:
            if row.side != "handled":
                continue
            if row.other_id is not None and int(row.other_id) != self.id:
                by_requester.setdefault(int(row.other_id), _Group()).add(row, int(row.provider_id))
        named(
            self.connection,
            [
                *by_provider,
                *by_assignee,
                *by_requester,
                *(p for g in [*by_assignee.values(), *by_requester.values()] for p in g.others),
            ],
            self.names,
        )
        for provider, group in by_provider.items():
            claim = self.claim(INTERNAL_CUSTOMER, provider)
            claim.parts.append(
                f"{me} filed {_plural(group.count, 'service request')} with "
                f"{self.label(provider)} {group.when()} {group.what()}; {group.sla()}"
            )
            self.evidence(claim, group)
        for assignee, group in by_assignee.items():
            providers = ", ".join(sorted(self.label(p) for p in group.others))
            claim = self.claim(INTERNAL_CUSTOMER, assignee)
            claim.parts.append(
                f"{self.label(assignee)} handled {group.count} of {me}'s service requests to "
                f"{providers} {group.when()} {group.what()}"
            )
            self.evidence(claim, group)
        for requester, group in by_requester.items():
            providers = ", ".join(sorted(self.label(p) for p in group.others))
            claim = self.claim(INTERNAL_SUPPLIER, requester)
            claim.parts.append(
                f"{me} handled {_plural(group.count, 'service request')} from "
                f"{self.label(requester)} for {providers} {group.when()} {group.what()}; "
                f"{group.sla()}"
            )
            self.evidence(claim, group)
        self.crm_user(me)

    def crm_user(self, me: str) -> None:
        """Employees who use the CRM are internal customers of the department that runs it."""
        owner_key = self.settings.crm_owner
        if owner_key is None:
            return
        row = statements.usage_of().first(self.connection, self.params)
        if row is None or not row.n:
            return
        owner = self.graph.find_party(owner_key)
        if owner is None or owner.id is None or owner.id == self.id:
            return
        if self.graph.excluded([self.party], EMPLOYEE_USAGE_PURPOSE, as_of=self.as_of):
            return  # even being a user is usage data: not without a basis
        self.names[owner.id] = Named(owner.id, owner.key, owner.kind, owner.name)
        claim = self.claim(INTERNAL_CUSTOMER, owner.id)
        window = self.settings.activity_window_days
        span = f"in the {window} days to {_day(self.as_of)}" if window else "so far"
        if self.plugin.settings.per_employee.enabled:
            detail = f"{_plural(int(row.records or 0), 'record')} created or updated {span}"
        else:
            detail = f"CRM usage recorded {span}; per-employee figures are off"
        claim.parts.append(f"{me} uses the CRM, which {self.label(owner.id)} runs ({detail})")
        claim.declared_only = False
        claim.starts.append(from_storage(row.first))
        claim.evidence.append(f"internal_usage #{row.latest}")

    # -- the answer ------------------------------------------------------------------------

    def assignments(self) -> list[RoleAssignment]:
        found = []
        for claim in self.claims.values():
            if claim.context == self.id or not claim.parts:
                continue
            context = self.names.get(claim.context) if claim.context is not None else None
            starts = claim.starts
            since = None if not starts or None in starts else min(s for s in starts if s)
            until = None
            if claim.declared_only and claim.ends and None not in claim.ends:
                until = max(end for end in claim.ends if end is not None)
            found.append(
                RoleAssignment(
                    claim.role,
                    reason="; ".join(claim.parts),
                    customer=claim.role == INTERNAL_CUSTOMER,
                    kind="internal",
                    context=PartySummary(context.id, context.key, context.kind, context.name)
                    if context is not None
                    else None,
                    since=since,
                    until=until,
                    evidence=tuple(dict.fromkeys(claim.evidence)),
                )
            )
        found.sort(key=lambda role: (role.role, role.context.key if role.context else ""))
        return found


def roles_of(
    plugin: InternalPlugin, party: Party, as_of: datetime, graph: GraphReader
) -> Iterable[RoleAssignment]:
    """The internal roles *party* plays at *as_of*."""
    if party.kind not in (DEPARTMENT, "person") or party.id is None:
        return []
    roles = _Roles(plugin, party, as_of, graph)
    roles.names[party.id] = Named(party.id, party.key, party.kind, party.name)
    if party.kind == DEPARTMENT:
        roles.department()
    else:
        roles.person()
    return roles.assignments()
