"""The internal plugin's tables: service requests and CRM usage evidence.

Revision ID: internal_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "internal_0001"
down_revision = None
branch_labels = ("internal",)
depends_on = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "internal_request",
        sa.Column("interaction_id", _id(), autoincrement=False, nullable=False),
        sa.Column("provider_id", _id(), nullable=False),
        sa.Column("requester_id", _id(), nullable=True),
        sa.Column("assignee_id", _id(), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("sla_seconds", sa.Float(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_seconds", sa.Float(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["provider_id"], ["party.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requester_id"], ["party.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["assignee_id"], ["party.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("interaction_id"),
    )
    op.create_index(
        "ix_internal_request_provider", "internal_request", ["provider_id", "opened_at"]
    )
    op.create_index(
        "ix_internal_request_requester", "internal_request", ["requester_id", "opened_at"]
    )
    op.create_index(
        "ix_internal_request_assignee", "internal_request", ["assignee_id", "opened_at"]
    )
    op.create_index("ix_internal_request_opened", "internal_request", ["opened_at"])
    op.create_table(
        "internal_usage",
        sa.Column("id", _id(), nullable=False),
        sa.Column("party_id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("interaction_id", _id(), nullable=True),
        sa.Column("records_created", sa.Integer(), nullable=False),
        sa.Column("records_updated", sa.Integer(), nullable=False),
        sa.Column("fields_filled", sa.Integer(), nullable=False),
        sa.Column("fields_expected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_internal_usage_party", "internal_usage", ["party_id", "at"])
    op.create_index("ix_internal_usage_at", "internal_usage", ["at"])


def downgrade() -> None:
    op.drop_index("ix_internal_usage_at", table_name="internal_usage")
    op.drop_index("ix_internal_usage_party", table_name="internal_usage")
    op.drop_table("internal_usage")
    op.drop_index("ix_internal_request_opened", table_name="internal_request")
    op.drop_index("ix_internal_request_assignee", table_name="internal_request")
    op.drop_index("ix_internal_request_requester", table_name="internal_request")
    op.drop_index("ix_internal_request_provider", table_name="internal_request")
    op.drop_table("internal_request")
