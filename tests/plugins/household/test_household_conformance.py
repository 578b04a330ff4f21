"""The household plugin passes the conformance suite every plugin must pass.

The household plugin keeps no table of its own (memberships and holdings are
the core's relationships), so the checks of its tables report a skip; the
others run on the Moreau family with the ``shopfake`` seller beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from household_world import FAMILY, ShopFake, purchase

from partygraph.conformance import PluginConformance


class TestHouseholdConformance(PluginConformance):
    plugin = "household"
    subject = "alice"
    extra_plugins: ClassVar[Mapping[str, object]] = {"shopfake": ShopFake}
    subject_records = (
        *FAMILY,
        purchase("alice", "2026-01-12T10:00:00Z", [("LEGO-42", "toys", 1, 49.99)],
                 consumers=["dan"], order="H-1"),
        purchase("bob", "2026-02-01T10:00:00Z", [("BK-1", "books", 2, 12.5)], order="H-2"),
    )  # fmt: skip
