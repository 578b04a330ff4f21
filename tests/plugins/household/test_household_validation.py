"""Bad input gets a clear error naming the field, and nothing is written."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from household_world import FAMILY
from sqlalchemy import create_engine, inspect

from partygraph import ConfigError, RecordsRejected, Toolkit, ValidationError

Factory = Callable[..., Toolkit]


def counts(toolkit: Toolkit) -> tuple[int, int]:
    """(parties, relationships) stored."""
    with toolkit.engine.connect() as connection:
        parties = connection.exec_driver_sql("SELECT count(*) FROM party").scalar_one()
        relationships = connection.exec_driver_sql("SELECT count(*) FROM relationship").scalar_one()
    return int(parties), int(relationships)


def jsonl(records: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(record) + "\n" for record in records).encode())


def test_a_household_cannot_be_a_member_of_a_household(moreau: Toolkit) -> None:
    moreau.upsert_party("clan", "household", "Moreau clan")
    before = counts(moreau)
    with pytest.raises(ValidationError) as error:
        moreau.relate("moreau", "clan", "member_of", role="other", valid_from="2020-01-01")
    assert error.value.field == "source"
    assert "starts at a person, got 'moreau', a household" in str(error.value)
    assert counts(moreau) == before


def test_overlapping_memberships_are_refused_when_one_is_allowed(moreau: Toolkit) -> None:
    before = counts(moreau)
    records = [
        {"party": {"key": "dupont", "kind": "household", "name": "Dupont household"}},
        {"relationship": {"type": "member_of", "source": "bob", "target": "dupont",
                          "role": "partner", "valid_from": "2020-06-01"}},
    ]  # fmt: skip
    with pytest.raises(RecordsRejected) as rejected:
        moreau.import_jsonl(jsonl(records))
    ((line, reason),) = [(item.line, item.reason) for item in rejected.value.report.rejected]
    assert line == 2
    assert reason == (
        "source: 'bob' already has 1 current member_of relationship(s); at most 1 allowed"
    )
    assert counts(moreau) == before  # not even the new household
    moreau.upsert_party("dupont", "household")
    with pytest.raises(ValidationError) as error:
        moreau.relate("bob", "dupont", "member_of", role="partner", valid_from="2020-06-01")
    assert error.value.field == "source"
    # Written in the past, the overlap is found too: a membership that ended later.
    with pytest.raises(ValidationError):
        moreau.relate("bob", "dupont", "member_of", role="partner",
                      valid_from="2010-01-01", valid_to="2016-01-01")  # fmt: skip
    # Moving out first, then in, is fine.
    (bob,) = [v.relationship.id for v in moreau.relationships("bob")]
    assert bob is not None
    moreau.end_relationship(bob, "2020-06-01")
    moreau.relate("bob", "dupont", "member_of", role="partner", valid_from="2020-06-01")
    assert [v.other.key for v in moreau.relationships("bob", "2021-01-01")] == ["dupont"]


def test_more_households_at_once_when_configured(household_toolkit: Factory) -> None:
    toolkit = household_toolkit({"max_households_per_person": 2})
    toolkit.write(FAMILY)
    toolkit.upsert_party("dupont", "household")
    toolkit.relate("bob", "dupont", "member_of", role="other", valid_from="2020-06-01")
    current = sorted(v.other.key for v in toolkit.relationships("bob", "2021-01-01"))
    assert current == ["dupont", "moreau"]
    toolkit.upsert_party("third", "household")
    with pytest.raises(ValidationError, match="at most 2 allowed"):
        toolkit.relate("bob", "third", "member_of", role="other", valid_from="2021-01-01")


def test_joining_another_household_can_end_the_previous_one(household_toolkit: Factory) -> None:
    toolkit = household_toolkit({"joining_another_household": "end_previous"})
    toolkit.write(FAMILY)
    toolkit.upsert_party("dupont", "household")
    toolkit.relate("bob", "dupont", "member_of", role="partner", valid_from="2020-06-01")
    history = {
        view.other.key: view.relationship.valid_to
        for view in toolkit.relationships("bob", history=True)
    }
    assert history == {"moreau": datetime(2020, 6, 1, tzinfo=UTC), "dupont": None}


def test_a_membership_needs_a_known_role(moreau: Toolkit) -> None:
    before = counts(moreau)
    moreau.upsert_party("zoe", "person")
    with pytest.raises(ValidationError) as error:
        moreau.relate("zoe", "moreau", "member_of", valid_from="2020-01-01")
    assert error.value.field == "role"
    assert "needs a role (dependent, head, other, partner)" in str(error.value)
    with pytest.raises(ValidationError, match="'cousin' is not a role of member_of"):
        moreau.relate("zoe", "moreau", "member_of", role="cousin")
    with pytest.raises(ValidationError) as unknown:
        moreau.relate("zoe", "moreau", "member_of", role="other", attributes={"since": "x"})
    assert unknown.value.field == "attributes/since"
    assert counts(moreau) == (before[0] + 1, before[1])


def test_holdings_are_validated(moreau: Toolkit) -> None:
    before = counts(moreau)
    with pytest.raises(ValidationError) as error:
        moreau.upsert_party("acct", "account_holding", attributes={"balance": 10})
    assert error.value.field == "attributes/product"
    moreau.upsert_party("acct", "account_holding", attributes={"product": "joint_account"})
    with pytest.raises(ValidationError) as share:
        moreau.relate("alice", "acct", "holds", attributes={"share": 1.5})
    assert share.value.field == "attributes/share"
    with pytest.raises(ValidationError) as kind:
        moreau.relate("alice", "bob", "holds")
    assert kind.value.field == "target"
    assert counts(moreau) == (before[0] + 1, before[1])


def test_shares_over_one_are_reported_by_line_with_skip_invalid(moreau: Toolkit) -> None:
    records = [
        {"party": {"key": "acct", "kind": "account_holding",
                   "attributes": {"product": "joint_account"}}},
        {"relationship": {"type": "holds", "source": "alice", "target": "acct",
                          "attributes": {"share": 0.6}, "valid_from": "2020-01-01"}},
        {"relationship": {"type": "holds", "source": "bob", "target": "acct",
                          "attributes": {"share": 0.6}, "valid_from": "2021-01-01"}},
    ]  # fmt: skip
    report = moreau.import_jsonl(jsonl(records), skip_invalid=True)
    assert [(item.line, item.reason.split(":")[0]) for item in report.rejected] == [
        (3, "attributes/share")
    ]
    assert "would add up to 1.2 on 2021-01-01" in report.rejected[0].reason
    assert [v.other.key for v in moreau.relationships("acct")] == ["alice"]


BAD_OFFERS: list[tuple[Any, str, str]] = [
    (
        [{"name": "edu", "when": [{"fact": "kids", "at_least": 1}]}],
        "/plugins/household/offers/0/when/0/fact",
        "must be one of",
    ),
    (
        [{"name": "edu", "when": [{"at_least": 1}]}],
        "/plugins/household/offers/0/when/0",
        "'fact' is a dependency of 'at_least'",
    ),
    ([{"name": "edu", "when": []}], "/plugins/household/offers/0/when", "should be non-empty"),
    (
        [{"name": "Edu Plan", "when": [{"lacks_product": "x"}]}],
        "/plugins/household/offers/0/name",
        "must match the pattern",
    ),
    (
        [{"name": "edu", "when": [{"lacks_prodcut": "x"}]}],
        "/plugins/household/offers/0/when/0/lacks_prodcut",
        "did you mean 'lacks_product'?",
    ),
]


@pytest.mark.parametrize(("offers", "pointer", "message"), BAD_OFFERS)
def test_an_offer_rule_that_fails_its_schema_is_refused(
    make_toolkit: Factory, partygraph_database_url: str, offers: Any, pointer: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        make_toolkit(enabled=["household"], settings={"household": {"offers": offers}})
    pointers = [violation.pointer for violation in error.value.violations]
    assert any(found.startswith(pointer) for found in pointers), pointers
    assert message in str(error.value)
    # The toolkit did not open: nothing was written, not even the tables.
    engine = create_engine(partygraph_database_url)
    try:
        with engine.connect() as connection:
            assert "party" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_offer_names_are_unique(make_toolkit: Factory) -> None:
    rule = {"name": "edu", "when": [{"lacks_product": "education_savings"}]}
    with pytest.raises(ValidationError) as error:
        make_toolkit(enabled=["household"], settings={"household": {"offers": [rule, rule]}})
    assert error.value.field == "/plugins/household/offers/1/name"


def test_a_refused_new_head_leaves_the_old_head_in_place(moreau: Toolkit) -> None:
    moreau.write(
        [
            {"party": {"key": "dupont", "kind": "household"}},
            {"party": {"key": "zed", "kind": "person", "name": "Zed Dupont"}},
            {"relationship": {"type": "member_of", "source": "zed", "target": "dupont",
                              "role": "head", "valid_from": "2020-01-01"}},
        ]
    )  # fmt: skip
    before = counts(moreau)
    # Zed still lives with the Duponts: naming him head of the Moreaus is refused, and
    # with --skip-invalid the rest of the file is written, Alice's headship untouched.
    records = [
        {"relationship": {"type": "member_of", "source": "zed", "target": "moreau",
                          "role": "head", "valid_from": "2024-06-01"}},
        {"party": {"key": "yann", "kind": "person", "name": "Yann"}},
    ]  # fmt: skip
    report = moreau.import_jsonl(jsonl(records), skip_invalid=True)
    assert [item.line for item in report.rejected] == [1]
    assert "'zed' already has 1 current member_of relationship(s)" in report.rejected[0].reason
    assert counts(moreau) == (before[0] + 1, before[1])
    heads = [
        v.other.key
        for v in moreau.relationships("moreau", "2024-07-01")
        if v.relationship.role == "head"
    ]
    assert heads == ["alice"]
