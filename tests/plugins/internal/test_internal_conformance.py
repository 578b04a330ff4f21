"""The internal plugin passes the conformance suite every plugin must pass.

The subject is Nora, a sales representative whose IT requests the plugin
keeps for service levels, and who receives a lead from marketing.
"""

from __future__ import annotations

from internal_world import company, department, employ, handoff, person, request, serves

from partygraph.conformance import PluginConformance


class TestInternalConformance(PluginConformance):
    plugin = "internal"
    subject = "nora"
    subject_records = (
        company(),
        department("it", "IT Service Desk", "it"),
        department("sales", "Sales", "sales"),
        department("marketing", "Marketing", "marketing"),
        person("nora", "Nora Castellanos", email="nora.castellanos@acme.example"),
        person("ivan", "Ivan Petrov"),
        person("lena", "Lena Okafor"),
        employ("nora", "sales", "2024-03-01", title="Account executive"),
        employ("ivan", "it", "2023-06-01"),
        employ("lena", "sales", "2025-02-01"),
        serves("it", "sales", "2025-01-01", categories=["hardware", "access"]),
        request("nora", "it", "2026-02-02T09:00:00Z", "hardware", resolved="2026-02-03T09:00:00Z",
                satisfaction=4, assignee="ivan"),
        request("lena", "it", "2026-02-04T10:00:00Z", "access"),
        handoff("marketing", "sales", "2026-02-05T11:00:00Z", "accepted", lead="nora"),
    )  # fmt: skip
