"""The internal plugin's tables (SQLAlchemy Core, on the plugin's own metadata).

``internal_request``
    One row per ``service_request`` interaction, filled in
    ``partygraph_after_write``: who asked whom, the category, when it was
    opened, due and resolved, its SLA and the satisfaction given. The figures
    that need date arithmetic (due date, resolution time) are computed once at
    write time, so the SLA reports are plain aggregates on SQLite and
    PostgreSQL alike. ``customer_id`` is the department the request is
    credited to: the requester itself when it is a department, else the
    department the requester was ``employed_in`` when the request was opened.
    It is set when the request is written and set again for a person's
    requests whenever their employment history is written, so history written
    later still counts; reads group by it instead of joining the history
    request by request.

``internal_usage``
    CRM usage evidence: one row per write batch whose context names an
    employee (``Context(actor=...)``), and one per ``crm_usage`` interaction.
    Counts only: records created and updated, attributes filled and expected.

Rows that are about a person disappear with the person (the usage rows, by
``ON DELETE CASCADE``); a request stays, for its provider's figures and its
customer department's, without the erased requester or assignee.
"""

from __future__ import annotations

from sqlalchemy import (
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

from partygraph.storage.tables import interaction_table, party_table

__all__ = ["metadata", "request", "usage"]

metadata = MetaData()
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _party(name: str, *, nullable: bool, on_delete: str) -> Column[int]:
    return Column(name, IdType, ForeignKey(party_table.c.id, ondelete=on_delete), nullable=nullable)


#: Service requests, as the SLA and role computations need them.
request = Table(
    "internal_request",
    metadata,
    Column(
        "interaction_id",
        IdType,
        ForeignKey(interaction_table.c.id, ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    _party("provider_id", nullable=False, on_delete="CASCADE"),
    _party("requester_id", nullable=True, on_delete="SET NULL"),
    _party("assignee_id", nullable=True, on_delete="SET NULL"),
    _party("customer_id", nullable=True, on_delete="SET NULL"),
    Column("category", String, nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("sla_seconds", Float, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("resolution_seconds", Float, nullable=True),
    Column("satisfaction", Integer, nullable=True),
    # Covering: a department's reads (roles, service levels, medians) and a
    # person's come from the index alone, not from scattered table rows (the
    # rowid, interaction_id, is in every SQLite index entry already).
    Index(
        "ix_internal_request_provider",
        "provider_id",
        "opened_at",
        "requester_id",
        "category",
        "due_at",
        "resolved_at",
        "satisfaction",
        "resolution_seconds",
        "customer_id",
    ),
    Index(
        "ix_internal_request_customer",
        "customer_id",
        "opened_at",
        "provider_id",
        "category",
        "due_at",
        "resolved_at",
    ),
    Index(
        "ix_internal_request_requester",
        "requester_id",
        "opened_at",
        "provider_id",
        "category",
        "due_at",
        "resolved_at",
        "assignee_id",
    ),
    Index("ix_internal_request_assignee", "assignee_id", "opened_at"),
    Index("ix_internal_request_opened", "opened_at"),
)

#: CRM usage evidence, per employee.
usage = Table(
    "internal_usage",
    metadata,
    Column("id", IdType, primary_key=True),
    _party("party_id", nullable=False, on_delete="CASCADE"),
    Column("at", DateTime, nullable=False),
    Column("source", String, nullable=False),
    Column(
        "interaction_id",
        IdType,
        ForeignKey(interaction_table.c.id, ondelete="CASCADE"),
        nullable=True,
    ),
    Column("records_created", Integer, nullable=False, default=0),
    Column("records_updated", Integer, nullable=False, default=0),
    Column("fields_filled", Integer, nullable=False, default=0),
    Column("fields_expected", Integer, nullable=False, default=0),
    Index("ix_internal_usage_party", "party_id", "at"),
    Index("ix_internal_usage_at", "at"),
)
