"""Storage: the core's tables, engines for SQLite and PostgreSQL, migrations, and the
statement tools of the hot paths (:class:`Prepared`, :func:`execute_many`, :func:`copy_rows`)."""

from partygraph.storage.engine import create_engine_for, redact_url
from partygraph.storage.migrations import MigrationSource, upgrade
from partygraph.storage.prepared import (
    Prepared,
    bind_ids,
    bucketed,
    copy_rows,
    execute_many,
    ids_in,
)
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
    "Prepared",
    "RelationshipRow",
    "bind_ids",
    "bucketed",
    "copy_rows",
    "core_tables",
    "create_engine_for",
    "execute_many",
    "ids_in",
    "redact_url",
    "upgrade",
]
