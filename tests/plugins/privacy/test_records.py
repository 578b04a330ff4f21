"""The privacy plugin's JSON Lines records: consent, objection, opt-out, restriction ..."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from partygraph import RecordsRejected, Toolkit
from partygraph_privacy import tables

Factory = Callable[..., Toolkit]


def jsonl(folder: Path, *records: dict[str, Any]) -> Path:
    path = folder / "records.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


@pytest.fixture
def toolkit(privacy_toolkit: Factory) -> Toolkit:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice Moreau")
    toolkit.upsert_party("moreau", "household", "Moreau household")
    return toolkit


def test_every_record_type_imports_from_json_lines(toolkit: Toolkit, tmp_path: Path) -> None:
    source = jsonl(
        tmp_path,
        {
            "consent": {
                "party": "alice",
                "purpose": "marketing",
                "basis": "consent",
                "channel": "email",
                "granted_at": "2026-01-10T09:00:00Z",
                "expires_at": None,
                "source": "web form",
                "evidence": "form #12",
                "jurisdiction": "GDPR",
                "given_by": None,
                "verification": None,
                "note": None,
            }
        },
        {
            "consent": {
                "party": "alice",
                "purpose": "marketing",
                "channel": "email",
                "withdrawn_at": "2026-03-01T00:00:00Z",
            }
        },
        {"objection": {"party": "alice", "purpose": "profiling", "at": "2026-03-02"}},
        {"opt_out": {"party": "alice", "gpc": True, "at": "2026-03-03"}},
        {"restriction": {"party": "alice", "at": "2026-03-04", "reason": "accuracy contested"}},
        {
            "restriction": {
                "party": "alice",
                "lifted_at": "2026-03-20",
                "notice": "told on 2026-03-19 by email",
            }
        },
        {"limit_sensitive": {"party": "alice", "at": "2026-03-21"}},
        {"device": {"key": "tablet-1", "household": "moreau", "shared": True}},
    )

    report = toolkit.import_jsonl(source)

    assert dict(report.created) == {
        "consent": 2,
        "objection": 1,
        "opt_out": 1,
        "restriction": 2,
        "limit_sensitive": 1,
        "device": 1,
    }
    history = toolkit.plugin("privacy").ledger_history("alice")
    assert [(e["action"], e["purpose"], e["at"][:10]) for e in history] == [
        ("grant", "marketing", "2026-01-10"),
        ("withdraw", "marketing", "2026-03-01"),
        ("object", "profiling", "2026-03-02"),
        ("opt_out", "sale_or_sharing", "2026-03-03"),
        ("restrict", "*", "2026-03-04"),
        ("lift_restriction", "*", "2026-03-20"),
        ("limit_sensitive", "*", "2026-03-21"),
    ]
    assert history[0]["evidence"] == "form #12"
    assert history[4]["note"] == "accuracy contested"
    assert history[5]["note"] == "told on 2026-03-19 by email"
    with toolkit.engine.connect() as connection:
        devices = [
            tuple(row)
            for row in connection.execute(
                select(tables.device.c.key, tables.device.c.household_id, tables.device.c.shared)
            )
        ]
    assert devices == [("tablet-1", toolkit.party("moreau").id, True)]


def test_a_consent_with_both_times_records_the_grant_and_its_withdrawal(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    toolkit.import_jsonl(
        jsonl(
            tmp_path,
            {
                "consent": {
                    "party": "alice",
                    "purpose": "marketing",
                    "granted_at": "2026-01-01",
                    "withdrawn_at": "2026-02-01",
                }
            },
        )
    )
    plugin = toolkit.plugin("privacy")
    assert [e["action"] for e in plugin.ledger_history("alice")] == ["grant", "withdraw"]
    assert plugin.basis("alice", "marketing", "2026-01-15").allowed
    assert not plugin.basis("alice", "marketing", "2026-02-15").allowed


def test_a_record_without_a_time_takes_the_time_of_the_write(toolkit: Toolkit) -> None:
    toolkit.write([{"consent": {"party": "alice", "purpose": "marketing"}}])
    (entry,) = toolkit.plugin("privacy").ledger_history("alice")
    assert entry["action"] == "grant"
    assert entry["basis"] == "consent"
    assert entry["at"] == entry["recorded_at"]


def test_invalid_records_are_rejected_with_their_line_and_nothing_is_written(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    source = jsonl(
        tmp_path,
        {"consent": {"party": "alice", "purpose": "marketing", "granted_at": "2026-01-01"}},
        {"consent": {"party": "alice", "purpose": "marketing", "colour": "blue"}},
        {"consent": {"party": "alice", "purpose": "telepathy"}},
        {"consent": {"party": "alice", "purpose": "employee_usage_analytics", "basis": "consent"}},
        {"consent": {"party": "alice", "purpose": "profiling", "basis": "contract"}},
        {"restriction": {"party": "alice", "lifted_at": "2026-02-01"}},
        {"consent": {"party": "nobody", "purpose": "marketing"}},
        {"consent": {"party": "alice", "purpose": "marketing", "granted_at": "next tuesday"}},
        {"opt_out": {"party": "alice", "gpc": "yes"}},
    )

    with pytest.raises(RecordsRejected) as rejected:
        toolkit.import_jsonl(source)

    reasons = {item.line: item.reason for item in rejected.value.report.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "colour" in reasons[2]
    assert reasons[3].startswith("purpose: unknown purpose 'telepathy'")
    assert reasons[4] == (
        "basis: consent is not a valid basis for monitoring employees; record "
        "legitimate_interests with a balancing note"
    )
    assert reasons[5].startswith("basis: 'contract' is not a lawful basis for profiling")
    assert reasons[6] == "/notice: is required"
    assert reasons[7] == "party: no party with key 'nobody'"
    assert reasons[8].startswith("granted_at: ")
    assert "gpc" in reasons[9]
    assert toolkit.plugin("privacy").ledger_history("alice") == []

    report = toolkit.import_jsonl(source, skip_invalid=True)
    assert report.created["consent"] == 1
    assert len(report.rejected) == 8
    assert len(toolkit.plugin("privacy").ledger_history("alice")) == 1


def test_devices_are_upserted_by_key(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    toolkit.write([{"device": {"key": "tablet-1", "household": "moreau"}}])  # shared by default
    plugin.register_device("tablet-1", household="moreau", shared=False)
    plugin.register_device("tv", shared=False)
    with toolkit.engine.connect() as connection:
        rows = {
            row.key: (row.household_id, row.shared)
            for row in connection.execute(select(tables.device).order_by(tables.device.c.key))
        }
    assert rows == {"tablet-1": (toolkit.party("moreau").id, False), "tv": (None, False)}


def test_privacy_records_pass_the_gate_even_for_a_restricted_party(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    plugin.restrict("alice", reason="accuracy contested")
    plugin.withdraw("alice", "marketing")
    plugin.object("alice", "profiling")
    plugin.grant("alice", "marketing")
    assert [e["action"] for e in plugin.ledger_history("alice")] == [
        "restrict",
        "withdraw",
        "object",
        "grant",
    ]


def test_a_batch_of_records_is_one_insert(toolkit: Toolkit) -> None:
    people = [f"p{index}" for index in range(50)]
    toolkit.write([{"party": {"key": key, "kind": "person"}} for key in people])
    inserts: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO privacy_ledger"):
            inserts.append(statement)

    event.listen(toolkit.engine, "before_cursor_execute", listen)
    try:
        toolkit.write(
            [
                {"consent": {"party": key, "purpose": "marketing", "channel": "email"}}
                for key in people
            ]
        )
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", listen)
    assert len(inserts) == 1
    assert toolkit.excluded(people, "marketing") == {}


def test_the_record_types_are_registered_with_strict_schemas(toolkit: Toolkit) -> None:
    types = toolkit.vocabulary.record_types
    own = ["consent", "device", "limit_sensitive", "objection", "opt_out", "restriction"]
    assert sorted(name for name in types if name in own) == own
    for name in own:
        schema = types[name].schema
        assert schema["additionalProperties"] is False
        assert schema["required"]
        assert types[name].purposes == ()
