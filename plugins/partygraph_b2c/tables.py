"""The b2c plugin's tables (SQLAlchemy Core, on the plugin's own metadata).

They hold what purchases and returns come to in numbers -- order totals and
refunds in integer minor units, quantities and spend per category -- so that
lifetime value, RFM and preferences are computed over the whole population
with a few set-based statements instead of parsing JSON payloads.

Every row belongs to an interaction (``ON DELETE CASCADE``), never to a party
directly: who bought is read from the core's ``participant`` rows. So the
figures follow the core's own rules when a subject is erased -- an order the
subject alone took part in goes with its interaction, an order kept for
someone else (a consumer) or kept under a pseudonym (a retention period)
stays, and no table here ever holds an identifier of a person.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

from partygraph.storage.tables import interaction_table

__all__ = ["metadata", "order", "order_category", "refund", "rfm_scale"]

metadata = MetaData()
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _interaction(name: str, *, primary_key: bool = False) -> Column[int]:
    return Column(
        name,
        IdType,
        ForeignKey(interaction_table.c.id, ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


#: One row per purchase interaction: the order's identity, time, currency and total.
order = Table(
    "b2c_order",
    metadata,
    _interaction("interaction_id", primary_key=True),
    Column("order_id", String(128), nullable=False, unique=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
)

#: Quantity and spend per category within one order (the lines, summed by category).
order_category = Table(
    "b2c_order_category",
    metadata,
    Column(
        "interaction_id",
        IdType,
        ForeignKey("b2c_order.interaction_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("category", String(128), primary_key=True),
    Column("quantity", Float, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)

#: One row per return interaction: which order, when, and how much was refunded.
refund = Table(
    "b2c_return",
    metadata,
    _interaction("interaction_id", primary_key=True),
    Column(
        "order_interaction_id",
        IdType,
        ForeignKey("b2c_order.interaction_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("occurred_at", DateTime, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Index("ix_b2c_return_order", "order_interaction_id", "occurred_at"),
)

#: The boundaries of the last population RFM scoring, one row per purpose ('' for none):
#: what a view scores one customer against (see ``analytics.RfmScale``). Aggregates of
#: the whole population, no identifier of anyone.
rfm_scale = Table(
    "b2c_rfm_scale",
    metadata,
    Column("purpose", String(128), primary_key=True),
    Column("cut", DateTime, nullable=False),
    Column("population", Integer, nullable=False),
    Column("recency", JSON, nullable=False),
    Column("frequency", JSON, nullable=False),
    Column("monetary", JSON, nullable=False),
)
