"""With the privacy plugin: the gate, aggregation consent, and heads of household as guardians."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from household_world import FAMILY, purchase

from partygraph import Toolkit, WriteRefused

Factory = Callable[..., Toolkit]


@pytest.fixture
def guarded(household_toolkit: Factory) -> Toolkit:
    """The Moreau family, with the privacy plugin enabled, and a few purchases."""
    toolkit = household_toolkit(privacy=True)
    toolkit.write(FAMILY)
    toolkit.write(
        [
            purchase("alice", "2024-01-10", [("veg-box", "groceries", 2, 25.0)]),
            purchase("bob", "2024-02-10", [("veg-box", "groceries", 1, 25.0)]),
            purchase("bob", "2024-02-11", [("drill", "tools", 1, 90.0)]),
        ]
    )
    return toolkit


def test_household_writes_pass_the_gate_and_consent_based_purposes_are_refused(
    guarded: Toolkit,
) -> None:
    # Households, memberships, holdings and purchases (service, billing: implicit
    # purposes) went through the gate above; the plugin's declarations satisfied it.
    assert len(guarded.relationships("moreau")) == 4
    assert len(guarded.interactions("bob", type="purchase")) == 2
    guarded.write(
        [
            {"party": {"key": "joint-1", "kind": "account_holding",
                       "attributes": {"product": "joint_account", "balance": 100}}},
            {"relationship": {"type": "holds", "source": "alice", "target": "joint-1",
                              "attributes": {"share": 0.5}}},
        ]
    )  # fmt: skip
    # Marketing needs consent: the newsletter to Alice is refused, nothing written.
    newsletter = {
        "interaction": {
            "type": "newsletter",
            "occurred_at": "2024-03-01",
            "participants": [{"party": "alice", "role": "recipient"}],
        }
    }
    with pytest.raises(WriteRefused, match="alice: no lawful basis for marketing"):
        guarded.write([newsletter])
    assert guarded.interactions("alice", type="newsletter") == []
    # A restricted member's data is frozen: no new membership for her.
    privacy = guarded.plugin("privacy")
    privacy.restrict("chloe", at="2024-03-01")
    guarded.upsert_party("flat", "household")
    with pytest.raises(WriteRefused, match="chloe: its data is frozen"):
        guarded.relate("chloe", "flat", "member_of", role="head", valid_from="2024-04-01")
    assert [v.other.key for v in guarded.relationships("chloe")] == ["moreau"]


def _consent_for_everyone(toolkit: Toolkit) -> None:
    privacy = toolkit.plugin("privacy")
    for key in ("alice", "bob", "chloe"):
        privacy.grant(key, "household_aggregation", at="2023-01-01", source="family form")
    # Dan is a minor: his own consent would not count; the head of his household's does.
    privacy.grant("dan", "household_aggregation", at="2023-01-01", given_by="alice",
                  verification="signed family form #4")  # fmt: skip


def test_a_member_withdrawing_aggregation_consent_is_left_out_unnamed(guarded: Toolkit) -> None:
    plugin = guarded.plugin("household")
    # Without consent nobody may be aggregated: the figures are empty, and say why.
    nobody = plugin.view("moreau", "2024-03-01")
    assert (nobody["rollup"]["members_counted"], nobody["rollup"]["left_out"]) == (0, 4)
    assert nobody["rollup"]["spend"]["amount"] == 0.0
    assert "customer_household" not in {r.role for r in guarded.roles("moreau", "2024-03-01")}

    _consent_for_everyone(guarded)
    everyone = plugin.view("moreau", "2024-03-01")
    assert (everyone["rollup"]["members_counted"], everyone["rollup"]["left_out"]) == (4, 0)
    assert everyone["rollup"]["spend"]["amount"] == 165.0
    assert everyone["rollup"]["total_value"]["total"] == 165.0
    assert everyone["rollup"]["shared_preferences"] == [{"category": "groceries", "members": 2}]
    assert "note" not in everyone["rollup"]

    guarded.plugin("privacy").withdraw("bob", "household_aggregation", at="2024-05-01")
    after = plugin.view("moreau", "2024-06-01")
    rollup = after["rollup"]
    assert (rollup["members_counted"], rollup["left_out"]) == (3, 1)
    assert rollup["spend"]["amount"] == 50.0  # Bob's purchases are no longer added up
    assert rollup["total_value"]["total"] == 50.0
    assert rollup["shared_preferences"] == []
    assert rollup["note"] == (
        "1 member(s) left out of these figures: their data may not be aggregated "
        "(household_aggregation). Who is not shown."
    )
    text = str(after["rollup"]) + str(after["facts"]) + str(after["offers"])
    assert "bob" not in text.lower()
    # The household's metrics say the same.
    metrics = guarded.metrics("moreau", "2024-06-01")["household"]
    assert (metrics["left_out"], metrics["spend"]) == (1, 50.0)
    # The customer household now rests on Alice alone, and says one member was left out.
    (household,) = [r for r in guarded.roles("moreau", "2024-06-01") if r.plugin == "household"]
    assert household.reason.startswith("1 of its 4 current member(s) is a customer: Alice Moreau")
    assert "1 member(s) left out" in household.reason
    assert "Bob" not in household.reason
    # Before the withdrawal, Bob still counted.
    assert plugin.view("moreau", "2024-04-01")["rollup"]["left_out"] == 0
    # The population roll-up leaves him out the same way.
    (row,) = plugin.rollups("2024-06-01")
    assert (row["left_out"], row["spend"]) == (1, 50.0)


def test_the_head_of_household_is_the_guardian_the_privacy_plugin_recognises(
    guarded: Toolkit,
) -> None:
    privacy = guarded.plugin("privacy")
    # Bob is a partner, not the head: his consent for Dan (12) does not count ...
    privacy.grant("dan", "profiling", at="2024-01-01", given_by="bob", verification="call #1")
    assert privacy.basis("dan", "profiling", "2024-02-01").allowed is False
    # ... until he becomes head of the household (Alice stays a member).
    guarded.relate("bob", "moreau", "member_of", role="head", valid_from="2024-03-01")
    privacy.grant("dan", "profiling", at="2024-03-02", given_by="bob", verification="call #2")
    assert privacy.basis("dan", "profiling", "2024-03-05").allowed is True
    roles = {r.role for r in guarded.roles("alice", "2024-03-05") if r.plugin == "household"}
    assert roles == {"household_member"}
