"""The audit log: every write, refused write, request step and read, hash-chained and keyed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from partygraph import Context, StorageError, Toolkit, ValidationError, WriteRefused

PrivacyToolkit = Callable[..., Toolkit]


def audit_rows(toolkit: Toolkit) -> list[dict[str, Any]]:
    """The audit table's rows, with the reads this toolkit buffered appended first."""
    toolkit.plugin("privacy").flush_audit()
    with toolkit.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM privacy_audit ORDER BY seq"))
        return [dict(row._mapping) for row in rows]


def _json(value: Any) -> Any:
    """A JSON column's value (text on some drivers)."""
    return json.loads(value) if isinstance(value, str) else value


def execute(toolkit: Toolkit, *statements: str) -> None:
    with toolkit.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def populated(privacy_toolkit: PrivacyToolkit, settings: dict[str, Any] | None = None) -> Toolkit:
    """Alice (with email and phone), two purchases and a read: several audit entries."""
    toolkit = privacy_toolkit(settings)
    toolkit.upsert_party(
        "alice",
        "person",
        "Alice Moreau",
        {"email": "alice@example.org", "phone": "+33 6 12 34 56 78"},
        context=Context(actor="clerk@example.org"),
    )
    toolkit.record_interaction(
        "purchase", "2026-01-10T10:00:00Z", [("alice", "purchaser")], {"total": 12}
    )
    toolkit.record_interaction(
        "purchase", "2026-02-10T10:00:00Z", [("alice", "purchaser")], {"total": 30}
    )
    toolkit.view("alice", context=Context(actor="agent-7", purpose="service"))
    toolkit.record_interaction(
        "purchase", "2026-03-10T10:00:00Z", [("alice", "purchaser")], {"total": 5}
    )
    return toolkit


