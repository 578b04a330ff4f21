"""What the b2b plugin says in SQL for segments: committee roles, account status, threading.

- Roles, as :mod:`partygraph_b2b.roles` assigns them: every buying-committee
  role (``economic_buyer``, ``end_user`` ...) from the current
  ``stakeholder_of`` links, with the account as context (``{role =
  "economic_buyer", of = {role = "target_account"}}``), and the accounts'
  ``customer_account`` (a deal won as it stood at ``as_of``, or a signed
  contract) and ``target_account`` (an open deal, or named in the config).
- Metrics per account with a committee: ``stakeholders``,
  ``engaged_stakeholders``, ``coverage`` (the share of required roles held by
  someone who engaged in the window) and ``engagement_score`` (the account's
  own score), from the engagement rows the snapshot reads
  (:func:`partygraph_b2b.analytics.engaged_pairs` and ``engagement_rows``).
- Predicate ``single_threaded``: accounts with a committee and at most
  ``max_engaged`` (default 1) engaged stakeholders.

The segment's own privacy check applies to its members; people a privacy
plugin would leave out of the analytics purpose are still counted here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, distinct, func, literal, or_, select

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph_b2b import tables
from partygraph_b2b.analytics import engaged_pairs, engagement_rows
from partygraph_b2b.settings import COMMITTEE_ROLES, Settings
from partygraph_b2b.vocabulary import ACCOUNT_ROLE

__all__ = ["metrics", "predicates"]

SettingsOf = Callable[[], Settings]
_OF = {
    "type": "object",
    "properties": {"role": {"enum": list(COMMITTEE_ROLES)}, "of": {"type": "object"}},
    "additionalProperties": False,
}


def _stakes(scope: SegmentScope) -> Any:
    """The current ``stakeholder_of`` links: (account_id, person_id, role)."""
    edge = scope.tables["relationship"]
    return (
        select(
            edge.c.target_id.label("account_id"),
            edge.c.source_id.label("person_id"),
            edge.c.role,
        )
        .where(
            edge.c.type == "stakeholder_of",
            edge.c.valid_from <= scope.as_of,
            or_(edge.c.valid_to.is_(None), edge.c.valid_to > scope.as_of),
            edge.c.role.in_(COMMITTEE_ROLES),
        )
        .subquery("b2b_stakes")
    )


def _committee_role(params: Mapping[str, Any], scope: SegmentScope) -> Select[Any]:
    stakes = _stakes(scope)
    chosen = select(stakes.c.person_id).where(stakes.c.role == params["role"])
    if "of" in params:
        chosen = chosen.where(stakes.c.account_id.in_(scope.members(params["of"])))
    return chosen


def _deal_statuses(scope: SegmentScope, status: str) -> Select[Any]:
    """Accounts with a deal whose latest state at ``as_of`` has *status*."""
    deal, state = tables.deal, tables.deal_state
    later = state.alias("b2b_later")
    newer = (
        select(literal(1))
        .where(
            later.c.deal_id == state.c.deal_id,
            later.c.at > state.c.at,
            later.c.at <= scope.as_of,
        )
        .exists()
    )
    return (
        select(deal.c.account_id)
        .select_from(deal.join(state, state.c.deal_id == deal.c.id))
        .where(state.c.at <= scope.as_of, state.c.status == status, ~newer)
    )


def _signed(scope: SegmentScope) -> Select[Any]:
    taking_part = scope.tables["participant"]
    return select(taking_part.c.party_id).where(
        taking_part.c.type == "contract_signed",
        taking_part.c.role == ACCOUNT_ROLE,
        taking_part.c.occurred_at < scope.as_of,
    )


def _organizations(scope: SegmentScope) -> tuple[Any, Select[Any]]:
    party = scope.tables["party"]
    return party, select(party.c.id).where(party.c.kind == "organization")


def _customer_accounts(params: Mapping[str, Any], scope: SegmentScope) -> Select[Any]:
    party, chosen = _organizations(scope)
    return chosen.where(
        or_(party.c.id.in_(_deal_statuses(scope, "won")), party.c.id.in_(_signed(scope)))
    )


def _target_accounts(
    settings: Settings, params: Mapping[str, Any], scope: SegmentScope
) -> Select[Any]:
    party, chosen = _organizations(scope)
    reasons = [party.c.id.in_(_deal_statuses(scope, "open"))]
    if settings.target_accounts:
        reasons.append(party.c.key.in_(sorted(settings.target_accounts)))
    return chosen.where(or_(*reasons), party.c.id.not_in(_customer_accounts(params, scope)))


def _threads(settings: Settings, scope: SegmentScope) -> Any:
    """Per account with a committee: stakeholders, engaged ones, required roles covered."""
    stakes = _stakes(scope)
    engaged = engaged_pairs(settings, scope.as_of).subquery("b2b_engaged")
    joined = stakes.outerjoin(
        engaged,
        and_(
            engaged.c.account_id == stakes.c.account_id,
            engaged.c.person_id == stakes.c.person_id,
        ),
    )
    # A required role is covered when someone holding it engaged (COUNT skips NULLs).
    required = list(settings.required_roles)
    holds = and_(engaged.c.person_id.is_not(None), stakes.c.role.in_(required))
    held = case((holds, stakes.c.role))
    covered = func.count(distinct(held)) if required else literal(0)
    return (
        select(
            stakes.c.account_id,
            func.count(distinct(stakes.c.person_id)).label("stakeholders"),
            func.count(distinct(engaged.c.person_id)).label("engaged"),
            covered.label("covered"),
        )
        .select_from(joined)
        .group_by(stakes.c.account_id)
        .subquery("b2b_threads")
    )


def _single_threaded(
    settings: Settings, params: Mapping[str, Any], scope: SegmentScope
) -> Select[Any]:
    threads = _threads(settings, scope)
    most = int(params.get("max_engaged", 1))
    return select(threads.c.account_id).where(threads.c.engaged <= most)


def _metric(column: str) -> Callable[[Settings, SegmentScope], Select[Any]]:
    def build(settings: Settings, scope: SegmentScope) -> Select[Any]:
        threads = _threads(settings, scope)
        return select(threads.c.account_id.label("party_id"), threads.c[column].label("value"))

    return build


def _engagement_score(settings: Settings, scope: SegmentScope) -> Select[Any]:
    """Per account with a committee: stakeholders' weighted interactions x role weight."""
    stakes = _stakes(scope)
    weights = {role: literal(settings.role_weight(role), Float()) for role in COMMITTEE_ROLES}
    weight = case(weights, value=stakes.c.role, else_=literal(0.0, Float()))
    best = (
        select(stakes.c.account_id, stakes.c.person_id, func.max(weight).label("weight"))
        .group_by(stakes.c.account_id, stakes.c.person_id)
        .subquery("b2b_weights")
    )
    rows = engagement_rows(settings, scope.as_of).subquery("b2b_engagement")
    scored = best.outerjoin(
        rows,
        and_(rows.c.account_id == best.c.account_id, rows.c.person_id == best.c.person_id),
    )
    total = func.coalesce(func.sum(rows.c.raw_score * best.c.weight), 0.0)
    return (
        select(best.c.account_id.label("party_id"), total.label("value"))
        .select_from(scored)
        .group_by(best.c.account_id)
    )


