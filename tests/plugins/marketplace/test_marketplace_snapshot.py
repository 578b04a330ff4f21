"""One read of a party: the marketplace's roles, section and metrics share one snapshot."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from marketplace_world import party, stage, ticket, trip
from sqlalchemy import event

from partygraph import Toolkit


@contextmanager
def marketplace_statements(toolkit: Toolkit) -> Iterator[list[str]]:
    """The statements the marketplace plugin sends while the block runs."""
    sent: list[str] = []

    def before(*args: object) -> None:
        if any("partygraph_marketplace" in frame.filename for frame in traceback.extract_stack()):
            sent.append(str(args[2]))

    event.listen(toolkit.engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", before)


def busy_world(toolkit: Toolkit) -> None:
    """Sam rides and drives, with trips on both sides, a payout and open tickets."""
    toolkit.write(
        [
            trip("2026-02-02T08:00:00Z", "alice", "sam", fare=20, tip=2, ratings={"driver": 5}),
            trip("2026-02-03T09:00:00Z", "sam", "dave", fare=12, ratings={"rider": 4}),
            trip("2026-02-04T18:00:00Z", "sam", "dave", fare=14),
            ticket("2026-02-04T10:00:00Z", "sam", "driver", "T-1", "open", subject="App"),
            ticket("2026-02-04T11:00:00Z", "sam", "rider", "T-2", "open", subject="Lost"),
        ]
    )


def test_a_view_reads_the_marketplace_in_three_statements(ride: Toolkit) -> None:
    busy_world(ride)
    with marketplace_statements(ride) as sent:
        view = ride.view("sam", "2026-02-05")
    assert len(sent) <= 3
    sides = view.sections["marketplace"]["sides"]
    assert (sides["driver"]["trips"], sides["rider"]["trips"]) == (1, 2)
    assert view.metrics["marketplace"]["driver.trips"] == 1
    assert [r.role for r in view.roles if r.plugin == "marketplace"] == ["rider", "driver"]
    # Roles alone need the memberships and the figures only.
    with marketplace_statements(ride) as sent:
        ride.roles("sam", "2026-02-05")
    assert len(sent) <= 2


def test_a_party_on_no_side_costs_one_statement(ride: Toolkit) -> None:
    ride.write([party("olga")])
    with marketplace_statements(ride) as sent:
        view = ride.view("olga")
    assert len(sent) == 1
    assert "marketplace" not in view.sections


def test_each_read_sees_the_writes_before_it(ride: Toolkit) -> None:
    busy_world(ride)
    before = ride.view("dave", "2026-02-10")
    ride.write([trip("2026-02-06T08:00:00Z", "alice", "dave", fare=30)])
    after = ride.view("dave", "2026-02-10")
    driver = before.sections["marketplace"]["sides"]["driver"]
    assert driver["trips"] == 2
    assert after.sections["marketplace"]["sides"]["driver"]["trips"] == 3
    assert after.metrics["marketplace"]["driver.gross"] == 56.0
    role = next(r for r in after.roles if r.plugin == "marketplace")
    assert "3 completed trips as driver up to 2026-02-10, the last on 2026-02-06" in role.reason


def test_a_member_who_comes_back_counts_from_the_return(ride: Toolkit) -> None:
    ride.write(
        [
            trip("2026-02-02T08:00:00Z", "alice", "dave"),
            trip("2026-02-03T08:00:00Z", "alice", "dave"),
            stage("dave", "driver", "churned", "2026-02-10"),
            stage("dave", "driver", "active", "2026-03-01"),
            trip("2026-03-02T08:00:00Z", "alice", "dave"),
        ]
    )
    role = next(r for r in ride.roles("dave", "2026-03-05") if r.role == "driver")
    assert "1 completed trip as driver up to 2026-03-05, the last on 2026-03-02" in role.reason
    # The lifetime figures keep every trip.
    assert ride.metrics("dave", "2026-03-05")["marketplace"]["driver.trips"] == 3
    # Back, with nothing yet since the return: no trip counted, no last one named.
    early = next(r for r in ride.roles("dave", "2026-03-01T12:00:00Z") if r.role == "driver")
    assert "no completed trip as driver yet" in early.reason


def test_a_riders_week_is_read_when_asked_for(ride: Toolkit) -> None:
    # A rider's view needs no week or month figures, so the snapshot leaves them out
    # until something asks for them.
    from partygraph_marketplace.snapshot import LIFETIME, WEEK, snapshot

    busy_world(ride)
    plugin = ride.plugin("marketplace")
    with ride.reader("2026-02-05") as graph:
        alice = graph.party("alice")
        assert alice.id is not None
        snap = snapshot(plugin.settings, alice.id, graph.as_of, graph)
        assert snap.totals("rider", LIFETIME).transactions == 1
        week = snap.totals("rider", WEEK)
    assert (week.transactions, float(week.gross)) == (1, 20.0)
