"""The nonprofit plugin passes partygraph's conformance suite, installed like any package."""

from __future__ import annotations

from partygraph.conformance import PluginConformance

from nonprofit_world import foodbank


class TestNonprofitConformance(PluginConformance):
    """Henry gives (the plugin's table holds his gifts); Maria is served."""

    plugin = "nonprofit"
    subject = "henry"
    subject_records = tuple(foodbank())


class TestNonprofitConformanceForSomeoneServed(PluginConformance):
    """Maria is served and gives once: her gift goes with her, Henry's stay."""

    plugin = "nonprofit"
    subject = "maria"
    subject_records = (
        *foodbank(),
        {"interaction": {"type": "donation", "occurred_at": "2026-02-10T12:00:00Z",
                         "participants": [{"party": "maria", "role": "donor"}],
                         "payload": {"amount": 10, "campaign": "Give back"}}},
    )  # fmt: skip