def _coverage(settings: Settings, scope: SegmentScope) -> Select[Any]:
    threads = _threads(settings, scope)
    required = len(settings.required_roles)
    value = cast(threads.c.covered, Float) / required if required else literal(None)
    return select(threads.c.account_id.label("party_id"), value.label("value"))


def predicates(settings_of: SettingsOf) -> list[SegmentPredicate]:
    """Committee roles, account status and single-threaded accounts."""
    return [
        SegmentPredicate(
            "committee_role",
            _committee_role,
            description=(
                "People holding a buying-committee role now (params: role, and of = the accounts)."
            ),
            schema={**_OF, "required": ["role"]},
            roles=frozenset(COMMITTEE_ROLES),
        ),
        SegmentPredicate(
            "customer_account",
            _customer_accounts,
            description="Organisations with a deal won (as it stood then) or a signed contract.",
            roles={"customer_account"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "target_account",
            lambda params, scope: _target_accounts(settings_of(), params, scope),
            description="Organisations with an open deal or named in target_accounts, "
            "not customers yet.",
            roles={"target_account"},
            condition_params=frozenset(),
        ),
        SegmentPredicate(
            "single_threaded",
            lambda params, scope: _single_threaded(settings_of(), params, scope),
            description=(
                "Accounts with a buying committee and at most max_engaged (default 1) "
                "stakeholders engaged in the engagement window."
            ),
            schema={
                "type": "object",
                "properties": {"max_engaged": {"type": "integer", "minimum": 0}},
                "additionalProperties": False,
            },
            condition_params=frozenset(),
        ),
    ]


def metrics(settings_of: SettingsOf) -> list[SegmentMetric]:
    """Committee size, engaged stakeholders and role coverage per account."""

    def bound(build: Callable[[Settings, SegmentScope], Select[Any]]) -> Any:
        return lambda scope: build(settings_of(), scope)

    return [
        SegmentMetric(
            "stakeholders",
            bound(_metric("stakeholders")),
            description="People on the account's buying committee now.",
            unit="people",
        ),
        SegmentMetric(
            "engaged_stakeholders",
            bound(_metric("engaged")),
            description="Committee members who engaged in the engagement window.",
            unit="people",
        ),
        SegmentMetric(
            "engagement_score",
            bound(_engagement_score),
            description="The account's own engagement score (recency- and type-weighted "
            "interactions of its stakeholders x role weight).",
        ),
        SegmentMetric(
            "coverage",
            bound(_coverage),
            description="Share of the required roles held by someone who engaged (0-1).",
        ),
    ]
