"""The core's four tables, declared with SQLModel.

``party``, ``relationship``, ``interaction`` and ``participant``. The
participant rows repeat the interaction's type and time so that "this party's
purchases before T" and "this party's latest interactions" are answered from
one index, at the same cost for a thousand parties as for a million.
Timestamps are naive UTC; JSON columns are JSONB on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

__all__ = [
    "InteractionRow",
    "ParticipantRow",
    "PartyRow",
    "RelationshipRow",
    "core_tables",
    "interaction_table",
    "participant_table",
    "party_table",
    "relationship_table",
]

#: JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")
#: 64-bit ids on PostgreSQL, SQLite's rowid alias (INTEGER PRIMARY KEY) on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")


class PartyRow(SQLModel, table=True):
    """A party: unique external key, registered kind, name and attributes."""

    __tablename__ = "party"
    # AUTOINCREMENT on SQLite: an id is never reused, even after an erasure
    # deleted the highest one (pseudonymous references hash ids).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, sa_column=Column(IdType, primary_key=True))
    key: str = Field(unique=True, nullable=False)
    kind: str = Field(index=True, nullable=False)
    name: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: datetime = Field(sa_type=DateTime(), nullable=False)
    updated_at: datetime = Field(sa_type=DateTime(), nullable=False)


class RelationshipRow(SQLModel, table=True):
    """A typed, directed, time-bounded edge; ended rows are kept, never rewritten."""

    __tablename__ = "relationship"
    __table_args__ = (
        Index("ix_relationship_source", "source_id", "type", "valid_from"),
        Index("ix_relationship_target", "target_id", "type", "valid_from"),
        Index(
            "ux_relationship_identity",
            "type",
            "source_id",
            "target_id",
            "role",
            "valid_from",
            unique=True,
        ),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=Column(IdType, primary_key=True))
    type: str = Field(nullable=False)
    source_id: int = Field(
        sa_column=Column(IdType, ForeignKey("party.id", ondelete="CASCADE"), nullable=False)
    )
    target_id: int = Field(
        sa_column=Column(IdType, ForeignKey("party.id", ondelete="CASCADE"), nullable=False)
    )
    role: str = Field(default="", nullable=False)
    is_primary: bool = Field(default=False, nullable=False)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    valid_from: datetime = Field(sa_type=DateTime(), nullable=False)
    valid_to: datetime | None = Field(default=None, sa_type=DateTime())
    created_at: datetime = Field(sa_type=DateTime(), nullable=False)


class InteractionRow(SQLModel, table=True):
    """A timestamped event; its participants are in :class:`ParticipantRow`."""

    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_type_time", "type", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=Column(IdType, primary_key=True))
    key: str | None = Field(default=None, unique=True)
    type: str = Field(nullable=False)
    occurred_at: datetime = Field(sa_type=DateTime(), nullable=False)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: datetime = Field(sa_type=DateTime(), nullable=False)


class ParticipantRow(SQLModel, table=True):
    """A party taking part in an interaction, in a role."""

    __tablename__ = "participant"
    __table_args__ = (
        Index("ix_participant_party_time", "party_id", "occurred_at"),
        Index("ix_participant_party_type", "party_id", "type", "role", "occurred_at"),
    )

    interaction_id: int = Field(
        sa_column=Column(
            IdType,
            ForeignKey("interaction.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    party_id: int = Field(
        sa_column=Column(IdType, ForeignKey("party.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(primary_key=True)
    type: str = Field(nullable=False)
    occurred_at: datetime = Field(sa_type=DateTime(), nullable=False)


def _table(row: type[SQLModel]) -> Table:
    table = getattr(row, "__table__")  # noqa: B009 - SQLModel declares it untyped
    assert isinstance(table, Table)
    return table


party_table = _table(PartyRow)
relationship_table = _table(RelationshipRow)
interaction_table = _table(InteractionRow)
participant_table = _table(ParticipantRow)


def core_tables() -> list[Table]:
    """The core's tables, in dependency order."""
    return [party_table, relationship_table, interaction_table, participant_table]
