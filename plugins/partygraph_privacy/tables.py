"""The privacy plugin's tables (SQLAlchemy Core, on the plugin's own metadata).

Tables live on a metadata of the plugin's own, never on a global one, so a
toolkit without this plugin never sees them. Subjects appear by party id
where the row must disappear with the party (``ON DELETE CASCADE``), and
only by keyed, pseudonymous reference where the row must outlive an erasure
(the audit log, data-subject requests, erased identifiers).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from partygraph.storage.tables import party_table

__all__ = [
    "audit",
    "device",
    "erased",
    "export_file",
    "ledger",
    "metadata",
    "quarantine",
    "quarantine_subject",
    "request",
    "secret",
]

metadata = MetaData()
JSONType = JSON().with_variant(JSONB(), "postgresql")
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _party(name: str, nullable: bool = False, on_delete: str = "CASCADE") -> Column[int]:
    # The core's party table lives on another metadata: refer to its column.
    return Column(name, IdType, ForeignKey(party_table.c.id, ondelete=on_delete), nullable=nullable)


#: The consent ledger: append-only; withdrawing, objecting, restricting add rows.
ledger = Table(
    "privacy_ledger",
    metadata,
    Column("id", IdType, primary_key=True),
    _party("party_id"),
    Column("purpose", String, nullable=False),
    Column("channel", String, nullable=False, default=""),
    Column("action", String, nullable=False),
    Column("basis", String, nullable=True),
    Column("at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    Column("source", String, nullable=True),
    Column("evidence", Text, nullable=True),
    Column("jurisdiction", String, nullable=True),
    _party("given_by_id", nullable=True, on_delete="SET NULL"),
    Column("verification", Text, nullable=True),
    # Established when the consent is recorded: the giver was then the subject's
    # guardian and the verification is recorded. History must not depend on the
    # giver's row, which an erasure removes.
    Column("guardian_verified", Boolean, nullable=False, default=False),
    Column("note", Text, nullable=True),
    Column("recorded_at", DateTime, nullable=False),
    Index("ix_privacy_ledger_party", "party_id", "purpose", "at"),
)

#: Records withheld from the core's tables for want of a lawful basis.
quarantine = Table(
    "privacy_quarantine",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("record_type", String, nullable=False),
    Column("record", JSONType, nullable=False),
    Column("reason", Text, nullable=False),
    Column("quarantined_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

#: Which parties a quarantined record is about (erasure removes their rows).
quarantine_subject = Table(
    "privacy_quarantine_subject",
    metadata,
    Column(
        "quarantine_id",
        IdType,
        ForeignKey("privacy_quarantine.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("party_id", IdType, ForeignKey(party_table.c.id, ondelete="CASCADE"), primary_key=True),
)

#: Data-subject requests and their deadlines; the subject by pseudonymous reference.
request = Table(
    "privacy_request",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("subject_ref", String, nullable=False, index=True),
    _party("party_id", nullable=True, on_delete="SET NULL"),
    Column("kind", String, nullable=False),
    Column("jurisdiction", String, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("confirm_by", DateTime, nullable=True),
    Column("confirmed_at", DateTime, nullable=True),
    Column("verified_at", DateTime, nullable=True),
    Column("verification", Text, nullable=True),
    Column("extension_notice_at", DateTime, nullable=True),
    Column("status", String, nullable=False),
    Column("outcome", Text, nullable=True),
    Column("closed_at", DateTime, nullable=True),
)

#: The hash-chained audit log: pseudonymous references only, never a name or key.
audit = Table(
    "privacy_audit",
    metadata,
    Column("seq", IdType, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("actor_ref", String, nullable=True),
    Column("action", String, nullable=False),
    Column("subject_ref", String, nullable=True),
    Column("purpose", String, nullable=True),
    Column("detail", JSONType, nullable=True),
    Column("prev_hash", String, nullable=False),
    Column("hash", String, nullable=False),
)

#: Keyed hashes of erased identifiers: re-importing them is refused.
erased = Table(
    "privacy_erased",
    metadata,
    Column("identifier_hash", String, primary_key=True),
    Column("erased_at", DateTime, nullable=False),
)

#: Access-export files written for a subject (removed again on erasure).
export_file = Table(
    "privacy_export_file",
    metadata,
    Column("id", IdType, primary_key=True),
    _party("party_id"),
    Column("path", Text, nullable=False),
    Column("written_at", DateTime, nullable=False),
)

#: Devices, and whether a household shares them.
device = Table(
    "privacy_device",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("key", String, nullable=False, unique=True),
    _party("household_id", nullable=True, on_delete="SET NULL"),
    Column("shared", Boolean, nullable=False, default=False),
)

#: A generated key, used only when none is configured.
secret = Table(
    "privacy_secret",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", String, nullable=False),
)
