"""Account-based analytics, computed on read with a few set-based statements.

:func:`load` reads everything the plugin needs about a scope -- the whole
population, some accounts, or some people -- at one instant, with a constant
number of parameterised statements (SQLAlchemy Core; the same on SQLite and
PostgreSQL; cut-off dates computed in Python and bound as parameters):

1. the current ``stakeholder_of`` relationships (the buying committees);
2. engagement per (account, stakeholder): interactions of the engagement
   types in the window, the last one, and the recency- and type-weighted
   score, aggregated in SQL. An interaction that names accounts (participant
   role ``account``) counts only for those; one that names none counts for
   every account the participant is a stakeholder of;
3. current ``works_at`` relationships (who is an outsider);
4. the current account hierarchy (``subsidiary_of``), recursively for a scope;
5. deals as they stood, and signed contracts (``contract_signed`` naming the account);
6. names (and e-mail addresses, and people's attributes for a privacy plugin)
   of the parties involved.

The :class:`Snapshot` then answers coverage, single-threaded risk, scores
rolled up through the hierarchy, account status and messaging tracks in
Python, in one pass over those rows. Stakeholders a privacy plugin excludes
for the analytics purpose (``graph.excluded``, asked once for everyone
counted) are not counted.

Coverage and scores of a whole population read no more than they need
(``detail=False``): no dates or tracks of committee roles, no jobs, and names
only of the accounts and of the people who engaged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import attrs
from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    literal,
    or_,
    select,
)

from partygraph import GraphReader, Party, RelationshipView
from partygraph.storage import prepared
from partygraph.storage.prepared import IdShape, bind_ids
from partygraph.storage.tables import participant_table, party_table, relationship_table
from partygraph.times import MIN_TIME, from_storage, isoformat, to_storage
from partygraph_b2b import statements
from partygraph_b2b.deals import DealState, deals_as_of, status_as_of
from partygraph_b2b.settings import BUYER_ROLES, COMMITTEE_ROLES, ROLE_LABELS, Settings, Track

__all__ = [
    "AccountStatus",
    "engaged_pairs",
    "engagement_rows",
    "Engagement",
    "Job",
    "Named",
    "Snapshot",
    "Stake",
    "Touch",
    "account_status",
    "excluded",
    "last_engaged",
    "load",
    "stakes_from_views",
    "status_rows",
]

_rel = relationship_table
_part = participant_table
_party = party_table
_ROLE_ORDER = {role: index for index, role in enumerate(COMMITTEE_ROLES)}


def day(value: datetime | None) -> str:
    """The date of *value* (``2026-02-01``), for reasons."""
    return value.date().isoformat() if value is not None else "an unknown date"


class Stake(NamedTuple):
    """A current ``stakeholder_of`` relationship: a person's committee role at an account.

    Times are kept as stored (naive UTC) and converted only when shown.
    """

    relationship_id: int
    account_id: int
    person_id: int
    role: str
    stored_from: Any
    stored_to: Any
    track: str | None = None

    @property
    def valid_from(self) -> datetime | None:
        """Start (None: since an unknown time)."""
        return from_storage(self.stored_from)

    @property
    def valid_to(self) -> datetime | None:
        """End (None: open)."""
        return from_storage(self.stored_to)


class Engagement(NamedTuple):
    """A stakeholder's engagement with one account (the shape of a result row)."""

    account_id: int
    person_id: int
    interactions: int  # within the window
    last: Any  # the last one within the window, as stored (see :func:`last_engaged`)
    raw_score: float | None  # type- and recency-weighted, before the role weight


def last_engaged(found: Engagement) -> datetime | None:
    """When the stakeholder last engaged within the window."""
    return from_storage(found.last)


class Touch(NamedTuple):
    """One engagement interaction of a stakeholder with an account (scoped reads only)."""

    account_id: int
    person_id: int
    interaction_id: int
    type: str
    occurred_at: datetime


class Job(NamedTuple):
    """A current ``works_at`` relationship."""

    relationship_id: int
    person_id: int
    organization_id: int
    title: str | None
    department: str | None


class Named(NamedTuple):
    """A party's id, key, kind and name."""

    id: int
    key: str
    kind: str
    name: str | None


