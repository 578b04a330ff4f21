"""Household roles, right as of any date: head, member, dependent, influencer, customer."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from household_world import FAMILY, purchase, usage

from partygraph import RoleAssignment, Toolkit

Factory = Callable[..., Toolkit]

FAMILY_PLAN = {
    "name": "family_plan",
    "label": "Family mobile plan",
    "when": [{"fact": "dependents", "at_least": 2}, {"lacks_product": "family_plan"}],
}
EDUCATION = {
    "name": "education_savings",
    "label": "Education savings plan",
    "when": [{"fact": "has_dependents_under_18"}, {"lacks_product": "education_savings"}],
}  # fmt: skip


def roles(toolkit: Toolkit, key: str, as_of: str | None = None) -> dict[str, RoleAssignment]:
    found = toolkit.roles(key, as_of=as_of)
    return {role.role: role for role in found if role.plugin == "household"}


def jsonl(records: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(record) + "\n" for record in records).encode())


def test_a_couple_two_children_and_one_turning_18(household_toolkit: Factory) -> None:
    toolkit = household_toolkit({"offers": [FAMILY_PLAN, EDUCATION]})
    report = toolkit.import_jsonl(jsonl(FAMILY))
    assert report.created["relationship"] == 4

    alice = roles(toolkit, "alice", "2024-03-01")
    assert set(alice) == {"household_member", "head_of_household"}
    head = alice["head_of_household"]
    assert head.context is not None
    assert head.context.key == "moreau"
    assert head.reason.startswith("Head of the Moreau household since 2015-01-01 (relationship #")
    assert head.customer is False
    assert set(roles(toolkit, "bob", "2024-03-01")) == {"household_member"}
    assert "(role partner)" in roles(toolkit, "bob", "2024-03-01")["household_member"].reason

    # Chloé turns 18 on 2024-03-10: a dependent before, a member only after.
    before = roles(toolkit, "chloe", "2024-03-01")
    assert set(before) == {"household_member", "dependent"}
    dependent = before["dependent"]
    assert dependent.until == datetime(2024, 3, 10, tzinfo=UTC)
    assert "aged 17 (born 2006-03-10), under 18" in dependent.reason
    assert "a dependent until 2024-03-10" in dependent.reason
    assert set(roles(toolkit, "chloe", "2024-03-15")) == {"household_member"}
    assert set(roles(toolkit, "dan", "2024-03-15")) == {"household_member", "dependent"}

    plugin = toolkit.plugin("household")
    march_1 = plugin.view("moreau", "2024-03-01")
    assert march_1["facts"]["dependents"] == 2
    assert march_1["facts"]["adults"] == 2
    assert [offer["offer"] for offer in march_1["offers"]] == ["family_plan", "education_savings"]
    assert march_1["offers"][0]["because"] == [
        "dependents is 2 (at least 2)",
        "holds no family_plan",
    ]
    march_15 = plugin.view("moreau", "2024-03-15")
    assert march_15["facts"]["dependents"] == 1
    assert march_15["facts"]["adults"] == 3
    assert [offer["offer"] for offer in march_15["offers"]] == ["education_savings"]
    assert march_15["offers"][0]["because"] == [
        "has_dependents_under_18 is true",
        "holds no education_savings",
    ]
    # Dan turns 18 in 2030: no dependent left, no offer.
    assert plugin.view("moreau", "2030-08-01")["offers"] == []


def test_roles_follow_membership_dates(moreau: Toolkit) -> None:
    assert roles(moreau, "alice", "2014-12-31") == {}
    assert set(roles(moreau, "alice", "2015-01-01")) == {"household_member", "head_of_household"}
    moreau.end_relationship(_membership(moreau, "dan"), "2020-09-01")
    assert set(roles(moreau, "dan", "2020-08-31")) == {"household_member", "dependent"}
    assert roles(moreau, "dan", "2020-09-01") == {}
    # History stays: the ended membership is still there.
    history = moreau.relationships("dan", history=True)
    assert [(view.other.key, view.current) for view in history] == [("moreau", False)]


def _membership(toolkit: Toolkit, key: str) -> int:
    (view,) = [view for view in toolkit.relationships(key) if view.relationship.type == "member_of"]
    assert view.relationship.id is not None
    return view.relationship.id


def test_naming_a_new_head_keeps_the_old_head_as_a_member(moreau: Toolkit) -> None:
    new_head = moreau.relate("bob", "moreau", "member_of", role="head", valid_from="2024-06-01")
    # The relationship returned is the one asked for, not a derived one.
    assert (new_head.source, new_head.role, new_head.valid_to) == (
        moreau.party("bob").id,
        "head",
        None,
    )
    june = datetime(2024, 6, 1, tzinfo=UTC)
    alice = {
        (view.relationship.role, view.relationship.valid_from, view.relationship.valid_to)
        for view in moreau.relationships("alice", history=True)
    }
    assert alice == {("head", datetime(2015, 1, 1, tzinfo=UTC), june), ("other", june, None)}
    # Bob's partner membership became his head membership on the same day.
    bob = {
        (view.relationship.role, view.relationship.valid_to)
        for view in moreau.relationships("bob", history=True)
    }
    assert bob == {("partner", june), ("head", None)}

    assert set(roles(moreau, "alice", "2024-05-31")) == {"household_member", "head_of_household"}
    assert set(roles(moreau, "alice", "2024-06-01")) == {"household_member"}
    assert set(roles(moreau, "bob", "2024-06-01")) == {"household_member", "head_of_household"}
    heads = [
        view
        for view in moreau.relationships("moreau", "2024-07-01")
        if view.relationship.role == "head"
    ]
    assert [view.other.key for view in heads] == ["bob"]
    summary = moreau.plugin("household").view("moreau", "2024-07-01")
    assert [m["key"] for m in summary["members"] if m["role"] == "head"] == ["bob"]
    assert len(summary["members"]) == 4


def test_former_head_role_is_configurable(household_toolkit: Factory) -> None:
    toolkit = household_toolkit({"former_head_role": "partner"})
    toolkit.write(FAMILY)
    toolkit.write(
        [{"relationship": {"type": "member_of", "source": "bob", "target": "moreau",
                           "role": "head", "valid_from": "2024-06-01"}}]
    )  # fmt: skip
    current = {
        view.other.key: view.relationship.role
        for view in toolkit.relationships("alice", "2024-07-01")
    }
    assert current == {"moreau": "partner"}


def test_a_member_who_does_not_buy_but_is_bought_for_is_an_influencer(moreau: Toolkit) -> None:
    moreau.write(
        [
            purchase("alice", "2024-02-01", [("sneak-1", "shoes", 1, 60.0)], consumers=["chloe"]),
            purchase("alice", "2024-03-01", [("game-1", "toys", 1, 30.0)], consumers=["chloe"]),
            purchase("dan", "2024-03-02", [("comic-1", "books", 1, 8.0)]),
            purchase("alice", "2024-03-03", [("comic-2", "books", 1, 8.0)], consumers=["dan"]),
        ]
    )
    chloe = roles(moreau, "chloe", "2024-04-01")
    influencer = chloe["household_influencer"]
    assert influencer.context is not None
    assert influencer.context.key == "moreau"
    assert influencer.customer is False
    assert influencer.since == datetime(2024, 2, 1, tzinfo=UTC)
    assert influencer.reason.startswith(
        "Bought nothing in the last 365 days, but other members of the Moreau household "
        "bought for them between 2024-02-01 and 2024-03-01: named as consumer in 2 "
        "purchase(s) (interaction #"
    )
    assert len(influencer.evidence) == 2
    # Dan buys himself: a buyer is no mere influencer.
    assert "household_influencer" not in roles(moreau, "dan", "2024-04-01")
    # Before anything was bought for her, and once she buys herself, she is not one.
    assert "household_influencer" not in roles(moreau, "chloe", "2024-01-15")
    moreau.write([purchase("chloe", "2024-04-10", [("book-9", "books", 1, 12.0)])])
    assert "household_influencer" not in roles(moreau, "chloe", "2024-05-01")
    # Nor is someone bought for by a person outside the household.
    moreau.write(
        [
            {"party": {"key": "gran", "kind": "person", "name": "Granny Moreau"}},
            purchase("gran", "2024-05-02", [("toy-2", "toys", 1, 20.0)], consumers=["dan"]),
        ]
    )
    assert "household_influencer" not in roles(moreau, "dan", "2024-06-01")


def test_using_what_another_member_bought_makes_an_influencer(moreau: Toolkit) -> None:
    moreau.write(
        [
            purchase("alice", "2024-02-01", [("drill", "tools", 1, 90.0)], order="O-9"),
            usage("bob", "2024-02-03", "O-9"),
            usage("bob", "2024-02-10", "O-9"),
            usage("dan", "2024-02-11", "O-404"),  # from no household purchase
        ]
    )
    bob = roles(moreau, "bob", "2024-03-01")["household_influencer"]
    assert "between 2024-02-03 and 2024-02-10: used products from 1 purchase(s)" in bob.reason
    assert ": 2 use(s) (interaction #" in bob.reason
    assert len(bob.evidence) == 3  # two uses and the purchase
    assert "household_influencer" not in roles(moreau, "dan", "2024-03-01")
    # Using it before it was bought (or outside the household) does not count.
    assert "household_influencer" not in roles(moreau, "bob", "2024-02-02")


def test_a_household_is_a_customer_when_a_current_member_is(moreau: Toolkit) -> None:
    assert roles(moreau, "moreau", "2024-06-01") == {}
    moreau.write([purchase("bob", "2024-02-01", [("tv-1", "electronics", 1, 499.0)])])
    assert roles(moreau, "moreau", "2024-01-31") == {}
    found = roles(moreau, "moreau", "2024-06-01")
    household = found["customer_household"]
    assert household.customer is True
    assert household.since == datetime(2024, 2, 1, tzinfo=UTC)
    assert household.reason == (
        "1 of its 4 current member(s) is a customer: Bob Moreau (partner): customer (shopfake)."
    )
    assert household.evidence[0].startswith("relationship #")
    assert "interaction #" in household.evidence[-1]
    # Once Bob has left, the household is no longer a customer through him.
    moreau.end_relationship(_membership(moreau, "bob"), "2024-07-01")
    assert "customer_household" not in roles(moreau, "moreau", "2024-08-01")
    assert "customer_household" in roles(moreau, "moreau", "2024-06-30")
