"""Request indexes that cover a department's and a person's request reads.

A department's roles and view read every request it received or asked for in
the activity window; with indexes on (party, opened_at) alone each of those
requests cost a lookup of its table row, scattered over the database file
among the other interactions written with it. The provider and requester
indexes now carry the columns those reads group and judge by, so SQLite reads
them from the index alone, in (party, opened_at) order.

Revision ID: internal_0002
Revises: internal_0001
"""

from alembic import op

revision = "internal_0002"
down_revision = "internal_0001"
branch_labels = None
depends_on = None

#: The new index columns, after (party, opened_at); see partygraph_internal.tables.
PROVIDER = [
    "requester_id",
    "category",
    "due_at",
    "resolved_at",
    "satisfaction",
    "resolution_seconds",
]
REQUESTER = ["provider_id", "category", "due_at", "resolved_at", "assignee_id"]


def upgrade() -> None:
    op.drop_index("ix_internal_request_provider", table_name="internal_request")
    op.drop_index("ix_internal_request_requester", table_name="internal_request")
    op.create_index(
        "ix_internal_request_provider", "internal_request", ["provider_id", "opened_at", *PROVIDER]
    )
    op.create_index(
        "ix_internal_request_requester",
        "internal_request",
        ["requester_id", "opened_at", *REQUESTER],
    )


def downgrade() -> None:
    op.drop_index("ix_internal_request_requester", table_name="internal_request")
    op.drop_index("ix_internal_request_provider", table_name="internal_request")
    op.create_index(
        "ix_internal_request_provider", "internal_request", ["provider_id", "opened_at"]
    )
    op.create_index(
        "ix_internal_request_requester", "internal_request", ["requester_id", "opened_at"]
    )
