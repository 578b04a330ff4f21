"""The b2b plugin's tables: deals and their states over time.

Revision ID: b2b_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "b2b_0001"
down_revision = None
branch_labels = ("b2b",)
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "b2b_deal",
        sa.Column("id", _id(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("account_id", _id(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["party.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_b2b_deal_account", "b2b_deal", ["account_id"], unique=False)
    op.create_table(
        "b2b_deal_state",
        sa.Column("id", _id(), nullable=False),
        sa.Column("deal_id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["b2b_deal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deal_id", "at", name="ux_b2b_deal_state_at"),
    )


def downgrade() -> None:
    op.drop_table("b2b_deal_state")
    op.drop_index("ix_b2b_deal_account", table_name="b2b_deal")
    op.drop_table("b2b_deal")
