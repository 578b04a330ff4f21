"""What the internal plugin says in SQL for segments: service levels of departments.

- Metrics of provider departments over the ``report_days`` up to ``as_of``
  (requests opened in ``[as_of - report_days, as_of)``, judged at ``as_of``
  with :func:`partygraph_internal.statements.judgement`, the rule of the
  service-level report): ``requests_received``, ``sla_breached`` and
  ``sla_attainment`` (met / (met + breached), for departments with a judged
  request).
- Predicate ``breaching_sla``: departments whose attainment over the last
  ``days`` (default ``report_days``) is below ``target`` (default 0.95), with
  at least ``min_judged`` (default 1) requests judged.

- Roles, with their context, by the rules of :mod:`partygraph_internal.roles`
  over the ``activity_window_days`` up to ``as_of``: ``internal_customer`` and
  ``internal_supplier`` of departments (declared ``serves`` links in force,
  requests credited to the requester's department of the day, lead hand-offs)
  and of people (requests they filed or handled, CRM usage when ``crm_owner``
  is set). A privacy plugin keeps an employee without a basis for
  ``employee_usage_analytics`` from being the CRM owner's customer in Python;
  SQL cannot ask it, so the segment's own privacy check is what applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Select,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    union,
)

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph.storage.tables import participant_table
from partygraph.times import MIN_TIME
from partygraph_internal import tables
from partygraph_internal.roles import INTERNAL_CUSTOMER, INTERNAL_SUPPLIER
from partygraph_internal.settings import Settings
from partygraph_internal.sql import credited_department
from partygraph_internal.statements import judgement
from partygraph_internal.vocabulary import DEPARTMENT, LEAD_HANDOFF, SERVES

__all__ = ["metrics", "predicates"]

SettingsOf = Callable[[], Settings]
_r = tables.request
usage = tables.usage


def _window(settings: Settings, scope: SegmentScope) -> datetime:
    days = settings.activity_window_days
    return scope.as_of - timedelta(days=days) if days is not None else MIN_TIME


def _requests(settings: Settings, scope: SegmentScope) -> Any:
    """Requests opened in the activity window, with the department each is credited to."""
    return (
        select(_r.c.provider_id, _r.c.requester_id, _r.c.assignee_id, _r.c.customer_id)
        .where(_r.c.opened_at >= _window(settings, scope), _r.c.opened_at <= scope.as_of)
        .subquery("internal_requests")
    )


def _handoffs(settings: Settings, scope: SegmentScope) -> Any:
    """Lead hand-offs in the activity window: (sending department, receiving department)."""
    until = scope.as_of + timedelta(microseconds=1)  # one at exactly as_of counts
    sides = {}
    for role in ("from", "to"):
        taking_part = participant_table.alias(f"seg_{role}")
        joined, department = credited_department(
            taking_part, taking_part.c.party_id, taking_part.c.occurred_at, f"seg_{role}"
        )
        sides[role] = (
            select(taking_part.c.interaction_id, department.label("department"))
            .select_from(joined)
            .where(
                taking_part.c.type == LEAD_HANDOFF,
                taking_part.c.role == role,
                taking_part.c.occurred_at >= _window(settings, scope),
                taking_part.c.occurred_at < until,
            )
            .subquery(f"internal_{role}_side")
        )
    sender, receiver = sides["from"], sides["to"]
    return (
        select(sender.c.department.label("sender"), receiver.c.department.label("receiver"))
        .select_from(sender.join(receiver, receiver.c.interaction_id == sender.c.interaction_id))
        .subquery("internal_handoffs")
    )


def _claims(settings: Settings, scope: SegmentScope) -> Any:
    """Every (party, role, context) the roles module would claim at ``as_of``."""
    edge = scope.tables["relationship"]
    party = scope.tables["party"]
    target = party.alias("seg_served")
    department = party.alias("seg_department")
    customer, supplier = literal(INTERNAL_CUSTOMER), literal(INTERNAL_SUPPLIER)
    in_force = and_(
        edge.c.type == SERVES,
        edge.c.valid_from <= scope.as_of,
        or_(edge.c.valid_to.is_(None), edge.c.valid_to > scope.as_of),
    )
    served = edge.join(target, target.c.id == edge.c.target_id)
    requests = _requests(settings, scope)
    handoffs = _handoffs(settings, scope)
    people = select(party.c.id).where(party.c.kind == "person")
    parts: list[Select[Any]] = [
        # Declared: the served department, or every department when an organisation is served.
        select(edge.c.target_id, customer, edge.c.source_id)
        .select_from(served)
        .where(in_force, target.c.kind == DEPARTMENT),
        select(department.c.id, customer, edge.c.source_id)
        .select_from(served.join(department, department.c.kind == DEPARTMENT))
        .where(in_force, target.c.kind != DEPARTMENT),
        select(edge.c.source_id, supplier, edge.c.target_id)
        .select_from(served)
        .where(in_force, target.c.kind == DEPARTMENT),
        select(edge.c.source_id, supplier, edge.c.target_id)
        .select_from(served)
        .where(in_force, target.c.kind != DEPARTMENT),
        # Requests: departments (credited) and people (who filed, who handled).
        select(requests.c.customer_id, customer, requests.c.provider_id),
        select(requests.c.provider_id, supplier, requests.c.customer_id),
        select(requests.c.requester_id, customer, requests.c.provider_id).where(
            requests.c.requester_id.in_(people)
        ),
        select(requests.c.requester_id, customer, requests.c.assignee_id).where(
            requests.c.requester_id.in_(people)
        ),
        select(requests.c.assignee_id, supplier, requests.c.requester_id).where(
            requests.c.assignee_id.in_(people)
        ),
        # Lead hand-offs between departments.
        select(handoffs.c.receiver, customer, handoffs.c.sender),
        select(handoffs.c.sender, supplier, handoffs.c.receiver),
    ]
    if settings.crm_owner is not None:
        owner = party.alias("seg_owner")
        parts.append(
            select(usage.c.party_id, customer, owner.c.id)
            .select_from(usage.join(owner, owner.c.key == settings.crm_owner))
            .where(
                usage.c.at >= _window(settings, scope),
                usage.c.at <= scope.as_of,
                usage.c.party_id.in_(people),
            )
        )
    claims = union(*parts).subquery("internal_claims")
    first, role, context = list(claims.c)
    kinds = select(party.c.id).where(party.c.kind.in_((DEPARTMENT, "person")))
    return (
        select(first.label("party_id"), role.label("role"), context.label("context_id"))
        .where(
            first.is_not(None),
            context.is_not(None),
            first != context,
            first.in_(kinds),
        )
        .subquery("internal_roles")
    )


def _role(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    claims = _claims(settings, scope)
    chosen = select(claims.c.party_id).where(claims.c.role == params["role"])
    if "of" in params:
        chosen = chosen.where(claims.c.context_id.in_(scope.members(params["of"])))
    return chosen


def service_levels(as_of: datetime, days: float) -> Any:
    """Per provider: requests opened in the *days* before *as_of*, met and breached."""
    until = literal(as_of, DateTime)
    flags = judgement(until)
    since = as_of - timedelta(days=days)
    return (
        select(
            _r.c.provider_id,
            func.count().label("requests"),
            func.sum(flags["met"]).label("met"),
            func.sum(flags["breached"]).label("breached"),
        )
        .where(_r.c.opened_at >= since, _r.c.opened_at < until)
        .group_by(_r.c.provider_id)
        .subquery("internal_service_levels")
    )


def _attainment(levels: Any) -> Any:
    judged = levels.c.met + levels.c.breached
    return cast(levels.c.met, Float) / func.nullif(judged, 0)


def _breaching(settings: Settings, params: Mapping[str, Any], scope: SegmentScope) -> Any:
    days = float(params.get("days", settings.report_days))
    levels = service_levels(scope.as_of, days)
    target = float(params.get("target", 0.95))
    judged = levels.c.met + levels.c.breached
    return select(levels.c.provider_id).where(
        judged >= int(params.get("min_judged", 1)),
        _attainment(levels) < target,
    )


def _figure(name: str) -> Callable[[Settings, SegmentScope], Select[Any]]:
    def build(settings: Settings, scope: SegmentScope) -> Select[Any]:
        levels = service_levels(scope.as_of, settings.report_days)
        value = {
            "requests_received": levels.c.requests,
            "sla_breached": levels.c.breached,
            "sla_attainment": _attainment(levels),
        }[name]
        return select(levels.c.provider_id.label("party_id"), value.label("value"))

    return build


def predicates(settings_of: SettingsOf) -> list[SegmentPredicate]:
    """The internal roles, and ``breaching_sla``."""
    return [
        SegmentPredicate(
            "internal_role",
            lambda params, scope: _role(settings_of(), params, scope),
            description=(
                "Internal customers and suppliers (params: role, and of = the other "
                "department or person)."
            ),
            schema={
                "type": "object",
                "properties": {
                    "role": {"enum": [INTERNAL_CUSTOMER, INTERNAL_SUPPLIER]},
                    "of": {"type": "object"},
                },
                "required": ["role"],
                "additionalProperties": False,
            },
            roles={INTERNAL_CUSTOMER, INTERNAL_SUPPLIER},
        ),
        SegmentPredicate(
            "breaching_sla",
            lambda params, scope: _breaching(settings_of(), params, scope),
            description=(
                "Provider departments whose SLA attainment over the last days (default "
                "report_days) is below target (default 0.95), with min_judged requests judged."
            ),
            schema={
                "type": "object",
                "properties": {
                    "target": {"type": "number", "minimum": 0, "maximum": 1},
                    "days": {"type": "number", "exclusiveMinimum": 0},
                    "min_judged": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
            condition_params=frozenset(),
        ),
    ]


def metrics(settings_of: SettingsOf) -> list[SegmentMetric]:
    """Service-level figures of provider departments over ``report_days``."""

    def bound(build: Callable[[Settings, SegmentScope], Select[Any]]) -> Any:
        return lambda scope: build(settings_of(), scope)

    return [
        SegmentMetric(
            "requests_received",
            bound(_figure("requests_received")),
            description="Service requests received in the last report_days.",
            unit="requests",
        ),
        SegmentMetric(
            "sla_breached",
            bound(_figure("sla_breached")),
            description="Of those, judged at as_of: resolved late, or open past their due time.",
            unit="requests",
        ),
        SegmentMetric(
            "sla_attainment",
            bound(_figure("sla_attainment")),
            description="Met / (met + breached) over the last report_days (0-1).",
        ),
    ]
