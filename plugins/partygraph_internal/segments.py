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

The internal roles (internal customer and supplier of a department, and the
people's roles) are not offered: each weighs declared ``serves`` links,
requests and lead hand-offs in the activity window, and the catalogue, together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Float, Select, cast, func, literal, select

from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from partygraph_internal import tables
from partygraph_internal.settings import Settings
from partygraph_internal.statements import judgement

__all__ = ["metrics", "predicates"]

SettingsOf = Callable[[], Settings]
_r = tables.request


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
    """``breaching_sla``."""
    return [
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
        )
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
