"""The marketplace plugin passes the conformance suite every plugin must pass.

The subject is Dave, a driver of the ride-sharing preset: his side lifecycle,
his trips with a rider, and a support ticket.
"""

from __future__ import annotations

from marketplace_world import ride_world, ticket, trip

from partygraph.conformance import PluginConformance


class TestMarketplaceConformance(PluginConformance):
    plugin = "marketplace"
    subject = "dave"
    subject_records = (
        *ride_world(),
        trip("2026-01-14T08:00:00Z", "alice", "dave", fare=18.5, tip=2, pickup_zone="gare",
             dropoff_zone="airport"),
        trip("2026-01-15T19:30:00Z", "sam", "dave", fare=9),
        trip("2026-01-16T07:45:00Z", "alice", "sam", fare=12),
        ticket("2026-01-17T10:00:00Z", "dave", "driver", "T-5521", "open",
               subject="payout delayed", category="payments"),
    )  # fmt: skip