@attrs.frozen
class AccountStatus:
    """Why an organisation is a customer account or a target account."""

    role: str  # customer_account | target_account
    since: datetime | None
    reason: str
    evidence: tuple[str, ...]
    brief: str  # the first piece of evidence, in words


# -- statements -------------------------------------------------------------------------------


def _window(settings: Settings, at: datetime) -> tuple[datetime, datetime]:
    """(start of the engagement window, start of the longest recency step) before *at*."""
    since = at - timedelta(days=settings.engagement_window_days)
    longest = max([settings.engagement_window_days, *(days for days, _ in settings.recency)])
    return since, at - timedelta(days=longest)


def engaged_pairs(settings: Settings, at: datetime) -> Select[Any]:
    """(account_id, person_id) of the stakeholders who engaged in the window ending at *at*.

    The same rows the snapshot counts as engaged (before any privacy exclusion),
    with *at* (naive UTC) and the window bound into the statement.
    """
    since, _ = _window(settings, at)
    bound = {"at": at, "horizon": since, "types": list(settings.engagement_types)}
    found = statements.touched(None, None, bound)
    return select(found.c.account_id, found.c.person_id).distinct()


def engagement_rows(settings: Settings, at: datetime) -> Select[Any]:
    """Per (account, stakeholder): interactions in the window, the last one, the raw score.

    The statement the snapshot reads, with *at* (naive UTC) bound into it.
    """
    since, horizon = _window(settings, at)
    bound = {
        "at": at,
        "horizon": horizon,
        "since": since,
        "types": list(settings.engagement_types),
        "cutoffs": statements.recency_cutoffs(settings, at),
    }
    return statements.engagement_statement(settings, None, None, bound)


# -- the snapshot -------------------------------------------------------------------------------


