"""Schema creation and upgrades with Alembic, one version track per plugin.

The core and every plugin that stores data own a folder of Alembic revision
scripts and a version table of their own (``partygraph_version_<name>``), so
a database made by an older release upgrades in place, enabling a plugin later
adds its tables, and disabling one leaves its tables and history untouched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

__all__ = ["CORE_MIGRATIONS", "MigrationSource", "current_heads", "pending", "upgrade"]


@attrs.frozen
class MigrationSource:
    """A folder of Alembic revision scripts owned by the core or one plugin."""

    name: str
    path: Path = attrs.field(converter=Path)

    @property
    def version_table(self) -> str:
        """The table recording which of this source's revisions are applied."""
        return f"partygraph_version_{self.name}"

    def script(self) -> ScriptDirectory:
        """The Alembic script directory of this source."""
        # Built directly, not from an Alembic config: a config's version_locations
        # are split on spaces (with a DeprecationWarning), and paths may hold spaces.
        return ScriptDirectory(str(self.path), version_locations=[str(self.path)])


#: The core's own revisions.
CORE_MIGRATIONS = MigrationSource("core", Path(__file__).parent / "migrations")


def current_heads(connection: Connection, source: MigrationSource) -> tuple[str, ...]:
    """The revisions of *source* applied to the database (empty if none)."""
    context = MigrationContext.configure(connection, opts={"version_table": source.version_table})
    return tuple(sorted(context.get_current_heads()))


def pending(connection: Connection, sources: Sequence[MigrationSource]) -> list[str]:
    """The names of the sources whose database schema is behind their scripts."""
    behind = []
    for source in sources:
        heads = tuple(sorted(source.script().get_heads()))
        if current_heads(connection, source) != heads:
            behind.append(source.name)
    return behind


def upgrade(
    connection: Connection, sources: Sequence[MigrationSource], target: str = "heads"
) -> list[str]:
    """Apply every missing revision of each source, in order; return the applied ids.

    Runs inside the caller's transaction: on PostgreSQL and SQLite the DDL is
    transactional, so a failed upgrade leaves the database as it was.
    """
    applied: list[str] = []
    for source in sources:
        script = source.script()

        def _steps(revision: str, _context: object, script: ScriptDirectory = script) -> object:
            # What `alembic upgrade` itself runs; no env.py is needed.
            return script._upgrade_revs(target, revision)

        def _record(
            ctx: MigrationContext,
            step: MigrationInfo,
            heads: Collection[Any],
            run_args: Mapping[str, Any],
        ) -> None:
            applied.extend(step.up_revision_ids)

        with EnvironmentContext(Config(), script, fn=_steps, destination_rev=target) as environment:
            environment.configure(
                connection=connection,
                version_table=source.version_table,
                target_metadata=None,
                on_version_apply=_record,
                transactional_ddl=True,
            )
            with environment.begin_transaction():
                environment.run_migrations()
    return applied
