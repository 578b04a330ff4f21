"""Erasure: deleted everywhere, retained records pseudonymised, aggregates kept, nothing left."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from partygraph import Context, Toolkit, ValidationError, WriteRefused
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph_privacy import erasure, tables

PrivacyToolkit = Callable[..., Toolkit]

ALICE = {
    "key": "alice-7f3q",
    "name": "Alice Moreau",
    "email": "alice.moreau@example.org",
    "phone": "+33 6 12 34 56 78",
}
IDENTIFIERS = [ALICE["key"], ALICE["name"], ALICE["email"], ALICE["phone"], "platinum-plus"]
RETENTION = {"retention": {"purchase": "P10Y"}}


def build_world(toolkit: Toolkit) -> None:
    """Alice and Bob in the Moreau household; Alice bought, read a newsletter, has notes."""
    key = ALICE["key"]
    toolkit.write(
        [
            {"party": {"key": key, "kind": "person", "name": ALICE["name"],
                       "attributes": {"email": ALICE["email"], "phone": ALICE["phone"],
                                      "birth_date": "1990-04-02",
                                      "loyalty_tier": "platinum-plus"}}},
            {"party": {"key": "bob", "kind": "person", "name": "Bob Moreau",
                       "attributes": {"email": "bob@example.org"}}},
            {"party": {"key": "moreau-home", "kind": "household", "name": "The Moreaus"}},
            {"relationship": {"type": "member_of", "source": key, "target": "moreau-home",
                              "role": "head", "valid_from": "2020-01-01",
                              "attributes": {"contact_name": ALICE["name"]}}},
            {"relationship": {"type": "member_of", "source": "bob", "target": "moreau-home",
                              "role": "partner", "valid_from": "2020-01-01"}},
            {"consent": {"party": key, "purpose": "marketing", "channel": "email",
                         "granted_at": "2026-01-01T00:00:00Z", "source": "web form",
                         "evidence": f"form signed by {ALICE['name']}"}},
            {"consent": {"party": "bob", "purpose": "marketing",
                         "granted_at": "2026-01-01T00:00:00Z",
                         "note": f"asked by {ALICE['email']}"}},
            {"interaction": {"type": "purchase", "key": "inv-1",
                             "occurred_at": "2026-02-01T10:00:00Z",
                             "participants": [{"party": key, "role": "purchaser"},
                                              {"party": "bob", "role": "consumer"}],
                             "payload": {"amount": 30, "billing_name": ALICE["name"],
                                         "email": ALICE["email"],
                                         "lines": [{"sku": "A1", "gift_for": "Bob"}],
                                         "note": f"call {ALICE['phone']} on delivery"}}},
            {"interaction": {"type": "purchase", "key": "inv-2",
                             "occurred_at": "2026-02-02T10:00:00Z",
                             "participants": [{"party": "bob", "role": "purchaser"}],
                             "payload": {"amount": 12}}},
            {"interaction": {"type": "newsletter", "key": "news-1",
                             "occurred_at": "2026-02-03T10:00:00Z",
                             "participants": [{"party": key, "role": "recipient"}],
                             "payload": {"subject": "Spring sale", "to": ALICE["email"]}}},
        ]
    )  # fmt: skip
    shop = toolkit.plugin("shop")
    shop.add_note(toolkit, key, f"{ALICE['name']} prefers calls after 6pm")
    shop.add_note(toolkit, "bob", "allergic to nuts")


def household_figures(toolkit: Toolkit) -> tuple[int, int]:
    """(members, purchases by members): computed on read, as roll-ups are."""
    rel, part = relationship_table, participant_table
    with toolkit.engine.connect() as connection:
        home = connection.execute(
            sa.select(party_table.c.id).where(party_table.c.key == "moreau-home")
        ).scalar_one()
        members = sa.select(rel.c.source_id).where(
            rel.c.type == "member_of", rel.c.target_id == home
        )
        count = connection.execute(
            sa.select(sa.func.count()).select_from(members.subquery())
        ).scalar_one()
        purchases = connection.execute(
            sa.select(sa.func.count(sa.distinct(part.c.interaction_id))).where(
                part.c.type == "purchase", part.c.role == "purchaser", part.c.party_id.in_(members)
            )
        ).scalar_one()
    return int(count), int(purchases)


def rows(toolkit: Toolkit, table: sa.Table) -> list[dict[str, Any]]:
    with toolkit.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(table))]


def test_erasure_leaves_nothing_but_the_pseudonymised_invoice(
    privacy_toolkit: PrivacyToolkit, tmp_path: Path
) -> None:
    toolkit = privacy_toolkit(RETENTION, notes=True)
    build_world(toolkit)
    privacy = toolkit.plugin("privacy")
    export_file = tmp_path / "exports" / "alice.json"
    privacy.export(ALICE["key"], path=export_file)
    assert ALICE["email"] in export_file.read_text()
    assert household_figures(toolkit) == (2, 2)

    report = privacy.erase(ALICE["key"])

    # Zero residual hits in every table, and in the database file and its WAL.
    assert report["residual_hits"] == []
    if toolkit.engine.dialect.name == "sqlite":
        assert report["file_residual_hits"] == 0
        assert report["compaction"]["complete"] is True
        data = Path(str(toolkit.engine.url.database)).read_bytes()
        for identifier in IDENTIFIERS:
            assert identifier.encode() not in data
    else:
        assert report["file_residual_hits"] is None
        assert report["file_scan"].startswith("not applicable")
    assert report["passed"] is True
    assert report["identifier_kinds"] == [
        "attribute.birth_date", "attribute.loyalty_tier", "email", "key", "name", "phone",
    ]  # fmt: skip

    # The report never names the subject.
    text = json.dumps(report, default=str)
    for identifier in IDENTIFIERS:
        assert identifier not in text
    assert report["party"] != ALICE["key"]

    # The invoice is kept, linked to a pseudonym party, its personal fields masked.
    invoice = toolkit.interactions("bob", type="purchase")
    kept = {i.key: i for i in invoice}
    assert set(kept) == {"inv-1", "inv-2"}
    payload = kept["inv-1"].payload
    assert payload["amount"] == 30
    assert payload["billing_name"] == erasure.FIXED_MASK
    assert payload["email"] == erasure.FIXED_MASK
    assert payload["note"] == erasure.FIXED_MASK
    assert payload["lines"] == [{"sku": "A1", "gift_for": "Bob"}]
    (purchaser,) = [p for p in kept["inv-1"].participants if p.role == "purchaser"]
    pseudonym = toolkit.party(purchaser.party)
    assert pseudonym.key == report["pseudonym"]["key"]
    assert pseudonym.key.startswith("erased-")
    assert (pseudonym.kind, pseudonym.name, dict(pseudonym.attributes)) == ("person", None, {})

    # ... and it says so: the link is pseudonymised (a linkage remains), never "anonymised".
    assert report["pseudonymised"]["participant.party_id"] == 1
    assert report["pseudonymised"]["relationship.source_id"] == 1
    assert "participant.party_id" not in report["anonymised"]
    assert "relationship.source_id" not in report["anonymised"]
    assert report["anonymised"]["interaction.payload.billing_name"] == 1
    assert report["retained"] == {"retained_purchase": 1}

    # Aggregates computed on read keep their shape: two members, two purchases.
    assert household_figures(toolkit) == (2, 2)

    # What is not retained is gone: the newsletter, the notes, the ledger, the export file.
    with toolkit.engine.connect() as connection:
        keys = set(connection.execute(sa.select(interaction_table.c.key)).scalars())
    assert keys == {"inv-1", "inv-2"}
    assert report["deleted"]["interaction"] == 1
    assert report["plugins"]["shop"] == {"notes_deleted": 1}
    assert toolkit.export_subject("bob")["plugins"]["shop"] == {"notes": ["allergic to nuts"]}
    assert report["deleted"]["privacy_ledger"] == 1
    assert {row["party_id"] for row in rows(toolkit, tables.ledger)} == {toolkit.party("bob").id}
    assert not export_file.exists()
    assert report["deleted"]["privacy_export_file"] == 1
    assert rows(toolkit, tables.export_file) == []
    # Bob's consent note named Alice: scrubbed, Bob's consent itself kept.
    assert privacy.basis("bob", "marketing").allowed

    # A keyed hash of key, email and phone is kept -- never the identifiers.
    assert report["erased_identifier_hashes"] == 3
    erased = {row["identifier_hash"] for row in rows(toolkit, tables.erased)}
    assert erased == {privacy.keys.identifier(ALICE[name]) for name in ("key", "email", "phone")}


def test_re_importing_an_erased_identifier_is_refused(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit(RETENTION, notes=True)
    build_world(toolkit)
    privacy = toolkit.plugin("privacy")
    privacy.erase(ALICE["key"])
    with pytest.raises(WriteRefused):
        toolkit.upsert_party(ALICE["key"], "person", "Alice")
    with pytest.raises(WriteRefused):
        toolkit.upsert_party("alice-2", "person", attributes={"email": ALICE["email"].upper()})
    toolkit.upsert_party(ALICE["key"], "person", context=Context(purpose="erasure_override"))


def test_erasure_request_scrubs_the_verification_and_keeps_the_request(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit(RETENTION, notes=True)
    build_world(toolkit)
    privacy = toolkit.plugin("privacy")
    request = privacy.receive_request(ALICE["key"], "erasure")
    privacy.verify_request(request["id"], f"reply from {ALICE['email']} to our challenge")
    done = privacy.fulfil_request(request["id"])
    report = done["result"]
    assert report["residual_hits"] == []
    assert report["passed"] is True
    kept = done["request"]
    assert kept["status"] == "completed"
    assert kept["party_id"] is None
    assert kept["subject_ref"] == request["subject_ref"] == report["party"]
    assert kept["verification"] == erasure.FIXED_MASK
    assert kept["outcome"].startswith("erased; 0 residual hit(s)")


def test_masking_strategies_follow_the_data_category(privacy_toolkit: PrivacyToolkit) -> None:
    settings = {**RETENTION, "masking": {"user": "fixed", "user.contact": "keyed_hash"}}
    toolkit = privacy_toolkit(settings, notes=True)
    build_world(toolkit)
    toolkit.record_interaction(
        "purchase",
        "2026-03-01T10:00:00Z",
        [(ALICE["key"], "purchaser")],
        {"amount": 5, "customer_email": ALICE["email"], "shipping_address": "1 rue X"},
        key="inv-3",
    )
    report = toolkit.plugin("privacy").erase(ALICE["key"])
    assert report["residual_hits"] == []
    with toolkit.engine.connect() as connection:
        payloads = dict(
            connection.execute(
                sa.select(interaction_table.c.key, interaction_table.c.payload).where(
                    interaction_table.c.key.in_(["inv-1", "inv-3"])
                )
            ).all()
        )
    # A keyed hash: the same email masks the same way in both invoices (joins still work).
    assert payloads["inv-1"]["email"] == payloads["inv-3"]["customer_email"]
    assert payloads["inv-1"]["email"].startswith("h_")
    assert payloads["inv-3"]["shipping_address"].startswith("h_")
    assert payloads["inv-1"]["billing_name"] == erasure.FIXED_MASK
    assert report["pseudonymised"]["interaction.payload.email"] == 1
    assert report["pseudonymised"]["interaction.payload.customer_email"] == 1
    assert report["anonymised"]["interaction.payload.billing_name"] == 1
    assert "interaction.payload.email" not in report["anonymised"]


def test_custom_masking_strategies_can_be_registered(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit(RETENTION, notes=True)
    toolkit.plugin("privacy").register_masking(
        "fixed", lambda plugin, value: "REDACTED", result="anonymised"
    )
    build_world(toolkit)
    report = toolkit.plugin("privacy").erase(ALICE["key"])
    (invoice,) = [i for i in toolkit.interactions("bob") if i.key == "inv-1"]
    assert invoice.payload["billing_name"] == "REDACTED"
    assert report["anonymised"]["interaction.payload.billing_name"] == 1
    with pytest.raises(ValueError, match="anonymised"):
        toolkit.plugin("privacy").register_masking(
            "shuffle", lambda plugin, value: value, result="gone"
        )


def test_an_unknown_masking_strategy_is_refused_before_anything_is_erased(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit({**RETENTION, "masking": {"user": "shuffle"}}, notes=True)
    build_world(toolkit)
    with pytest.raises(ValidationError, match="/plugins/privacy/masking/user"):
        toolkit.plugin("privacy").erase(ALICE["key"])
    assert toolkit.party(ALICE["key"]).key == ALICE["key"]


def test_without_retention_everything_is_deleted_and_relationships_between_people_go(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit({"mode": "quarantine"}, notes=True)
    build_world(toolkit)
    toolkit.upsert_party("leo", "person", "Leo Moreau", {"birth_date": "2015-05-01"})
    toolkit.relate(ALICE["key"], "leo", "guardian_of", valid_from="2015-05-01")
    # Without a basis for Leo, this newsletter is quarantined -- and it names Alice.
    toolkit.write(
        [
            {"interaction": {"type": "newsletter", "key": "news-2",
                             "occurred_at": "2026-03-01T10:00:00Z",
                             "participants": [{"party": "leo", "role": "recipient"},
                                              {"party": ALICE["key"], "role": "recipient"}],
                             "payload": {"subject": "Kids club", "cc": ALICE["email"]}}},
        ]
    )  # fmt: skip
    assert len(rows(toolkit, tables.quarantine)) == 1

    report = toolkit.plugin("privacy").erase(ALICE["key"])

    assert report["residual_hits"] == []
    assert report["passed"] is True
    # Only the household membership needed a counterpart; nothing was retained.
    assert report["pseudonymised"] == {"relationship.source_id": 1}
    assert report["retained"] == {}
    with toolkit.engine.connect() as connection:
        types = sorted(connection.execute(sa.select(relationship_table.c.type)).scalars())
        interactions = set(connection.execute(sa.select(interaction_table.c.key)).scalars())
    assert types == ["member_of", "member_of"]  # guardian_of, between two people, is gone
    assert toolkit.relationships("leo") == []
    # The purchase Bob received stays, without Alice, her details masked.
    assert interactions == {"inv-1", "inv-2"}
    (invoice,) = [i for i in toolkit.interactions("bob") if i.key == "inv-1"]
    assert [p.role for p in invoice.participants] == ["consumer"]
    assert invoice.payload["billing_name"] == erasure.FIXED_MASK
    assert invoice.payload["amount"] == 30
    # Leo's quarantined record stays (it is about him), without naming Alice.
    (held,) = rows(toolkit, tables.quarantine)
    assert ALICE["email"] not in json.dumps(held, default=str)


def test_records_past_their_retention_period_are_not_kept(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit(RETENTION, notes=True)
    build_world(toolkit)
    toolkit.record_interaction(
        "purchase", "2001-03-01T10:00:00Z", [(ALICE["key"], "purchaser")], {"amount": 9},
        key="inv-old",
    )  # fmt: skip
    report = toolkit.plugin("privacy").erase(ALICE["key"])
    assert report["retained"] == {"retained_purchase": 1}  # inv-1 only: inv-old is 25 years old
    with toolkit.engine.connect() as connection:
        keys = set(connection.execute(sa.select(interaction_table.c.key)).scalars())
    assert keys == {"inv-1", "inv-2"}
