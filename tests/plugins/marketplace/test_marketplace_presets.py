"""The sides are configuration: the app-store preset, custom sides, config errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from marketplace_world import party, ride_world, stage, trip

from partygraph import ConfigError, RecordsRejected, Toolkit, ValidationError
from partygraph_marketplace import tables

Factory = Callable[..., Toolkit]


def purchase(at: str, user: str, developer: str, **payload: Any) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "app_purchase",
            "occurred_at": at,
            "participants": [
                {"party": user, "role": "user"},
                {"party": developer, "role": "developer"},
            ],
            "payload": payload,
        }
    }


def test_the_app_store_preset_with_a_developer_revenue_share(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = make_toolkit(
        enabled=["marketplace"], settings={"marketplace": {"preset": "app-store"}}
    )
    plugin = toolkit.plugin("marketplace")
    assert [(s["name"], s["position"]) for s in plugin.sides()] == [
        ("user", "demand"),
        ("developer", "supply"),
    ]
    assert "trip" not in toolkit.vocabulary.interaction_types
    toolkit.write(
        [
            party("appstore", "platform", "AppStore"),
            party("devco", "organization", "DevCo Ltd"),
            party("uma", name="Uma"),
            stage("devco", "developer", "active", "2026-01-10", platform="appstore"),
            stage("uma", "user", "active", "2026-01-01", platform="appstore"),
            purchase("2026-02-02T10:00:00Z", "uma", "devco", app="Puzzles", price=10),
            # The small-business programme: this sale keeps 85 % for the developer.
            purchase("2026-02-03T10:00:00Z", "uma", "devco", app="Puzzles Pro", price=20,
                     revenue_share=0.85, kind="in_app"),
            purchase("2026-02-04T10:00:00Z", "uma", "devco", app="Puzzles", price=10,
                     status="refunded"),
        ]
    )  # fmt: skip
    (week,) = plugin.earnings("devco", until="2026-03-01")
    # 10 at the default 70 % share (fee 3.00) + 20 at 85 % (fee 3.00); the refund is out.
    assert (week["app_purchases"], week["gross"], week["platform_fee"], week["net"]) == (
        2,
        30.0,
        6.0,
        24.0,
    )
    developer = next(r for r in toolkit.roles("devco") if r.role == "developer")
    assert (developer.customer, developer.kind) == (True, "ecosystem")
    assert developer.reason.startswith("Developer on AppStore since 2026-01-10 (activated")
    assert "2 completed app purchases as developer" in developer.reason
    user = next(r for r in toolkit.roles("uma") if r.role == "user")
    assert user.since is not None
    assert user.since.date().isoformat() == "2026-02-02"
    metrics = toolkit.metrics("uma")["marketplace"]
    assert (metrics["user.app_purchases"], metrics["user.lifetime_value"]) == (2, 30.0)
    # An app purchase has no zones, so no trip suggestions.
    assert plugin.suggestions("uma")["withheld"] == "app_purchase transactions have no zones"

    with pytest.raises(ValidationError) as caught:
        toolkit.record_interaction(
            "app_purchase", "2026-02-05", [("uma", "user"), ("devco", "developer")], {"price": 5}
        )
    assert caught.value.field == "payload/app"


def test_a_custom_side_declared_only_in_config(make_toolkit: Callable[..., Toolkit]) -> None:
    settings = {
        "preset": "custom",
        "sides": {
            "eater": {"position": "demand", "label": "Eater"},
            "courier": {"position": "supply", "label": "Courier"},
        },
        "incentives": [{"name": "lunch-rush", "side": "courier", "min_trips": 2, "bonus": 15}],
    }
    toolkit = make_toolkit(enabled=["marketplace"], settings={"marketplace": settings})
    assert toolkit.vocabulary.interaction_types["trip"].roles == frozenset({"eater", "courier"})
    toolkit.write(
        [
            party("foodco", "platform", "FoodCo"),
            party("eve"),
            party("carl"),
            stage("eve", "eater", "active", "2026-01-01", platform="foodco"),
            stage("carl", "courier", "active", "2026-01-02", platform="foodco"),
            trip("2026-02-02T12:00:00Z", "eve", "carl", rider_side="eater",
                 driver_side="courier", fare=14, ratings={"eater": 5}),
            trip("2026-02-03T12:00:00Z", "eve", "carl", rider_side="eater",
                 driver_side="courier", fare=16),
        ]
    )  # fmt: skip
    roles = {r.role: r for r in toolkit.roles("eve") + toolkit.roles("carl")}
    assert set(roles) == {"eater", "courier"}
    assert all(r.customer and r.kind == "ecosystem" for r in roles.values())
    assert roles["eater"].reason.startswith("Eater on FoodCo since 2026-02-02")
    assert roles["courier"].reason.startswith("Courier on FoodCo since 2026-01-02 (activated")
    (row,) = toolkit.plugin("marketplace").incentives("2026-02-03")
    assert (row["key"], row["program"], row["met"]) == ("carl", "lunch-rush", True)
    with pytest.raises(RecordsRejected, match="'rider' is not a role of trip"):
        toolkit.write([trip("2026-02-04T12:00:00Z", "eve", "carl")])


def test_a_side_added_to_a_preset(make_toolkit: Callable[..., Toolkit]) -> None:
    settings = {"sides": {"courier": {"position": "supply"}}}
    toolkit = make_toolkit(enabled=["marketplace"], settings={"marketplace": settings})
    assert [s["name"] for s in toolkit.plugin("marketplace").sides()] == [
        "rider",
        "driver",
        "courier",
    ]
    toolkit.write(
        [
            *ride_world(),
            party("cleo"),
            stage("cleo", "courier", "active", "2026-01-20"),
            trip("2026-02-02T12:00:00Z", "alice", "cleo", driver_side="courier"),
        ]
    )
    (courier,) = toolkit.roles("cleo")
    assert (courier.role, courier.customer, courier.kind) == ("courier", True, "ecosystem")
    # One demand side and one supply side per trip, whichever they are.
    with pytest.raises(ValidationError, match="at most one supply-side participant"):
        toolkit.write(
            [
                {
                    "interaction": {
                        "type": "trip",
                        "occurred_at": "2026-02-03T12:00:00Z",
                        "participants": [
                            {"party": "alice", "role": "rider"},
                            {"party": "dave", "role": "driver"},
                            {"party": "cleo", "role": "courier"},
                        ],
                        "payload": {"fare": 10},
                    }
                }
            ]
        )


@pytest.mark.parametrize(
    ("settings", "pointer", "message"),
    [
        ({"preset": "custom"}, "/plugins/marketplace/sides", "has no sides of its own"),
        (
            {"preset": "custom", "sides": {"guest": {"position": "demand"}}},
            "/plugins/marketplace/sides",
            "at least one supply side",
        ),
        (
            {"sides": {"courier": {"label": "Courier"}}},
            "/plugins/marketplace/sides/courier/position",
            "needs a position",
        ),
        (
            {"incentives": [{"name": "q", "side": "pilot", "min_trips": 1, "bonus": 1}]},
            "/plugins/marketplace/incentives/0/side",
            "no side 'pilot'",
        ),
        ({"timezone": "Mars/Olympus"}, "/plugins/marketplace/timezone", "unknown time zone"),
        (
            {"preset": "app-store", "transaction": "trip"},
            "/plugins/marketplace/transaction",
            "app_purchase",
        ),
        ({"sides": {"agent": {"position": "supply"}}}, "/plugins/marketplace/sides/agent", ""),
    ],
)
def test_config_the_schema_cannot_check_is_refused_naming_the_key(
    make_toolkit: Callable[..., Toolkit], settings: dict[str, Any], pointer: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_toolkit(enabled=["marketplace"], settings={"marketplace": settings})
    assert caught.value.field == pointer
    assert message in str(caught.value)


def test_config_against_the_schema(make_toolkit: Callable[..., Toolkit]) -> None:
    with pytest.raises(ConfigError) as caught:
        make_toolkit(
            enabled=["marketplace"],
            settings={"marketplace": {"preset": "uber", "platform_fee_rate": 1.5, "zone": []}},
        )
    pointers = [violation.pointer for violation in caught.value.violations]
    assert pointers == [
        "/plugins/marketplace/platform_fee_rate",
        "/plugins/marketplace/preset",
        "/plugins/marketplace/zone",
    ]
    assert "did you mean 'zones'" in str(caught.value).lower()


def test_every_column_of_the_activity_table_is_declared(marketplace: Factory) -> None:
    """(The migration's match with the table is the conformance suite's check.)"""
    toolkit = marketplace()
    assert "marketplace_0001" in toolkit.applied_migrations
    declared = {
        d.field for owner, d in toolkit.data_declarations()
        if owner == "marketplace" and d.table == "marketplace_activity"
    }  # fmt: skip
    assert declared == {column.name for column in tables.activity.columns}
    # Every type it registers has purposes the privacy plugin configures by default.
    purposes = {"service", "billing", "support"}
    for name in ("trip", "support_ticket", "incentive_payout"):
        assert set(toolkit.vocabulary.interaction_types[name].purposes) <= purposes
