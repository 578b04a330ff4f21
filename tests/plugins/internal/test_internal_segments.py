"""The internal plugin's segment SQL agrees with its service-level report and figures."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from internal_world import company, department, request, serves, staff

from partygraph import Toolkit

PROVIDERS = ("it", "hr", "finance", "facilities")
DATES = ("2026-03-01T00:00:00Z", "2026-05-15T09:30:00Z")
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


def _day(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _world(toolkit: Toolkit, seed: int = 21) -> None:
    """Four service departments answering requests from staff, some late, some still open."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = [company()]
    records += [department(key, key.title()) for key in (*PROVIDERS, "sales", "ops")]
    records += staff("sales", "sal", 6) + staff("ops", "op", 6)
    records += [serves(key, "acme", "2025-01-01") for key in PROVIDERS]
    requesters = [f"sal{n}" for n in range(1, 7)] + [f"op{n}" for n in range(1, 7)]
    quality = {"it": 0.9, "hr": 0.6, "finance": 0.4, "facilities": 0.97}
    start = datetime(2025, 12, 1, tzinfo=UTC)
    for _ in range(220):
        provider = rng.choice(PROVIDERS)
        opened = start + timedelta(days=rng.uniform(0, 170), hours=rng.uniform(0, 23))
        draw = rng.random()
        resolved = None
        if draw < 0.9:
            hours = rng.uniform(0.5, 6) if rng.random() < quality[provider] else rng.uniform(9, 90)
            resolved = _day(opened + timedelta(hours=hours))
        records.append(
            request(rng.choice(requesters), provider, _day(opened), "access", resolved=resolved)
        )
    toolkit.write(records)


def _sql(toolkit: Toolkit, where: dict[str, Any], as_of: str) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_sla_figures_match_the_plugins_figures(internal_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = internal_toolkit({"report_days": 60})
    _world(toolkit)
    for as_of in DATES:
        figures = {k: dict(toolkit.metrics(k, as_of).get("internal") or {}) for k in PROVIDERS}
        for name, op, value in (
            ("sla_attainment", "<", 0.8),
            ("sla_attainment", ">=", 0.8),
            ("sla_breached", ">=", 5),
            ("requests_received", ">", 20),
        ):
            compare = OPS[op]
            want = {
                key
                for key, found in figures.items()
                if found.get(name) is not None and compare(found[name], value)
            }
            got = _sql(toolkit, {"metric": f"internal.{name}", "op": op, "value": value}, as_of)
            assert got == want, (name, op, value, as_of)


def test_departments_breaching_sla_match_the_service_level_report(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    _world(toolkit)
    plugin: Any = toolkit.plugin("internal")
    seen = set()
    for as_of in DATES:
        until = datetime.fromisoformat(as_of)
        for days, target in ((30, 0.9), (45, 0.7), (90, 0.95)):
            report = plugin.service_levels(until - timedelta(days=days), until)
            want = {
                row["department"]
                for row in report
                if row["sla"]["attainment"] is not None and row["sla"]["attainment"] < target
            }
            params = {"days": days, "target": target}
            where = {"predicate": "internal.breaching_sla", "params": params}
            assert _sql(toolkit, where, as_of) == want, (as_of, days, target)
            seen |= want
    assert {"finance", "hr"} <= seen
    # Without parameters: the report_days window (90 by default) and a 0.95 target.
    default = {"predicate": "internal.breaching_sla"}
    explicit = {"predicate": "internal.breaching_sla", "params": {"days": 90, "target": 0.95}}
    assert _sql(toolkit, default, DATES[1]) == _sql(toolkit, explicit, DATES[1])
