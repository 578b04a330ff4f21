"""The marketplace's own table: what each side did in each transaction, ready to add up.

``marketplace_activity`` holds one row per side participation in a
transaction (a trip's rider row and driver row) and per incentive payout,
with the payload's figures as plain columns: the amount, the platform fee
applied when it was written (a later change of the fee rate does not rewrite
past statements), the tip, the incentive, the rating the side received, the
zones. It is filled in ``partygraph_after_write``, once per batch, in the
write's transaction, so earnings, incentives and health read narrow indexed
rows instead of parsing a million JSON payloads. Rows go with their party
and their interaction (``ON DELETE CASCADE``).
"""

from __future__ import annotations

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

from partygraph.storage.tables import interaction_table, party_table

__all__ = ["KIND_PAYOUT", "KIND_TRANSACTION", "activity", "metadata"]

metadata = MetaData()
IdType = BigInteger().with_variant(Integer(), "sqlite")

#: ``kind`` of a row: a side's part in a transaction, or an incentive payout.
KIND_TRANSACTION = "transaction"
KIND_PAYOUT = "payout"

activity = Table(
    "marketplace_activity",
    metadata,
    Column(
        "interaction_id",
        IdType,
        ForeignKey(interaction_table.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("party_id", IdType, ForeignKey(party_table.c.id, ondelete="CASCADE"), primary_key=True),
    Column("side", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("completed", Boolean, nullable=False),
    Column("amount", Float, nullable=True),
    Column("fee", Float, nullable=False),
    Column("tip", Float, nullable=False),
    Column("incentive", Float, nullable=False),
    Column("rating", Float, nullable=True),
    Column("pickup_zone", String(100), nullable=True),
    Column("dropoff_zone", String(100), nullable=True),
    # Covering the population's statements (earnings, programs, churn, retention):
    # a week of a million transactions is read from the index alone.
    Index(
        "ix_marketplace_activity_side_time",
        "side",
        "kind",
        "occurred_at",
        "party_id",
        "completed",
        "amount",
        "fee",
        "tip",
        "incentive",
        "rating",
    ),
    # Covering one member's statements (the view, the metrics, the roles) too: with an
    # equality on the party, the planner prefers it to the population's index.
    Index(
        "ix_marketplace_activity_party",
        "party_id",
        "side",
        "kind",
        "occurred_at",
        "completed",
        "amount",
        "fee",
        "tip",
        "incentive",
        "rating",
    ),
)
