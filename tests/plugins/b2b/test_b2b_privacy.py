"""With the privacy plugin: the b2b plugin's writes pass its gate, and its analytics respect it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from b2b_world import ACCOUNTANTS, CFO_ONLY, ERP_WORLD, touch

from partygraph import Toolkit, WriteRefused

ENABLED = ("privacy", "b2b")


def interactions(toolkit: Toolkit) -> int:
    with toolkit.engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT count(*) FROM interaction").scalar() or 0)


def test_sales_touchpoints_and_deals_pass_the_gate(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit(enabled=ENABLED, privacy={})
    report = toolkit.write([*ERP_WORLD, *CFO_ONLY, *ACCOUNTANTS])
    assert report.rejected == []
    assert dict(report.created)["interaction"] == 3
    assert dict(report.created)["deal"] == 1
    (entry,) = toolkit.plugin("b2b").coverage("2026-03-01", account="acme")[:1]
    assert entry["engaged_stakeholders"] == 3
    declared = {(d.table, d.field) for owner, d in toolkit.data_declarations() if owner == "b2b"}
    assert {("b2b_deal", "amount"), ("b2b_deal_state", "at"), ("relationship", "role")} <= declared


def test_a_consent_based_purpose_without_consent_is_refused(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    """Process e-mails for marketing: the CFO's e-mail needs her consent first."""
    toolkit = b2b_toolkit(enabled=ENABLED, privacy={"purpose_overrides": {"email": ["marketing"]}})
    toolkit.write(ERP_WORLD)
    email = touch("email", "2026-02-10T09:00:00Z", "carla", role="recipient", subject="ROI")
    with pytest.raises(WriteRefused, match="carla: no lawful basis for marketing"):
        toolkit.write([email])
    assert interactions(toolkit) == 0
    toolkit.plugin("privacy").grant("carla", "marketing", at="2026-01-01")
    toolkit.write([email])
    assert interactions(toolkit) == 1


def test_an_objection_to_sales_leaves_the_stakeholder_out_of_the_figures(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit(enabled=ENABLED, privacy={})
    toolkit.write([*ERP_WORLD, *CFO_ONLY, *ACCOUNTANTS])
    toolkit.plugin("privacy").object("ann", "sales", at="2026-02-25")
    (entry,) = toolkit.plugin("b2b").coverage("2026-03-01", account="acme")[:1]
    assert sorted(p["person"]["key"] for p in entry["engaged"]) == ["abe", "carla"]
    assert entry["excluded_stakeholders"] == 1
    (role,) = toolkit.roles("ann", as_of="2026-03-01")
    assert "left out of engagement figures: no lawful basis for sales" in role.reason


def test_messaging_lists_only_stakeholders_who_may_receive_marketing(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit(enabled=ENABLED, privacy={})
    toolkit.write(ERP_WORLD)
    toolkit.plugin("privacy").grant("carla", "marketing", at="2026-01-01")
    found = toolkit.plugin("b2b").messaging("2026-02-15")
    assert found["purpose"] == "marketing"
    assert [(e["person"]["key"], e["email"]) for e in found["stakeholders"]] == [
        ("carla", "carla@acme.example")
    ]
    left_out = {entry["person"]: entry["reason"] for entry in found["excluded"]}
    assert sorted(left_out) == ["abe", "ann", "cora", "ian"]
    assert left_out["ann"].startswith("no lawful basis for marketing")
