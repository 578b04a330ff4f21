"""The b2c plugin's tables: orders, their categories, and returns.

Revision ID: b2c_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "b2c_0001"
down_revision = None
branch_labels = ("b2c",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "b2c_order",
        sa.Column("interaction_id", _ID, nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("interaction_id"),
        sa.UniqueConstraint("order_id"),
    )
    op.create_table(
        "b2c_order_category",
        sa.Column("interaction_id", _ID, nullable=False),
        sa.Column("category", sa.String(length=128), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interaction_id"], ["b2c_order.interaction_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("interaction_id", "category"),
    )
    op.create_table(
        "b2c_return",
        sa.Column("interaction_id", _ID, nullable=False),
        sa.Column("order_interaction_id", _ID, nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["order_interaction_id"], ["b2c_order.interaction_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("interaction_id"),
    )
    op.create_index("ix_b2c_return_order", "b2c_return", ["order_interaction_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_b2c_return_order", table_name="b2c_return")
    op.drop_table("b2c_return")
    op.drop_table("b2c_order_category")
    op.drop_table("b2c_order")
