"""The b2b plugin's tables (SQLAlchemy Core, on the plugin's own metadata).

Only deals are stored here: everything else (committees, engagement, the
account hierarchy) is derived on read from the core's relationships and
interactions. A deal's states are kept as history, so "was this account a
customer on 1 March?" has an answer after the deal moved on.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from partygraph.storage.tables import party_table

__all__ = ["deal", "deal_state", "metadata"]

metadata = MetaData()
IdType = BigInteger().with_variant(Integer(), "sqlite")

#: A deal (opportunity) of an account, with its latest known state.
deal = Table(
    "b2b_deal",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("key", String, nullable=False, unique=True),
    Column(
        "account_id",
        IdType,
        ForeignKey(party_table.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String, nullable=True),
    Column("stage", String, nullable=True),
    Column("status", String, nullable=False),
    Column("amount", Float, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("expected_close", Date, nullable=True),
    Column("opened_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_b2b_deal_account", "account_id"),
)

#: Every state a deal was in, from ``at`` until the next one.
deal_state = Table(
    "b2b_deal_state",
    metadata,
    Column("id", IdType, primary_key=True),
    Column("deal_id", IdType, ForeignKey("b2b_deal.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("name", String, nullable=True),
    Column("stage", String, nullable=True),
    Column("status", String, nullable=False),
    Column("amount", Float, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("expected_close", Date, nullable=True),
    Column("recorded_at", DateTime, nullable=False),
    UniqueConstraint("deal_id", "at", name="ux_b2b_deal_state_at"),
)
