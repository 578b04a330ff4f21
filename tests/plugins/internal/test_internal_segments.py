"""The internal plugin's segment SQL agrees with its service-level report and figures."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from internal_world import company, department, employ, handoff, person, request, serves, staff

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


ROLE_DATES = ("2026-02-01T00:00:00Z", "2026-04-20T10:00:00Z", "2026-07-01T00:00:00Z")


def _usage(who: str, at: datetime) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "crm_usage",
            "occurred_at": _day(at),
            "participants": [{"party": who, "role": "user"}],
            "payload": {"records_created": 1},
        }
    }


def _role_world(toolkit: Toolkit, seed: int = 4) -> list[str]:
    """Departments serving by declaration, people moving between them, requests, hand-offs."""
    rng = random.Random(seed)
    teams = ("it", "hr", "sales", "marketing", "finance", "crm")
    records: list[dict[str, Any]] = [company()]
    records += [department(key, key.title()) for key in teams]
    records += [
        serves("it", "acme", "2025-06-01"),
        serves("hr", "sales", "2025-06-01", until="2026-03-01"),
        serves("hr", "finance", "2026-03-01"),
        serves("finance", "marketing", "2025-06-01", until="2026-05-01"),
        serves("finance", "acme", "2026-05-01"),
    ]
    people = [f"emp{index:02d}" for index in range(24)]
    for index, key in enumerate(people):
        records.append(person(key, key.title()))
        first = teams[index % 5]
        if index % 4 == 0:  # moves on 2026-03-01
            records.append(employ(key, first, "2025-01-01", until="2026-03-01"))
            records.append(employ(key, teams[(index + 1) % 5], "2026-03-01"))
        else:
            records.append(employ(key, first, "2025-01-01"))
    start = datetime(2025, 9, 1, tzinfo=UTC)
    for _ in range(60):
        opened = start + timedelta(days=rng.uniform(0, 300))
        provider = rng.choice(("it", "hr", "finance"))
        requester = rng.choice([*people, "sales"])
        assignee = rng.choice([None, *people[:8]])
        records.append(request(requester, provider, _day(opened), "access", assignee=assignee))
    for _ in range(20):
        when = start + timedelta(days=rng.uniform(0, 300))
        sender, receiver = rng.sample([*people[:10], "marketing", "sales"], 2)
        records.append(handoff(sender, receiver, _day(when), rng.choice(("accepted", "pending"))))
    toolkit.write(records)
    toolkit.write([_usage(key, start + timedelta(days=rng.uniform(0, 300))) for key in people[:12]])
    return [*teams, *people]


def test_internal_roles_in_sql_match_the_plugins_roles(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"crm_owner": "crm", "activity_window_days": 120})
    keys = _role_world(toolkit)
    for as_of in ROLE_DATES:
        python: dict[str, set[tuple[str, str]]] = {
            "internal_customer": set(),
            "internal_supplier": set(),
        }
        for key in keys:
            for found in toolkit.roles(key, as_of=as_of):
                if found.plugin == "internal":
                    assert found.context is not None
                    python[found.role].add((key, found.context.key))
        for role, pairs in python.items():
            assert pairs, (role, as_of)
            want = {key for key, _ in pairs}
            assert _sql(toolkit, {"role": role}, as_of) == want, (role, as_of)
            for other in ("it", "sales", "acme", "crm", "emp03"):
                want = {key for key, context in pairs if context == other}
                of = {"attribute": "code", "value": other}
                toolkit.upsert_party(other, _kind(other), attributes={"code": other})
                assert _sql(toolkit, {"role": role, "of": of}, as_of) == want, (role, other)


def _kind(key: str) -> str:
    return {"acme": "organization"}.get(key, "person" if key.startswith("emp") else "department")
