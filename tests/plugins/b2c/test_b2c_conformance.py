"""The b2c plugin passes the conformance suite every plugin must pass."""

from __future__ import annotations

from b2c_records import person, purchase, refund, usage

from partygraph.conformance import PluginConformance


class TestB2CConformance(PluginConformance):
    plugin = "b2c"
    subject = "claire"
    subject_records = (
        person("claire", "Claire Fontaine", email="claire.fontaine@example.org"),
        person("hugo", "Hugo Fontaine"),
        person("nadia", "Nadia Berger"),
        purchase("ORD-7781", "2026-01-12T10:00:00Z", "claire", (("BK-1", "books", 2, 12.5),)),
        purchase(
            "ORD-7790",
            "2026-02-03T16:30:00Z",
            "claire",
            (("LEGO-42", "toys", 1, 49.99), ("BK-9", "books", 1, 8.0)),
            consumers=("hugo",),
        ),
        refund("ORD-7781", "2026-01-20T09:00:00Z", "claire", 12.5),
        purchase("ORD-8001", "2026-02-10T11:00:00Z", "nadia", (("GD-3", "garden", 1, 30.0),)),
        usage("claire", "2026-02-15T20:00:00Z"),
    )