def test_writes_refusals_and_reads_are_audited(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit()
    privacy = toolkit.plugin("privacy")
    alice = toolkit.upsert_party(
        "alice",
        "person",
        "Alice Moreau",
        {"email": "alice@example.org"},
        context=Context(actor="clerk@example.org", purpose="service"),
    )
    toolkit.write(
        [
            {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
            {
                "interaction": {
                    "type": "purchase",
                    "occurred_at": "2026-01-10T10:00:00Z",
                    "participants": [
                        {"party": "alice", "role": "purchaser"},
                        {"party": "bob", "role": "consumer"},
                    ],
                }
            },
        ]
    )
    with pytest.raises(ValidationError):
        toolkit.upsert_party("zed", "martian")  # invalid: refused by the core
    with pytest.raises(WriteRefused):  # no consent to marketing: refused by the gate
        toolkit.record_interaction(
            "newsletter",
            "2026-01-11T09:00:00Z",
            [("alice", "recipient")],
            context=Context(actor="mailer", purpose="marketing"),
        )
    toolkit.view(
        "alice", context=Context(actor="agent-7", purpose="service", viewer_role="support")
    )
    toolkit.party("alice", context=Context(actor="agent-7"))

    rows = audit_rows(toolkit)
    assert [row["action"] for row in rows] == [
        "write:party",
        "write:party",
        "write:interaction",
        "write_refused",
        "write_refused",
        "read:view",
        "read:party",
    ]
    assert [row["seq"] for row in rows] == list(range(1, 8))
    alice_ref = privacy.keys.ref("party", alice.id)
    bob_ref = privacy.keys.ref("party", toolkit.party("bob").id)

    first, _, purchase, invalid, refused, view, _ = rows
    assert first["actor_ref"] == privacy.keys.ref("actor", "clerk@example.org")
    assert first["purpose"] == "service"
    assert _json(first["detail"]) == {"count": 1, "subjects": [alice_ref]}
    assert _json(purchase["detail"]) == {"count": 1, "subjects": sorted([alice_ref, bob_ref])}
    assert _json(invalid["detail"])["error"] == "ValidationError"
    assert _json(refused["detail"]) == {
        "error": "WriteRefused",
        "category": "refused",
        "plugin": "privacy",
    }
    assert refused["purpose"] == "marketing"
    assert refused["actor_ref"] == privacy.keys.ref("actor", "mailer")
    assert view["subject_ref"] == alice_ref
    assert view["purpose"] == "service"
    assert _json(view["detail"])["viewer_role"] == "support"
    assert privacy.verify_audit()["ok"] is True


def test_only_pseudonymous_references_are_kept(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    with pytest.raises(ValidationError):
        toolkit.upsert_party("alice", "organization", "Alice Moreau")  # message names alice
    toolkit.export_subject("alice", context=Context(actor="dpo@example.org"))
    dump = repr(audit_rows(toolkit)).casefold()
    for identifier in (
        "alice",
        "moreau",
        "alice@example.org",
        "+33 6",
        "clerk@",
        "agent-7",
        "dpo@",
    ):
        assert identifier not in dump
    actions = [row["action"] for row in audit_rows(toolkit)]
    assert "write_refused" in actions
    assert "read:export_subject" in actions


def test_an_intact_chain_verifies_and_anchors(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    report = privacy.verify_audit()
    assert report == {
        "ok": True,
        "entries": 5,
        "first_bad_seq": None,
        "problem": None,
        "kind": None,
        "head": audit_rows(toolkit)[-1]["hash"],
    }
    anchor = privacy.audit_anchor()
    assert anchor == {"head": report["head"], "length": 5}
    toolkit.party("alice")  # the chain grows past the anchor: still fine
    assert privacy.verify_audit(anchor)["ok"] is True
    assert audit_rows(toolkit)[0]["prev_hash"] == "0" * 64


def test_an_edited_entry_is_named(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    from partygraph_privacy import tables

    with toolkit.engine.begin() as connection:
        connection.execute(
            tables.audit.update()
            .where(tables.audit.c.seq == 3)
            .values(detail={"count": 0, "subjects": []})
        )
    report = toolkit.plugin("privacy").verify_audit()
    assert report["ok"] is False
    assert report["first_bad_seq"] == 3
    assert report["kind"] == "edited"
    assert "entry 3" in report["problem"]
    assert report["entries"] == 5


def test_an_edited_time_is_caught(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    execute(toolkit, "UPDATE privacy_audit SET purpose = 'marketing' WHERE seq = 4")
    report = toolkit.plugin("privacy").verify_audit()
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 4, "edited")


def test_a_deleted_entry_is_caught(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    execute(toolkit, "DELETE FROM privacy_audit WHERE seq = 3")
    report = toolkit.plugin("privacy").verify_audit()
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 3, "deleted")
    assert report["entries"] == 4
    assert "entry 3 missing" in report["problem"]


def test_a_deleted_entry_is_caught_even_after_renumbering(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    execute(
        toolkit,
        "DELETE FROM privacy_audit WHERE seq = 2",
        "UPDATE privacy_audit SET seq = seq + 100 WHERE seq > 2",
        "UPDATE privacy_audit SET seq = seq - 101 WHERE seq > 100",
    )
    assert [row["seq"] for row in audit_rows(toolkit)] == [1, 2, 3, 4]
    report = toolkit.plugin("privacy").verify_audit()
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 2, "deleted")


def test_reordered_entries_are_caught(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    execute(
        toolkit,
        "UPDATE privacy_audit SET seq = 0 WHERE seq = 2",
        "UPDATE privacy_audit SET seq = 2 WHERE seq = 3",
        "UPDATE privacy_audit SET seq = 3 WHERE seq = 0",
    )
    report = toolkit.plugin("privacy").verify_audit()
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 2, "reordered")
    assert "followed entry 3" in report["problem"]


def test_a_truncated_tail_is_caught_against_an_anchor(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    anchor = privacy.audit_anchor()
    execute(toolkit, "DELETE FROM privacy_audit WHERE seq >= 4")
    assert privacy.verify_audit()["ok"] is True  # a shorter chain is consistent in itself
    report = privacy.verify_audit(anchor)
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 4, "truncated")
    assert report["entries"] == 3

    # New entries after the truncation do not hide it: the anchored head is gone.
    toolkit.party("alice")
    toolkit.party("alice")
    report = privacy.verify_audit(anchor)
    assert (report["ok"], report["first_bad_seq"], report["kind"]) == (False, 5, "truncated")


def audit_down(toolkit: Toolkit) -> None:
    """Make every insert into the audit log fail."""
    if toolkit.engine.dialect.name == "postgresql":
        execute(
            toolkit,
            "CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit unavailable'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_down BEFORE INSERT ON privacy_audit "
            "FOR EACH ROW EXECUTE FUNCTION audit_down()",
        )
    else:
        execute(
            toolkit,
            "CREATE TRIGGER audit_down BEFORE INSERT ON privacy_audit "
            "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END",
        )


def audit_up(toolkit: Toolkit) -> None:
    execute(
        toolkit,
        "DROP TRIGGER audit_down ON privacy_audit" if _pg(toolkit) else "DROP TRIGGER audit_down",
    )


def _pg(toolkit: Toolkit) -> bool:
    return toolkit.engine.dialect.name == "postgresql"


def test_a_failing_audit_write_fails_the_action(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit, {"audit": {"reads": "immediate"}})
    before = len(audit_rows(toolkit))
    audit_down(toolkit)

    with pytest.raises((DBAPIError, StorageError), match="audit unavailable"):
        toolkit.upsert_party("carol", "person", "Carol")
    with pytest.raises((DBAPIError, StorageError), match="audit unavailable"):
        toolkit.record_interaction("purchase", "2026-04-01", [("alice", "purchaser")])
    with pytest.raises((DBAPIError, StorageError), match="audit unavailable"):
        toolkit.view("alice")

    with toolkit.engine.connect() as connection:
        parties = connection.exec_driver_sql("SELECT key FROM party ORDER BY key").scalars()
        assert list(parties) == ["alice"]
        count = connection.exec_driver_sql("SELECT count(*) FROM interaction").scalar()
        assert count == 3
    assert len(audit_rows(toolkit)) == before


def test_buffered_reads_survive_a_failing_append(privacy_toolkit: PrivacyToolkit) -> None:
    """A buffered read returns; its entry waits, and is appended once the log works again."""
    toolkit = populated(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    before = len(audit_rows(toolkit))
    audit_down(toolkit)
    toolkit.view("alice", context=Context(actor="agent-7"))
    with pytest.raises((DBAPIError, StorageError), match="audit unavailable"):
        toolkit.record_interaction("purchase", "2026-04-01", [("alice", "purchaser")])
    with pytest.raises((DBAPIError, StorageError), match="audit unavailable"):
        privacy.flush_audit()
    assert len(privacy.reads) == 1  # rolled back twice, kept both times
    audit_up(toolkit)
    rows = audit_rows(toolkit)
    assert [row["action"] for row in rows[before:]] == ["read:view"]
    assert privacy.verify_audit()["ok"] is True


def _pending_actions(toolkit: Toolkit) -> list[str]:
    return [read.action for read in toolkit.plugin("privacy").reads.take()]


def _stored_actions(toolkit: Toolkit) -> list[str]:
    with toolkit.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT action FROM privacy_audit ORDER BY seq")
        return [row[0] for row in rows]


def test_reads_are_buffered_and_appended_before_the_next_write(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.view("alice")
    toolkit.roles("alice")
    assert _stored_actions(toolkit) == ["write:party"]  # no transaction per read
    assert len(toolkit.plugin("privacy").reads) == 2
    toolkit.record_interaction("purchase", "2026-01-10", [("alice", "purchaser")])
    # In the write's own transaction, in the order things happened.
    assert _stored_actions(toolkit) == [
        "write:party",
        "read:view",
        "read:roles",
        "write:interaction",
    ]
    assert toolkit.plugin("privacy").verify_audit()["ok"] is True


def test_buffered_reads_go_with_a_refused_write_entry(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.party("alice")
    with pytest.raises(WriteRefused):  # no marketing consent: the write rolls back
        toolkit.record_interaction(
            "newsletter", "2026-01-11", [("alice", "recipient")], context=Context(purpose="x")
        )
    assert _stored_actions(toolkit) == ["write:party", "read:party", "write_refused"]


def test_buffered_reads_are_appended_at_close(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.party("alice")
    toolkit.view("alice")
    toolkit.close()
    reopened = privacy_toolkit()
    assert _stored_actions(reopened) == ["write:party", "read:party", "read:view"]
    assert reopened.plugin("privacy").verify_audit() == {
        "ok": True,
        "entries": 3,
        "first_bad_seq": None,
        "problem": None,
        "kind": None,
        "head": reopened.plugin("privacy").audit_anchor()["head"],
    }


def test_buffered_reads_are_appended_in_batches(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit({"audit": {"read_batch": 3, "read_seconds": 3600}})
    toolkit.upsert_party("alice", "person", "Alice")
    for _ in range(7):
        toolkit.party("alice")
    assert _stored_actions(toolkit) == ["write:party"] + ["read:party"] * 6
    assert _pending_actions(toolkit) == ["read:party"]


def test_buffered_reads_wait_at_most_read_seconds(
    privacy_toolkit: PrivacyToolkit, monkeypatch: pytest.MonkeyPatch
) -> None:
    import partygraph_privacy.readlog as readlog

    clock = [1000.0]
    monkeypatch.setattr(readlog.time, "monotonic", lambda: clock[0])
    toolkit = privacy_toolkit({"audit": {"read_batch": 100, "read_seconds": 2}})
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.party("alice")
    clock[0] += 1.5
    toolkit.party("alice")
    assert _stored_actions(toolkit) == ["write:party"]
    clock[0] += 1.0  # the oldest has now waited 2.5 s: this read appends all three
    toolkit.party("alice")
    assert _stored_actions(toolkit) == ["write:party"] + ["read:party"] * 3


def test_immediate_reads_are_appended_before_the_read_returns(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit({"audit": {"reads": "immediate"}})
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.view("alice")
    assert _stored_actions(toolkit) == ["write:party", "read:view"]
    toolkit.party("alice")
    assert _stored_actions(toolkit) == ["write:party", "read:view", "read:party"]
    assert len(toolkit.plugin("privacy").reads) == 0


@pytest.mark.parametrize("reads", ["buffered", "immediate"])
def test_reads_are_audited_on_an_in_memory_database(
    make_toolkit: Callable[..., Toolkit], reads: str
) -> None:
    """One connection serves reads and writes there: entries are appended after the read."""
    toolkit = make_toolkit(
        enabled=["privacy"],
        settings={"privacy": {"audit": {"reads": reads, "read_batch": 3}}},
        database_url="sqlite://",
    )
    toolkit.upsert_party("alice", "person", "Alice")
    for _ in range(4):
        toolkit.view("alice")
        toolkit.roles("alice")
    toolkit.party("alice")
    expected = ["write:party", *["read:view", "read:roles"] * 4, "read:party"]
    assert _stored_actions(toolkit) == expected
    assert toolkit.plugin("privacy").verify_audit()["ok"] is True


def test_a_read_entry_keeps_the_time_of_the_read(privacy_toolkit: PrivacyToolkit) -> None:
    from datetime import timedelta

    from partygraph.times import utcnow

    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.party("alice")
    read_at = utcnow()
    (pending,) = toolkit.plugin("privacy").reads.take()
    toolkit.plugin("privacy").reads.restore([pending])
    assert abs(pending.at - read_at) < timedelta(seconds=5)
    toolkit.plugin("privacy").flush_audit()
    assert audit_rows(toolkit)[-1]["action"] == "read:party"


def test_request_steps_are_audited(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = populated(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    from partygraph_privacy.audit import log_request_step

    alice = toolkit.party("alice")
    with toolkit.engine.begin() as connection:
        log_request_step(privacy, connection, 7, "received", alice.id, actor="dpo@example.org")
    last = audit_rows(toolkit)[-1]
    assert last["action"] == "request:received"
    assert last["subject_ref"] == privacy.keys.ref("party", alice.id)
    assert _json(last["detail"]) == {"request": 7}
    assert privacy.verify_audit()["ok"] is True


def test_concurrent_writers_and_readers_keep_one_chain(privacy_toolkit: PrivacyToolkit) -> None:
    from concurrent.futures import ThreadPoolExecutor

    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice")

    def work(worker: int) -> None:
        for index in range(4):
            toolkit.upsert_party(f"w{worker}-{index}", "person")
            toolkit.party("alice", context=Context(actor=f"worker-{worker}"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(4)))
    rows = audit_rows(toolkit)
    assert [row["seq"] for row in rows] == list(range(1, 34))
    assert toolkit.plugin("privacy").verify_audit()["ok"] is True


@pytest.mark.parametrize(
    ("actor_ref", "subject_ref", "purpose", "detail"),
    [
        (None, None, None, None),
        ("a" * 32, "b" * 32, "service", {"kind": "person", "source": "api"}),
        (None, "c" * 32, 'qu"ote\\', {"kind": "person", "source": "Zoë ✓", "viewer_role": None}),
        ("d" * 32, None, "analytics", {"count": 3, "subjects": ["x", "y"], "ratio": 0.1}),
        (None, None, "é", {"nested": {"b": [1, 2.5, None, True], "a": "ü"}, "1": "one"}),
    ],
)
def test_entry_text_is_the_canonical_text(
    actor_ref: str | None, subject_ref: str | None, purpose: str | None, detail: Any
) -> None:
    """Appending spells an entry itself; verifying goes through ``canonical``: same text."""
    from partygraph_privacy.audit import _detail_of, _entry_text, canonical

    stored, detail_text = _detail_of(detail)
    text_ = _entry_text(
        seq=42,
        at_text="2024-05-01 10:00:00.000001",
        actor_ref=actor_ref,
        action="read:view",
        subject_ref=subject_ref,
        purpose=purpose,
        detail_text=detail_text,
    )
    expected = canonical(
        {
            "seq": 42,
            "at": "2024-05-01 10:00:00.000001",
            "actor_ref": actor_ref,
            "action": "read:view",
            "subject_ref": subject_ref,
            "purpose": purpose,
            "detail": stored,
        }
    )
    assert text_ == expected
    assert stored == (json.loads(canonical(detail)) if detail is not None else None)


def test_buffered_reads_of_many_parties_and_actors_verify(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    """Reads keep their actor and subject as given; the references made at the append
    are those of an immediate entry, and the chain verifies."""
    toolkit = populated(privacy_toolkit)
    for actor in ("agent-1", "agent-2", None):
        toolkit.view("alice", context=Context(actor=actor, purpose="service", source="crm"))
    privacy = toolkit.plugin("privacy")
    rows = audit_rows(toolkit)
    reads = [row for row in rows if row["action"] == "read:view"][-3:]
    assert [row["actor_ref"] for row in reads] == [
        privacy.keys.ref("actor", "agent-1"),
        privacy.keys.ref("actor", "agent-2"),
        None,
    ]
    alice = toolkit.party("alice")
    assert {row["subject_ref"] for row in reads} == {privacy.keys.ref("party", alice.id)}
    assert _json(reads[0]["detail"]) == {"kind": "person", "source": "crm"}
    assert privacy.verify_audit()["ok"]
