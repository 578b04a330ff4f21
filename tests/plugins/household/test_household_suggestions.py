"""Address-based household suggestions: proposals only, never applied silently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from household_world import FAMILY

from partygraph import Toolkit
from partygraph_household.suggestions import normalise_address

Factory = Callable[..., Toolkit]

NEIGHBOURS: list[dict[str, Any]] = [
    {"party": {"key": "eve", "kind": "person", "name": "Eve Martin",
               "attributes": {"address": "3 Oak Street, Springfield"}}},
    {"party": {"key": "frank", "kind": "person", "name": "Frank Martin",
               "attributes": {"address": "3, oak st.  SPRINGFIELD"}}},
    {"party": {"key": "gina", "kind": "person", "name": "Gina Moreau",
               "attributes": {"address": {"street": "12 rue des Lilas", "postal_code": "750 11",
                                          "city": "Paris"}}}},
    {"party": {"key": "hugo", "kind": "person", "name": "Hugo Alone",
               "attributes": {"address": "9 Elm Road"}}},
    {"party": {"key": "ivan", "kind": "person", "name": "Ivan Nowhere"}},
]  # fmt: skip


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("12 Rue des Lilas, 75011 Paris", "12 rue des lilas 75011 PARIS"),
        ("10 Main Street", "10 main st."),
        ("Flat 2, 5 Saint-Éloi Avenue", "apt 2 5 st eloi ave"),
        ({"street": "12 Rue des Lilas", "postal_code": "75 011", "city": "Paris"},
         "12 rue des lilas 75011 paris"),
    ],
)  # fmt: skip
def test_addresses_are_compared_in_one_normal_form(one: Any, other: Any) -> None:
    assert normalise_address(one) == normalise_address(other)


def test_different_addresses_stay_different() -> None:
    assert normalise_address("12 Rue des Lilas") != normalise_address("14 Rue des Lilas")
    assert normalise_address("   ") is None
    assert normalise_address(42) is None


def test_people_sharing_an_address_are_proposed_not_applied(moreau: Toolkit) -> None:
    moreau.write(NEIGHBOURS)
    # Alice lives at the Moreaus' address, but she is in a household already.
    moreau.upsert_party("alice", "person", attributes={"address": "12 rue des Lilas 75011 Paris"})
    plugin = moreau.plugin("household")
    relationships_before = len(moreau.relationships("moreau", history=True))

    found = plugin.suggestions("2024-01-01")
    assert found["left_out"] == 0
    proposals = {proposal["kind"]: proposal for proposal in found["proposals"]}
    assert sorted(proposals) == ["join_household", "new_household"]

    new = proposals["new_household"]
    assert [party["key"] for party in new["parties"]] == ["eve", "frank"]
    assert new["address"] == "3 oak st springfield"
    assert new["reason"] == "2 people in no household share the address '3 oak st springfield'."
    assert new["household"] is None
    household_record = new["records"][0]["party"]
    assert household_record["kind"] == "household"
    assert household_record["name"] == "Martin household"
    assert [r["relationship"]["source"] for r in new["records"][1:]] == ["eve", "frank"]

    join = proposals["join_household"]
    assert join["household"] == {"key": "moreau", "name": "Moreau household"}
    assert [party["key"] for party in join["parties"]] == ["gina"]
    assert [r["relationship"]["target"] for r in join["records"]] == ["moreau"]

    # Nothing was applied.
    assert moreau.relationships("eve") == []
    assert len(moreau.relationships("moreau", history=True)) == relationships_before

    # Accepting a proposal is an ordinary, reviewed write of its records.
    moreau.write(new["records"])
    after = plugin.suggestions("2024-01-01")
    assert [proposal["kind"] for proposal in after["proposals"]] == ["join_household"]
    assert {v.other.key for v in moreau.relationships("eve")} == {household_record["key"]}


def test_suggestions_leave_out_people_who_may_not_be_aggregated(
    household_toolkit: Factory,
) -> None:
    toolkit = household_toolkit(privacy=True)
    toolkit.write([*FAMILY, *NEIGHBOURS])
    plugin = toolkit.plugin("household")
    # Without consent for household aggregation, nobody is proposed; only counted.
    found = plugin.suggestions("2024-01-01")
    assert (found["proposals"], found["left_out"]) == ([], 4)
    privacy = toolkit.plugin("privacy")
    privacy.grant("eve", "household_aggregation", at="2023-01-01")
    privacy.grant("frank", "household_aggregation", at="2023-01-01")
    found = plugin.suggestions("2024-01-01")
    assert [p["key"] for p in found["proposals"][0]["parties"]] == ["eve", "frank"]
    assert found["left_out"] == 2
    assert "gina" not in str(found)
    assert "hugo" not in str(found)
