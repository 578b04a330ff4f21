"""The gate: no write -- single, batch or bulk import -- without a lawful basis."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from world import Shop

from partygraph import (
    Context,
    RecordType,
    Toolkit,
    ValidationError,
    WriteBatch,
    WriteRefused,
    WriteSession,
    WriteWithheld,
    hookimpl,
)
from partygraph_privacy import gate, tables

Factory = Callable[..., Toolkit]


def count(toolkit: Toolkit, table: str) -> int:
    with toolkit.engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


def newsletter(key: str, at: str, **payload: Any) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "newsletter",
            "occurred_at": at,
            "participants": [{"party": key, "role": "recipient"}],
            "payload": payload,
        }
    }


@contextlib.contextmanager
def statements(toolkit: Toolkit) -> Iterator[list[str]]:
    """Collect the SQL statements the toolkit's engine runs."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(toolkit.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", listen)


@pytest.fixture
def toolkit(privacy_toolkit: Factory) -> Toolkit:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice Moreau", {"email": "alice@example.org"})
    return toolkit


# -- consent and interactions ---------------------------------------------------------------


def test_consent_withdrawn_at_t_refuses_a_marketing_interaction_at_t_plus_1(
    toolkit: Toolkit,
) -> None:
    plugin = toolkit.plugin("privacy")
    plugin.grant("alice", "marketing", at="2026-01-10T09:00:00Z")
    toolkit.record_interaction("newsletter", "2026-02-01", [("alice", "recipient")])
    plugin.withdraw("alice", "marketing", at="2026-03-01T00:00:00Z")

    with pytest.raises(WriteRefused) as refused:
        toolkit.record_interaction(
            "newsletter", "2026-03-02T00:00:00Z", [("alice", "recipient")], {"issue": 12}
        )

    assert str(refused.value) == (
        "alice: no lawful basis for marketing at 2026-03-02T00:00:00Z: consent withdrawn on "
        "2026-03-01T00:00:00Z (refused by plugin privacy)"
    )
    assert count(toolkit, "interaction") == 1  # only February's
    assert count(toolkit, "participant") == 1
    assert [i.occurred_at.month for i in toolkit.interactions("alice")] == [2]


