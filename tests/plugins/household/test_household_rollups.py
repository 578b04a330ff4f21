"""Roll-ups credited by membership period, across current members, and for the population."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from household_world import FAMILY, purchase, refund

from partygraph import Toolkit, ValidationError

Factory = Callable[..., Toolkit]


def view(toolkit: Toolkit, key: str, as_of: str) -> dict[str, Any]:
    summary: dict[str, Any] = toolkit.plugin("household").view(key, as_of)
    return summary


def member_keys(summary: dict[str, Any]) -> list[str]:
    return sorted(member["key"] for member in summary["members"])


def test_a_member_moving_out_keeps_her_past_spending_in_the_old_household(
    moreau: Toolkit,
) -> None:
    moreau.write(
        [
            purchase("alice", "2023-05-01", [("veg-box", "groceries", 4, 25.0)]),
            purchase("chloe", "2023-06-10", [("novel-1", "books", 2, 20.0)]),
            # She moves out on 1 February 2024 into a flat of her own ...
            {"party": {"key": "chloe-flat", "kind": "household", "name": "Chloé's flat"}},
            {"relationship": {"type": "member_of", "source": "chloe", "target": "moreau",
                              "role": "dependent", "valid_from": "2015-01-01",
                              "valid_to": "2024-02-01"}},
            {"relationship": {"type": "member_of", "source": "chloe", "target": "chloe-flat",
                              "role": "head", "valid_from": "2024-02-01"}},
            # ... and buys there in March.
            purchase("chloe", "2024-03-05", [("novel-2", "books", 1, 25.0)]),
        ]
    )  # fmt: skip
    # In 2023 she is a member, and her spending and value count for the Moreaus.
    december = view(moreau, "moreau", "2023-12-01")
    assert member_keys(december) == ["alice", "bob", "chloe", "dan"]
    assert december["rollup"]["spend"]["amount"] == 140.0
    assert december["rollup"]["total_value"]["by_metric"] == {"shopfake.clv": 140.0}

    april = view(moreau, "moreau", "2024-04-01")
    assert member_keys(april) == ["alice", "bob", "dan"]
    # Credited by membership period: her 2023 books stay, her March books do not come.
    assert april["rollup"]["spend"] == {
        "purchases": 2, "amount": 140.0, "buyers": 2, "first": "2023-05-01",
        "last": "2023-06-10", "currency": "EUR",
    }  # fmt: skip
    # Roll-ups across current members leave her out from the day she left.
    assert april["rollup"]["total_value"]["total"] == 100.0
    assert april["facts"]["dependents"] == 1

    flat = view(moreau, "chloe-flat", "2024-04-01")
    assert member_keys(flat) == ["chloe"]
    assert flat["rollup"]["spend"]["amount"] == 25.0  # nothing re-credited from before
    assert flat["rollup"]["total_value"]["total"] == 65.0  # her CLV is hers wherever she lives
    assert flat["status"] == "active"

    # History keeps her: as of 2023 she is a member of the Moreaus, as of now of her flat.
    past = {r.role: r.context.key for r in moreau.roles("chloe", "2023-12-01") if r.context}
    assert past == {"household_member": "moreau", "dependent": "moreau"}
    now = {r.role: r.context.key for r in moreau.roles("chloe", "2024-04-01") if r.context}
    assert now == {"household_member": "chloe-flat", "head_of_household": "chloe-flat"}
    section = moreau.view("chloe", "2024-04-01").sections["household"]
    assert [item["household"]["key"] for item in section["former_households"]] == ["moreau"]


def test_a_household_everyone_left_keeps_its_history(moreau: Toolkit) -> None:
    moreau.write([purchase("alice", "2023-05-01", [("veg-box", "groceries", 1, 30.0)])])
    for view_ in moreau.relationships("moreau"):
        assert view_.relationship.id is not None
        moreau.end_relationship(view_.relationship.id, "2024-01-01")
    summary = view(moreau, "moreau", "2024-02-01")
    assert summary["status"] == "empty"
    assert summary["members"] == []
    assert summary["rollup"]["spend"]["amount"] == 30.0
    row = {r["household"]: r for r in moreau.plugin("household").rollups("2024-02-01")}["moreau"]
    assert (row["status"], row["members"], row["spend"]) == ("empty", 0, 30.0)
    assert moreau.roles("moreau", "2024-02-01") == []


def test_a_joint_account_appears_once(moreau: Toolkit) -> None:
    moreau.write(
        [
            {"party": {"key": "joint-1", "kind": "account_holding", "name": "Joint account",
                       "attributes": {"product": "joint_account", "balance": 5000,
                                      "currency": "EUR"}}},
            {"party": {"key": "savings-a", "kind": "account_holding", "name": "Alice's savings",
                       "attributes": {"product": "savings", "balance": 1000}}},
            {"party": {"key": "home-ins", "kind": "account_holding", "name": "Home insurance",
                       "attributes": {"product": "family_insurance"}}},
            {"relationship": {"type": "holds", "source": "alice", "target": "joint-1",
                              "role": "holder", "attributes": {"share": 0.5},
                              "valid_from": "2020-01-01"}},
            {"relationship": {"type": "holds", "source": "bob", "target": "joint-1",
                              "role": "holder", "attributes": {"share": 0.5},
                              "valid_from": "2020-01-01"}},
            {"relationship": {"type": "holds", "source": "alice", "target": "savings-a",
                              "valid_from": "2021-01-01"}},
            {"relationship": {"type": "holds", "source": "moreau", "target": "home-ins",
                              "valid_from": "2022-01-01"}},
        ]
    )  # fmt: skip
    summary = view(moreau, "moreau", "2024-01-01")
    products = {item["key"]: item for item in summary["rollup"]["products"]}
    assert sorted(products) == ["home-ins", "joint-1", "savings-a"]
    joint = products["joint-1"]
    assert (joint["product"], joint["holders"], joint["household_share"]) == (
        "joint_account",
        2,
        1.0,
    )
    assert products["home-ins"]["held_by_household"] is True
    assert summary["rollup"]["holdings_value"] == 6000.0  # the joint account counted once
    assert summary["facts"]["products"] == 3
    offers = [offer["offer"] for offer in summary["offers"]]
    assert offers == ["education_savings"]  # no joint account, no family insurance
    # Before the accounts were opened, the Moreaus held nothing.
    assert view(moreau, "moreau", "2019-06-01")["rollup"]["products"] == []
    # A third holder would take the shares above 1: refused, nothing written.
    moreau.upsert_party("chloe", "person")
    with pytest.raises(ValidationError) as refused:
        moreau.relate("chloe", "joint-1", "holds", attributes={"share": 0.25},
                      valid_from="2023-01-01")  # fmt: skip
    assert refused.value.field == "attributes/share"
    assert "would add up to 1.25 on 2023-01-01" in str(refused.value)
    assert [v.other.key for v in moreau.relationships("joint-1")] == ["alice", "bob"]
    # Raising one holder's share above what the other leaves is refused as well.
    with pytest.raises(ValidationError, match=r"would add up to 1\.3 on 2020-01-01"):
        moreau.relate("alice", "joint-1", "holds", role="holder", attributes={"share": 0.8},
                      valid_from="2020-01-01")  # fmt: skip
    shares = {
        v.other.key: v.relationship.attributes["share"] for v in moreau.relationships("joint-1")
    }
    assert shares == {"alice": 0.5, "bob": 0.5}


def test_shared_preferences_and_total_value_across_current_members(moreau: Toolkit) -> None:
    moreau.write(
        [
            purchase("alice", "2024-01-10", [("veg-box", "groceries", 2, 25.0),
                                             ("lego-1", "toys", 1, 40.0)]),
            purchase("bob", "2024-02-10", [("veg-box", "groceries", 1, 25.0)]),
            purchase("bob", "2024-02-11", [("drill", "tools", 1, 89.5)]),
            {"interaction": {"type": "purchase", "occurred_at": "2024-02-12",
                             "participants": [{"party": "chloe", "role": "purchaser"}],
                             "payload": {"lines": [{"sku": "g", "category": "groceries",
                                                    "quantity": 1, "unit_price": 3}]}}},
        ]
    )  # fmt: skip
    summary = view(moreau, "moreau", "2024-03-01")
    assert summary["rollup"]["shared_preferences"] == [{"category": "groceries", "members": 3}]
    assert summary["rollup"]["total_value"] == {
        "total": 207.5,
        "by_metric": {"shopfake.clv": 207.5},
    }
    spend = summary["rollup"]["spend"]
    assert (spend["purchases"], spend["amount"], spend["buyers"]) == (4, 207.5, 3)
    # Purchases without a currency are counted too, and the mix is shown by currency.
    assert "currency" not in spend
    assert spend["by_currency"] == {"EUR": 204.5}
    assert summary["facts"]["customer"] is True
    metrics = moreau.metrics("moreau", "2024-03-01")["household"]
    assert (metrics["spend"], metrics["total_value"], metrics["members"]) == (207.5, 207.5, 4)
    # A year on, those purchases are outside the recent window: nothing shared any more.
    later = view(moreau, "moreau", "2025-03-01")
    assert later["rollup"]["shared_preferences"] == []
    assert later["rollup"]["recent_spend"]["amount"] == 0.0
    assert later["rollup"]["spend"]["amount"] == 207.5


def test_returns_take_back_their_amount_or_what_is_left_of_the_order(moreau: Toolkit) -> None:
    moreau.write(
        [
            purchase("alice", "2024-01-10", [("coat", "clothes", 1, 100.0)], order="A1"),
            purchase("alice", "2024-01-11", [("shoes", "clothes", 2, 25.0)], order="A2"),
            refund("alice", "2024-01-20", "A1", 30.0),  # part of the coat's price
            refund("alice", "2024-01-21", "A2"),  # the whole order
        ]
    )
    spend = view(moreau, "moreau", "2024-02-01")["rollup"]["spend"]
    assert (spend["purchases"], spend["amount"], spend["currency"]) == (2, 70.0, "EUR")
    moreau.write([refund("alice", "2024-02-05", "A1")])  # the rest of the coat
    assert view(moreau, "moreau", "2024-03-01")["rollup"]["spend"]["amount"] == 0.0
    # Before the returns, the full amount counted.
    assert view(moreau, "moreau", "2024-01-15")["rollup"]["spend"]["amount"] == 150.0


def test_amounts_from_a_top_level_total_or_from_lines(household_toolkit: Factory) -> None:
    toolkit = household_toolkit(
        {
            "purchases": {
                "amount_fields": ["grand_total"],
                "lines_field": "items",
                "line_price_fields": ["price"],
            }
        }
    )
    toolkit.write(FAMILY)
    toolkit.write(
        [
            {"interaction": {"type": "purchase", "occurred_at": "2024-01-01",
                             "participants": [{"party": "alice", "role": "purchaser"}],
                             "payload": {"grand_total": 12.5}}},
            {"interaction": {"type": "purchase", "occurred_at": "2024-01-02",
                             "participants": [{"party": "bob", "role": "purchaser"}],
                             "payload": {"items": [{"sku": "a", "quantity": 3, "unit_price": 1,
                                                    "price": 2.0, "category": "food"}]}}},
            {"interaction": {"type": "purchase", "occurred_at": "2024-01-03",
                             "participants": [{"party": "bob", "role": "purchaser"}],
                             "payload": {"grand_total": "oops", "items": "none"}}},
        ]
    )  # fmt: skip
    spend = view(toolkit, "moreau", "2024-02-01")["rollup"]["spend"]
    assert (spend["purchases"], spend["amount"]) == (3, 18.5)


def test_population_rollups_agree_with_each_view(moreau: Toolkit) -> None:
    moreau.write(
        [
            {"party": {"key": "lee", "kind": "household", "name": "Lee household"}},
            {"party": {"key": "sam", "kind": "person", "name": "Sam Lee",
                       "attributes": {"birth_date": "1990-01-01"}}},
            {"relationship": {"type": "member_of", "source": "sam", "target": "lee",
                              "role": "other", "valid_from": "2022-01-01"}},
            purchase("sam", "2024-01-05", [("bike", "sports", 1, 300.0)]),
            purchase("alice", "2024-01-06", [("veg-box", "groceries", 1, 25.0)]),
        ]
    )  # fmt: skip
    plugin = moreau.plugin("household")
    rows = {row["household"]: row for row in plugin.rollups("2024-02-01")}
    assert sorted(rows) == ["lee", "moreau"]
    for key, row in rows.items():
        summary = view(moreau, key, "2024-02-01")
        assert row["spend"] == summary["rollup"]["spend"]["amount"]
        assert row["members"] == len(summary["members"])
        assert row["dependents"] == summary["facts"]["dependents"]
        assert row["offers"] == [offer["offer"] for offer in summary["offers"]]
    assert rows["lee"]["status"] == "no_head"
    eligible = {row["household"]: row["offers"] for row in plugin.offers("2024-02-01")}
    assert list(eligible) == ["moreau"]
    assert [offer["offer"] for offer in eligible["moreau"]] == rows["moreau"]["offers"]
