"""Who is the customer of a non-profit, and why: the people it serves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from partygraph import Toolkit
from partygraph.plugins import available_plugins

from nonprofit_world import foodbank

MakeToolkit = Callable[..., Toolkit]
AS_OF = "2026-03-01"


@pytest.fixture
def world(make_toolkit: MakeToolkit) -> Toolkit:
    toolkit = make_toolkit(enabled=["nonprofit"])
    toolkit.write(foodbank())
    return toolkit


def roles(toolkit: Toolkit, key: str) -> dict[str, tuple[bool, str]]:
    return {role.role: (role.customer, role.reason) for role in toolkit.roles(key, as_of=AS_OF)}


def test_the_plugin_is_found_as_an_installed_package() -> None:
    entry = available_plugins()["nonprofit"]
    assert entry.dist is not None
    assert entry.dist.name == "partygraph-nonprofit"


def test_the_people_served_are_the_customers(world: Toolkit) -> None:
    customer, reason = roles(world, "maria")["beneficiary"]
    assert customer
    assert reason.startswith("served 2 time(s) by Harbour Food Pantry between 2026-01-08")


def test_an_enrolled_child_is_a_customer_of_the_programme(world: Toolkit) -> None:
    found = roles(world, "tiago")
    assert found["enrolled"] == (True, "enrolled in Homework Club since 2025-09-01")
    assert found["beneficiary"][0]


def test_donors_and_volunteers_are_supporters_not_customers(world: Toolkit) -> None:
    henry = roles(world, "henry")
    assert henry["donor"] == (
        False,
        "2 gift(s) since 2025-12-15, 1150.0 EUR in all; a supporter, not a customer",
    )
    assert henry["major_donor"][0] is False
    assert "major_donor" in roles(world, "northwind")
    sofia = world.roles("sofia", as_of=AS_OF)
    assert [(r.role, r.kind, r.customer) for r in sofia] == [("volunteer", "internal", False)]
    assert sofia[0].context is not None
    assert sofia[0].context.key == "pantry"


def test_service_long_ago_no_longer_makes_a_beneficiary(make_toolkit: MakeToolkit) -> None:
    toolkit = make_toolkit(
        enabled=["nonprofit"], settings={"nonprofit": {"served_within_days": 30}}
    )
    toolkit.write(foodbank())
    assert "beneficiary" not in roles(toolkit, "maria")
    assert "beneficiary" in {r.role for r in toolkit.roles("maria", as_of="2026-02-01")}


def test_giving_is_totalled_in_the_configured_currency(world: Toolkit) -> None:
    figures = world.metrics("henry", as_of=AS_OF)["nonprofit"]
    assert figures == {
        "gifts": 2,
        "given": 1150.0,
        "given_last_year": 1150.0,
        "currency": "EUR",
    }
    assert world.metrics("maria", as_of=AS_OF)["nonprofit"] == {"services_received": 2}


def test_export_and_erase_of_a_donor(world: Toolkit) -> None:
    gifts = world.export_subject("henry")["plugins"]["nonprofit"]["gifts"]
    assert [(g["campaign"], g["amount"], g["gift_aid"]) for g in gifts] == [
        ("Winter appeal", 750.0, True),
        ("Homework Club books", 400.0, False),
    ]
    report = world.erase_subject("henry")
    assert report["plugins"]["nonprofit"] == {"gifts_deleted": 2}
    assert "major_donor" in roles(world, "northwind")
