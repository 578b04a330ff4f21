"""The b2c plugin's segment SQL answers exactly what its Python roles and figures say."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from b2c_records import person, purchase, refund, usage

from partygraph import Toolkit

SETTINGS = {
    "prospects": {"exclude_relationship_types": ["works_at"]},
    "lapse_after_days": 150,
    "loyal": {"min_orders": 3, "window_days": 120, "min_clv": 150},
}
DATES = ("2026-01-15T00:00:00Z", "2026-06-01T00:00:00Z", "2026-09-30T12:00:00Z")
ROLES = ("customer", "lapsed_customer", "loyal_customer", "consumer", "prospect")
#: The b2b plugin brings works_at, which keeps an employee from being a lead.
ENABLED = ("b2c", "b2b")
OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
}


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _world(toolkit: Toolkit, seed: int = 11, *, employees: bool = False) -> list[str]:
    """Sixty people buying for themselves and for each other, returning, using products."""
    rng = random.Random(seed)
    keys = [f"p{index:02d}" for index in range(60)]
    births = ("2012-06-01", "1980-02-29", "2010-01-15", "1999-12-31", "2010-06-01")
    records: list[dict[str, Any]] = [
        person(key, **({"birth_date": births[index % 8]} if index % 8 < len(births) else {}))
        for index, key in enumerate(keys)
    ]
    records.append({"party": {"key": "shop", "kind": "organization"}})
    for key in keys[50:56] if employees else ():
        link = {"type": "works_at", "source": key, "target": "shop", "valid_from": "2026-03-01"}
        records.append({"relationship": link})
    start = datetime(2025, 1, 1, tzinfo=UTC)
    refunds = []
    for index in range(150):
        buyer = rng.choice(keys[:40])
        at = start + timedelta(days=rng.uniform(0, 600), hours=rng.randint(0, 23))
        others = rng.sample(keys, rng.choice((0, 0, 1, 2)))
        order = f"o{index}"
        price = rng.choice((20.0, 45.0, 90.0))
        records.append(
            purchase(order, _stamp(at), buyer, (("SKU", "toys", 1, price),), consumers=others)
        )
        if rng.random() < 0.2:
            amount = None if rng.random() < 0.6 else price / 2
            when = at + timedelta(days=rng.uniform(1, 60))
            refunds.append(refund(order, _stamp(when), buyer, amount))
    for key in rng.sample(keys, 12):
        at = start + timedelta(days=rng.uniform(0, 600))
        records.append(usage(key, _stamp(at)))
    toolkit.write(records)
    toolkit.write(refunds)
    return keys


def _sql(toolkit: Toolkit, where: dict[str, Any], as_of: str) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_roles_in_sql_match_the_plugins_roles(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c(SETTINGS, enabled=ENABLED)
    keys = _world(toolkit, employees=True)
    for as_of in DATES:
        python: dict[str, set[str]] = {role: set() for role in ROLES}
        for key in keys:
            for found in toolkit.roles(key, as_of=as_of):
                if found.plugin == "b2c" and found.role in python:
                    python[found.role].add(key)
        for role in ROLES:
            assert _sql(toolkit, {"role": role}, as_of) == python[role], (role, as_of)
            assert _sql(toolkit, {"role": role, "plugin": "b2c"}, as_of) == python[role]
        assert python["lapsed_customer"] or as_of == DATES[0]
        assert python["loyal_customer"], as_of
        assert python["prospect"], as_of
        assert python["consumer"], as_of


def test_consumers_of_some_purchasers(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c(SETTINGS)
    keys = _world(toolkit)
    as_of = DATES[1]
    chosen = {"p01", "p02", "p03", "p05", "p08", "p13"}
    want = set()
    for key in keys:
        for found in toolkit.roles(key, as_of=as_of):
            if found.role == "consumer" and found.context and found.context.key in chosen:
                want.add(key)
    for key in chosen:
        toolkit.upsert_party(key, "person", attributes={"vip": True})
    of = {"attribute": "vip", "value": True}
    assert want
    assert _sql(toolkit, {"role": "consumer", "of": of}, as_of) == want


def test_metrics_in_sql_match_the_plugins_figures(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c(SETTINGS)
    keys = _world(toolkit)
    as_of = DATES[1]
    figures = {key: dict(toolkit.metrics(key, as_of).get("b2c") or {}) for key in keys}
    customers = {key for key, found in figures.items() if found.get("orders")}
    cases: list[tuple[str, str, float]] = [
        ("orders", ">=", 3),
        ("historic_clv", ">", 120),
        ("recency_days", ">=", 90),
        ("recency_days", "<", 30),
    ]
    for name, op, value in cases:
        where = {"metric": f"b2c.{name}", "op": op, "value": value}
        want = {key for key in customers if OPS[op](figures[key][name], value)}
        assert want, where
        assert _sql(toolkit, where, as_of) == want, where
    # Lifetime value, cut between two customers' values (the figures are rounded to cents).
    values = sorted({figures[key]["clv"] for key in customers})
    for place in (len(values) // 4, len(values) // 2, 3 * len(values) // 4):
        cut = (values[place - 1] + values[place]) / 2
        want = {key for key in customers if figures[key]["clv"] > cut}
        assert _sql(toolkit, {"metric": "b2c.clv", "op": ">", "value": cut}, as_of) == want
    consumers = {key for key, found in figures.items() if found.get("consumer_purchases")}
    where = {"metric": "b2c.consumer_purchases", "op": ">=", "value": 1}
    assert _sql(toolkit, where, as_of) == consumers


def test_roles_follow_returns_as_of(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c(SETTINGS)
    toolkit.write(
        [
            person("ann"),
            person("kid"),
            purchase("a1", "2026-01-10T00:00:00Z", "ann", consumers=["kid"]),
            refund("a1", "2026-02-10T00:00:00Z", "ann"),
        ]
    )
    before, after = "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"
    assert _sql(toolkit, {"role": "customer"}, before) == {"ann"}
    assert _sql(toolkit, {"role": "consumer"}, before) == {"kid"}
    assert _sql(toolkit, {"role": "customer"}, after) == set()
    assert _sql(toolkit, {"role": "consumer"}, after) == set()
    assert _sql(toolkit, {"role": "customer"}, "2026-01-09T00:00:00Z") == set()