@attrs.define
class Snapshot:
    """What the b2b plugin knows about a scope at one instant."""

    settings: Settings
    at: datetime
    since: datetime
    #: (account, person) -> the person's committee roles there, in vocabulary order.
    roles: dict[tuple[int, int], list[str]]
    #: (account, person) -> the ``stakeholder_of`` relationships (detailed reads only).
    links: dict[tuple[int, int], list[Stake]]
    engagement: dict[tuple[int, int], Engagement]
    jobs: dict[int, list[Job]]
    parent: dict[int, int]
    deals: dict[int, list[DealState]]
    contracts: dict[int, list[tuple[int, datetime]]]
    parties: dict[int, Named]
    emails: dict[int, str]
    attributes: dict[int, Mapping[str, Any]]
    targets: set[int]
    excluded: dict[int, str] = attrs.field(factory=dict)
    touches: list[Touch] = attrs.field(factory=list)
    #: account -> its current stakeholders; person -> the accounts they are a stakeholder of.
    by_account: dict[int, list[int]] = attrs.field(factory=dict)
    by_person: dict[int, list[int]] = attrs.field(factory=dict)
    children: dict[int, list[int]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        order = _ROLE_ORDER
        if not self.by_account:
            for account, person in self.roles:
                self.by_account.setdefault(account, []).append(person)
                self.by_person.setdefault(person, []).append(account)
        for links in self.links.values():
            if len(links) > 1:
                links.sort(key=lambda s: (order[s.role], s.relationship_id))
        self.children = {}
        for child, parent in sorted(self.parent.items()):
            self.children.setdefault(parent, []).append(child)

    # -- names ---------------------------------------------------------------------------

    def summary(self, party_id: int) -> dict[str, Any]:
        """``{"id", "key", "kind", "name"}`` of a party."""
        found = self.parties.get(party_id)
        if found is None:
            return {"id": party_id, "key": None, "kind": None, "name": None}
        return {"id": found.id, "key": found.key, "kind": found.kind, "name": found.name}

    def name(self, party_id: int) -> str:
        """A party's name, else its key."""
        found = self.parties.get(party_id)
        if found is None:
            return f"party #{party_id}"
        return found.name or found.key

    # -- hierarchy -----------------------------------------------------------------------

    def ancestors(self, account_id: int) -> list[int]:
        """Parent, grandparent ... (stops at a cycle)."""
        found: list[int] = []
        seen = {account_id}
        current = self.parent.get(account_id)
        while current is not None and current not in seen:
            found.append(current)
            seen.add(current)
            current = self.parent.get(current)
        return found

    def root(self, account_id: int) -> int:
        """The top of the account's hierarchy."""
        chain = self.ancestors(account_id)
        return chain[-1] if chain else account_id

    def descendants(self, account_id: int) -> list[int]:
        """Subsidiaries, their subsidiaries ... (each once)."""
        found: list[int] = []
        seen = {account_id}
        stack = list(reversed(self.children.get(account_id, [])))
        while stack:
            child = stack.pop()
            if child in seen:
                continue
            seen.add(child)
            found.append(child)
            stack.extend(reversed(self.children.get(child, [])))
        return found

    # -- people ----------------------------------------------------------------------------

    def employers(self, person_id: int) -> list[Job]:
        """Where the person currently works."""
        return self.jobs.get(person_id, [])

    def job_at(self, person_id: int, account_id: int) -> Job | None:
        """The person's job in the account's hierarchy (the account itself first), if any."""
        jobs = self.employers(person_id)
        for job in jobs:
            if job.organization_id == account_id:
                return job
        root = self.root(account_id)
        for job in jobs:
            if self.root(job.organization_id) == root:
                return job
        return None

    def is_outsider(self, person_id: int, account_id: int) -> bool:
        """Does not work at the account or anywhere in its hierarchy."""
        return self.job_at(person_id, account_id) is None

    def roles_of(self, person_id: int, account_id: int) -> list[str]:
        """The person's current committee roles at the account, in vocabulary order."""
        return self.roles.get((account_id, person_id), [])

    def links_of(self, person_id: int, account_id: int) -> list[Stake]:
        """The ``stakeholder_of`` relationships behind those roles (detailed reads)."""
        return self.links.get((account_id, person_id), [])

    def engaged(self, account_id: int, person_id: int) -> Engagement | None:
        """The stakeholder's engagement in the window (None: none, or excluded)."""
        if person_id in self.excluded:
            return None
        found = self.engagement.get((account_id, person_id))
        return found if found is not None and found.interactions > 0 else None

    def track(self, person_id: int, account_id: int) -> Track:
        """The messaging track of a stakeholder at an account."""
        override = next((s.track for s in self.links_of(person_id, account_id) if s.track), None)
        return self.settings.track_for(self.roles_of(person_id, account_id), override)

    def last_touch(self, account_id: int, person_id: int) -> Touch | None:
        """The stakeholder's latest engagement interaction in the window (scoped reads)."""
        found = [
            touch
            for touch in self.touches
            if touch.account_id == account_id
            and touch.person_id == person_id
            and touch.occurred_at >= self.since
        ]
        return max(found, key=lambda t: (t.occurred_at, t.interaction_id)) if found else None

    # -- accounts --------------------------------------------------------------------------

    def accounts(self) -> list[int]:
        """Every account in scope: with a committee, a deal, a contract or named as a target."""
        found = {*self.by_account, *self.deals, *self.contracts, *self.targets}
        return sorted(found, key=lambda a: (self.name(a).lower(), a))

    def status(self, account_id: int) -> AccountStatus | None:
        """Customer account (won deal or signed contract) or target account, with the reason."""
        deals = self.deals.get(account_id, [])
        won = [d for d in deals if d.status == "won"]
        contracts = self.contracts.get(account_id, [])
        name = self.name(account_id)
        if won or contracts:
            parts: list[str] = []
            evidence: list[str] = []
            starts: list[datetime] = []
            for found in won[:3]:
                when = found.won_at or found.since
                money = f" ({found.money()})" if found.money() else ""
                parts.append(f"{found.label()} won on {day(when)}{money}")
                evidence.append(f"deal {found.key}")
                starts.append(when)
            if len(won) > 3:
                parts.append(f"{len(won) - 3} more won deal(s)")
            for interaction_id, occurred in contracts[:3]:
                parts.append(f"contract signed on {day(occurred)} (interaction #{interaction_id})")
                evidence.append(f"interaction #{interaction_id}")
            if len(contracts) > 3:
                parts.append(f"{len(contracts) - 3} more signed contract(s)")
            starts.extend(occurred for _, occurred in contracts)
            since = min(starts)
            open_deals = [d for d in deals if d.is_open]
            more = (
                f"; {len(open_deals)} further deal(s) in progress ({open_deals[0].label()} ...)"
                if open_deals
                else ""
            )
            reason = f"{name} is a customer account since {day(since)}: " + "; ".join(parts) + more
            brief = (
                f"{won[0].label()} won on {day(won[0].won_at or won[0].since)}"
                if won
                else f"contract signed on {day(contracts[0][1])}"
            )
            return AccountStatus("customer_account", since, reason, tuple(evidence), brief)
        open_deals = [d for d in deals if d.is_open]
        named = account_id in self.targets
        if not open_deals and not named:
            return None
        parts = []
        evidence = []
        for found in open_deals[:3]:
            details = [f"stage {found.stage}" if found.stage else "no stage yet"]
            if found.money():
                details.append(found.money())
            if found.expected_close:
                details.append(f"expected to close {found.expected_close.isoformat()}")
            parts.append(
                f"{found.label()} in progress since {day(found.opened_at)} ({', '.join(details)})"
            )
            evidence.append(f"deal {found.key}")
        if len(open_deals) > 3:
            parts.append(f"{len(open_deals) - 3} more deal(s) in progress")
        if named:
            parts.append("named as a target account in [plugins.b2b] target_accounts")
            evidence.append("config plugins.b2b.target_accounts")
        began: datetime | None = (
            min((d.opened_at for d in open_deals), default=None) if not named else None
        )
        reason = f"{name} is a target account, not yet a customer: " + "; ".join(parts)
        brief = (
            f"{open_deals[0].label()} in progress"
            if open_deals
            else "named as a target account in the config"
        )
        return AccountStatus("target_account", began, reason, tuple(evidence), brief)

    def pipeline(self, account_id: int) -> dict[str, Any]:
        """Open and won amounts by currency, and converted to the reporting currency."""
        by_status: dict[str, dict[str, float]] = {"open": {}, "won": {}}
        converted = {"open": 0.0, "won": 0.0}
        unconverted = 0
        for found in self.deals.get(account_id, []):
            if found.status not in by_status or found.amount is None:
                continue
            amounts = by_status[found.status]
            amounts[found.currency] = amounts.get(found.currency, 0.0) + found.amount
            rate = self.settings.rate(found.currency)
            if rate is None:
                unconverted += 1
            else:
                converted[found.status] += found.amount * rate
        return {
            "currency": self.settings.currency,
            "open": round(converted["open"], 2),
            "won": round(converted["won"], 2),
            "open_by_currency": by_status["open"],
            "won_by_currency": by_status["won"],
            "unconverted_deals": unconverted,
        }

    def rolled_pipeline(self, account_id: int) -> dict[str, float]:
        """Open and won amounts of the account and all its subsidiaries (reporting currency)."""
        figures = [self.pipeline(a) for a in (account_id, *self.descendants(account_id))]
        return {
            "rolled_up_open": round(sum(f["open"] for f in figures), 2),
            "rolled_up_won": round(sum(f["won"] for f in figures), 2),
        }

    def coverage(self, account_id: int) -> dict[str, Any]:
        """Which required committee roles have engaged in the window, and which are missing."""
        settings = self.settings
        persons = sorted(self.by_account.get(account_id, []))
        engaged = [p for p in persons if self.engaged(account_id, p) is not None]
        engaged_roles = {role for p in engaged for role in self.roles[(account_id, p)]}
        named_roles = {
            role for p in persons if p not in self.excluded for role in self.roles[(account_id, p)]
        }
        required = list(settings.required_roles)
        covered = [role for role in required if role in engaged_roles]
        missing = [role for role in required if role not in engaged_roles]
        silent = [role for role in missing if role in named_roles]
        threading = "none" if not engaged else "single" if len(engaged) == 1 else "multi"
        people: list[dict[str, Any]] = []
        for person_id in engaged:
            found = self.engagement[(account_id, person_id)]
            people.append(
                {
                    "person": self.summary(person_id),
                    "roles": list(self.roles_of(person_id, account_id)),
                    "interactions": found.interactions,
                    "last": isoformat(last_engaged(found)),
                }
            )
        window = f"the {settings.engagement_window_days} days to {day(self.at)}"
        missing_text = ", ".join(missing) or "none"
        if threading == "single":
            only = people[0]
            risk: str | None = (
                f"single-threaded: only {self.name(engaged[0])} "
                f"({', '.join(only['roles'])}) has engaged in {window}; "
                f"missing roles: {missing_text}"
            )
        elif threading == "none":
            risk = f"no stakeholder has engaged in {window}; missing roles: {missing_text}"
        else:
            risk = f"missing roles: {missing_text}" if missing else None
        return {
            "account": self.summary(account_id),
            "as_of": isoformat(self.at),
            "since": isoformat(self.since),
            "window_days": settings.engagement_window_days,
            "required": required,
            "covered": covered,
            "missing": missing,
            "named_not_engaged": silent,
            "stakeholders": len(persons),
            "engaged_stakeholders": len(engaged),
            "excluded_stakeholders": sum(1 for p in persons if p in self.excluded),
            "engaged": people,
            "threading": threading,
            "single_threaded": threading == "single",
            "risk": risk,
        }

    def own_score(self, account_id: int) -> float:
        """The account's engagement score: stakeholders' weighted interactions x role weight."""
        total = 0.0
        for person_id in self.by_account.get(account_id, []):
            if person_id in self.excluded:
                continue
            found = self.engagement.get((account_id, person_id))
            if found is None or not found.raw_score:
                continue
            weight = max(map(self.settings.role_weight, self.roles_of(person_id, account_id)))
            total += float(found.raw_score) * weight
        return total

    def scores(self) -> dict[int, tuple[float, float]]:
        """``{account: (own score, rolled up score)}`` for the accounts in scope and parents."""
        own = {account: self.own_score(account) for account in self.accounts()}
        rolled = dict(own)
        for account, score in list(own.items()):
            for ancestor in self.ancestors(account):
                rolled[ancestor] = rolled.get(ancestor, own.get(ancestor, 0.0)) + score
                own.setdefault(ancestor, 0.0)
        return {account: (round(own[account], 4), round(rolled[account], 4)) for account in own}

    def score_entry(
        self, account_id: int, scores: Mapping[int, tuple[float, float]]
    ) -> dict[str, Any]:
        """One account's scores, with its place in the hierarchy."""
        own, rolled = scores.get(account_id, (0.0, 0.0))
        parent = self.parent.get(account_id)
        return {
            "account": self.summary(account_id),
            "score": own,
            "rolled_up_score": rolled,
            "parent": self.summary(parent) if parent is not None else None,
            "subsidiaries": [
                {"account": self.summary(child), "rolled_up_score": scores.get(child, (0, 0))[1]}
                for child in self.children.get(account_id, [])
            ],
        }

    def stakeholder_entry(self, person_id: int, account_id: int) -> dict[str, Any]:
        """A committee member as a marketing system or a view shows them."""
        stakes = self.links_of(person_id, account_id)
        roles = list(self.roles_of(person_id, account_id))
        job = self.job_at(person_id, account_id)
        outsider = job is None
        employers = [self.summary(j.organization_id) for j in self.employers(person_id)]
        found = self.engaged(account_id, person_id)
        track = self.track(person_id, account_id)
        return {
            "person": self.summary(person_id),
            "account": self.summary(account_id),
            "roles": roles,
            "buyer": any(role in BUYER_ROLES for role in roles),
            "user": "end_user" in roles,
            "outside": outsider,
            "title": job.title if job else None,
            "department": job.department if job else None,
            "employers": employers,
            "since": isoformat(min((s.valid_from for s in stakes if s.valid_from), default=None)),
            "engaged": found is not None,
            "interactions": found.interactions if found else 0,
            "last_engaged": isoformat(last_engaged(found)) if found else None,
            **track.as_dict(),
        }

    def describe_roles(self, roles: Sequence[str]) -> str:
        """``economic buyer and decision maker``."""
        words = [ROLE_LABELS.get(role, role) for role in roles]
        return (
            " and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]
        )


# -- loading -------------------------------------------------------------------------------------


def load(
    graph: GraphReader,
    settings: Settings,
    at: datetime,
    *,
    accounts: Iterable[int] | None = None,
    persons: Iterable[int] | None = None,
    with_descendants: bool = True,
    with_touches: bool = False,
    detail: bool = True,
    gated: bool = True,
    stakes: Sequence[Stake] | None = None,
    memo: dict[Any, Any] | None = None,
) -> Snapshot:
    """Read a scope at *at*: everyone (no arguments), some accounts, or some persons.

    With *accounts*, their subsidiaries are included (for roll-ups) unless
    *with_descendants* is false; with *persons*, the accounts they are
    stakeholders of. *with_touches* also reads each engagement interaction
    (for evidence in reasons; scoped reads only). Without *detail* (coverage
    and scores of a population), the dates and tracks of committee roles,
    jobs and e-mail addresses are not read. *gated* says whether an enabled
    plugin answers ``partygraph_permitted``; if none does, nobody is excluded
    and people's attributes are not read. *stakes*: the current committee roles
    of the *persons*, when the caller already holds them (see
    :func:`stakes_from_views`); they are then not read again. *memo*: the
    reader's memo, where the deals and contracts of a scope are kept for the
    read (an account's roles need only those, see :func:`account_status`).
    """
    connection = graph.connection
    moment = to_storage(at)
    since, horizon = _window(settings, moment)
    account_ids = sorted(set(accounts)) if accounts is not None else None
    person_ids = sorted(set(persons)) if persons is not None else None
    population = account_ids is None and person_ids is None

    # The hierarchy first: a scope of accounts grows by their subsidiaries.
    parent: dict[int, int] = {}
    if population:
        query = select(_rel.c.source_id, _rel.c.target_id).where(
            _rel.c.type == "subsidiary_of", statements.current()
        )
        for row in connection.execute(query, {"at": moment}):
            parent[int(row.source_id)] = int(row.target_id)
    elif account_ids is not None and with_descendants:
        start: dict[str, Any] = {"at": moment}
        shape = bind_ids(start, "start", account_ids)
        for row in statements.hierarchy("down", shape).rows(connection, start):
            parent[int(row.child)] = int(row.parent)
        account_ids = sorted({*account_ids, *parent})

    params: dict[str, Any] = {"at": moment}
    scoped: tuple[IdShape, IdShape] = (
        bind_ids(params, "accounts", account_ids) if account_ids is not None else None,
        bind_ids(params, "persons", person_ids) if person_ids is not None else None,
    )
    roles: dict[tuple[int, int], list[str]] = {}
    links: dict[tuple[int, int], list[Stake]] = {}
    by_account: dict[int, list[int]] = {}
    by_person: dict[int, list[int]] = {}
    rows: Sequence[Any] = (
        stakes
        if stakes is not None
        else statements.stakes(*scoped, detail).rows(connection, params)
    )
    for row in rows:
        pair = (row[1], row[2])
        found = roles.get(pair)
        if found is None:
            roles[pair] = [row[3]]
            by_account.setdefault(row[1], []).append(row[2])
            by_person.setdefault(row[2], []).append(row[1])
        else:
            found.append(row[3])
            found.sort(key=_ROLE_ORDER.__getitem__)
        if detail:
            links.setdefault(pair, []).append(Stake._make(row))
    if person_ids is not None and account_ids is None:
        account_ids = sorted({account for account, _ in roles})
        if not account_ids:
            # Nobody in scope sits on a committee: every later read is scoped to
            # their accounts and would find nothing. Most persons of a large
            # graph (buyers, riders ...) are in this case on every read of them.
            return _empty_snapshot(settings, at, from_storage(since) or at)

    kinds = settings.engagement_types
    engagement_params: dict[str, Any] = {
        **params,
        "types": list(kinds),
        "horizon": horizon,
        "since": since,
        **{f"etype_{index}": name for index, name in enumerate(kinds)},
        **{
            f"cut_{index}": cutoff
            for index, cutoff in enumerate(statements.recency_cutoffs(settings, moment))
        },
    }
    engagement: dict[tuple[int, int], Engagement] = {}
    # Result rows have the shape of Engagement: keep them as they are.
    engaged_rows = statements.engagement(settings, *scoped).rows(connection, engagement_params)
    for row in engaged_rows:
        engagement[(row[0], row[1])] = row
    touches: list[Touch] = []
    if with_touches and not population:
        evidence = statements.touches(*scoped, len(kinds))
        for row in evidence.rows(connection, engagement_params):
            occurred = from_storage(row.occurred_at)
            assert occurred is not None
            touches.append(
                Touch(
                    int(row.account_id),
                    int(row.person_id),
                    int(row.interaction_id),
                    row.type,
                    occurred,
                )
            )

    people = sorted({person for _, person in roles})
    jobs: dict[int, list[Job]] = {}
    if detail and (population or people):
        job_params: dict[str, Any] = {"at": moment}
        held_by = None if population else bind_ids(job_params, "persons", people)
        for job in statements.jobs(held_by).rows(connection, job_params):
            held = Job._make(job)
            jobs.setdefault(held.person_id, []).append(held)

    if not population:
        # Ancestors of the accounts and of the employers: roll-ups and "is an outsider".
        tops = sorted(
            {*(account_ids or ()), *(j.organization_id for js in jobs.values() for j in js)}
        )
        if tops:
            start = {"at": moment}
            shape = bind_ids(start, "start", tops)
            for edge in statements.hierarchy("up", shape).rows(connection, start):
                parent[int(edge.child)] = int(edge.parent)

    deals, contracts = status_rows(connection, at, account_ids, memo)

    targets = _targets(connection, settings)
    if not population:
        targets = {t for t in targets if t in set(account_ids or ())}
    parties, emails, attributes = _names(
        connection,
        engagement_params,
        detail,
        gated,
        None
        if population
        else {
            *people,
            *(account_ids or ()),
            *parent,
            *parent.values(),
            *(j.organization_id for js in jobs.values() for j in js),
        },
    )
    snapshot = Snapshot(
        settings=settings,
        at=at,
        since=from_storage(since) or at,
        roles=roles,
        links=links,
        by_account=by_account,
        by_person=by_person,
        engagement=engagement,
        jobs=jobs,
        parent=parent,
        deals=deals,
        contracts=contracts,
        parties=parties,
        emails=emails,
        attributes=attributes,
        targets=targets,
        touches=touches,
    )
    if gated:
        # Everyone whose interactions count: engaged in the window, or scoring.
        counted = sorted({row[1] for row in engaged_rows if row[2] or row[4]})
        snapshot.excluded = excluded(graph, snapshot, counted, settings.analytics_purpose)
    return snapshot


def status_rows(
    connection: Connection,
    at: datetime,
    accounts: list[int] | None,
    memo: dict[Any, Any] | None = None,
) -> tuple[dict[int, list[DealState]], dict[int, list[tuple[int, datetime]]]]:
    """The deals as of *at* and the contracts signed before it, of *accounts* (or all).

    What an account's status rests on; kept in *memo* (a reader's) for the read.
    """
    key = ("status", tuple(accounts) if accounts is not None else None, at)
    if memo is not None and key in memo:
        found: tuple[dict[int, list[DealState]], dict[int, list[tuple[int, datetime]]]]
        found = memo[key]
        return found
    if accounts is not None:
        deals, contracts = status_as_of(connection, at, accounts)
        if memo is not None:
            memo[key] = (deals, contracts)
        return deals, contracts
    deals = deals_as_of(connection, at)
    contracts = {}
    params: dict[str, Any] = {"at": to_storage(at)}
    for signed in statements.contracts(None).rows(connection, params):
        occurred = from_storage(signed.occurred_at)
        assert occurred is not None
        contracts.setdefault(int(signed.party_id), []).append(
            (int(signed.interaction_id), occurred)
        )
    if memo is not None:
        memo[key] = (deals, contracts)
    return deals, contracts


def account_status(
    graph: GraphReader, settings: Settings, at: datetime, account: Party
) -> Snapshot:
    """A snapshot of one account holding only what its status needs: deals, contracts.

    An account's roles are its status; they need neither its committee nor its
    engagement (read with :func:`load` for its figures and view section).
    """
    assert account.id is not None
    memo = graph.memo("b2b")
    deals, contracts = status_rows(graph.connection, at, [account.id], memo)
    targets = {t for t in _targets(graph.connection, settings) if t == account.id}
    return Snapshot(
        settings=settings,
        at=at,
        since=at - timedelta(days=settings.engagement_window_days),
        roles={},
        links={},
        engagement={},
        jobs={},
        parent={},
        deals=deals,
        contracts=contracts,
        parties={account.id: Named(account.id, account.key, account.kind, account.name)},
        emails={},
        attributes={},
        targets=targets,
    )


def stakes_from_views(person_id: int, views: Iterable[RelationshipView]) -> list[Stake]:
    """The current committee roles among a person's ``stakeholder_of`` links, as stakes.

    The views are the person's links as ``graph.relationships`` shows them
    (times aware, an unknown start as None); stakes keep times as stored.
    """
    found = []
    for view in views:
        rel = view.relationship
        if not view.current or rel.type != "stakeholder_of" or rel.source != person_id:
            continue
        assert rel.id is not None
        track = rel.attributes.get("track")
        found.append(
            Stake(
                rel.id,
                int(rel.target),
                person_id,
                rel.role or "",
                to_storage(rel.valid_from) if rel.valid_from is not None else MIN_TIME,
                to_storage(rel.valid_to) if rel.valid_to is not None else None,
                str(track) if track is not None else None,
            )
        )
    return found


def _empty_snapshot(settings: Settings, at: datetime, since: datetime) -> Snapshot:
    """What :func:`load` finds for persons who are no stakeholder of any account."""
    return Snapshot(
        settings=settings,
        at=at,
        since=since,
        roles={},
        links={},
        engagement={},
        jobs={},
        parent={},
        deals={},
        contracts={},
        parties={},
        emails={},
        attributes={},
        targets=set(),
    )


def excluded(
    graph: GraphReader, snapshot: Snapshot, people: Sequence[int], purpose: str
) -> dict[int, str]:
    """Which of *people* a privacy plugin excludes from *purpose*, with one call for all."""
    if not people:
        return {}
    held = snapshot.attributes
    parties = [
        Party(found.key, found.kind, found.name, held.get(person), id=found.id)
        for person in people
        if (found := snapshot.parties.get(person)) is not None
    ]
    return graph.excluded(parties, purpose, snapshot.at) if parties else {}


def _targets(connection: Connection, settings: Settings) -> set[int]:
    if not settings.target_accounts:
        return set()
    query = select(_party.c.id).where(
        _party.c.key.in_(sorted(settings.target_accounts)), _party.c.kind == "organization"
    )
    return {int(value) for value in connection.execute(query).scalars()}


def _names(
    connection: Connection,
    params: Mapping[str, Any],
    everyone: bool,
    gated: bool,
    ids: set[int] | None,
) -> tuple[dict[int, Named], dict[int, str], dict[int, Mapping[str, Any]]]:
    """Names of the parties in scope, e-mail addresses, and people's attributes.

    A privacy plugin judges people by their attributes (a minor's age ...), so
    :func:`excluded` hands them over with the parties when a plugin gates
    (*gated*); otherwise only the e-mail address is read (*everyone*), or nothing.
    """
    held = "attributes" if gated else "email" if everyone else "none"
    batches: list[list[Any]] = []
    if ids is None:
        held_value: Any = (
            _party.c.attributes
            if gated
            else _party.c.attributes["email"].as_string()
            if everyone
            else literal(None)
        )
        people: Any
        if everyone:
            people = select(_rel.c.source_id).where(
                _rel.c.type == "stakeholder_of", statements.current()
            )
        else:
            # Coverage and scores name only the accounts and who engaged since the horizon.
            people = select(_part.c.party_id).where(
                _part.c.type.in_(bindparam("types", expanding=True)),
                _part.c.occurred_at >= bindparam("horizon"),
                _part.c.occurred_at < bindparam("at"),
            )
        query = select(
            _party.c.id, _party.c.key, _party.c.kind, _party.c.name, held_value.label("held")
        ).where(or_(_party.c.kind == "organization", _party.c.id.in_(people)))
        batches.append(list(connection.execute(query, params).all()))
    else:
        wanted = sorted(ids)
        for start in range(0, len(wanted), prepared.MAX_BOUND):
            values: dict[str, Any] = {}
            shape = bind_ids(values, "ids", wanted[start : start + prepared.MAX_BOUND])
            batches.append(statements.names(shape, held).rows(connection, values))
    parties: dict[int, Named] = {}
    emails: dict[int, str] = {}
    attributes: dict[int, Mapping[str, Any]] = {}
    for found in batches:
        for party_id, key, kind, name, value in found:
            parties[party_id] = Named(party_id, key, kind, name)
            if not value or kind == "organization":
                continue
            if isinstance(value, str):
                emails[party_id] = value
                continue
            attributes[party_id] = value
            email = value.get("email")
            if isinstance(email, str):
                emails[party_id] = email
    return parties, emails, attributes
