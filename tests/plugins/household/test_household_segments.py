"""The household plugin's segment SQL answers exactly what its Python roles and figures say."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from household_world import purchase, refund, usage

from partygraph import Toolkit

DATES = ("2024-03-09T12:00:00Z", "2025-06-01T00:00:00Z", "2026-02-01T00:00:00Z")
ROLES = ("household_member", "head_of_household", "dependent", "household_influencer")
OPS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, "=": operator.eq, ">": operator.gt}


def _day(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _world(toolkit: Toolkit, seed: int = 3) -> tuple[list[str], list[str]]:
    """Ten households; people join, leave and grow up; a quarter of birth dates unknown."""
    rng = random.Random(seed)
    homes = [f"home{index}" for index in range(10)]
    people = [f"kin{index:02d}" for index in range(42)]
    records: list[dict[str, Any]] = [{"party": {"key": key, "kind": "household"}} for key in homes]
    for index, key in enumerate(people):
        attributes: dict[str, Any] = {}
        draw = rng.random()
        if draw < 0.75:
            born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))
            if index % 7 == 0:  # turns 18 right around the first date
                born = date(2006, 3, 9) + timedelta(days=rng.choice((-1, 0, 1)))
            attributes["birth_date"] = born.isoformat()
        records.append({"party": {"key": key, "kind": "person", "attributes": attributes}})
    for index, key in enumerate(people):
        home = homes[index % len(homes)]
        role = "head" if index < len(homes) else rng.choice(("partner", "dependent", "other"))
        began = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 1500))
        link: dict[str, Any] = {
            "type": "member_of",
            "source": key,
            "target": home,
            "role": role,
            "valid_from": _day(began),
        }
        if rng.random() < 0.25:
            ended = began + timedelta(days=rng.randint(30, 700))
            link["valid_to"] = _day(ended)
            records.append({"relationship": link})
            moved = dict(link, target=rng.choice(homes), valid_from=_day(ended), role="other")
            moved.pop("valid_to")
            records.append({"relationship": moved})
        else:
            records.append({"relationship": link})
    buyers = people[:20]  # the others buy nothing: some of them are bought for
    for index in range(80):
        number = rng.randrange(len(buyers))
        buyer = buyers[number]
        when = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 1800))
        order = f"o{index}"
        price = float(rng.choice((12, 30, 75)))
        # Mostly for people who started in the buyer's household.
        kin = [key for n, key in enumerate(people) if n % len(homes) == number % len(homes)]
        others = rng.sample([key for key in kin if key != buyer], rng.choice((0, 1, 1, 2)))
        lines = [("SKU", "toys", 1, price)]
        records.append(purchase(buyer, _day(when), lines, order=order, consumers=others))
        if rng.random() < 0.4:
            user = rng.choice(kin)
            records.append(usage(user, _day(when + timedelta(days=rng.uniform(1, 90))), order))
        if rng.random() < 0.15:
            records.append(refund(buyer, _day(when + timedelta(days=3)), order, price / 2))
    toolkit.write(records)
    return homes, people


def _sql(toolkit: Toolkit, where: dict[str, Any], as_of: str) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_roles_in_sql_match_the_plugins_roles(
    household_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = household_toolkit()
    homes, people = _world(toolkit)
    chosen = set(homes[:4])
    for key in chosen:
        toolkit.upsert_party(key, "household", attributes={"chosen": True})
    for as_of in DATES:
        python: dict[str, set[tuple[str, str]]] = {role: set() for role in ROLES}
        for key in people:
            for found in toolkit.roles(key, as_of=as_of):
                if found.plugin == "household" and found.role in python:
                    assert found.context is not None
                    python[found.role].add((key, found.context.key))
        for role in ROLES:
            want = {key for key, _ in python[role]}
            assert _sql(toolkit, {"role": role}, as_of) == want, (role, as_of)
            of = {"attribute": "chosen", "value": True}
            want = {key for key, home in python[role] if home in chosen}
            assert _sql(toolkit, {"role": role, "of": of}, as_of) == want, (role, as_of)
        assert python["dependent"], as_of
        assert python["household_influencer"] or as_of == DATES[0], as_of


def test_figures_in_sql_match_the_plugins_figures(
    household_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = household_toolkit()
    homes, _ = _world(toolkit)
    for as_of in DATES[1:]:
        figures = {key: dict(toolkit.metrics(key, as_of).get("household") or {}) for key in homes}
        for name, op, value in (
            ("members", ">=", 4),
            ("dependents", ">=", 1),
            ("dependents", "=", 0),
            ("spend", ">", 100),
            ("purchases", ">=", 2),
        ):
            compare = OPS[op]
            want = {
                key
                for key, found in figures.items()
                if found.get(name) is not None and compare(found[name], value)
            }
            got = _sql(toolkit, {"metric": f"household.{name}", "op": op, "value": value}, as_of)
            assert got == want, (name, op, value, as_of)


def test_a_dependent_stops_being_one_on_the_birthday(
    household_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = household_toolkit()
    toolkit.write(
        [
            {"party": {"key": "h", "kind": "household"}},
            {"party": {"key": "kid", "kind": "person", "attributes": {"birth_date": "2008-05-20"}}},
            {"party": {"key": "unk", "kind": "person"}},
            {"relationship": {"type": "member_of", "source": "kid", "target": "h",
                              "role": "partner", "valid_from": "2010-01-01"}},
            {"relationship": {"type": "member_of", "source": "unk", "target": "h",
                              "role": "dependent", "valid_from": "2010-01-01",
                              "valid_to": "2026-01-01"}},
        ]
    )  # fmt: skip
    assert _sql(toolkit, {"role": "dependent"}, "2025-12-31T00:00:00Z") == {"kid", "unk"}
    assert _sql(toolkit, {"role": "dependent"}, "2026-05-19T23:00:00Z") == {"kid"}
    assert _sql(toolkit, {"role": "dependent"}, "2026-05-20T00:00:00Z") == set()
