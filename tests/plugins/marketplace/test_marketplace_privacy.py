"""With the privacy plugin: trips pass its gate, profiling needs a basis, erasure is complete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from marketplace_world import ride_world, trip

from partygraph import Toolkit, WriteRefused

Rows = Callable[[Toolkit, str], int]


def test_trips_pass_the_gate_on_their_implicit_purposes(
    marketplace: Callable[..., Toolkit], rows: Rows
) -> None:
    toolkit = marketplace(privacy=True)
    toolkit.write(ride_world())
    toolkit.write([trip("2026-02-02T08:00:00Z", "alice", "dave", fare=20, tip=2)])
    assert rows(toolkit, "interaction") == 1
    assert rows(toolkit, "marketplace_activity") == 2
    assert {r.role for r in toolkit.roles("alice") if r.plugin == "marketplace"} == {"rider"}
    # Personal trip suggestions are profiling: no basis, no suggestions (and why).
    plugin = toolkit.plugin("marketplace")
    withheld = plugin.suggestions("alice", "2026-02-10")
    assert withheld["routes"] == []
    assert "no lawful basis for profiling" in withheld["withheld"]
    toolkit.plugin("privacy").grant("alice", "profiling", at="2026-01-01")
    toolkit.write([trip("2026-02-03T08:00:00Z", "alice", "dave", pickup_zone="gare",
                        dropoff_zone="centre"),
                   trip("2026-02-04T08:00:00Z", "alice", "dave", pickup_zone="gare",
                        dropoff_zone="centre")])  # fmt: skip
    allowed = plugin.suggestions("alice", "2026-02-10")
    assert allowed["withheld"] is None
    assert [(r["pickup_zone"], r["trips"]) for r in allowed["routes"]] == [("gare", 2)]


def test_a_consent_based_purpose_without_consent_is_refused(
    make_toolkit: Callable[..., Toolkit], rows: Rows
) -> None:
    # A company that profiles from every trip declares it: trips then need a basis for it.
    toolkit = make_toolkit(
        enabled=["privacy", "marketplace"],
        settings={
            "privacy": {"purpose_overrides": {"trip": ["service", "billing", "profiling"]}},
            "marketplace": {},
        },
    )
    toolkit.write(ride_world())
    with pytest.raises(WriteRefused, match="alice: no lawful basis for profiling"):
        toolkit.write([trip("2026-02-02T08:00:00Z", "alice", "dave")])
    assert rows(toolkit, "interaction") == 0
    assert rows(toolkit, "marketplace_activity") == 0
    privacy = toolkit.plugin("privacy")
    privacy.grant("alice", "profiling", at="2026-01-01")
    privacy.grant("dave", "profiling", at="2026-01-01")
    toolkit.write([trip("2026-02-02T08:00:00Z", "alice", "dave")])
    assert rows(toolkit, "marketplace_activity") == 2


def test_export_and_erasure_cover_the_marketplace_table(
    marketplace: Callable[..., Toolkit], rows: Rows
) -> None:
    toolkit = marketplace(privacy=True)
    toolkit.write(
        [
            *ride_world(),
            trip("2026-02-02T08:00:00Z", "alice", "dave", fare=20, pickup_zone="gare",
                 dropoff_zone="airport", ratings={"rider": 5}),
        ]
    )  # fmt: skip
    exported = toolkit.export_subject("alice")["plugins"]["marketplace"]["activity"]
    assert [(row["side"], row["amount"], row["pickup_zone"]) for row in exported] == [
        ("rider", 20.0, "gare")
    ]
    report = toolkit.plugin("privacy").erase("alice")
    assert report["plugins"]["marketplace"] == {"activity_rows_deleted": 1, "zones_cleared": 1}
    assert report["residual_hits"] == []
    assert rows(toolkit, "marketplace_activity") == 1
    # Dave keeps his earnings and his rating; the rider's zones are gone.
    (week,) = toolkit.plugin("marketplace").earnings("dave", until="2026-03-01")
    assert (week["trips"], week["gross"]) == (1, 20.0)
    (kept,) = toolkit.export_subject("dave")["plugins"]["marketplace"]["activity"]
    assert (kept["rating"], kept["pickup_zone"], kept["dropoff_zone"]) == (5.0, None, None)
