"""Roles, the 360-degree view section and the figures of one party, from a snapshot.

An organisation is a ``customer_account`` (a won deal or a signed contract)
or a ``target_account`` (a deal in progress, or named in the config). A
person gets one role per current committee role, relative to the account
(context = the account). Buyers of a customer account are customers; end
users use what the account bought and are not buyers, and influencers sway
the decision without buying: the reason says so, and ``customer`` is false.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from partygraph import GraphReader, Party, PartySummary, RelationshipView, RoleAssignment
from partygraph.times import isoformat
from partygraph_b2b.analytics import AccountStatus, Snapshot, Stake, day, last_engaged
from partygraph_b2b.settings import BUYER_ROLES, COMMITTEE_ROLES, ROLE_LABELS

__all__ = [
    "account_metrics",
    "account_roles",
    "account_section",
    "person_metrics",
    "person_roles",
    "person_section",
]

_BUSINESS = ("industry", "employees", "annual_revenue")


def _summary(snapshot: Snapshot, party_id: int) -> PartySummary | None:
    found = snapshot.parties.get(party_id)
    return PartySummary(found.id, found.key, found.kind, found.name) if found else None


def _has_b2b_data(snapshot: Snapshot, account_id: int) -> bool:
    return bool(
        snapshot.by_account.get(account_id)
        or snapshot.deals.get(account_id)
        or snapshot.contracts.get(account_id)
        or account_id in snapshot.targets
        or account_id in snapshot.parent
        or snapshot.children.get(account_id)
    )


# -- organisations --------------------------------------------------------------------------------


def account_roles(snapshot: Snapshot, party: Party) -> list[RoleAssignment]:
    """``customer_account`` or ``target_account``, with the deals and contracts behind it."""
    assert party.id is not None
    status = snapshot.status(party.id)
    if status is None:
        return []
    return [
        RoleAssignment(
            status.role,
            reason=status.reason,
            customer=status.role == "customer_account",
            kind="external",
            since=status.since,
            evidence=status.evidence,
        )
    ]


def account_section(snapshot: Snapshot, party: Party, graph: GraphReader) -> dict[str, Any] | None:
    """Status, business data, deals, the committee with tracks, coverage, scores, hierarchy."""
    assert party.id is not None
    account = party.id
    business = {name: party.attributes[name] for name in _BUSINESS if name in party.attributes}
    past = _past_stakeholders(snapshot, party, graph)
    if not _has_b2b_data(snapshot, account) and not past:
        return {"business": business} if business else None
    status = snapshot.status(account)
    people = sorted(
        snapshot.by_account.get(account, []),
        key=lambda p: (
            COMMITTEE_ROLES.index(snapshot.roles_of(p, account)[0]),
            snapshot.name(p).lower(),
        ),
    )
    coverage = snapshot.coverage(account)
    coverage.pop("account")
    scores = snapshot.scores()
    engagement = snapshot.score_entry(account, scores)
    engagement.pop("account")
    return {
        "account_status": status.role if status else None,
        "business": business,
        "deals": [found.as_dict() for found in snapshot.deals.get(account, [])],
        "pipeline": snapshot.pipeline(account) | snapshot.rolled_pipeline(account),
        "committee": [
            {
                key: value
                for key, value in snapshot.stakeholder_entry(person, account).items()
                if key != "account"
            }
            | ({"excluded": snapshot.excluded[person]} if person in snapshot.excluded else {})
            for person in people
        ],
        "coverage": coverage,
        "engagement": engagement,
        "hierarchy": {
            "parent": snapshot.summary(snapshot.parent[account])
            if account in snapshot.parent
            else None,
            "ancestors": [snapshot.summary(a) for a in snapshot.ancestors(account)],
            "subsidiaries": [snapshot.summary(c) for c in snapshot.children.get(account, [])],
        },
        "past_stakeholders": past,
    }


def _past_stakeholders(
    snapshot: Snapshot, party: Party, graph: GraphReader
) -> list[dict[str, Any]]:
    """Committee roles that ended by the as-of date: history is kept, never lost."""
    found = []
    for view in graph.relationships(
        party, type="stakeholder_of", direction="incoming", as_of=snapshot.at, history=True
    ):
        rel = view.relationship
        if view.current or rel.valid_to is None or rel.valid_to > snapshot.at:
            continue
        found.append(
            {
                "person": {
                    "id": view.other.id,
                    "key": view.other.key,
                    "kind": view.other.kind,
                    "name": view.other.name,
                },
                "role": rel.role,
                "from": isoformat(rel.valid_from),
                "to": isoformat(rel.valid_to),
                "relationship": rel.id,
            }
        )
    return found


def account_metrics(snapshot: Snapshot, party: Party) -> dict[str, float | int | str | None] | None:
    """Score (own and rolled up), committee counts and coverage, pipeline."""
    assert party.id is not None
    account = party.id
    if not _has_b2b_data(snapshot, account):
        return None
    coverage = snapshot.coverage(account)
    own, rolled = snapshot.scores().get(account, (0.0, 0.0))
    pipeline = snapshot.pipeline(account)
    rolled_pipeline = snapshot.rolled_pipeline(account)
    required = len(coverage["required"])
    return {
        "engagement_score": own,
        "rolled_up_score": rolled,
        "stakeholders": coverage["stakeholders"],
        "engaged_stakeholders": coverage["engaged_stakeholders"],
        "coverage": round(len(coverage["covered"]) / required, 4) if required else None,
        "missing_roles": ",".join(coverage["missing"]),
        "single_threaded": int(coverage["single_threaded"]),
        "open_pipeline": pipeline["open"],
        "won_amount": pipeline["won"],
        "rolled_up_open_pipeline": rolled_pipeline["rolled_up_open"],
        "rolled_up_won_amount": rolled_pipeline["rolled_up_won"],
        "currency": pipeline["currency"],
    }


# -- people ---------------------------------------------------------------------------------------


def person_roles(snapshot: Snapshot, party: Party) -> list[RoleAssignment]:
    """One committee role per current ``stakeholder_of`` link, relative to the account."""
    assert party.id is not None
    person = party.id
    found: list[RoleAssignment] = []
    stakes = sorted(
        (
            stake
            for account in snapshot.by_person.get(person, [])
            for stake in snapshot.links_of(person, account)
        ),
        key=lambda s: (snapshot.name(s.account_id).lower(), COMMITTEE_ROLES.index(s.role)),
    )
    for stake in stakes:
        status = snapshot.status(stake.account_id)
        reason, evidence = _stake_reason(snapshot, stake, status)
        found.append(
            RoleAssignment(
                stake.role,
                reason=reason,
                context=_summary(snapshot, stake.account_id),
                customer=stake.role in BUYER_ROLES
                and status is not None
                and status.role == "customer_account",
                kind="external",
                since=stake.valid_from,
                until=stake.valid_to,
                evidence=evidence,
            )
        )
    return found


def _stake_reason(
    snapshot: Snapshot, stake: Stake, status: AccountStatus | None
) -> tuple[str, tuple[str, ...]]:
    account = snapshot.name(stake.account_id)
    key = snapshot.parties[stake.account_id].key if stake.account_id in snapshot.parties else ""
    label = ROLE_LABELS[stake.role]
    evidence = [f"relationship #{stake.relationship_id}"]
    since = f" since {day(stake.valid_from)}" if stake.valid_from else ""
    until = f" until {day(stake.valid_to)}" if stake.valid_to else ""
    head = f"{label} of {account} ({key}){since}{until} (relationship #{stake.relationship_id})"
    parts = [head]

    job = snapshot.job_at(stake.person_id, stake.account_id)
    if job is not None:
        what = ", ".join(item for item in (job.title, job.department) if item) or "staff"
        where = (
            ""
            if job.organization_id == stake.account_id
            else f" at {snapshot.name(job.organization_id)}, in the same group"
        )
        parts.append(f"works there as {what}{where} (relationship #{job.relationship_id})")
        evidence.append(f"relationship #{job.relationship_id}")
    else:
        employers = [snapshot.name(j.organization_id) for j in snapshot.employers(stake.person_id)]
        elsewhere = f" (works at {', '.join(employers)})" if employers else ""
        prefix = "an outside influencer: " if stake.role == "influencer" else "an outsider: "
        parts.append(f"{prefix}does not work at {account}{elsewhere}")

    state = status.role if status is not None else None
    brief = status.brief if status is not None else ""
    if stake.role in BUYER_ROLES:
        if state == "customer_account":
            parts.append(f"acts for {account} in buying, and {account} is a customer ({brief})")
        elif state == "target_account":
            parts.append(
                f"acts for {account} in a purchase in progress; {account} is a target "
                f"account, not yet a customer ({brief})"
            )
        else:
            parts.append(f"acts for {account} in buying; {account} has no won or open deal")
    elif stake.role == "end_user":
        if state == "customer_account":
            parts.append(f"a user of what {account} bought ({brief}), not a buyer")
        elif state == "target_account":
            parts.append(f"would use what {account} is buying ({brief}); a user, not a buyer")
        else:
            parts.append("a user, not a buyer")
    else:
        parts.append(f"sways {account}'s decision without buying or using the product")
    if status is not None:
        evidence.extend(status.evidence[:2])

    window = f"the {snapshot.settings.engagement_window_days} days to {day(snapshot.at)}"
    if stake.person_id in snapshot.excluded:
        parts.append(f"left out of engagement figures: {snapshot.excluded[stake.person_id]}")
    else:
        engaged = snapshot.engaged(stake.account_id, stake.person_id)
        if engaged is None:
            parts.append(f"not engaged in {window}")
        else:
            text = f"engaged {engaged.interactions} time(s) in {window}"
            touch = snapshot.last_touch(stake.account_id, stake.person_id)
            if touch is not None:
                what = touch.type.replace("_", " ")
                article = "an" if what[0] in "aeiou" else "a"
                text += (
                    f", last {article} {what} on {day(touch.occurred_at)} "
                    f"(interaction #{touch.interaction_id})"
                )
                evidence.append(f"interaction #{touch.interaction_id}")
            parts.append(text)
    track = snapshot.track(stake.person_id, stake.account_id)
    parts.append(f"messaging track: {track.name} ({track.description.rstrip('.')})")
    return "; ".join(parts) + ".", tuple(dict.fromkeys(evidence))


def person_section(
    snapshot: Snapshot, party: Party, stakes: Sequence[RelationshipView]
) -> dict[str, Any] | None:
    """The person's committee roles (with messaging tracks), jobs and ended roles.

    *stakes*: the person's ``stakeholder_of`` links seen as of the snapshot's
    date, ended ones included (``graph.relationships(..., history=True)``).
    """
    assert party.id is not None
    person = party.id
    accounts = sorted(
        snapshot.by_person.get(person, []),
        key=lambda a: (snapshot.name(a).lower(), a),
    )
    entries = []
    for account in accounts:
        entry = {key: value for key, value in snapshot.stakeholder_entry(person, account).items()}
        entry.pop("person")
        status = snapshot.status(account)
        entry["account_status"] = status.role if status is not None else None
        entry["relationships"] = [s.relationship_id for s in snapshot.links_of(person, account)]
        entries.append(entry)
    jobs = [
        {
            "organization": snapshot.summary(job.organization_id),
            "title": job.title,
            "department": job.department,
            "relationship": job.relationship_id,
        }
        for job in snapshot.employers(person)
    ]
    past = []
    for view in stakes:
        rel = view.relationship
        if view.current or rel.valid_to is None or rel.valid_to > snapshot.at:
            continue
        past.append(
            {
                "account": {
                    "id": view.other.id,
                    "key": view.other.key,
                    "kind": view.other.kind,
                    "name": view.other.name,
                },
                "role": rel.role,
                "from": isoformat(rel.valid_from),
                "to": isoformat(rel.valid_to),
                "relationship": rel.id,
            }
        )
    if not entries and not jobs and not past:
        return None
    return {
        "stakeholder_of": entries,
        "messaging_tracks": [
            {"account": entry["account"]["key"], "track": entry["track"], "themes": entry["themes"]}
            for entry in entries
        ],
        "works_at": jobs,
        "past_roles": past,
    }


def person_metrics(snapshot: Snapshot, party: Party) -> dict[str, float | int | str | None] | None:
    """Accounts the person is a stakeholder of, how many engaged, and when last."""
    assert party.id is not None
    person = party.id
    accounts = set(snapshot.by_person.get(person, []))
    if not accounts:
        return None
    engaged = [
        found for account in accounts if (found := snapshot.engaged(account, person)) is not None
    ]
    last = max((when for found in engaged if (when := last_engaged(found))), default=None)
    return {
        "stakeholder_accounts": len(accounts),
        "engaged_accounts": len(engaged),
        "last_engaged": isoformat(last),
    }
