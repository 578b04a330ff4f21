"""The example segments of docs/examples/segments.toml, on a generated world of every plugin.

Each segment's members must equal a plain computation through the public API
(roles, metrics, relationships and the plugins' own reports of each party),
less the people the privacy plugin gives no lawful basis for the purpose.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

import partygraph
from partygraph import Toolkit
from partygraph.testing import temporary_database

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "segments.toml"
AS_OF = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
START = datetime(2025, 1, 1, tzinfo=UTC)


def _t(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _config(url: str) -> dict[str, Any]:
    """The example config, on the test's database, with a privacy key of the test's own."""
    config = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    config["database"] = {"url": url}
    config["plugins"]["privacy"] = {"secret": "example-segments-test-key"}
    return config


def _people(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index:02d}" for index in range(count)]


def _person(key: str, **attributes: Any) -> dict[str, Any]:
    return {"party": {"key": key, "kind": "person", "attributes": attributes}}


def _edge(kind: str, source: str, target: str, since: datetime, **more: Any) -> dict[str, Any]:
    return {"relationship": {"type": kind, "source": source, "target": target,
                             "valid_from": _t(since), **more}}  # fmt: skip


def _event(kind: str, at: datetime, roles: Iterable[tuple[str, str]], **payload: Any) -> Any:
    participants = [{"party": party, "role": role} for party, role in roles]
    return {"interaction": {"type": kind, "occurred_at": _t(at), "participants": participants,
                            "payload": payload}}  # fmt: skip


def _shop(rng: random.Random, buyers: list[str]) -> list[dict[str, Any]]:
    """B2C: purchases for oneself and for others, over 18 months."""
    records = []
    for index in range(90):
        buyer = rng.choice(buyers)
        at = START + timedelta(days=rng.uniform(0, 515))
        consumers = [(other, "consumer") for other in rng.sample(buyers, rng.choice((0, 0, 1)))]
        line = {"sku": "S", "category": "toys", "quantity": 1, "unit_price": 30.0}
        records.append(_event("purchase", at, [(buyer, "purchaser"), *consumers],
                              order_id=f"o{index}", lines=[line]))  # fmt: skip
    return records


def _accounts(rng: random.Random, contacts: list[str]) -> list[dict[str, Any]]:
    """B2B: six organisations, committees, deals open and won, touchpoints."""
    orgs = [f"org{index}" for index in range(6)]
    records: list[dict[str, Any]] = [{"party": {"key": o, "kind": "organization"}} for o in orgs]
    roles = ("economic_buyer", "decision_maker", "end_user", "technical_evaluator",
             "executive_sponsor", "influencer")  # fmt: skip
    for index, person in enumerate(contacts):
        records.append(_edge("stakeholder_of", person, orgs[index % 6], START,
                             role=roles[index % len(roles)]))  # fmt: skip
    for index, org in enumerate(orgs[:5]):
        records.append({"deal": {"key": f"d{index}", "account": org, "at": "2026-01-05"}})
        if index < 2:
            records.append({"deal": {"key": f"d{index}", "account": org, "status": "won",
                                     "at": "2026-03-01"}})  # fmt: skip
    for _ in range(40):
        person = rng.choice(contacts)
        at = AS_OF - timedelta(days=rng.uniform(1, 120))
        records.append(_event("meeting", at, [(person, "attendee")]))
    return records


def _homes(people: list[str]) -> list[dict[str, Any]]:
    """Households: a head, a partner, and children of various ages."""
    records: list[dict[str, Any]] = []
    for index in range(5):
        home = f"home{index}"
        records.append({"party": {"key": home, "kind": "household"}})
        members = people[index * 4 : index * 4 + 4]
        for place, person in enumerate(members):
            role = ("head", "partner", "dependent", "other")[place]
            if index == 4 and role == "head":
                role = "partner"  # a household without a head
            records.append(_edge("member_of", person, home, START, role=role))
    return records


def _births(rng: random.Random, people: list[str]) -> dict[str, str]:
    """Birth dates: children in the third and fourth place of each household, some adults."""
    found = {}
    for index, person in enumerate(people[:20]):
        if index % 4 in (2, 3) and rng.random() < 0.8:
            found[person] = f"{rng.randint(2005, 2020)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    return found


def _rides(rng: random.Random) -> list[dict[str, Any]]:
    """Marketplace: drivers at various distances from this week's 20 trips."""
    riders, drivers = _people("r", 6), _people("d", 6)
    records: list[dict[str, Any]] = [{"party": {"key": "rideco", "kind": "platform"}}]
    records += [_person(key) for key in riders + drivers]
    for key in riders:
        records.append(_edge("side_of", key, "rideco", START, role="rider",
                             attributes={"status": "active"}))  # fmt: skip
    for index, key in enumerate(drivers):
        status = "suspended" if index == 5 else "active"
        records.append(_edge("side_of", key, "rideco", START, role="driver",
                             attributes={"status": "active"}))  # fmt: skip
        if status == "suspended":
            records.append(_edge("side_of", key, "rideco", AS_OF - timedelta(hours=1),
                                 role="driver", attributes={"status": status}))  # fmt: skip
    week = (AS_OF - timedelta(days=AS_OF.weekday())).replace(hour=0)
    this_week = (19, 18, 17, 20, 3, 19)
    for driver, count in zip(drivers, this_week, strict=True):
        for number in range(count):
            at = week + timedelta(minutes=30 * number + 1)
            records.append(_event("trip", at, [(rng.choice(riders), "rider"), (driver, "driver")],
                                  fare=12))  # fmt: skip
        at = week - timedelta(days=2)
        records.append(_event("trip", at, [(riders[0], "rider"), (driver, "driver")], fare=9))
    return records


