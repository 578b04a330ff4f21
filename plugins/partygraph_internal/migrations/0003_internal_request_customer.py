"""Each request's customer department, stored: ``internal_request.customer_id``.

A department's roles, view and service levels credited every request to the
requester's department of the day by joining the ``employed_in`` history,
one index probe per request, on every read: a department that receives a
thousand requests a year paid a thousand probes per view. The credit is now
stored with the request when it is written, and set again for a person's
requests whenever their employment history is written. This revision adds
the column, fills it for the requests already stored, and indexes it: a
department's own requests by ``customer_id``, and its received requests
(by provider) carry it in the provider index.

Revision ID: internal_0003
Revises: internal_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "internal_0003"
down_revision = "internal_0002"
branch_labels = None
depends_on = None

#: The department a request is credited to, as of when it was opened. Written
#: out here rather than imported: a revision stays as it was when it shipped.
CREDIT = """
UPDATE internal_request SET customer_id = COALESCE(
    (SELECT e.target_id FROM relationship e
      WHERE e.type = 'employed_in' AND e.source_id = internal_request.requester_id
        AND e.valid_from <= internal_request.opened_at
        AND (e.valid_to IS NULL OR e.valid_to > internal_request.opened_at)
      ORDER BY e.valid_from DESC LIMIT 1),
    (SELECT p.id FROM party p
      WHERE p.id = internal_request.requester_id AND p.kind = 'department'))
WHERE requester_id IS NOT NULL
"""

PROVIDER = [
    "provider_id",
    "opened_at",
    "requester_id",
    "category",
    "due_at",
    "resolved_at",
    "satisfaction",
    "resolution_seconds",
]
FOREIGN_KEY = "internal_request_customer_id_fkey"
CUSTOMER = ["customer_id", "opened_at", "provider_id", "category", "due_at", "resolved_at"]


def upgrade() -> None:
    # In batch mode SQLite copies the table (it cannot add a reference to an
    # existing one); PostgreSQL alters it in place.
    with op.batch_alter_table("internal_request") as batch:
        batch.add_column(
            sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
        )
        batch.create_foreign_key(FOREIGN_KEY, "party", ["customer_id"], ["id"], ondelete="SET NULL")
    op.execute(CREDIT)
    op.drop_index("ix_internal_request_provider", table_name="internal_request")
    op.create_index("ix_internal_request_provider", "internal_request", [*PROVIDER, "customer_id"])
    op.create_index("ix_internal_request_customer", "internal_request", CUSTOMER)


def downgrade() -> None:
    op.drop_index("ix_internal_request_customer", table_name="internal_request")
    op.drop_index("ix_internal_request_provider", table_name="internal_request")
    op.create_index("ix_internal_request_provider", "internal_request", PROVIDER)
    with op.batch_alter_table("internal_request") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("customer_id")
