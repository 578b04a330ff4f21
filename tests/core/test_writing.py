"""The write pipeline: upserts, relationships, interactions, batches and plugin hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from partygraph import (
    Interaction,
    NotFoundError,
    Party,
    RecordsRejected,
    Relationship,
    Toolkit,
    ValidationError,
    WriteContext,
    WriteRefused,
)
from plugins_for_tests import (
    EMPTY,
    Basics,
    Exploder,
    Gatekeeper,
    Recorder,
    audit_log,
    audit_plugin,
    core_counts,
    count_rows,
)

JAN = datetime(2025, 1, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
JUN = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def toolkit(make_toolkit: Any) -> Toolkit:
    """Basics and a recorder, with a household, an organisation and three people."""
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics, "recorder": Recorder})
    toolkit.write(
        [
            {"party": {"key": "alice", "kind": "person", "name": "Alice"}},
            {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
            {"party": {"key": "carol", "kind": "person", "name": "Carol"}},
            {"party": {"key": "home", "kind": "household", "name": "The Moreaus"}},
            {"party": {"key": "acme", "kind": "organization", "name": "Acme"}},
            {"party": {"key": "sales", "kind": "department", "name": "Sales"}},
        ]
    )
    return toolkit


def recorder(toolkit: Toolkit) -> Recorder:
    plugin = toolkit.plugin_objects["recorder"]
    assert isinstance(plugin, Recorder)
    return plugin


def purchase(buyer: str, at: datetime, amount: float = 10.0, **extra: Any) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "purchase",
            "occurred_at": at.isoformat(),
            "participants": [{"party": buyer, "role": "purchaser"}],
            "payload": {"amount": amount},
            **extra,
        }
    }


# -- parties -----------------------------------------------------------------------------


def test_upsert_by_key_updates_and_never_duplicates(toolkit: Toolkit) -> None:
    first = toolkit.upsert_party("dora", "person", "Dora", {"email": "dora@example.org"})
    second = toolkit.upsert_party("dora", "person", attributes={"phone": "+33 1 23"})
    assert second.id == first.id
    assert second.name == "Dora"  # a missing name keeps the stored one
    assert second.attributes == {"email": "dora@example.org", "phone": "+33 1 23"}
    renamed = toolkit.upsert_party("dora", "person", "Dora M.", {"email": "dm@example.org"})
    assert renamed.name == "Dora M."
    assert renamed.attributes == {"email": "dm@example.org", "phone": "+33 1 23"}
    assert toolkit.party("dora") == renamed
    assert count_rows(toolkit, "party") == 7


def test_bulk_upsert_merges_repeated_keys_within_and_across_writes(toolkit: Toolkit) -> None:
    report = toolkit.write(
        [
            {"party": {"key": "erin", "kind": "person", "attributes": {"email": "e@x.org"}}},
            {"party": {"key": "erin", "kind": "person", "attributes": {"phone": "1"}}},
        ]
    )
    assert report.created["party"] == 1
    assert toolkit.party("erin").attributes == {"email": "e@x.org", "phone": "1"}
    again = toolkit.write([{"party": {"key": "erin", "kind": "person", "attributes": {}}}])
    assert again.created["party"] == 0
    assert again.unchanged["party"] == 1
    assert count_rows(toolkit, "party") == 7


def test_updated_at_moves_and_created_at_stays(toolkit: Toolkit) -> None:
    before = toolkit.party("alice")
    toolkit.upsert_party(
        "alice", "person", context=WriteContext(at=datetime(2100, 1, 1, tzinfo=UTC))
    )
    toolkit.upsert_party(
        "alice",
        "person",
        attributes={"phone": "2"},
        context=WriteContext(at=datetime(2100, 1, 2, tzinfo=UTC)),
    )
    after = toolkit.party("alice")
    assert after.created_at == before.created_at
    assert after.updated_at == datetime(2100, 1, 2, tzinfo=UTC)


def test_kind_change_is_refused(toolkit: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.upsert_party("alice", "household")
    assert caught.value.field == "kind"
    assert "'alice' is a person" in str(caught.value)
    assert toolkit.party("alice").kind == "person"


def test_unknown_kind_suggests_the_closest(toolkit: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.upsert_party("zed", "persn")
    assert caught.value.field == "kind"
    assert "Did you mean 'person'?" in str(caught.value)
    assert count_rows(toolkit, "party") == 6


def test_attribute_schema_violation_names_the_attribute(toolkit: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.upsert_party("zed", "person", attributes={"birth_date": "02/04/1990"})
    assert caught.value.field == "attributes/birth_date"
    assert "'02/04/1990'" in str(caught.value)
    assert count_rows(toolkit, "party") == 6


def test_sql_metacharacters_and_quotes_are_stored_verbatim(toolkit: Toolkit) -> None:
    nasty = "o'brien\"; DROP TABLE party; -- %s %(x)s ? \\ \u00e9\u4e2d\U0001f600"
    attributes = {"note": nasty, nasty: [nasty, {"q": "'\""}], "percent": "100%"}
    toolkit.upsert_party(nasty, "person", nasty, attributes)
    party = toolkit.party(nasty)
    assert (party.key, party.name) == (nasty, nasty)
    assert party.attributes == attributes
    toolkit.relate(nasty, "home", "member_of", role="partner", attributes={})
    recorded = toolkit.record_interaction(
        "meeting", JAN, [(nasty, "attendee")], {"topic": nasty}, key=nasty
    )
    assert recorded.key == nasty
    (stored,) = toolkit.interactions(nasty)
    assert stored.payload == {"topic": nasty}
    assert count_rows(toolkit, "party") == 7


# -- relationships -----------------------------------------------------------------------


def test_relate_returns_the_stored_relationship(toolkit: Toolkit) -> None:
    rel = toolkit.relate(
        "alice", "acme", "works_for", attributes={"title": "CFO"}, valid_from="2025-01-01"
    )
    assert rel.id is not None
    assert rel.source == toolkit.party("alice").id
    assert rel.target == toolkit.party("acme").id
    assert rel.valid_from == JAN
    assert rel.valid_to is None
    assert rel.attributes == {"title": "CFO"}


def test_relating_again_updates_attributes_without_duplicating(toolkit: Toolkit) -> None:
    first = toolkit.relate("alice", "acme", "works_for", attributes={"title": "CFO"})
    second = toolkit.relate("alice", "acme", "works_for", attributes={"since_year": 2020})
    assert second.id == first.id
    assert second.attributes == {"title": "CFO", "since_year": 2020}
    assert count_rows(toolkit, "relationship") == 1


@pytest.mark.parametrize(
    ("source", "target", "type_", "role", "field", "fragment"),
    [
        ("home", "home", "member_of", "head", "source", "starts at a person"),
        ("alice", "acme", "member_of", "head", "target", "ends at a household"),
        ("alice", "home", "member_of", "boss", "role", "'boss' is not a role of member_of"),
        ("alice", "home", "member_of", None, "role", "needs a role"),
        ("alice", "nobody", "works_for", None, "target", "no party with key 'nobody'"),
        ("alice", "acme", "works_four", None, "type", "Did you mean 'works_for'?"),
    ],
)
def test_relationship_checks_name_the_field(
    toolkit: Toolkit,
    source: str,
    target: str,
    type_: str,
    role: str | None,
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.relate(source, target, type_, role=role)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert count_rows(toolkit, "relationship") == 0


def test_relationship_attribute_schema(toolkit: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.relate("alice", "acme", "works_for", attributes={"since_year": "2020"})
    assert caught.value.field == "attributes/since_year"
    assert count_rows(toolkit, "relationship") == 0


def test_valid_to_must_follow_valid_from(toolkit: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.relate("alice", "acme", "works_for", valid_from=MAR, valid_to=JAN)
    assert caught.value.field == "valid_to"
    assert count_rows(toolkit, "relationship") == 0


def test_cardinality_end_previous_ends_the_old_link_and_keeps_history(toolkit: Toolkit) -> None:
    old = toolkit.relate("alice", "home", "member_of", role="head", valid_from=JAN)
    partner = toolkit.relate("bob", "home", "member_of", role="partner", valid_from=JAN)
    new = toolkit.relate("bob", "home", "member_of", role="head", valid_from=MAR)

    history = {
        view.relationship.id: view.relationship
        for view in toolkit.relationships("home", history=True)
    }
    assert set(history) == {old.id, partner.id, new.id}
    assert history[old.id].valid_to == MAR  # ended on the new link's valid_from
    assert history[old.id].valid_from == JAN
    assert history[new.id].valid_to is None
    assert history[partner.id].valid_to is None  # other roles are not counted

    def heads(at: datetime) -> list[int]:
        return [
            view.other.id
            for view in toolkit.relationships("home", as_of=at)
            if view.relationship.role == "head"
        ]

    alice, bob = toolkit.party("alice").id, toolkit.party("bob").id
    assert heads(MAR - timedelta(seconds=1)) == [alice]
    assert heads(MAR) == [bob]
    assert heads(JUN) == [bob]
    assert count_rows(toolkit, "relationship") == 3


def test_cardinality_end_previous_needs_a_start_date(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "home", "member_of", role="head", valid_from=JAN)
    with pytest.raises(ValidationError, match="give valid_from to end the previous one"):
        toolkit.relate("bob", "home", "member_of", role="head")
    assert count_rows(toolkit, "relationship") == 1


def test_cardinality_fail_refuses_the_excess_link(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "sales", "manages", valid_from=JAN)
    with pytest.raises(ValidationError) as caught:
        toolkit.relate("bob", "sales", "manages", valid_from=MAR)
    assert "'sales' already has 1 current manages relationship(s); at most 1" in str(caught.value)
    assert caught.value.field == "target"
    (only,) = toolkit.relationships("sales", history=True)
    assert only.relationship.valid_to is None
    assert only.other.key == "alice"


def test_cardinality_counts_only_current_links(toolkit: Toolkit) -> None:
    first = toolkit.relate("alice", "sales", "manages", valid_from=JAN)
    toolkit.end_relationship(first.id or 0, MAR)
    second = toolkit.relate("bob", "sales", "manages", valid_from=MAR)
    assert second.id != first.id
    assert count_rows(toolkit, "relationship") == 2


def test_cardinality_fail_counts_links_that_start_later(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "sales", "manages", valid_from=MAR)
    with pytest.raises(ValidationError) as caught:
        toolkit.relate("bob", "sales", "manages", valid_from=JAN)  # would overlap from MAR
    assert caught.value.field == "target"
    assert "'sales' has 1 manages relationship(s) from 2025-03-01" in str(caught.value)
    with pytest.raises(ValidationError):
        toolkit.relate("bob", "sales", "manages", valid_from=JAN, valid_to=JUN)
    before_alice = toolkit.relate("bob", "sales", "manages", valid_from=JAN, valid_to=MAR)
    assert before_alice.valid_to == MAR  # touching, not overlapping: allowed
    for at in (JAN, MAR, JUN):
        assert len(toolkit.relationships("sales", as_of=at)) == 1


@pytest.mark.parametrize("order", ["chronological", "reversed"])
def test_cardinality_end_previous_gives_the_same_history_in_any_order(
    toolkit: Toolkit, order: str
) -> None:
    links = [("alice", JAN), ("bob", MAR), ("carol", JUN)]
    if order == "reversed":
        links.reverse()
    for key, start in links:
        toolkit.relate(key, "home", "member_of", role="head", valid_from=start)
    history = sorted(
        (view.other.key, view.relationship.valid_from, view.relationship.valid_to)
        for view in toolkit.relationships("home", history=True)
    )
    assert history == [("alice", JAN, MAR), ("bob", MAR, JUN), ("carol", JUN, None)]
    for at in (JAN, MAR, JUN, datetime(2100, 1, 1, tzinfo=UTC)):
        assert len(toolkit.relationships("home", as_of=at)) == 1


def test_cardinality_back_dated_link_is_ended_by_the_later_one(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "home", "member_of", role="head", valid_from=MAR)
    bob = toolkit.relate("bob", "home", "member_of", role="head", valid_from=JAN)
    assert (bob.valid_from, bob.valid_to) == (JAN, MAR)
    (stored,) = [v for v in toolkit.relationships("home", history=True) if v.other.key == "bob"]
    assert stored.relationship.valid_to == MAR


def test_end_relationship_keeps_history_and_refuses_rewriting_the_end(toolkit: Toolkit) -> None:
    rel = toolkit.relate("alice", "acme", "works_for", valid_from=JAN)
    assert rel.id is not None
    ended = toolkit.end_relationship(rel.id, MAR)
    assert ended.id == rel.id
    assert ended.valid_to == MAR
    assert toolkit.relationships("alice") == []
    (kept,) = toolkit.relationships("alice", history=True)
    assert kept.relationship.valid_to == MAR
    assert kept.current is False

    with pytest.raises(ValidationError) as caught:
        toolkit.end_relationship(rel.id, JUN)
    assert caught.value.field == "valid_to"
    assert "history is never rewritten" in str(caught.value)
    again = toolkit.end_relationship(rel.id, MAR)  # the same end again changes nothing
    assert again.valid_to == MAR
    (still,) = toolkit.relationships("alice", history=True)
    assert still.relationship.valid_to == MAR


def test_end_relationship_before_its_start_is_refused(toolkit: Toolkit) -> None:
    rel = toolkit.relate("alice", "acme", "works_for", valid_from=MAR)
    with pytest.raises(ValidationError, match="valid_to: must be after valid_from"):
        toolkit.end_relationship(rel.id or 0, JAN)
    (still,) = toolkit.relationships("alice", history=True)
    assert still.relationship.valid_to is None


def test_end_unknown_relationship(toolkit: Toolkit) -> None:
    with pytest.raises(NotFoundError, match="no relationship with id 999"):
        toolkit.end_relationship(999, MAR)


# -- interactions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "participants", "payload", "field", "fragment"),
    [
        ("purchse", [("alice", "purchaser")], {"amount": 1}, "type", "Did you mean 'purchase'?"),
        ("purchase", [("alice", "thief")], {"amount": 1}, "participants/0/role", "'thief'"),
        ("purchase", [("alice", "consumer")], {"amount": 1}, "participants", "'purchaser'"),
        ("purchase", [("alice", "purchaser")], {"amount": "ten"}, "payload/amount", "'ten'"),
        ("purchase", [("alice", "purchaser")], {"amount": -1}, "payload/amount", "at least 0"),
        ("purchase", [("alice", "purchaser")], {}, "payload/amount", "required"),
        ("purchase", [("nobody", "purchaser")], {"amount": 1}, "participants/0/party", "nobody"),
        (
            "purchase",
            [("alice", "purchaser"), ("alice", "purchaser")],
            {"amount": 1},
            "participants/1",
            "appears twice",
        ),
    ],
)
def test_invalid_interaction_names_the_field_and_writes_nothing(
    toolkit: Toolkit,
    type_: str,
    participants: list[tuple[str, str]],
    payload: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        toolkit.record_interaction(type_, JAN, participants, payload)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    counts = core_counts(toolkit)
    assert (counts["interaction"], counts["participant"]) == (0, 0)
    assert recorder(toolkit).calls("interaction") == []  # refused before any hook


def test_invalid_interaction_rolls_back_the_parties_of_the_same_write(toolkit: Toolkit) -> None:
    with pytest.raises(RecordsRejected):
        toolkit.write(
            [
                {"party": {"key": "new", "kind": "person"}},
                purchase("new", JAN, amount=-5),
            ]
        )
    assert count_rows(toolkit, "party") == 6


def test_record_interaction_returns_it_with_resolved_participants(toolkit: Toolkit) -> None:
    recorded = toolkit.record_interaction(
        "purchase",
        "2025-02-01T10:00:00+01:00",
        [("alice", "purchaser"), {"party": "bob", "role": "consumer"}],
        {"amount": 12.5, "currency": "EUR"},
    )
    assert recorded.id is not None
    assert recorded.occurred_at == datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
    ids = {toolkit.party(key).id: key for key in ("alice", "bob")}
    assert {(ids[int(p.party)], p.role) for p in recorded.participants} == {
        ("alice", "purchaser"),
        ("bob", "consumer"),
    }
    (stored,) = toolkit.interactions("bob")
    assert stored.id == recorded.id
    assert (stored.type, stored.occurred_at, stored.payload) == (
        recorded.type,
        recorded.occurred_at,
        recorded.payload,
    )
    assert set(stored.participants) == set(recorded.participants)


def test_interaction_key_is_idempotent(toolkit: Toolkit) -> None:
    first = toolkit.record_interaction(
        "purchase", JAN, [("alice", "purchaser")], {"amount": 5}, key="order-1"
    )
    second = toolkit.record_interaction(
        "purchase", MAR, [("bob", "purchaser")], {"amount": 99}, key="order-1"
    )
    assert second == first
    report = toolkit.write(
        [purchase("alice", JUN, key="order-1"), purchase("alice", JUN, key="o2")]
    )
    assert report.created["interaction"] == 1
    assert report.unchanged["interaction"] == 1
    same_batch = toolkit.write([purchase("bob", JUN, key="o3"), purchase("bob", JUN, key="o3")])
    assert same_batch.created["interaction"] == 1
    assert count_rows(toolkit, "interaction") == 3
    assert toolkit.interactions("bob", limit=None)[0].key == "o3"


def test_a_rejected_copy_does_not_hide_a_valid_one_with_the_same_key(toolkit: Toolkit) -> None:
    bad = purchase("alice", JAN, key="k1")
    bad["interaction"]["participants"] = [{"party": "nobody", "role": "purchaser"}]
    report = toolkit.write([bad, purchase("alice", JAN, key="k1")], skip_invalid=True)
    assert [r.line for r in report.rejected] == [1]
    assert report.created["interaction"] == 1
    assert [i.key for i in toolkit.interactions("alice")] == ["k1"]


# -- bulk writes -------------------------------------------------------------------------


def test_bulk_write_is_all_or_nothing(toolkit: Toolkit) -> None:
    records = [
        {"party": {"key": "fay", "kind": "person"}},
        {"party": {"key": "gus", "kind": "robot"}},
        {"relationship": {"type": "works_for", "source": "fay", "target": "acme"}},
        purchase("fay", JAN),
        purchase("fay", JAN, amount="lots"),
        {"interaction": {"type": "meeting"}},
    ]
    with pytest.raises(RecordsRejected) as caught:
        toolkit.write(records)
    report = caught.value.report
    assert [(item.line, item.record_type) for item in report.rejected] == [
        (2, "party"),
        (5, "interaction"),
        (6, "interaction"),
    ]
    assert "unknown party kind 'robot'" in report.rejected[0].reason
    assert report.rejected[1].reason.startswith("payload/amount")
    assert "3 invalid record(s); nothing was written" in str(caught.value)
    assert "line 2: " in str(caught.value)
    assert core_counts(toolkit) == {**EMPTY, "party": 6}


def test_skip_invalid_writes_every_valid_record_exactly_once(toolkit: Toolkit) -> None:
    records = [
        {"party": {"key": "fay", "kind": "person"}},
        {"party": {"key": "gus", "kind": "robot"}},
        {"relationship": {"type": "works_for", "source": "fay", "target": "acme"}},
        {"relationship": {"type": "works_for", "source": "gus", "target": "acme"}},
        purchase("fay", JAN),
        purchase("fay", JAN, amount="lots"),
        purchase("gus", JAN),
        purchase("fay", MAR),
    ]
    report = toolkit.write(records, skip_invalid=True, batch_size=3)
    assert [item.line for item in report.rejected] == [2, 4, 6, 7]
    assert report.read == 8
    assert report.created == {"party": 1, "relationship": 1, "interaction": 2}
    assert report.written == 4
    assert [i.occurred_at for i in toolkit.interactions("fay")] == [MAR, JAN]
    assert core_counts(toolkit) == {
        "party": 7,
        "relationship": 1,
        "interaction": 2,
        "participant": 2,
    }
    data = report.as_dict()
    assert data["written"] == 4
    assert [item["line"] for item in data["rejected"]] == [2, 4, 6, 7]


def test_write_accepts_model_objects_and_pairs(toolkit: Toolkit) -> None:
    report = toolkit.write(
        [
            Party("hal", "person", "Hal"),
            Relationship("works_for", "hal", "acme"),
            Interaction("meeting", JAN, [("hal", "attendee")]),
            ("party", {"key": "ivy", "kind": "person"}),
        ]
    )
    assert report.created == {"party": 2, "relationship": 1, "interaction": 1}


def test_records_that_are_not_records_are_rejected(toolkit: Toolkit) -> None:
    with pytest.raises(RecordsRejected) as caught:
        toolkit.write([{"party": {"key": "x", "kind": "person"}, "extra": {}}, 42])
    assert [item.line for item in caught.value.report.rejected] == [1, 2]
    assert count_rows(toolkit, "party") == 6


# -- plugins in the write path -----------------------------------------------------------


def test_hooks_are_called_once_per_batch_not_per_row(toolkit: Toolkit) -> None:
    records = [purchase("alice", JAN + timedelta(minutes=n)) for n in range(1000)]
    report = toolkit.write(records, batch_size=500)
    assert report.created["interaction"] == 1000
    before = recorder(toolkit).calls("interaction")
    after = recorder(toolkit).calls("interaction", "after")
    assert [call["size"] for call in before] == [500, 500]
    assert [call["size"] for call in after] == [500, 500]
    ids = [i for call in after for i in call["ids"]]
    assert None not in ids
    assert len(set(ids)) == 1000


def test_config_batch_size_drives_record_interactions(make_toolkit: Any) -> None:
    toolkit = make_toolkit(
        plugins={"basics": Basics, "recorder": Recorder}, config={"import": {"batch_size": 500}}
    )
    toolkit.upsert_party("alice", "person")
    interactions = (
        {
            "type": "purchase",
            "occurred_at": (JAN + timedelta(seconds=n)).isoformat(),
            "participants": [{"party": "alice", "role": "purchaser"}],
            "payload": {"amount": n},
        }
        for n in range(1000)
    )
    report = toolkit.record_interactions(interactions)
    assert report.created["interaction"] == 1000
    assert len(recorder(toolkit).calls("interaction")) == 2
    assert len(recorder(toolkit).calls("interaction", "after")) == 2


def test_write_context_reaches_the_hooks(toolkit: Toolkit) -> None:
    recorder(toolkit).before.clear()
    at = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)
    context = WriteContext(actor="ops@example.org", purpose="support", source="crm-sync", at=at)
    toolkit.write(
        [{"party": {"key": "jon", "kind": "person"}}, purchase("jon", JAN)], context=context
    )
    toolkit.upsert_party("kim", "person", context=context)
    calls = recorder(toolkit).before
    assert [call["phase"] for call in calls] == ["party", "interaction", "party"]
    for call in calls:
        assert (call["actor"], call["purpose"], call["source"], call["at"]) == (
            "ops@example.org",
            "support",
            "crm-sync",
            at,
        )
    toolkit.upsert_party("lea", "person")
    default = recorder(toolkit).before[-1]
    assert (default["actor"], default["purpose"], default["source"]) == (None, None, "api")
    assert default["at"] is not None


def test_ids_are_allocated_before_before_write(toolkit: Toolkit) -> None:
    toolkit.upsert_party("max", "person")
    party_id = toolkit.party("max").id
    assert recorder(toolkit).before[-1]["ids"] == [party_id]
    assert recorder(toolkit).after[-1]["ids"] == [party_id]


@pytest.fixture
def gated(make_toolkit: Any) -> Toolkit:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics, "gatekeeper": Gatekeeper})
    toolkit.upsert_party("alice", "person")
    return toolkit


def test_batch_refuse_fails_an_all_or_nothing_write(gated: Toolkit) -> None:
    with pytest.raises(RecordsRejected) as caught:
        gated.write(
            [
                {"party": {"key": "ok", "kind": "person"}},
                {"party": {"key": "refuse-me", "kind": "person"}},
            ]
        )
    (rejection,) = caught.value.report.rejected
    assert (rejection.line, rejection.reason) == (2, "party 'refuse-me' is on the refusal list")
    assert count_rows(gated, "party") == 1


def test_batch_refuse_with_a_single_write_raises_its_reason(gated: Toolkit) -> None:
    with pytest.raises(ValidationError, match="interaction refused by the gatekeeper"):
        gated.record_interaction("meeting", JAN, [("alice", "host")], {"action": "refuse"})
    assert count_rows(gated, "interaction") == 0


def test_a_refused_copy_does_not_hide_the_next_one_with_the_same_key(gated: Toolkit) -> None:
    meeting = {"type": "meeting", "occurred_at": "2025-01-01T00:00:00Z", "key": "m1"}
    who = [{"party": "alice", "role": "host"}]
    report = gated.write(
        [
            {"interaction": {**meeting, "participants": who, "payload": {"action": "refuse"}}},
            {"interaction": {**meeting, "participants": who, "payload": {"action": "hold"}}},
            {"interaction": {**meeting, "participants": who, "payload": {"note": "third"}}},
            {"interaction": {**meeting, "participants": who, "payload": {"note": "fourth"}}},
        ],
        skip_invalid=True,
    )
    assert [r.line for r in report.rejected] == [1]
    assert report.created["interaction"] == 1
    assert report.unchanged["interaction"] == 1
    (stored,) = gated.interactions("alice")
    assert (stored.key, stored.payload) == ("m1", {"note": "third"})


def test_batch_refuse_and_withhold_with_skip_invalid(gated: Toolkit) -> None:
    meeting = {"type": "meeting", "occurred_at": "2025-01-01T00:00:00Z"}
    report = gated.write(
        [
            {"party": {"key": "ok", "kind": "person"}},
            {"party": {"key": "refuse-me", "kind": "person"}},
            {"party": {"key": "hold-me", "kind": "person"}},
            {"interaction": {**meeting, "participants": [{"party": "ok", "role": "x"}]}},
            {
                "interaction": {
                    **meeting,
                    "participants": [{"party": "ok", "role": "x"}],
                    "payload": {"action": "refuse"},
                }
            },
            {
                "interaction": {
                    **meeting,
                    "participants": [{"party": "alice", "role": "x"}],
                    "payload": {"action": "hold"},
                }
            },
        ],
        skip_invalid=True,
    )
    assert [(r.line, r.record_type) for r in report.rejected] == [(2, "party"), (5, "interaction")]
    assert [(w.line, w.reason) for w in report.withheld] == [
        (3, "party 'hold-me' quarantined"),
        (6, "interaction quarantined"),
    ]
    assert report.created == {"party": 1, "interaction": 1}
    assert gated.party("ok").kind == "person"
    for key in ("refuse-me", "hold-me"):
        with pytest.raises(NotFoundError):
            gated.party(key)
    assert count_rows(gated, "party") == 2
    assert count_rows(gated, "interaction") == 1
    held = gated.plugin_objects["gatekeeper"].held
    assert [getattr(item, "key", None) for item in held][:1] == ["hold-me"]
    assert len(held) == 2


def test_write_refused_by_a_plugin_writes_nothing(gated: Toolkit) -> None:
    with pytest.raises(WriteRefused) as caught:
        gated.write(
            [{"party": {"key": "nina", "kind": "person"}}],
            context=WriteContext(purpose="forbidden"),
        )
    assert caught.value.plugin == "gatekeeper"
    assert "refused by plugin gatekeeper" in str(caught.value)
    assert count_rows(gated, "party") == 1


@pytest.fixture
def audited(make_toolkit: Any, tmp_path: Path) -> Any:
    def open_with(*extra: str) -> Toolkit:
        plugins: dict[str, object] = {
            "basics": Basics,
            "audit": audit_plugin(tmp_path / "audit-migrations"),
        }
        if "exploder" in extra:
            plugins["exploder"] = Exploder
        toolkit: Toolkit = make_toolkit(plugins=plugins)
        return toolkit

    return open_with


def test_a_plugin_writes_derived_rows_in_the_same_transaction(audited: Any) -> None:
    toolkit = audited()
    toolkit.write(
        [{"party": {"key": "olga", "kind": "person"}}, purchase("olga", JAN)],
        context=WriteContext(actor="importer"),
    )
    with toolkit.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.phase, audit_log.c.size, audit_log.c.actor).order_by(
                audit_log.c.id
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("party", 1, "importer"),
        ("interaction", 1, "importer"),
    ]


def test_a_raising_after_write_rolls_back_everything(audited: Any) -> None:
    toolkit = audited("exploder")
    assert [info.name for info in toolkit.plugins] == ["audit", "basics", "exploder"]
    with pytest.raises(RuntimeError, match="exploder: derived write failed"):
        toolkit.write(
            [
                {"party": {"key": "olga", "kind": "person"}},
                {"party": {"key": "home", "kind": "household"}},
                {
                    "relationship": {
                        "type": "member_of",
                        "source": "olga",
                        "target": "home",
                        "role": "head",
                    }
                },
                purchase("olga", JAN),
            ]
        )
    assert core_counts(toolkit) == EMPTY
    assert count_rows(toolkit, audit_log) == 0  # the audit plugin's rows went too
    toolkit.upsert_party("olga", "person")  # no interaction: the exploder lets it through
    with pytest.raises(RuntimeError, match="exploder"):
        toolkit.record_interaction("meeting", JAN, [("olga", "host")])
    assert core_counts(toolkit) == {**EMPTY, "party": 1}
    assert count_rows(toolkit, audit_log) == 1  # the party's own, committed write


def test_a_refusing_cardinality_rule_undoes_what_an_earlier_rule_ended(make_toolkit: Any) -> None:
    from partygraph import Cardinality, PartyKind, RelationshipType, hookimpl

    class Rules:
        @hookimpl
        def partygraph_party_kinds(self) -> list[PartyKind]:
            return [PartyKind("team")]

        @hookimpl
        def partygraph_relationship_types(self) -> list[RelationshipType]:
            return [
                RelationshipType(
                    "leads",
                    label="leads",
                    cardinality=[
                        Cardinality(per="target", max=1, on_excess="end_previous"),
                        Cardinality(per="source", max=1, on_excess="fail"),
                    ],
                )
            ]

    toolkit = make_toolkit(plugins={"rules": Rules})
    for key, kind in (("ann", "person"), ("bo", "person"), ("red", "team"), ("blue", "team")):
        toolkit.upsert_party(key, kind)
    toolkit.relate("ann", "red", "leads", valid_from="2026-01-01")
    toolkit.relate("bo", "blue", "leads", valid_from="2026-01-01")
    report = toolkit.write(
        [
            {
                "relationship": {
                    "type": "leads",
                    "source": "bo",
                    "target": "red",
                    "valid_from": "2026-03-01",
                }
            }
        ],
        skip_invalid=True,
    )
    assert [r.reason for r in report.rejected] == [
        "source: 'bo' already has 1 current leads relationship(s); at most 1 allowed"
    ]
    (ann_leads,) = toolkit.relationships("ann", history=True)
    assert ann_leads.relationship.valid_to is None, "the refused link must not end Ann's"


def test_a_later_plugin_sees_which_items_an_earlier_one_refused(make_toolkit: Any) -> None:
    from partygraph import hookimpl

    class First:
        @hookimpl
        def partygraph_before_write(self, batch: Any, session: Any) -> None:
            for party in batch.parties:
                if party.key.startswith("x"):
                    batch.refuse(party, "key: no x-keys here")

    class Second:
        run_after = ("first",)

        def __init__(self) -> None:
            self.seen: list[tuple[str, bool]] = []

        @hookimpl
        def partygraph_before_write(self, batch: Any, session: Any) -> None:
            self.seen.extend((p.key, batch.is_settled(p)) for p in batch.parties)

    toolkit = make_toolkit(plugins={"first": First, "second": Second})
    report = toolkit.write(
        [{"party": {"key": k, "kind": "person"}} for k in ("ann", "xavier")], skip_invalid=True
    )
    assert toolkit.plugin("second").seen == [("ann", False), ("xavier", True)]
    assert [(r.line, r.reason) for r in report.rejected] == [(2, "key: no x-keys here")]
