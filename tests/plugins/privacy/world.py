"""Plugins that stand in for the first-party ones in the privacy tests.

They store data the way real plugins do -- interactions with declared purposes,
a table of their own holding personal data, a household relationship -- so the
privacy plugin is tested through the public API, as its users would use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from partygraph import (
    DataDeclaration,
    GraphReader,
    InteractionType,
    MigrationSource,
    Party,
    PartyKind,
    RelationshipType,
    RoleAssignment,
    WriteSession,
    hookimpl,
)
from partygraph.storage.tables import party_table

NOTES = sa.Table(
    "shop_note",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("party_id", sa.Integer, sa.ForeignKey(party_table.c.id, ondelete="CASCADE")),
    sa.Column("text", sa.Text, nullable=False),
)

MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "shop_0001"
down_revision = None
branch_labels = ("shop",)
depends_on = None


def upgrade():
    op.create_table(
        "shop_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("party.id", ondelete="CASCADE")),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade():
    op.drop_table("shop_note")
"""


def shop_migrations(folder: Path) -> Path:
    """Write the shop's migration folder under *folder* and return it."""
    target = folder / "shop_migrations"
    target.mkdir(exist_ok=True)
    (target / "0001_shop.py").write_text(MIGRATION)
    return target


class Shop:
    """Purchases (service, billing), newsletters (marketing), browsing (profiling),
    CRM usage (employee monitoring), households, and notes about people."""

    def __init__(self, migrations: Path | None = None) -> None:
        self.migrations = migrations

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return [PartyKind("household", label="Household")]

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return [
            RelationshipType(
                "member_of",
                label="member of",
                inverse_label="has member",
                source_kinds={"person"},
                target_kinds={"household"},
                roles={"head", "partner", "dependent", "other"},
            )
        ]

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return [
            InteractionType(
                "purchase",
                roles={"purchaser", "consumer"},
                required_roles=("purchaser",),
                purposes=("service", "billing"),
            ),
            InteractionType("newsletter", roles={"recipient"}, purposes=("marketing",)),
            InteractionType("browsing", roles={"user"}, purposes=("profiling",)),
            InteractionType(
                "crm_usage", roles={"employee"}, purposes=("employee_usage_analytics",)
            ),
        ]

    @hookimpl
    def partygraph_tables(self) -> Iterable[sa.Table]:
        return [NOTES] if self.migrations else []

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource | None:
        return MigrationSource("shop", self.migrations) if self.migrations else None

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        found = [
            DataDeclaration(
                "party",
                "attributes.loyalty_tier",
                "user.behavior.purchase_history",
                personal=True,
                subjects=("customer",),
                purposes=("service",),
            ),
        ]
        if self.migrations:
            found.append(
                DataDeclaration(
                    "shop_note",
                    "text",
                    "user.content.private",
                    subjects=("customer",),
                    purposes=("service",),
                )
            )
        return found

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: Any, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        if graph.count_interactions(party, type="purchase", role="purchaser", before=as_of):
            yield RoleAssignment("customer", reason="made a purchase", customer=True)

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> Mapping[str, Any]:
        if not self.migrations:
            return {}
        rows = graph.connection.execute(sa.select(NOTES.c.text).where(NOTES.c.party_id == party.id))
        return {"notes": [row.text for row in rows]}

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        if not self.migrations:
            return {}
        deleted = session.connection.execute(sa.delete(NOTES).where(NOTES.c.party_id == party.id))
        return {"notes_deleted": deleted.rowcount}

    def add_note(self, toolkit: Any, party_key: str, text: str) -> None:
        party_id = toolkit.party(party_key).id
        with toolkit.engine.begin() as connection:
            connection.execute(NOTES.insert(), {"party_id": party_id, "text": text})
