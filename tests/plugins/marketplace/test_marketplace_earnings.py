"""Driver earnings per week and month, and incentive programs met or missed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from marketplace_world import ride_world, trip

from partygraph import Toolkit, ValidationError

WEEK_6 = [
    trip("2026-02-02T07:30:00Z", "alice", "dave", fare=12.40, tip=2.00),
    trip("2026-02-04T12:00:00Z", "alice", "dave", fare=25.10, incentive={"amount": 3.00}),
    trip("2026-02-08T23:30:00Z", "alice", "dave", fare=8.75, tip=1.50),
    # A cancelled trip with a cancellation fee is not a completed trip: not in the statement.
    trip("2026-02-05T12:00:00Z", "alice", "dave", fare=5.00, status="cancelled"),
    # Sam's trips are Sam's.
    trip("2026-02-03T12:00:00Z", "alice", "sam", fare=99.00),
    {
        "interaction": {
            "type": "incentive_payout",
            "occurred_at": "2026-02-06T18:00:00Z",
            "participants": [{"party": "dave", "role": "driver"}],
            "payload": {"amount": 20, "program": "referral"},
        }
    },
    trip("2026-02-09T00:10:00Z", "alice", "dave", fare=30.00),
]


def test_an_earnings_report_matches_a_hand_computation(ride: Toolkit) -> None:
    ride.write(WEEK_6)
    plugin = ride.plugin("marketplace")
    weeks = plugin.earnings("dave", until="2026-03-01")
    # Week 6: gross 12.40 + 25.10 + 8.75 = 46.25; fee 25 % = 11.5625 -> 11.56;
    # tips 2.00 + 1.50 = 3.50; incentives 3.00 (on a trip) + 20.00 (paid) = 23.00;
    # net 46.25 - 11.56 + 3.50 + 23.00 = 61.19. Week 7: 30.00 - 7.50 = 22.50.
    columns = ("period", "trips", "gross", "platform_fee", "tips", "incentives", "net")
    assert [tuple(w[name] for name in columns) for w in weeks] == [
        ("2026-W06", 3, 46.25, 11.56, 3.50, 23.00, 61.19),
        ("2026-W07", 1, 30.00, 7.50, 0.00, 0.00, 22.50),
    ]  # fmt: skip
    assert weeks[0]["start"] == "2026-02-02T00:00:00Z"
    assert weeks[0]["end"] == "2026-02-09T00:00:00Z"
    assert {w["currency"] for w in weeks} == {"EUR"}

    (month,) = plugin.earnings("dave", period="month", until="2026-03-01")
    # 76.25 gross, fee 19.0625 -> 19.06, tips 3.50, incentives 23.00: net 83.69.
    assert (month["period"], month["trips"], month["gross"], month["platform_fee"]) == (
        "2026-02",
        4,
        76.25,
        19.06,
    )
    assert month["net"] == 83.69

    # The whole population: every driver, per week; Sam's trip is only in Sam's statement.
    everyone = plugin.earnings(until="2026-03-01")
    assert [(row["key"], row["period"], row["gross"]) for row in everyone] == [
        ("dave", "2026-W06", 46.25),
        ("dave", "2026-W07", 30.00),
        ("sam", "2026-W06", 99.00),
    ]
    # And the view shows the week and month to date.
    earnings = ride.view("dave", "2026-02-08T23:59:00Z").sections["marketplace"]["sides"]["driver"][
        "earnings"
    ]
    assert (earnings["week"]["period"], earnings["week"]["net"]) == ("2026-W06", 61.19)
    assert (earnings["month"]["period"], earnings["month"]["gross"]) == ("2026-02", 46.25)
    # The activity table can be rebuilt from the interactions: the same statements.
    assert plugin.rebuild() == {"rows": 13}  # 6 trips x 2 sides + 1 payout
    assert plugin.earnings("dave", until="2026-03-01") == weeks


def test_weeks_and_the_fee_follow_the_config(
    marketplace: Callable[..., Toolkit],
) -> None:
    toolkit = marketplace({"timezone": "Europe/Paris", "platform_fee_rate": 0.2})
    toolkit.write([*ride_world(), *WEEK_6])
    weeks = toolkit.plugin("marketplace").earnings("dave", until="2026-03-01")
    # Sunday 23:30 UTC is Monday 00:30 in Paris: the third trip moves to week 7.
    assert [(w["period"], w["trips"], w["gross"], w["platform_fee"]) for w in weeks] == [
        ("2026-W06", 2, 37.50, 7.50),
        ("2026-W07", 2, 38.75, 7.75),
    ]
    assert weeks[0]["start"] == "2026-02-01T23:00:00Z"  # Monday 00:00 in Paris


def quest(toolkit: Toolkit, driver: str, day: str, ratings: list[int]) -> None:
    toolkit.write(
        [
            trip(f"{day}T{8 + n:02d}:00:00Z", "alice", driver, ratings={"rider": rating})
            for n, rating in enumerate(ratings)
        ]
    )


PROGRAM: dict[str, Any] = {
    "incentives": [
        {
            "name": "weekly-quest",
            "min_trips": 5,
            "min_average_rating": 4.7,
            "bonus": 50,
            "description": "5 trips in a week rated 4.7 or more on average",
        }
    ]
}


def test_an_incentive_met_and_one_missed_by_one_trip(
    marketplace: Callable[..., Toolkit],
) -> None:
    toolkit = marketplace(PROGRAM)
    toolkit.write(ride_world())
    quest(toolkit, "dave", "2026-02-03", [5, 5, 5, 4, 5])  # 5 trips, average 4.8
    quest(toolkit, "sam", "2026-02-04", [5, 5, 5, 5])  # 4 trips: one short
    plugin = toolkit.plugin("marketplace")
    found = {row["key"]: row for row in plugin.incentives("2026-02-05")}
    assert set(found) == {"dave", "sam"}
    dave, sam = found["dave"], found["sam"]
    assert (dave["met"], dave["trips"], dave["average_rating"], dave["bonus"]) == (
        True,
        5,
        4.8,
        50.0,
    )
    assert dave["period"] == "2026-W06"
    assert dave["reason"] == "met: 5 trips (at least 5), average rating 4.80 (at least 4.7)"
    assert (sam["met"], sam["trips"], sam["remaining_trips"], sam["bonus"]) == (False, 4, 1, 0.0)
    assert sam["reason"] == "missed: 1 trip short (4 of 5)"

    # The view shows each driver's progress toward the program.
    progress = toolkit.view("sam", "2026-02-05").sections["marketplace"]["sides"]["driver"]
    (program,) = progress["incentives"]
    assert (program["program"], program["trips"], program["remaining_trips"]) == (
        "weekly-quest",
        4,
        1,
    )

    # Paying records one payout per member who met it, once.
    paid = plugin.pay_incentives("2026-02-05")
    assert (paid["met"], paid["paid"], paid["total"]) == (1, 1, 50.0)
    again = plugin.pay_incentives("2026-02-05")
    assert (again["paid"], again["already_paid"]) == (0, 1)
    (week,) = plugin.earnings("dave", until="2026-03-01")
    assert (week["period"], week["incentives"], week["net"]) == ("2026-W06", 50.0, 87.5)
    # A week that is not over yet is not paid: an average rating can still fall.
    with pytest.raises(ValidationError, match="is not over yet"):
        plugin.pay_incentives()


def test_a_good_rating_is_needed_too(marketplace: Callable[..., Toolkit]) -> None:
    toolkit = marketplace(PROGRAM)
    toolkit.write(ride_world())
    quest(toolkit, "dave", "2026-02-03", [5, 5, 4, 4, 5])  # average 4.6
    (row,) = toolkit.plugin("marketplace").incentives("2026-02-03", program="weekly-quest")
    assert (row["met"], row["remaining_trips"]) == (False, 0)
    assert row["reason"] == "missed: average rating 4.60 below 4.7"
    with pytest.raises(ValidationError, match="no incentive program 'monthly'"):
        toolkit.plugin("marketplace").incentives(program="monthly")
