"""What the household plugin says in SQL for segments: member roles and household figures.

- Roles of people, with the household as context (``{role = "dependent", of =
  {kind = "household"}}``): ``household_member`` and ``head_of_household``
  (a current ``member_of`` link, in the role head for the latter) and
  ``dependent`` (the rule of :func:`partygraph_household.rollup.dependency`:
  not the head, and younger than ``dependent_age_limit`` by the
  ``birth_date`` attribute, or, with no known age, in the role dependent).
- Metrics of households: ``members`` and ``dependents`` (current
  memberships), ``spend``, ``recent_spend`` and ``purchases`` (purchases net
  of returns credited to the household the buyer belonged to, from the
  statement the roll-ups use, :func:`partygraph_household.queries.spend_statement`).

``household_influencer`` (bought nothing in the ``recent_days``, but other
members bought for them: named consumer, or using what they bought) shares its
statements with the roles (:func:`partygraph_household.queries.influence_statement`
and ``usage_influence_statement``), correlated to each current membership.

Not offered: ``customer_household`` (it asks every plugin's roles); a segment
can say it itself: households with a current member who is a customer.

The figures count every current member; the roll-ups leave out members a
privacy plugin excludes from aggregation, and the segment's own privacy check
applies to its members (the households).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, or_, select

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph.times import to_storage
from partygraph_household.queries import (
    attribute_text,
    influence_statement,
    own_purchase_conditions,
    spend_statement,
    usage_influence_statement,
)
from partygraph_household.settings import Settings
from partygraph_household.vocabulary import HEAD, HOUSEHOLD, MEMBER_OF

__all__ = ["metrics", "predicates"]

SettingsOf = Callable[[], Settings]
ROLES = ("household_member", "head_of_household", "dependent", "household_influencer")
_ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}"
_SQLITE_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*"


def _current_members(scope: SegmentScope) -> Any:
    """Current memberships: (person_id, household_id, role, birth date text or NULL)."""
    edge = scope.tables["relationship"]
    person = scope.tables["party"]
    born = func.substr(attribute_text(scope.dialect, person.c.attributes, "birth_date"), 1, 10)
    return (
        select(
            edge.c.source_id.label("person_id"),
            edge.c.target_id.label("household_id"),
            func.coalesce(func.nullif(edge.c.role, ""), "other").label("role"),
            born.label("born"),
        )
        .select_from(edge.join(person, person.c.id == edge.c.source_id))
        .where(
            edge.c.type == MEMBER_OF,
            edge.c.valid_from <= scope.as_of,
            or_(edge.c.valid_to.is_(None), edge.c.valid_to > scope.as_of),
        )
        .subquery("household_members")
    )


def _is_date(scope: SegmentScope, text: Any) -> ColumnElement[bool]:
    if scope.dialect == "postgresql":
        return and_(text.is_not(None), text.regexp_match(_ISO_DATE))
    return and_(text.is_not(None), text.op("GLOB")(literal(_SQLITE_DATE)))


def _dependent(settings: Settings, scope: SegmentScope, members: Any) -> ColumnElement[bool]:
    """The dependent rule on a row of :func:`_current_members`."""
    not_head = members.c.role != HEAD
    by_role = members.c.role == "dependent"
    limit = settings.dependent_age_limit
    if limit is None:
        return and_(not_head, by_role)
    today = to_storage(scope.as_of).date()
    # Younger than the limit <=> born after this day, the limit's years before today
    # (compared as ISO text, which orders like dates: no 29 February to correct).
    cutoff = f"{today.year - limit:04d}-{today.month:02d}-{today.day:02d}"
    known = _is_date(scope, members.c.born)
    return and_(
        not_head,
        case((known, members.c.born > cutoff), else_=by_role),
    )


def _influencer(settings: Settings, scope: SegmentScope, members: Any) -> ColumnElement[bool]:
    """Bought nothing in the recent window, but other members bought for this member then."""
    purchases = settings.purchases
    since = scope.as_of - timedelta(days=settings.recent_days)
    person, household = members.c.person_id, members.c.household_id
    named = influence_statement(purchases, person, household, since, scope.as_of)
    used = usage_influence_statement(
        scope.dialect, purchases, person, household, since, scope.as_of
    )
    ways = [found.exists() for found in (named, used) if found is not None]
    if not ways:
        return false()
    taking_part = scope.tables["participant"].alias("household_own")
    bought = select(literal(1)).where(
        *own_purchase_conditions(purchases, taking_part, person, since, scope.as_of)
    )
    return and_(or_(*ways), ~bought.exists())


def _member_role(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    members = _current_members(scope)
    chosen = select(members.c.person_id)
    role = params["role"]
    if role == "head_of_household":
        chosen = chosen.where(members.c.role == HEAD)
    elif role == "dependent":
        chosen = chosen.where(_dependent(settings, scope, members))
    elif role == "household_influencer":
        chosen = chosen.where(_influencer(settings, scope, members))
    if "of" in params:
        chosen = chosen.where(members.c.household_id.in_(scope.members(params["of"])))
    return chosen


def _life_stage(settings: Settings, scope: SegmentScope) -> Any:
    """Per household: current memberships and dependents (0 for households with none)."""
    members = _current_members(scope)
    household = scope.tables["party"].alias("household")
    dependent = case((_dependent(settings, scope, members), 1), else_=0)
    return (
        select(
            household.c.id.label("household_id"),
            func.count(members.c.person_id).label("members"),
            func.coalesce(func.sum(dependent), 0).label("dependents"),
        )
        .select_from(household.outerjoin(members, members.c.household_id == household.c.id))
        .where(household.c.kind == HOUSEHOLD)
        .group_by(household.c.id)
        .subquery("household_life_stage")
    )


def _count(column: str) -> Callable[[Settings, SegmentScope], Select[Any]]:
    def build(settings: Settings, scope: SegmentScope) -> Select[Any]:
        found = _life_stage(settings, scope)
        return select(found.c.household_id.label("party_id"), found.c[column].label("value"))

    return build


def _spend(column: str) -> Callable[[Settings, SegmentScope], Select[Any]]:
    def build(settings: Settings, scope: SegmentScope) -> Select[Any]:
        since = scope.as_of - timedelta(days=settings.recent_days)
        rows = spend_statement(scope.dialect, settings.purchases, scope.as_of, since)
        if rows is None:
            party = scope.tables["party"]
            return select(party.c.id.label("party_id"), literal(0).label("value")).where(false())
        found = rows.subquery("household_spend")
        return select(
            found.c.household.label("party_id"), func.sum(found.c[column]).label("value")
        ).group_by(found.c.household)

    return build


def predicates(settings_of: SettingsOf) -> list[SegmentPredicate]:
    """The people's household roles, with the household as context."""
    return [
        SegmentPredicate(
            "member_role",
            lambda params, scope: _member_role(settings_of(), params, scope),
            description=(
                "Current household members, heads and dependents (params: role, and of = "
                "the households)."
            ),
            schema={
                "type": "object",
                "properties": {"role": {"enum": list(ROLES)}, "of": {"type": "object"}},
                "required": ["role"],
                "additionalProperties": False,
            },
            roles=frozenset(ROLES),
        )
    ]


def metrics(settings_of: SettingsOf) -> list[SegmentMetric]:
    """Household figures: members, dependents, spend."""

    def bound(build: Callable[[Settings, SegmentScope], Select[Any]]) -> Any:
        return lambda scope: build(settings_of(), scope)

    return [
        SegmentMetric(
            "members",
            bound(_count("members")),
            description="Current members of the household.",
            unit="people",
        ),
        SegmentMetric(
            "dependents",
            bound(_count("dependents")),
            description="Current members who are dependents (under the age limit, or so named).",
            unit="people",
        ),
        SegmentMetric(
            "spend",
            bound(_spend("amount")),
            description="Purchases net of returns credited to the household, all time.",
        ),
        SegmentMetric(
            "recent_spend",
            bound(_spend("recent_amount")),
            description="The same within the last recent_days.",
        ),
        SegmentMetric(
            "purchases",
            bound(_spend("purchases")),
            description="Purchases credited to the household, all time.",
            unit="purchases",
        ),
    ]
