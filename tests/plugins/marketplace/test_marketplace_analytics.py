"""Trip suggestions from a rider's history, and the marketplace's health."""

from __future__ import annotations

from collections.abc import Callable

from marketplace_world import ride_world, trip

from partygraph import Toolkit

HISTORY = [
    # Weekday mornings from the station to the centre ...
    trip("2026-02-02T08:05:00Z", "alice", "dave", pickup_zone="gare", dropoff_zone="centre"),
    trip("2026-02-03T08:20:00Z", "alice", "dave", pickup_zone="gare", dropoff_zone="centre"),
    trip("2026-02-04T07:50:00Z", "alice", "sam", pickup_zone="gare", dropoff_zone="centre"),
    # ... evenings back ...
    trip("2026-02-02T18:10:00Z", "alice", "dave", pickup_zone="centre", dropoff_zone="gare"),
    trip("2026-02-03T18:40:00Z", "alice", "sam", pickup_zone="centre", dropoff_zone="gare"),
    # ... one night out, and one cancelled request.
    trip("2026-02-07T23:00:00Z", "alice", "sam", pickup_zone="centre", dropoff_zone="airport"),
    trip(
        "2026-02-05T08:00:00Z",
        "alice",
        "dave",
        pickup_zone="gare",
        dropoff_zone="airport",
        status="cancelled",
    ),
]


def test_suggestions_from_a_riders_history(ride: Toolkit) -> None:
    ride.write(HISTORY)
    result = ride.plugin("marketplace").suggestions("alice", "2026-02-10")
    assert result["withheld"] is None
    assert [
        (r["pickup_zone"], r["dropoff_zone"], r["time_of_day"], r["usual_hour"], r["trips"])
        for r in result["routes"]
    ] == [
        ("gare", "centre", "morning", "08:00", 3),
        ("centre", "gare", "evening", "18:00", 2),
    ]
    assert result["routes"][0]["reason"] == (
        "3 of 6 completed trips from gare to centre in the morning, usually around 08:00"
    )
    assert len(result["routes"][0]["evidence"]) == 3
    # As of the second day at noon, only the morning route had been taken twice.
    early = ride.plugin("marketplace").suggestions("alice", "2026-02-03T12:00:00Z")
    assert [r["trips"] for r in early["routes"]] == [2]
    # The view carries them on the rider side only.
    sides = ride.view("alice", "2026-02-10").sections["marketplace"]["sides"]
    assert sides["rider"]["suggestions"]["routes"][0]["pickup_zone"] == "gare"
    # Dave's trips as a driver are not his routes as a rider.
    assert ride.plugin("marketplace").suggestions("dave", "2026-02-10")["routes"] == []


def test_times_of_day_are_local(marketplace: Callable[..., Toolkit]) -> None:
    toolkit = marketplace({"timezone": "America/New_York"})
    toolkit.write([*ride_world(), *HISTORY])
    routes = toolkit.plugin("marketplace").suggestions("alice", "2026-02-10")["routes"]
    # 08:00 UTC is 03:00 in New York: the morning commute is a night ride there.
    assert (routes[0]["time_of_day"], routes[0]["usual_hour"]) == ("night", "03:00")


def test_supply_and_demand_per_zone_and_hour(ride: Toolkit) -> None:
    ride.write(
        [
            *HISTORY,
            trip("2026-02-06T08:30:00Z", "sam", None, pickup_zone="gare", status="unfulfilled"),
        ]
    )
    cells = ride.plugin("marketplace").supply_demand("2026-02-01", "2026-02-08")
    gare = next(c for c in cells if (c["zone"], c["hour"]) == ("gare", "08:00"))
    # 08:05, 08:20, 08:00 (cancelled), 08:30 (no driver found) on four days: four requests,
    # two completed, one unfulfilled; one driver active in each of three of those hours.
    assert (gare["requested"], gare["completed"], gare["unfulfilled"]) == (4, 2, 1)
    assert gare["fulfilment_rate"] == 0.5
    assert gare["active_supply_per_day"] == round(3 / 7, 2)
    assert gare["balance"] == "undersupplied"
    evening = next(c for c in cells if (c["zone"], c["hour"]) == ("centre", "18:00"))
    assert (evening["requested"], evening["completed"], evening["balance"]) == (
        2,
        2,
        "balanced",
    )


def test_churn_risk_flags_falling_weekly_trips(ride: Toolkit) -> None:
    falling = [
        trip(f"2026-01-{day:02d}T10:00:00Z", "alice", "dave") for day in (13, 14, 20, 21, 27, 28)
    ] + [trip("2026-02-17T10:00:00Z", "alice", "dave")]
    steady = [
        trip(f"2026-{month}-{day:02d}T12:00:00Z", "alice", "sam")
        for month, day in [("01", 14), ("01", 21), ("01", 28), ("02", 4), ("02", 11), ("02", 18)]
    ]
    ride.write([*falling, *steady])
    churn = ride.plugin("marketplace").churn_risk("2026-03-01")
    assert churn["active_members"] == 2
    (risk,) = churn["at_risk"]
    assert risk["key"] == "dave"
    assert sum(risk["weekly"][:4]) == 6
    assert sum(risk["weekly"][4:]) == 1
    assert risk["reason"] == (
        "1 completed trip in the last 4 weeks against 6 in the 4 weeks before (83% fewer)"
    )


def test_rider_retention_by_monthly_cohort(ride: Toolkit) -> None:
    ride.write(
        [
            trip("2026-01-20T10:00:00Z", "alice", "dave"),
            trip("2026-02-20T10:00:00Z", "alice", "dave"),
            trip("2026-01-25T10:00:00Z", "sam", "dave"),
            trip("2026-02-10T10:00:00Z", "sam", "dave", status="cancelled"),
        ]
    )
    retention = ride.plugin("marketplace").retention("2026-02-28", months=2)
    assert retention["months"] == ["2026-01", "2026-02"]
    (january,) = retention["cohorts"]
    assert (january["cohort"], january["members"], january["active"]) == ("2026-01", 2, [2, 1])
    assert january["retention"] == [1.0, 0.5]