def _desks(rng: random.Random) -> list[dict[str, Any]]:
    """Internal: three service departments, one slow, one fast, one in between."""
    records: list[dict[str, Any]] = [{"party": {"key": "acme", "kind": "organization"}}]
    speeds = {"it": 0.95, "hr": 0.5, "legal": 0.8}
    for key in (*speeds, "sales"):
        records.append({"party": {"key": key, "kind": "department"}})
    for key in speeds:
        records.append(_edge("serves", key, "acme", START))
    staff = _people("emp", 4)
    records += [_person(key) for key in staff]
    records += [_edge("employed_in", key, "sales", START) for key in staff]
    for _ in range(90):
        provider = rng.choice(list(speeds))
        opened = AS_OF - timedelta(days=rng.uniform(1, 150))
        hours = rng.uniform(1, 5) if rng.random() < speeds[provider] else rng.uniform(12, 80)
        resolved = opened + timedelta(hours=hours)
        payload: dict[str, Any] = {"category": "access"}
        if resolved < AS_OF:
            payload["resolved_at"] = _t(resolved)
        roles = [(rng.choice(staff), "requester"), (provider, "provider")]
        records.append(_event("service_request", opened, roles, **payload))
    return records


def _world(toolkit: Toolkit, seed: int = 17) -> dict[str, list[str]]:
    rng = random.Random(seed)
    shoppers, contacts = _people("c", 24), _people("b", 18)
    births = _births(rng, shoppers)
    records = [
        _person(key, **({"birth_date": births[key]} if key in births else {})) for key in shoppers
    ]
    records += [_person(key) for key in contacts]
    toolkit.write(records)
    toolkit.write(_homes(shoppers) + _shop(rng, shoppers) + _accounts(rng, contacts))
    toolkit.write(_rides(rng))
    toolkit.write(_desks(rng))
    privacy: Any = toolkit.plugin("privacy")
    for index, key in enumerate(shoppers + contacts):
        if index % 3:
            privacy.grant(key, "marketing", at="2025-01-01T00:00:00Z")
        if index % 2 == 0:
            privacy.grant(key, "sale_or_sharing", at="2025-01-01T00:00:00Z")
        if index % 7 == 1:
            privacy.object(key, "marketing", at="2026-01-01T00:00:00Z")
    return {
        "people": shoppers + contacts + _people("d", 6) + _people("r", 6),
        "orgs": [f"org{index}" for index in range(6)],
        "homes": [f"home{index}" for index in range(5)],
        "departments": ["it", "hr", "legal", "sales"],
    }


