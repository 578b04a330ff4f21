"""The b2c plugin beside the privacy plugin: the gate, lawful bases, exclusions and erasure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from b2c_records import count_rows, person, purchase, roles_of, usage

from partygraph import Toolkit, WriteRefused


@pytest.fixture
def guarded(make_toolkit: Callable[..., Toolkit]) -> Callable[..., Toolkit]:
    """A toolkit with privacy and b2c enabled (privacy's default purposes)."""

    def factory(privacy: Mapping[str, Any] | None = None) -> Toolkit:
        return make_toolkit(
            enabled=["privacy", "b2c"],
            settings={"privacy": dict(privacy or {}), "b2c": {}},
        )

    return factory


def test_a_consumers_marketing_objection_does_not_silence_the_purchasers_receipt(
    guarded: Callable[..., Toolkit],
) -> None:
    toolkit = guarded()
    privacy = toolkit.plugin("privacy")
    toolkit.write([person("son", "Tom Weber"), person("mum", "Helga Weber")])
    privacy.object("mum", "marketing", at="2025-01-01")
    # billing and service rest on the contract: the purchase passes the gate.
    toolkit.write([purchase("SUB-1", "2025-02-01", "son", consumers=["mum"])])
    plugin = toolkit.plugin("b2c")
    assert plugin.recipients("SUB-1", "billing") == {
        "order_id": "SUB-1", "purpose": "billing", "perspective": "billing",
        "to": ["son"], "left_out": [],
    }  # fmt: skip
    assert plugin.recipients("SUB-1", "service")["to"] == ["mum"]
    marketing = plugin.recipients("SUB-1", "marketing")
    assert marketing["to"] == []  # nobody consented yet
    privacy.grant("son", "marketing", at="2025-01-15")
    marketing = plugin.recipients("SUB-1", "marketing")
    assert marketing["to"] == ["son"]
    assert [item["party"] for item in marketing["left_out"]] == ["mum"]
    assert "marketing" in marketing["left_out"][0]["reason"]
    assert set(roles_of(toolkit, "son", "2025-03-01")) == {"customer"}
    assert set(roles_of(toolkit, "mum", "2025-03-01")) == {"consumer"}


def test_a_consent_based_purpose_without_consent_is_refused(
    guarded: Callable[..., Toolkit],
) -> None:
    # A company that uses product telemetry for profiling says so in its config.
    toolkit = guarded({"purpose_overrides": {"product_usage": ["profiling"]}})
    toolkit.write([person("gran")])
    with pytest.raises(WriteRefused, match="gran: no lawful basis for profiling"):
        toolkit.write([usage("gran", "2025-02-01")])
    assert count_rows(toolkit, "interaction") == 0
    toolkit.plugin("privacy").grant("gran", "profiling", at="2025-01-01")
    toolkit.write([usage("gran", "2025-02-01")])
    assert set(roles_of(toolkit, "gran", "2025-03-01")) == {"consumer"}


def test_preferences_and_rfm_respect_lawful_bases(guarded: Callable[..., Toolkit]) -> None:
    toolkit = guarded()
    privacy = toolkit.plugin("privacy")
    toolkit.write(
        [
            person("ann"),
            person("bob"),
            purchase("A-1", "2025-01-01", "ann", [("S", "shoes", 2, 40)]),
            purchase("B-1", "2025-01-02", "bob", [("S", "shoes", 1, 40)]),
        ]
    )
    # Profiling rests on consent or legitimate interests: none is recorded yet.
    figures = toolkit.metrics("ann", as_of="2025-02-01")["b2c"]
    assert figures["top_categories"] is None
    section = toolkit.view("ann", as_of="2025-02-01").sections["b2c"]
    assert "no lawful basis for profiling" in section["preferences"]["withheld"]
    assert toolkit.plugin("b2c").audience("shoes", "2025-02-01")["parties"] == []
    privacy.grant("ann", "profiling", at="2024-12-01")
    privacy.grant("ann", "marketing", at="2024-12-01")
    assert toolkit.metrics("ann", as_of="2025-02-01")["b2c"]["top_categories"] == "shoes"
    audience = toolkit.plugin("b2c").audience("shoes", "2025-02-01")
    assert [row["key"] for row in audience["parties"]] == ["ann"]
    assert audience["left_out"] == 1  # bob, counted but not named
    # Analytics is implicit (legitimate interests) until someone objects.
    assert {row["key"] for row in toolkit.plugin("b2c").customers("2025-02-01")} == {"ann", "bob"}
    assert toolkit.metrics("bob", as_of="2025-02-01")["b2c"]["rfm_m"] == 1
    privacy.object("bob", "analytics", at="2025-01-15")
    assert {row["key"] for row in toolkit.plugin("b2c").customers("2025-02-01")} == {"ann"}
    assert toolkit.metrics("bob", as_of="2025-02-01")["b2c"]["rfm_m"] is None


def test_erasure_takes_the_subjects_orders_and_keeps_shared_ones(
    guarded: Callable[..., Toolkit],
) -> None:
    toolkit = guarded()
    toolkit.write(
        [
            person("dad", "Dan Roe", email="dan.roe@example.org"),
            person("kid", "Kim Roe"),
            purchase("D-1", "2025-01-01", "dad", [("S", "tools", 1, 30)]),
            purchase("D-2", "2025-01-02", "dad", [("T", "toys", 1, 20)], consumers=["kid"]),
        ]
    )
    export = toolkit.export_subject("dad")["plugins"]["b2c"]
    assert [order["order_id"] for order in export["orders"]] == ["D-1", "D-2"]
    assert export["figures"]["historic_clv"] == 50.0
    report = toolkit.plugin("privacy").erase("dad")
    assert report["plugins"]["b2c"]["orders_deleted_with_their_interactions"] == 1
    assert report["passed"] is True
    assert count_rows(toolkit, "b2c_order") == 1  # D-2 stays: the kid took part in it
    kid = toolkit.roles("kid", as_of="2025-02-01")
    assert [role.role for role in kid] == ["consumer"]
    assert "no longer on record" in kid[0].reason
    assert toolkit.plugin("b2c").customers("2025-02-01") == []
