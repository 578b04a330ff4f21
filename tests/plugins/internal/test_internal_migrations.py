"""The internal plugin's migrations: requests stored before 0003 get their department.

(That the migrations make the declared tables is the conformance suite's check.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from internal_world import company, department, employ, person, request, serves

from partygraph import Toolkit
from partygraph.storage import MigrationSource
from partygraph_internal import tables

WORLD = [
    company(),
    department("it", "IT", "it"),
    department("marketing", "Marketing"),
    department("finance", "Finance"),
    person("alice", "Alice Moreau"),
    person("bob", "Bob Nobody"),
    serves("it", "acme", "2026-01-01"),
    employ("alice", "marketing", "2024-05-01"),
    employ("alice", "finance", "2026-03-01"),
    request("alice", "it", "2026-01-15T09:00:00Z", "access"),
    request("alice", "it", "2026-04-10T09:00:00Z", "hardware"),
    request("marketing", "it", "2026-04-11T09:00:00Z", "access"),
    request("bob", "it", "2026-04-12T09:00:00Z", "access"),
]


def _source(toolkit: Toolkit) -> MigrationSource:
    source: MigrationSource = toolkit.plugin("internal").partygraph_migrations()
    return source


def _downgrade(toolkit: Toolkit, target: str) -> None:
    """What ``alembic downgrade <target>`` runs, on the plugin's own version table."""
    source = _source(toolkit)
    script = source.script()

    def steps(revision: Any, _context: object) -> Any:
        return script._downgrade_revs(target, revision)

    with (
        toolkit.engine.begin() as connection,
        EnvironmentContext(Config(), script, fn=steps, destination_rev=target) as environment,
    ):
        environment.configure(
            connection=connection,
            version_table=source.version_table,
            target_metadata=None,
            transactional_ddl=True,
        )
        with environment.begin_transaction():
            environment.run_migrations()


def _credits(toolkit: Toolkit) -> dict[str, str | None]:
    query = sa.text(
        "SELECT r.category, r.opened_at, c.key FROM internal_request r"
        " LEFT JOIN party c ON c.id = r.customer_id ORDER BY r.opened_at"
    )
    with toolkit.engine.connect() as connection:
        return {str(row.opened_at)[:10]: row.key for row in connection.execute(query)}


def test_requests_stored_before_0003_are_credited_by_the_upgrade(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    toolkit.write(WORLD)
    expected = {
        "2026-01-15": "marketing",  # Alice's department of the day
        "2026-04-10": "finance",  # after her move
        "2026-04-11": "marketing",  # a department asking itself
        "2026-04-12": None,  # Bob works nowhere
    }
    assert _credits(toolkit) == expected
    before = toolkit.plugin("internal").service_levels("2026-01-01", "2026-05-01")
    engine = toolkit.engine

    _downgrade(toolkit, "internal_0002")
    assert "customer_id" not in {
        c["name"] for c in sa.inspect(engine).get_columns(tables.request.name)
    }
    toolkit.close()

    reopened = internal_toolkit()
    assert reopened.applied_migrations == ["internal_0003"]
    assert _credits(reopened) == expected
    assert reopened.plugin("internal").service_levels("2026-01-01", "2026-05-01") == before
