"""The nonprofit plugin's table of gifts.

Revision ID: nonprofit_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "nonprofit_0001"
down_revision = None
branch_labels = ("nonprofit",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nonprofit_gift",
        sa.Column("interaction_id", _ID, nullable=False),
        sa.Column("donor_id", _ID, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("gift_aid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["donor_id"], ["party.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("interaction_id", "donor_id"),
    )
    op.create_index("ix_nonprofit_gift_donor", "nonprofit_gift", ["donor_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_nonprofit_gift_donor", table_name="nonprofit_gift")
    op.drop_table("nonprofit_gift")
