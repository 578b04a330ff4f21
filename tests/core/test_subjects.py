"""Data subjects: export everything about a party, and erase it completely."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from partygraph import NotFoundError, Toolkit
from plugins_for_tests import Basics, Notes, core_counts, count_rows, notes, notes_plugin

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)


def open_world(make_toolkit: Any, plugin: Notes) -> Toolkit:
    """Alice and Bob in a household; a purchase they share and one Alice made alone."""
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics, "notes": plugin})
    toolkit.write(
        [
            {"party": {"key": "alice", "kind": "person", "attributes": {"email": "a@x.org"}}},
            {"party": {"key": "bob", "kind": "person"}},
            {"party": {"key": "home", "kind": "household"}},
            {"relationship": {"type": "member_of", "source": "alice", "target": "home",
                              "role": "head", "valid_from": "2024-01-01"}},
            {"relationship": {"type": "member_of", "source": "bob", "target": "home",
                              "role": "partner", "valid_from": "2024-01-01"}},
            {"relationship": {"type": "knows", "source": "bob", "target": "alice"}},
            {"interaction": {"type": "purchase", "occurred_at": "2025-01-01T00:00:00Z",
                             "key": "shared",
                             "participants": [{"party": "alice", "role": "purchaser"},
                                              {"party": "bob", "role": "consumer"}],
                             "payload": {"amount": 30}}},
            {"interaction": {"type": "purchase", "occurred_at": "2025-02-01T00:00:00Z",
                             "key": "alone",
                             "participants": [{"party": "alice", "role": "purchaser"}],
                             "payload": {"amount": 5}}},
            {"note": {"party": "alice", "text": "call after 6pm"}},
            {"note": {"party": "bob", "text": "allergic to nuts"}},
        ]
    )  # fmt: skip
    return toolkit


@pytest.fixture
def plugin(tmp_path: Path) -> Notes:
    return notes_plugin(tmp_path / "notes-migrations")


def test_export_subject_holds_everything_about_the_party(make_toolkit: Any, plugin: Notes) -> None:
    toolkit = open_world(make_toolkit, plugin)
    export = toolkit.export_subject("alice")
    orjson.dumps(export)  # machine-readable as it is
    assert export["party"]["key"] == "alice"
    assert export["party"]["attributes"] == {"email": "a@x.org"}
    assert sorted(
        (rel["relationship"]["type"], rel["direction"], rel["other"]["key"])
        for rel in export["relationships"]
    ) == [("knows", "incoming", "bob"), ("member_of", "outgoing", "home")]
    assert [i["key"] for i in export["interactions"]] == ["alone", "shared"]
    assert export["interactions"][0]["occurred_at"] == "2025-02-01T00:00:00Z"
    assert [(role["role"], role["plugin"]) for role in export["roles"]] == [
        ("customer", "basics"),
        ("head_of_household", "basics"),
    ]
    assert export["plugins"] == {"notes": {"notes": ["call after 6pm"]}}


def test_export_includes_ended_relationships(make_toolkit: Any, plugin: Notes) -> None:
    toolkit = open_world(make_toolkit, plugin)
    (rel,) = [v for v in toolkit.relationships("alice") if v.relationship.type == "member_of"]
    toolkit.end_relationship(rel.relationship.id or 0, FEB)
    export = toolkit.export_subject("alice")
    ended = [r for r in export["relationships"] if r["relationship"]["type"] == "member_of"]
    assert [(r["relationship"]["valid_to"], r["current"]) for r in ended] == [
        ("2025-02-01T00:00:00Z", False)
    ]


def test_erase_subject_removes_the_party_and_what_refers_to_it(
    make_toolkit: Any, plugin: Notes
) -> None:
    toolkit = open_world(make_toolkit, plugin)
    report = toolkit.erase_subject("alice")

    assert report["party"] == "alice"
    assert report["core"] == {
        "participations": 2,
        "interactions": 1,  # "alone" had no other participant
        "relationships": 2,
        "parties": 1,
    }
    assert report["plugins"] == {"notes": {"notes_deleted": 1}}
    assert plugin.erase_saw_party == [True]  # plugins erase before the core deletes the party

    with pytest.raises(NotFoundError):
        toolkit.party("alice")
    assert core_counts(toolkit) == {
        "party": 2,
        "relationship": 1,
        "interaction": 1,
        "participant": 1,
    }
    (shared,) = toolkit.interactions("bob")
    assert shared.key == "shared"
    assert [p.party for p in shared.participants] == [toolkit.party("bob").id]
    assert [(v.other.key, v.relationship.role) for v in toolkit.relationships("home")] == [
        ("bob", "partner")
    ]
    with toolkit.engine.connect() as connection:
        texts = connection.execute(sa.select(notes.c.text)).scalars().all()
    assert texts == ["allergic to nuts"]
    assert toolkit.export_subject("bob")["plugins"] == {"notes": {"notes": ["allergic to nuts"]}}


def test_erasure_is_one_transaction(make_toolkit: Any, tmp_path: Path) -> None:
    plugin = notes_plugin(tmp_path / "notes-migrations", fail_erase=True)
    toolkit = open_world(make_toolkit, plugin)
    before = core_counts(toolkit)
    with pytest.raises(RuntimeError, match="notes: erasure failed"):
        toolkit.erase_subject("alice")
    assert core_counts(toolkit) == before
    assert count_rows(toolkit, notes) == 2  # the plugin's own delete was rolled back too
    assert toolkit.party("alice").key == "alice"


def test_erase_unknown_party(make_toolkit: Any, plugin: Notes) -> None:
    toolkit = open_world(make_toolkit, plugin)
    with pytest.raises(NotFoundError):
        toolkit.erase_subject("nobody")
    assert plugin.erase_saw_party == []


def test_erased_key_can_be_used_again(make_toolkit: Any, plugin: Notes) -> None:
    toolkit = open_world(make_toolkit, plugin)
    toolkit.erase_subject("alice")
    fresh = toolkit.upsert_party("alice", "person")
    assert fresh.attributes == {}
    assert toolkit.interactions("alice") == []
    assert toolkit.relationships("alice", history=True) == []
    assert toolkit.export_subject("alice")["plugins"] == {"notes": {"notes": []}}
    assert toolkit.roles("alice") == []


def test_an_erased_partys_id_is_never_reused(make_toolkit: Any) -> None:
    toolkit = make_toolkit()
    toolkit.upsert_party("first", "person")
    last = toolkit.upsert_party("last", "person")
    toolkit.erase_subject("last")
    newcomer = toolkit.upsert_party("newcomer", "person")
    assert last.id is not None
    assert newcomer.id is not None
    assert newcomer.id > last.id
