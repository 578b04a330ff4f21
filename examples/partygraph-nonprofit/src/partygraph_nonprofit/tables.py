"""The nonprofit plugin's table: every gift, per donor.

A gift row refers to its donation interaction and its donor by foreign key,
so erasure (and partygraph's conformance suite) can tell whose it is.
"""

from __future__ import annotations

from partygraph.storage.tables import interaction_table, party_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

__all__ = ["gift", "metadata"]

metadata = MetaData()
IdType = BigInteger().with_variant(Integer(), "sqlite")

#: One row per donor of each donation.
gift = Table(
    "nonprofit_gift",
    metadata,
    Column(
        "interaction_id",
        IdType,
        ForeignKey(interaction_table.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("donor_id", IdType, ForeignKey(party_table.c.id, ondelete="CASCADE"), primary_key=True),
    Column("received_at", DateTime, nullable=False),
    Column("amount", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("campaign", String(200), nullable=True),
    Column("gift_aid", Boolean, nullable=False, default=False),
    Index("ix_nonprofit_gift_donor", "donor_id", "received_at"),
)
