"""The core's tables: party, relationship, interaction, participant.

Revision ID: core_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
IdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "party",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("attributes", JSONType, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_party_kind", "party", ["kind"])
    op.create_table(
        "relationship",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column(
            "source_id", IdType, sa.ForeignKey("party.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "target_id", IdType, sa.ForeignKey("party.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("attributes", JSONType, nullable=True),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_relationship_source", "relationship", ["source_id", "type", "valid_from"])
    op.create_index("ix_relationship_target", "relationship", ["target_id", "type", "valid_from"])
    op.create_index(
        "ux_relationship_identity",
        "relationship",
        ["type", "source_id", "target_id", "role", "valid_from"],
        unique=True,
    )
    op.create_table(
        "interaction",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("payload", JSONType, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_interaction_type_time", "interaction", ["type", "occurred_at"])
    op.create_table(
        "participant",
        sa.Column(
            "interaction_id",
            IdType,
            sa.ForeignKey("interaction.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "party_id", IdType, sa.ForeignKey("party.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(), primary_key=True),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_participant_party_time", "participant", ["party_id", "occurred_at"])
    op.create_index(
        "ix_participant_party_type", "participant", ["party_id", "type", "role", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("participant")
    op.drop_table("interaction")
    op.drop_table("relationship")
    op.drop_table("party")
