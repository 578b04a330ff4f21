"""The b2c plugin's stored RFM scale: the last population scoring's boundaries.

Revision ID: b2c_0002
Revises: b2c_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "b2c_0002"
down_revision = "b2c_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "b2c_rfm_scale",
        sa.Column("purpose", sa.String(length=128), nullable=False),
        sa.Column("cut", sa.DateTime(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("recency", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.JSON(), nullable=False),
        sa.Column("monetary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("purpose"),
    )


def downgrade() -> None:
    op.drop_table("b2c_rfm_scale")
