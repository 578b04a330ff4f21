"""The marketplace plugin's table: each side's part in each transaction, and payouts.

Revision ID: marketplace_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "marketplace_0001"
down_revision = None
branch_labels = ("marketplace",)
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "marketplace_activity",
        sa.Column("interaction_id", _id(), nullable=False),
        sa.Column("party_id", _id(), nullable=False),
        sa.Column("side", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("tip", sa.Float(), nullable=False),
        sa.Column("incentive", sa.Float(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("pickup_zone", sa.String(length=100), nullable=True),
        sa.Column("dropoff_zone", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("interaction_id", "party_id", "side"),
    )
    op.create_index(
        "ix_marketplace_activity_side_time",
        "marketplace_activity",
        [
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
        ],
        unique=False,
    )
    op.create_index(
        "ix_marketplace_activity_party",
        "marketplace_activity",
        [
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
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_marketplace_activity_party", table_name="marketplace_activity")
    op.drop_index("ix_marketplace_activity_side_time", table_name="marketplace_activity")
    op.drop_table("marketplace_activity")
