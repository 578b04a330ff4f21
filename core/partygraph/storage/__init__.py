"""Storage: the core's tables, engines for SQLite and PostgreSQL, and migrations."""

from partygraph.storage.engine import create_engine_for, redact_url
from partygraph.storage.migrations import MigrationSource, upgrade
from partygraph.storage.tables import (
    InteractionRow,
    ParticipantRow,
    PartyRow,
    RelationshipRow,
    core_tables,
)

__all__ = [
    "InteractionRow",
    "MigrationSource",
    "ParticipantRow",
    "PartyRow",
    "RelationshipRow",
    "core_tables",
    "create_engine_for",
    "redact_url",
    "upgrade",
]
