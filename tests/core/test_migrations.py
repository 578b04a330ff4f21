"""Schema creation and upgrades: one Alembic version track for the core and each plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import partygraph
from partygraph import MigrationSource, Toolkit, hookimpl
from partygraph.storage import core_tables, create_engine_for
from partygraph.storage.migrations import CORE_MIGRATIONS, current_heads, pending
from plugins_for_tests import audit_log, audit_plugin, count_rows, write_revision

CORE = {"party", "relationship", "interaction", "participant"}


def tables(toolkit: Toolkit) -> set[str]:
    return set(sa.inspect(toolkit.engine).get_table_names())


def heads(toolkit: Toolkit, source: MigrationSource) -> tuple[str, ...]:
    with toolkit.engine.connect() as connection:
        return current_heads(connection, source)


class Ledger:
    """A plugin whose schema grows over two releases."""

    def __init__(self, folder: Path) -> None:
        self.source = MigrationSource("ledger", folder)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return self.source


LEDGER_1 = """
op.create_table(
    "ledger_entry",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("party_key", sa.String(512), nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
)
"""

LEDGER_2 = """
op.add_column(
    "ledger_entry",
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
)
op.create_index("ix_ledger_entry_party_key", "ledger_entry", ["party_key"])
"""


def test_a_fresh_database_gets_the_core_tables(make_toolkit: Any) -> None:
    toolkit = make_toolkit()
    assert tables(toolkit) >= {*CORE, "partygraph_version_core"}
    assert heads(toolkit, CORE_MIGRATIONS) == ("core_0001",)
    with toolkit.engine.connect() as connection:
        assert pending(connection, toolkit.migration_sources()) == []


def test_without_auto_migrate_a_behind_schema_is_refused_until_upgraded(
    make_toolkit: Any, partygraph_database_url: str
) -> None:
    from partygraph import StorageError

    with pytest.raises(StorageError, match="partygraph db upgrade"):
        make_toolkit(config={"database": {"auto_migrate": False}})
    assert _table_names(partygraph_database_url) & CORE == set()
    config = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": []}}
    with partygraph.open(config, migrate=True) as upgraded:
        assert upgraded.applied_migrations == ["core_0001"]
    toolkit = make_toolkit(config={"database": {"auto_migrate": False}})
    assert tables(toolkit) >= CORE
    assert toolkit.upgrade() == []


def test_reopening_does_not_run_migrations_again(
    make_toolkit: Any, partygraph_database_url: str
) -> None:
    first = make_toolkit()
    first.upsert_party("alice", "person")
    first.close()

    engine = create_engine_for(partygraph_database_url)
    statements: list[str] = []
    sa.event.listen(
        engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    try:
        with partygraph.open(
            {"database": {"url": partygraph_database_url}, "plugins": {"enabled": []}},
            engine=engine,
        ) as again:
            assert again.upgrade() == []
            assert again.party("alice").key == "alice"
        assert statements  # the listener works: the version checks were seen
        ddl = [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]
        assert ddl == []
        assert not [s for s in statements if "INSERT INTO partygraph_version" in s]
    finally:
        engine.dispose()


def test_an_adopted_engine_is_left_open(
    partygraph_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine_for(partygraph_database_url)
    try:
        config = {"database": {"url": "sqlite:///never-used.db"}, "plugins": {"enabled": []}}
        with partygraph.open(config, engine=engine) as toolkit:
            toolkit.upsert_party("alice", "person")
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT key FROM party")).scalar_one() == "alice"
    finally:
        engine.dispose()
    assert not (tmp_path / "never-used.db").exists()


def test_a_plugin_schema_is_upgraded_in_place_and_keeps_its_data(
    make_toolkit: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "ledger-migrations"
    write_revision(folder, "ledger_0001", LEDGER_1, message="ledger entries")
    old = make_toolkit(plugins={"ledger": Ledger(folder)})
    assert heads(old, old.plugin_objects["ledger"].source) == ("ledger_0001",)
    with old.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO ledger_entry (party_key, amount) VALUES ('alice', 12.50)")
        )
    old.upsert_party("alice", "person")
    columns = {c["name"] for c in sa.inspect(old.engine).get_columns("ledger_entry")}
    assert columns == {"id", "party_key", "amount"}
    old.close()

    write_revision(folder, "ledger_0002", LEDGER_2, down_revision="ledger_0001")
    new = make_toolkit(plugins={"ledger": Ledger(folder)})
    assert heads(new, new.plugin_objects["ledger"].source) == ("ledger_0002",)
    assert heads(new, CORE_MIGRATIONS) == ("core_0001",)
    inspector = sa.inspect(new.engine)
    assert {c["name"] for c in inspector.get_columns("ledger_entry")} == {
        "id",
        "party_key",
        "amount",
        "currency",
    }
    assert "ix_ledger_entry_party_key" in {
        ix["name"] for ix in inspector.get_indexes("ledger_entry")
    }
    with new.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT party_key, amount, currency FROM ledger_entry"))
        assert [(key, float(amount), currency) for key, amount, currency in rows] == [
            ("alice", 12.5, "EUR")
        ]
    assert new.party("alice").kind == "person"
    assert new.upgrade() == []


def test_enabling_a_plugin_later_adds_its_tables(make_toolkit: Any, tmp_path: Path) -> None:
    plain = make_toolkit()
    plain.upsert_party("alice", "person")
    assert "audit_log" not in tables(plain)
    plain.close()

    audited = make_toolkit(plugins={"audit": audit_plugin(tmp_path / "audit")})
    assert {"audit_log", "partygraph_version_audit"} <= tables(audited)
    assert audited.party("alice").kind == "person"
    audited.upsert_party("bob", "person")
    assert count_rows(audited, audit_log) == 1
    audited.close()

    # Disabling it again leaves its tables and history alone.
    again = make_toolkit()
    assert "audit_log" in tables(again)
    assert count_rows(again, audit_log) == 1
    assert again.upgrade() == []


def test_a_failed_upgrade_leaves_the_database_as_it_was(
    make_toolkit: Any, tmp_path: Path, partygraph_database_url: str
) -> None:
    folder = tmp_path / "broken"
    write_revision(
        folder,
        "broken_0001",
        """
        op.create_table("broken_thing", sa.Column("id", sa.Integer, primary_key=True))
        raise RuntimeError("revision failed half-way")
        """,
    )

    class Broken:
        @hookimpl
        def partygraph_migrations(self) -> MigrationSource:
            return MigrationSource("broken", folder)

    with pytest.raises(RuntimeError, match="revision failed half-way"):
        make_toolkit(plugins={"broken": Broken})
    assert _table_names(partygraph_database_url) == set()  # the core's were rolled back too


def _table_names(url: str) -> set[str]:
    from partygraph.storage import create_engine_for

    engine = create_engine_for(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _without_version_tables(name: str | None, type_: str, _parent: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("partygraph_version_"))


def test_migrated_schema_matches_the_core_tables(make_toolkit: Any) -> None:
    toolkit = make_toolkit()
    metadata = sa.MetaData()
    for table in core_tables():
        table.to_metadata(metadata)
    with toolkit.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": _without_version_tables, "compare_type": True},
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_compare_metadata_would_notice_a_difference(make_toolkit: Any) -> None:
    """The comparison above can fail: a column the migrations never made is reported."""
    toolkit = make_toolkit()
    metadata = sa.MetaData()
    for table in core_tables():
        table.to_metadata(metadata)
    metadata.tables["party"].append_column(sa.Column("nickname", sa.String()))
    with toolkit.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": _without_version_tables}
        )
        differences = compare_metadata(context, metadata)
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]