def test_an_interaction_before_the_withdrawal_is_still_lawful(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    plugin.grant("alice", "marketing", at="2026-01-10")
    plugin.withdraw("alice", "marketing", at="2026-03-01")
    toolkit.record_interaction("newsletter", "2026-02-15", [("alice", "recipient")])
    assert count(toolkit, "interaction") == 1


def test_a_payload_channel_is_checked_against_the_consent_channel(toolkit: Toolkit) -> None:
    toolkit.plugin("privacy").grant("alice", "marketing", channel="email", at="2026-01-01")
    toolkit.write([newsletter("alice", "2026-02-01", channel="email")])
    with pytest.raises(WriteRefused, match="no lawful basis for marketing"):
        toolkit.write([newsletter("alice", "2026-02-01", channel="sms")])
    assert count(toolkit, "interaction") == 1


def test_implicit_purposes_need_no_ledger_entry(toolkit: Toolkit) -> None:
    toolkit.record_interaction("purchase", "2026-02-01", [("alice", "purchaser")])
    assert count(toolkit, "interaction") == 1


def test_parties_that_are_not_people_need_no_basis(toolkit: Toolkit) -> None:
    toolkit.upsert_party("acme", "organization", "Acme Ltd")
    toolkit.record_interaction("newsletter", "2026-02-01", [("acme", "recipient")])
    assert count(toolkit, "interaction") == 1


def test_an_objection_refuses_the_next_write_at_once(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    plugin.grant("alice", "marketing", at="2026-01-01")
    plugin.object("alice", "marketing", at="2026-02-01")
    with pytest.raises(WriteRefused, match=r"alice: no lawful basis for marketing .*objected"):
        toolkit.record_interaction("newsletter", "2026-02-01T00:00:01Z", [("alice", "recipient")])


def test_purpose_overrides_replace_the_declared_purposes(privacy_toolkit: Factory) -> None:
    toolkit = privacy_toolkit(settings={"purpose_overrides": {"purchase": ["marketing"]}})
    toolkit.upsert_party("alice", "person")
    with pytest.raises(WriteRefused, match="no lawful basis for marketing"):
        toolkit.record_interaction("purchase", "2026-02-01", [("alice", "purchaser")])
    toolkit.plugin("privacy").grant("alice", "marketing", at="2026-01-01")
    toolkit.record_interaction("purchase", "2026-02-01", [("alice", "purchaser")])


def test_employee_monitoring_needs_legitimate_interests_with_a_note(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    usage = ("crm_usage", "2026-02-01", [("alice", "employee")])
    with pytest.raises(WriteRefused, match="no lawful basis for employee_usage_analytics"):
        toolkit.record_interaction(*usage)
    with pytest.raises(ValidationError, match="consent is not a valid basis for monitoring"):
        plugin.grant("alice", "employee_usage_analytics", at="2026-01-01")
    with pytest.raises(WriteRefused):
        toolkit.record_interaction(*usage)

    plugin.grant(
        "alice",
        "employee_usage_analytics",
        basis="legitimate_interests",
        note="adoption per team; balanced against privacy at work, DPIA #4",
        at="2026-01-01",
    )
    toolkit.record_interaction(*usage)
    assert count(toolkit, "interaction") == 1


# -- restriction --------------------------------------------------------------------------


def test_a_restriction_freezes_the_party_until_lifted_with_a_notice(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    toolkit.upsert_party("moreau", "household")
    plugin.restrict("alice", reason="accuracy contested")

    with pytest.raises(WriteRefused, match="alice: its data is frozen: processing restricted"):
        toolkit.upsert_party("alice", "person", "Alice M.")
    with pytest.raises(WriteRefused, match="alice: its data is frozen, no member_of"):
        toolkit.relate("alice", "moreau", "member_of", role="head")
    with pytest.raises(WriteRefused, match=r"alice: no lawful basis for service .*restricted"):
        toolkit.record_interaction("purchase", "2026-02-01", [("alice", "purchaser")])
    # Storage goes on: writing back what is stored changes nothing and is allowed.
    toolkit.upsert_party("alice", "person", "Alice Moreau", {"email": "alice@example.org"})
    assert toolkit.party("alice").name == "Alice Moreau"
    assert count(toolkit, "interaction") == 0
    assert count(toolkit, "relationship") == 0

    # Correcting contested data stays possible while restricted (GDPR art. 18(1)(a)).
    plugin.rectify("alice", name="Alice Moreau-Dupont")
    assert toolkit.party("alice").name == "Alice Moreau-Dupont"

    with pytest.raises(ValidationError) as no_notice:
        plugin.lift_restriction("alice", "")
    assert no_notice.value.field == "notice"
    plugin.lift_restriction("alice", "told on 2026-11-20 by email that processing resumes")

    toolkit.upsert_party("alice", "person", "Alice M.")
    toolkit.relate("alice", "moreau", "member_of", role="head")
    toolkit.record_interaction("purchase", "2026-02-01", [("alice", "purchaser")])
    assert count(toolkit, "interaction") == 1


# -- batches and bulk imports ---------------------------------------------------------------


def test_one_unlawful_record_rejects_the_whole_batch(toolkit: Toolkit) -> None:
    plugin = toolkit.plugin("privacy")
    for key in ("bob", "carol"):
        toolkit.upsert_party(key, "person")
        plugin.grant(key, "marketing", at="2026-01-01")
    records = [newsletter(key, "2026-02-01") for key in ("bob", "alice", "carol")]

    with pytest.raises(WriteRefused, match=r"^alice: no lawful basis for marketing"):
        toolkit.write(records)

    assert count(toolkit, "interaction") == 0
    assert count(toolkit, "participant") == 0


def test_a_bulk_import_passes_through_the_gate_all_or_nothing(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    lines = [
        {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
        {"party": {"key": "carol", "kind": "person", "name": "Carol"}},
        {"consent": {"party": "bob", "purpose": "marketing", "granted_at": "2026-01-01"}},
        newsletter("bob", "2026-02-01"),
        newsletter("carol", "2026-02-01"),  # no consent
    ]
    source = tmp_path / "world.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    with pytest.raises(WriteRefused, match=r"^carol: no lawful basis for marketing"):
        toolkit.import_jsonl(source)

    assert count(toolkit, "party") == 1  # alice, from before
    assert count(toolkit, "privacy_ledger") == 0
    assert count(toolkit, "interaction") == 0

    source.write_text("\n".join(json.dumps(line) for line in lines[:-1]) + "\n")
    report = toolkit.import_jsonl(source)
    assert report.created["interaction"] == 1
    assert report.created["consent"] == 1


def test_skip_invalid_writes_the_lawful_records_and_reports_the_rest(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    lines = [
        {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
        {"party": {"key": "carol", "kind": "person", "name": "Carol"}},
        {"consent": {"party": "bob", "purpose": "marketing", "granted_at": "2026-01-01"}},
        newsletter("bob", "2026-02-01"),
        newsletter("carol", "2026-02-01"),  # no consent
    ]
    source = tmp_path / "world.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    report = toolkit.import_jsonl(source, skip_invalid=True)

    assert report.created["interaction"] == 1
    (rejected,) = report.rejected
    assert rejected.line == 5
    assert rejected.reason.startswith("carol: no lawful basis for marketing")
    assert count(toolkit, "participant") == 1


def test_the_gate_runs_once_per_batch_and_reads_the_ledger_once_per_batch(
    toolkit: Toolkit, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [f"p{index:03}" for index in range(250)]
    toolkit.write(
        [{"party": {"key": key, "kind": "person"}} for key in people]
        + [
            {"consent": {"party": key, "purpose": "marketing", "granted_at": "2026-01-01"}}
            for key in people
        ]
    )
    phases: list[str] = []
    check = gate.check_batch

    def counting(plugin: Any, batch: WriteBatch, session: WriteSession) -> None:
        phases.append(batch.phase)
        check(plugin, batch, session)

    monkeypatch.setattr(gate, "check_batch", counting)

    with statements(toolkit) as seen:
        report = toolkit.write([newsletter(key, "2026-02-01") for key in people], batch_size=100)

    assert report.created["interaction"] == 250
    assert phases == ["interaction"] * 3
    ledger_reads = [s for s in seen if s.startswith("SELECT") and "privacy_ledger" in s]
    assert len(ledger_reads) == 3
    subject_reads = [s for s in seen if "party.attributes" in s and "FROM party" in s]
    assert subject_reads == ledger_reads  # new participants come with their ledger
    assert len(seen) < 10 * 3  # a handful of statements per batch of 100, none per row


# -- quarantine -----------------------------------------------------------------------------


def test_quarantine_withholds_and_a_later_consent_does_not_release(
    privacy_toolkit: Factory,
) -> None:
    toolkit = privacy_toolkit(settings={"mode": "quarantine", "quarantine_days": 10})
    toolkit.upsert_party("alice", "person")
    alice = toolkit.party("alice").id
    plugin = toolkit.plugin("privacy")

    report = toolkit.write([newsletter("alice", "2026-03-02", issue=12)])
    assert report.created["interaction"] == 0
    assert [item.reason for item in report.withheld] == [
        "quarantined: alice: no lawful basis for marketing at 2026-03-02T00:00:00Z: "
        "no consent recorded"
    ]
    with pytest.raises(WriteWithheld, match="quarantined: alice"):
        toolkit.record_interaction("newsletter", "2026-03-03", [("alice", "recipient")])

    plugin.grant("alice", "marketing", at="2026-01-01")  # even backdated, nothing is released

    with toolkit.engine.connect() as connection:
        rows = list(connection.execute(select(tables.quarantine).order_by(tables.quarantine.c.id)))
        subjects = list(connection.execute(select(tables.quarantine_subject.c.party_id)))
    assert [row.record_type for row in rows] == ["interaction", "interaction"]
    assert rows[0].record["payload"] == {"issue": 12}
    assert rows[0].record["participants"] == [{"party": alice, "role": "recipient"}]
    assert all(row.expires_at - row.quarantined_at == timedelta(days=10) for row in rows)
    assert [row.party_id for row in subjects] == [alice, alice]
    assert count(toolkit, "interaction") == 0

    toolkit.record_interaction("newsletter", "2026-03-04", [("alice", "recipient")])
    assert count(toolkit, "interaction") == 1
    assert count(toolkit, "privacy_quarantine") == 2


def test_quarantine_keeps_the_lawful_records_of_a_batch(privacy_toolkit: Factory) -> None:
    toolkit = privacy_toolkit(settings={"mode": "quarantine"})
    for key in ("alice", "bob"):
        toolkit.upsert_party(key, "person")
    toolkit.plugin("privacy").grant("bob", "marketing", at="2026-01-01")
    report = toolkit.write([newsletter("alice", "2026-02-01"), newsletter("bob", "2026-02-01")])
    assert report.created["interaction"] == 1
    assert len(report.withheld) == 1
    assert count(toolkit, "privacy_quarantine") == 1


# -- erased identifiers ---------------------------------------------------------------------


def erase_identifiers(toolkit: Toolkit, *values: str) -> None:
    """Stand in for an erasure: keep only the keyed hash of the identifiers."""
    keys = toolkit.plugin("privacy").keys
    with toolkit.engine.begin() as connection:
        connection.execute(
            tables.erased.insert(),
            [
                {"identifier_hash": keys.identifier(value), "erased_at": datetime(2026, 5, 1)}
                for value in values
            ],
        )


def test_re_importing_an_erased_identifier_is_refused_unless_overridden(
    toolkit: Toolkit, tmp_path: Path
) -> None:
    erase_identifiers(toolkit, "bob", "Bob@Example.org", "+33 6 12 34 56 78")

    with pytest.raises(WriteRefused, match=r"^bob: an identifier of this party .* erased on 2026"):
        toolkit.upsert_party("bob", "person")
    with pytest.raises(WriteRefused, match=r"^robert: an identifier"):
        toolkit.upsert_party("robert", "person", attributes={"email": " bob@example.ORG"})
    with pytest.raises(WriteRefused, match=r"^rob: an identifier of this party \(key, email or"):
        toolkit.upsert_party("rob", "person", attributes={"phone": "+33 6 12 34 56 78"})
    source = tmp_path / "again.jsonl"
    source.write_text(json.dumps({"party": {"key": "bob", "kind": "person"}}) + "\n")
    with pytest.raises(WriteRefused, match="erasure_override"):
        toolkit.import_jsonl(source)
    assert count(toolkit, "party") == 1  # alice

    toolkit.upsert_party("bob", "person", context=Context(purpose="erasure_override"))
    assert toolkit.party("bob").key == "bob"


# -- records of other plugins ---------------------------------------------------------------


class Surveys:
    """A plugin whose record type is processed for profiling."""

    def __init__(self) -> None:
        self.answers: list[Mapping[str, Any]] = []

    @hookimpl
    def partygraph_record_types(self) -> list[RecordType]:
        schema = {
            "type": "object",
            "additionalProperties": False,
            "required": ["party", "answer"],
            "properties": {
                "party": {"type": "string"},
                "answer": {"type": "string"},
                "at": {"type": "string"},
            },
        }
        return [RecordType("survey_answer", schema, self.apply, purposes=("profiling",))]

    def apply(self, records: Sequence[Mapping[str, Any]], session: WriteSession) -> None:
        self.answers.extend(records)


def test_records_of_other_plugins_are_checked_for_the_party_they_name(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    surveys = Surveys()
    toolkit = make_toolkit(
        plugins={"shop": Shop(), "surveys": surveys}, enabled=["privacy", "shop", "surveys"]
    )
    toolkit.upsert_party("alice", "person")
    answer = {"survey_answer": {"party": "alice", "answer": "blue", "at": "2026-02-01"}}

    with pytest.raises(WriteRefused, match=r"^alice: no lawful basis for profiling at 2026-02-01"):
        toolkit.write([answer])
    assert surveys.answers == []

    toolkit.plugin("privacy").grant("alice", "profiling", at="2026-01-01")
    toolkit.write([answer])
    assert surveys.answers == [answer["survey_answer"]]


def test_after_a_real_erasure_the_identifiers_cannot_come_back(toolkit: Toolkit) -> None:
    toolkit.upsert_party("bob", "person", "Bob", {"email": "bob@example.org"})
    toolkit.plugin("privacy").erase("bob")
    with pytest.raises(WriteRefused, match="erasure_override"):
        toolkit.upsert_party("bob", "person")
    with pytest.raises(WriteRefused, match="erasure_override"):
        toolkit.upsert_party("robert", "person", attributes={"email": "bob@example.org"})
    toolkit.upsert_party("bob", "person", context=Context(purpose="erasure_override"))


def test_a_later_batch_reads_the_ledger_of_people_met_before(toolkit: Toolkit) -> None:
    """Subjects are remembered for the write; their ledger is read again for each batch."""
    toolkit.upsert_party("bob", "person")
    toolkit.plugin("privacy").grant("bob", "marketing", at="2026-01-01")
    toolkit.plugin("privacy").withdraw("bob", "marketing", at="2026-03-01")
    with statements(toolkit) as seen, pytest.raises(WriteRefused, match="bob: no lawful"):
        toolkit.write(
            [newsletter("bob", "2026-02-01"), newsletter("bob", "2026-04-01")], batch_size=1
        )
    joined = [s for s in seen if "party.attributes" in s and "privacy_ledger" in s]
    alone = [s for s in seen if s.startswith("SELECT") and "FROM privacy_ledger" in s]
    assert (len(joined), len(alone)) == (1, 1)