@attrs.frozen
class World:
    """The toolkit, the keys of each kind of party, and everyone's roles at AS_OF."""

    toolkit: Toolkit
    keys: dict[str, list[str]]
    roles: dict[str, list[Any]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once for the module: the tests only read it."""
    url, drop = temporary_database(tmp_path_factory.mktemp("example-segments"))
    toolkit = partygraph.open(_config(url))
    try:
        keys = _world(toolkit)
        everyone = [key for group in keys.values() for key in group]
        roles = {key: toolkit.roles(key, as_of=AS_OF) for key in everyone}
        yield World(toolkit, keys, roles)
    finally:
        toolkit.close()
        drop()


def _has(
    found: list[Any], role: str, plugin: str | None = None, of: set[str] | None = None
) -> bool:
    """Whether *found* holds *role* (from *plugin*, in the context of one of *of*)."""
    return any(
        item.role == role
        and (plugin is None or item.plugin == plugin)
        and (of is None or (item.context is not None and item.context.key in of))
        for item in found
    )


def _check(
    toolkit: Toolkit, name: str, candidates: set[str], purposes: tuple[str, ...], **kw: Any
) -> None:
    """Members == candidates with a basis for every purpose; the others are counted."""
    privacy: Any = toolkit.plugin("privacy")
    allowed = {
        key
        for key in candidates
        if all(privacy.basis(key, purpose, AS_OF).allowed for purpose in purposes)
    }
    result = toolkit.segment(name, AS_OF, **kw)
    assert set(result.keys) == allowed, name
    assert result.excluded == len(candidates) - len(allowed), name
    assert allowed, f"{name}: the world should leave someone in"


def test_at_risk_customers(world: World) -> None:
    toolkit = world.toolkit
    candidates = set()
    for key in world.keys["people"]:
        found = world.roles[key]
        if _has(found, "customer", "b2c") and not _has(found, "lapsed_customer"):
            recency = toolkit.metrics(key, AS_OF)["b2c"]["recency_days"]
            if recency >= 90:
                candidates.add(key)
    _check(toolkit, "at_risk_customers", candidates, ("marketing",))
    _check(toolkit, "at_risk_customers", candidates, ("marketing", "sale_or_sharing"), export=True)
    assert toolkit.segment("at_risk_customers", AS_OF).excluded > 0


def test_single_threaded_targets(world: World) -> None:
    toolkit = world.toolkit
    candidates = set()
    for key in world.keys["orgs"]:
        found = world.roles[key]
        figures = toolkit.metrics(key, AS_OF)["b2b"]
        if (
            _has(found, "target_account")
            and figures["stakeholders"]
            and figures["engaged_stakeholders"] <= 1
        ):
            candidates.add(key)
    _check(toolkit, "single_threaded_targets", candidates, ("sales",))


def test_product_tips_and_roi_content(world: World) -> None:
    toolkit = world.toolkit
    accounts = {key: world.roles[key] for key in world.keys["orgs"]}
    customers = {key for key, found in accounts.items() if _has(found, "customer_account")}
    targets = {key for key, found in accounts.items() if _has(found, "target_account")}
    people = {key: world.roles[key] for key in world.keys["people"]}
    users = {
        key
        for key, found in people.items()
        if _has(found, "consumer", "b2c") or _has(found, "end_user", of=customers)
    }
    buyers = {
        key
        for key, found in people.items()
        if any(
            _has(found, role, of=targets)
            for role in ("economic_buyer", "decision_maker", "executive_sponsor")
        )
    }
    _check(toolkit, "product_tips", users, ("marketing",))
    _check(toolkit, "product_tips", users, ("marketing", "sale_or_sharing"), export=True)
    _check(toolkit, "roi_content", buyers, ("marketing",))


def test_education_savings_households(world: World) -> None:
    toolkit = world.toolkit
    with_dependents = {
        found.context.key
        for key in world.keys["people"]
        for found in world.roles[key]
        if found.role == "dependent" and found.context is not None
    }
    headed = {
        view.other.key
        for key in world.keys["people"]
        for view in toolkit.relationships(key, AS_OF)
        if view.relationship.type == "member_of" and view.relationship.role == "head"
    }
    candidates = with_dependents & headed
    assert with_dependents - headed or headed - with_dependents
    _check(toolkit, "education_savings_households", candidates, ("marketing",))


def test_drivers_near_incentive(world: World) -> None:
    toolkit = world.toolkit
    plugin: Any = toolkit.plugin("marketplace")
    progress = {row["key"]: row for row in plugin.incentives(AS_OF, program="weekly-20")}
    drivers = {key for key in world.keys["people"] if _has(world.roles[key], "driver")}
    candidates = {
        key for key in drivers if key in progress and 1 <= progress[key]["remaining_trips"] <= 2
    }
    # d02 is 3 short, d03 met it, d04 is far; d05, suspended an hour ago, is still a driver.
    assert candidates == {"d00", "d01", "d05"}
    _check(toolkit, "drivers_near_incentive", candidates, ("service",))


def test_departments_breaching_sla(world: World) -> None:
    toolkit = world.toolkit
    plugin: Any = toolkit.plugin("internal")
    report = plugin.service_levels(AS_OF - timedelta(days=90), AS_OF)
    candidates = {
        row["department"]
        for row in report
        if row["sla"]["attainment"] is not None and row["sla"]["attainment"] < 0.9
    }
    assert "hr" in candidates
    assert "it" not in candidates
    _check(toolkit, "departments_breaching_sla", candidates, ("analytics",))


def test_one_statement_can_use_a_plugins_sql_twice(world: World) -> None:
    """The same role, metric or predicate twice, with other parameters: one statement."""
    toolkit = world.toolkit

    def keys(where: dict[str, Any]) -> set[str]:
        return set(toolkit.segment({"purpose": "analytics", "where": where}, AS_OF).keys)

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"role": "driver", "of": {"kind": "platform"}}, {"role": "driver"}),
        (
            {"predicate": "marketplace.near_incentive", "params": {"within": 1}},
            {"predicate": "marketplace.near_incentive", "params": {"within": 3}},
        ),
        (
            {"metric": "b2c.recency_days", "op": ">=", "value": 30},
            {"metric": "b2c.recency_days", "op": "<", "value": 200},
        ),
        (
            {"predicate": "b2b.single_threaded", "params": {"max_engaged": 0}},
            {"predicate": "b2b.single_threaded", "params": {"max_engaged": 2}},
        ),
        (
            {"predicate": "internal.breaching_sla", "params": {"target": 0.7}},
            {"predicate": "internal.breaching_sla", "params": {"target": 0.99, "days": 30}},
        ),
        ({"role": "dependent", "of": {"kind": "household"}}, {"role": "household_member"}),
    ]
    for first, second in pairs:
        one, other = keys(first), keys(second)
        assert one | other, first
        assert keys({"all": [first, second]}) == one & other, first
        assert keys({"any": [first, second]}) == one | other, first
        assert keys({"all": [second, {"not": first}]}) == other - one, first
