"""Who is a rider, who is a driver, since when, and why -- as of any date."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from marketplace_world import party, stage, ticket, trip

from partygraph import RoleAssignment, Toolkit, converter


def role(toolkit: Toolkit, key: str, name: str, as_of: str | None = None) -> RoleAssignment | None:
    found = [r for r in toolkit.roles(key, as_of) if r.plugin == "marketplace" and r.role == name]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_rider_and_a_driver_after_their_first_trip(ride: Toolkit) -> None:
    # Before any trip: Dave is a driver since his activation; Alice is not yet a rider.
    assert role(ride, "alice", "rider", "2026-02-01") is None
    driver = role(ride, "dave", "driver", "2026-02-01")
    assert driver is not None
    assert driver.since is not None
    assert driver.since.isoformat() == "2026-01-12T00:00:00+00:00"

    first = ride.record_interaction(
        "trip",
        "2026-02-03T08:15:00Z",
        [("alice", "rider"), ("dave", "driver")],
        {"fare": 18.5, "pickup_zone": "gare", "dropoff_zone": "airport"},
    )
    rider = role(ride, "alice", "rider", "2026-02-04")
    assert rider is not None
    assert (rider.customer, rider.kind, rider.plugin) == (True, "ecosystem", "marketplace")
    assert rider.context is not None
    assert rider.context.key == "rideco"
    assert rider.since is not None
    assert rider.since.isoformat() == "2026-02-03T08:15:00+00:00"
    assert rider.until is None
    assert rider.reason.startswith("Rider on RideCo since 2026-02-03 (first completed trip, ")
    assert f"interaction #{first.id}" in rider.reason
    assert "1 completed trip as rider up to 2026-02-04" in rider.reason
    assert "member since 2026-01-05" in rider.reason
    assert f"interaction #{first.id}" in rider.evidence

    driver = role(ride, "dave", "driver", "2026-02-04")
    assert driver is not None
    assert (driver.customer, driver.kind) == (True, "ecosystem")
    assert driver.reason.startswith("Driver on RideCo since 2026-01-12 (activated, relationship #")
    assert "1 completed trip as driver up to 2026-02-04, the last on 2026-02-03" in driver.reason
    # As of a moment before the trip, the rider role did not exist yet.
    assert role(ride, "alice", "rider", "2026-02-03T08:14:59Z") is None
    # Nor was Dave a driver while he was onboarding.
    assert role(ride, "dave", "driver", "2026-01-08") is None
    # The JSON form carries everything the design brief lists.
    data = converter.unstructure(rider)
    assert {"role", "plugin", "context", "customer", "kind", "since", "until", "reason"} <= set(
        data
    )


def test_a_cancelled_trip_does_not_make_a_rider(ride: Toolkit) -> None:
    ride.write([trip("2026-02-03T08:00:00Z", "alice", "dave", status="cancelled")])
    assert role(ride, "alice", "rider") is None
    ride.write([trip("2026-02-04T08:00:00Z", "alice", None, status="unfulfilled")])
    assert role(ride, "alice", "rider") is None
    ride.write([trip("2026-02-05T08:00:00Z", "alice", "dave")])
    found = role(ride, "alice", "rider")
    assert found is not None
    assert found.since is not None
    assert found.since.date().isoformat() == "2026-02-05"


def test_a_person_on_both_sides_holds_both_roles_with_figures_that_never_mix(
    ride: Toolkit,
) -> None:
    ride.write(
        [
            # Sam drives Alice twice ...
            trip("2026-02-02T09:00:00Z", "alice", "sam", fare=20, tip=3),
            trip("2026-02-03T09:00:00Z", "alice", "sam", fare=30),
            # ... and is driven by Dave once.
            trip("2026-02-04T18:00:00Z", "sam", "dave", fare=12, tip=1),
        ]
    )
    roles = {r.role: r for r in ride.roles("sam") if r.plugin == "marketplace"}
    assert set(roles) == {"rider", "driver"}
    assert all(r.customer and r.kind == "ecosystem" for r in roles.values())
    assert "2 completed trips as driver" in roles["driver"].reason
    assert "1 completed trip as rider" in roles["rider"].reason

    metrics = ride.metrics("sam")["marketplace"]
    assert metrics["driver.trips"] == 2
    assert metrics["rider.trips"] == 1
    assert metrics["driver.gross"] == 50.0  # only the trips Sam drove
    assert metrics["driver.net_earnings"] == 50.0 - 12.5 + 3.0
    assert metrics["rider.lifetime_value"] == 13.0  # only the trip Sam rode: fare + tip

    plugin = ride.plugin("marketplace")
    statements = plugin.earnings("sam", until="2026-03-01")
    assert [(s["trips"], s["gross"]) for s in statements] == [(2, 50.0)]
    as_rider = plugin.earnings("sam", side="rider", until="2026-03-01")
    assert [(s["trips"], s["gross"]) for s in as_rider] == [(1, 12.0)]

    section = ride.view("sam", "2026-02-10").sections["marketplace"]["sides"]
    assert section["driver"]["trips"] == 2
    assert section["driver"]["earnings"]["lifetime"]["gross"] == 50.0
    assert section["rider"]["trips"] == 1
    assert section["rider"]["lifetime_value"] == 13.0
    assert "earnings" not in section["rider"]


def test_a_driver_lifecycle_keeps_its_dates_and_roles_follow_it(ride: Toolkit) -> None:
    ride.write(
        [
            stage("dave", "driver", "suspended", "2026-03-01", reason="documents expired"),
            stage("dave", "driver", "active", "2026-03-10"),
            stage("dave", "driver", "churned", "2026-05-01"),
        ]
    )
    history = [
        view.relationship for view in ride.relationships("dave", history=True)
        if view.relationship.type == "side_of"
    ]  # fmt: skip
    statuses = sorted(
        (r.valid_from.date().isoformat() if r.valid_from else "", r.attributes["status"])
        for r in history
    )
    assert statuses == [
        ("2026-01-02", "applied"),
        ("2026-01-06", "onboarding"),
        ("2026-01-12", "active"),
        ("2026-03-01", "suspended"),
        ("2026-03-10", "active"),
        ("2026-05-01", "churned"),
    ]
    suspended = role(ride, "dave", "driver", "2026-03-05")
    assert suspended is not None
    assert "suspended since 2026-03-01" in suspended.reason
    assert "documents expired" in suspended.reason
    back = role(ride, "dave", "driver", "2026-04-01")
    assert back is not None
    assert back.since is not None
    assert back.since.date().isoformat() == "2026-01-12"
    assert back.until is not None
    assert back.until.date().isoformat() == "2026-05-01"
    assert role(ride, "dave", "driver", "2026-05-02") is None

    view = ride.view("dave", "2026-03-05").sections["marketplace"]["sides"]["driver"]
    assert view["status"] == "suspended"
    assert [stage["status"] for stage in view["lifecycle"]] == [
        "applied",
        "onboarding",
        "active",
        "suspended",
    ]


def test_set_status_writes_the_next_stage(ride: Toolkit) -> None:
    plugin = ride.plugin("marketplace")
    plugin.set_status("dave", "driver", "suspended", "2026-02-01", platform="rideco")
    assert role(ride, "dave", "driver", "2026-02-02") is not None
    current = [
        view.relationship.attributes["status"]
        for view in ride.relationships("dave", "2026-02-02")
        if view.relationship.type == "side_of"
    ]
    assert current == ["suspended"]
    with pytest.raises(Exception, match="unknown status 'retired'"):
        plugin.set_status("dave", "driver", "retired", "2026-02-03", platform="rideco")


def test_each_side_sees_its_own_open_issues(ride: Toolkit) -> None:
    ride.write(
        [
            ticket("2026-02-01T10:00:00Z", "sam", "driver", "T-1", "open", subject="payout late"),
            ticket("2026-02-02T10:00:00Z", "sam", "rider", "T-2", "open", subject="lost phone"),
            ticket("2026-02-03T10:00:00Z", "sam", "rider", "T-2", "solved"),
            ticket("2026-02-04T10:00:00Z", "sam", "rider", "T-3", "pending", subject="refund"),
        ]
    )
    sides = ride.view("sam", "2026-02-05").sections["marketplace"]["sides"]
    assert [(i["ticket"], i["subject"]) for i in sides["driver"]["open_issues"]] == [
        ("T-1", "payout late")
    ]
    assert [(i["ticket"], i["status"]) for i in sides["rider"]["open_issues"]] == [
        ("T-3", "pending")
    ]
    # As of before the solution, T-2 was still open on the rider side.
    earlier = ride.view("sam", "2026-02-02T12:00:00Z").sections["marketplace"]["sides"]
    assert [i["ticket"] for i in earlier["rider"]["open_issues"]] == ["T-2"]
    assert ride.metrics("sam", "2026-02-05")["marketplace"]["rider.open_issues"] == 1


def test_a_party_that_is_on_no_side_has_no_marketplace_section(
    ride: Toolkit, rows: Callable[[Toolkit, str], int]
) -> None:
    ride.write([party("zoe")])
    assert ride.roles("zoe") == []
    assert "marketplace" not in ride.view("zoe").sections
    assert ride.metrics("zoe") == {}
