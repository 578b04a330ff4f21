"""What the marketplace plugin says in SQL for segments: side roles, activity, incentives.

- Roles, one per configured side (``rider``, ``driver``, ``developer`` ...),
  with the platform as context, by the rule of
  :func:`partygraph_marketplace.parties.roles`: the stage of the side's
  membership in force at ``as_of`` is ``active`` or ``suspended``, and within
  its unbroken run of stages (same platform, no churn, no gap: a recursive
  query) the member was activated, or completed a transaction as that side,
  depending on the side's ``role_since``.
- Metrics per side: ``<side>_<transactions>`` (completed transactions up to
  ``as_of``, e.g. ``driver_trips``) for every member of the side, and per
  incentive program ``<program>_remaining``: transactions still missing in
  the program's current period (members with activity in it).
- Predicate ``churn_risk``: active members of a supply side whose completed
  transactions fell, by the rule of
  :func:`partygraph_marketplace.analytics.churn_risk`.
- Predicate ``near_incentive``: members with activity in the current period
  of a program (``program``, or any) who are at most ``within`` (default 2)
  transactions short of its threshold. The rating condition is not part of
  "near": it is judged when the period ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, case, false, func, literal, or_, select, union_all

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph.times import from_storage, to_storage
from partygraph_marketplace.membership import ROLE_STAGES
from partygraph_marketplace.periods import period_of
from partygraph_marketplace.settings import Program, Settings, Side
from partygraph_marketplace.tables import KIND_TRANSACTION, activity
from partygraph_marketplace.vocab import SIDE_OF

__all__ = ["metrics", "predicates"]

SettingsOf = Callable[[], Settings]
_a = activity


def _stages(scope: SegmentScope, side: str) -> Any:
    """Every stage of memberships of *side*: id, party, platform, status, start, end."""
    edge = scope.tables["relationship"]
    status = func.coalesce(func.nullif(edge.c.attributes["status"].as_string(), ""), "active")
    return select(
        edge.c.id,
        edge.c.source_id.label("party_id"),
        edge.c.target_id.label("platform_id"),
        status.label("status"),
        edge.c.valid_from.label("start"),
        edge.c.valid_to.label("end"),
    ).where(edge.c.type == SIDE_OF, edge.c.role == side)


def _in_force(scope: SegmentScope, side: str) -> Any:
    """The stage of each member of *side* in force at ``as_of`` (the latest start wins)."""
    stages = _stages(scope, side).subquery(f"mp_stages_{side}")
    ranked = (
        select(
            stages,
            func.row_number()
            .over(
                partition_by=stages.c.party_id,
                order_by=(stages.c.start.desc(), stages.c.id.desc()),
            )
            .label("place"),
        )
        .where(
            stages.c.start <= scope.as_of,
            or_(stages.c.end.is_(None), stages.c.end > scope.as_of),
        )
        .subquery(f"mp_ranked_{side}")
    )
    return ranked, ranked.c.place == 1


def _runs(scope: SegmentScope, side: str) -> Any:
    """Per member of *side* at ``as_of``: platform, current status, run start, ever active."""
    ranked, latest = _in_force(scope, side)
    current = select(
        ranked.c.party_id,
        ranked.c.platform_id,
        ranked.c.status.label("now"),
        ranked.c.start,
        ranked.c.status,
    ).where(latest, ranked.c.status != "churned")
    # Unnamed: a statement may hold several of these (each gets its own name).
    run = current.cte(recursive=True)
    before = _stages(scope, side).subquery(f"mp_before_{side}")
    run = run.union(
        select(
            before.c.party_id, before.c.platform_id, run.c.now, before.c.start, before.c.status
        ).where(
            before.c.party_id == run.c.party_id,
            before.c.platform_id == run.c.platform_id,
            before.c.end == run.c.start,
            before.c.status != "churned",
        )
    )
    return (
        select(
            run.c.party_id,
            run.c.platform_id,
            func.max(run.c.now).label("now"),
            func.min(run.c.start).label("since"),
            func.max(case((run.c.status == "active", 1), else_=0)).label("activated"),
        )
        .group_by(run.c.party_id, run.c.platform_id)
        .subquery(f"mp_member_{side}")
    )


def _side_role(side: Side, params: Mapping[str, Any], scope: SegmentScope) -> Select[Any]:
    runs = _runs(scope, side.name)
    if side.role_since == "activation":
        began = runs.c.activated == 1
    else:
        began = (
            select(literal(1))
            .where(
                _a.c.party_id == runs.c.party_id,
                _a.c.side == side.name,
                _a.c.kind == KIND_TRANSACTION,
                _a.c.completed.is_(True),
                _a.c.occurred_at >= runs.c.since,
                _a.c.occurred_at <= scope.as_of,
            )
            .exists()
        )
    chosen = select(runs.c.party_id).where(runs.c.now.in_(ROLE_STAGES), began)
    if "of" in params:
        chosen = chosen.where(runs.c.platform_id.in_(scope.members(params["of"])))
    return chosen


def _done_on(side: str) -> Any:
    return and_(_a.c.side == side, _a.c.kind == KIND_TRANSACTION, _a.c.completed.is_(True))


def _transactions(side: Side, scope: SegmentScope) -> Select[Any]:
    """Completed transactions up to ``as_of``, for every party with a stage of the side."""
    members = _stages(scope, side.name).subquery(f"mp_members_{side.name}")
    done = (
        select(_a.c.party_id, func.count().label("n"))
        .where(_done_on(side.name), _a.c.occurred_at <= scope.as_of)
        .group_by(_a.c.party_id)
        .subquery(f"mp_done_{side.name}")
    )
    everyone = select(members.c.party_id).distinct().subquery(f"mp_everyone_{side.name}")
    return select(everyone.c.party_id, func.coalesce(done.c.n, 0).label("value")).select_from(
        everyone.outerjoin(done, done.c.party_id == everyone.c.party_id)
    )


def _period_counts(settings: Settings, program: Program, scope: SegmentScope) -> Any:
    """Completed transactions per member in the program's period up to ``as_of``."""
    moment = from_storage(scope.as_of)
    assert moment is not None
    period = period_of(moment, program.period, settings.tz)
    return (
        select(_a.c.party_id, func.count().label("trips"))
        .where(
            _done_on(program.side),
            _a.c.occurred_at >= to_storage(period.start),
            _a.c.occurred_at <= scope.as_of,
        )
        .group_by(_a.c.party_id)
        .subquery("mp_period")
    )


def _remaining(settings: Settings, program: Program, scope: SegmentScope) -> Select[Any]:
    counts = _period_counts(settings, program, scope)
    short = case((counts.c.trips >= program.min_trips, 0), else_=program.min_trips - counts.c.trips)
    return select(counts.c.party_id, short.label("value"))


def _near(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Select[Any]:
    within = int(params.get("within", 2))
    chosen = [
        program
        for program in settings.programs
        if "program" not in params or program.name == params["program"]
    ]
    parts = []
    for program in chosen:
        counts = _period_counts(settings, program, scope)
        short = program.min_trips - counts.c.trips
        parts.append(select(counts.c.party_id).where(short >= 1, short <= within))
    if not parts:
        return select(_a.c.party_id).where(false())
    both = union_all(*parts).subquery("mp_near")
    return select(both.c.party_id)


def _churning(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    """Active members whose completed transactions fell, as ``churn_risk`` judges it."""
    side = settings.side(params["side"]) if "side" in params else settings.default_side("supply")
    churn = settings.churn
    end = scope.as_of + timedelta(microseconds=1)  # an event at exactly as_of counts
    middle = end - timedelta(weeks=churn.window_weeks)
    start = end - timedelta(weeks=2 * churn.window_weeks)
    counts = (
        select(
            _a.c.party_id,
            func.sum(case((_a.c.occurred_at < middle, 1), else_=0)).label("before"),
            func.sum(case((_a.c.occurred_at >= middle, 1), else_=0)).label("recent"),
        )
        .where(_done_on(side.name), _a.c.occurred_at >= start, _a.c.occurred_at < end)
        .group_by(_a.c.party_id)
        .subquery("mp_churn")
    )
    ranked, latest = _in_force(scope, side.name)
    active = select(ranked.c.party_id).where(latest, ranked.c.status == "active")
    return select(counts.c.party_id).where(
        counts.c.before >= churn.min_trips,
        counts.c.recent <= counts.c.before * (1 - churn.drop),
        counts.c.party_id.in_(active),
    )


def _metric_name(text: str) -> str:
    """A metric name from a side, noun or program name (lower case, digits, _)."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "x"


def _bind_side(side: Side) -> Callable[[Mapping[str, Any], SegmentScope], Select[Any]]:
    return lambda params, scope: _side_role(side, params, scope)


def _bind_transactions(side: Side) -> Callable[[SegmentScope], Select[Any]]:
    return lambda scope: _transactions(side, scope)


def _bind_remaining(
    settings_of: SettingsOf, program: Program
) -> Callable[[SegmentScope], Select[Any]]:
    return lambda scope: _remaining(settings_of(), program, scope)


def predicates(settings_of: SettingsOf) -> list[SegmentPredicate]:
    """One role predicate per side, and ``near_incentive``."""
    settings = settings_of()
    found = [
        SegmentPredicate(
            f"side_{_metric_name(side.name)}",
            _bind_side(side),
            description=f"{side.label}s now (of = the platforms), as the role {side.name!r}.",
            schema={
                "type": "object",
                "properties": {"role": {"type": "string"}, "of": {"type": "object"}},
                "additionalProperties": False,
            },
            roles={side.name},
        )
        for side in settings.sides
    ]
    found.append(
        SegmentPredicate(
            "near_incentive",
            lambda params, scope: _near(settings_of(), params, scope),
            description=(
                "Members with activity in the current period of an incentive program "
                "(program, default any) at most within (default 2) transactions short of it."
            ),
            schema={
                "type": "object",
                "properties": {
                    "program": {"enum": [program.name for program in settings.programs]},
                    "within": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
            condition_params=frozenset(),
        )
    )
    supply = [side.name for side in settings.sides if side.supply]
    found.append(
        SegmentPredicate(
            "churn_risk",
            lambda params, scope: _churning(settings_of(), params, scope),
            description=(
                "Active members of a supply side (side, default the first) whose completed "
                "transactions in the last churn window fell by churn.drop or more."
            ),
            schema={
                "type": "object",
                "properties": {"side": {"enum": supply}},
                "additionalProperties": False,
            },
            condition_params=frozenset(),
        )
    )
    return found


def metrics(settings_of: SettingsOf) -> list[SegmentMetric]:
    """Completed transactions per side, and what remains to each incentive."""
    settings = settings_of()
    plural = _metric_name(settings.transaction.plural)
    found = [
        SegmentMetric(
            f"{_metric_name(side.name)}_{plural}",
            _bind_transactions(side),
            description=f"Completed {settings.transaction.plural} as {side.name} up to as_of.",
            unit=settings.transaction.plural,
        )
        for side in settings.sides
    ]
    found += [
        SegmentMetric(
            f"{_metric_name(program.name)}_remaining",
            _bind_remaining(settings_of, program),
            description=(
                f"{settings.transaction.plural.capitalize()} still missing for {program.name} "
                "in its current period (members with activity in it)."
            ),
            unit=settings.transaction.plural,
        )
        for program in settings.programs
    ]
    return found
