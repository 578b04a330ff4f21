"""Test helpers for plugin authors, shipped as a pytest plugin.

Installing partygraph makes these fixtures available in any pytest run:

``partygraph_database_url``
    A fresh, empty database for one test: a SQLite file in ``tmp_path``, or,
    when ``PARTYGRAPH_TEST_DATABASE_URL`` names a PostgreSQL database, a
    schema of its own in that database (dropped afterwards).

``make_toolkit``
    Opens toolkits on that database with the plugins you name, and closes
    them after the test::

        def test_my_plugin(make_toolkit):
            toolkit = make_toolkit(plugins={"mine": MyPlugin}, settings={"mine": {...}})

``partygraph_toolkit``
    One toolkit for the test, opened as the test's ``partygraph`` marker
    says (the same arguments as ``make_toolkit``)::

        @pytest.mark.partygraph(enabled=["mine"], settings={"mine": {"limit": 2}})
        def test_my_plugin(partygraph_toolkit):
            partygraph_toolkit.write(records)

``table_checksums(engine)``
    A digest of every table's rows, to show that a failed write left the
    database exactly as it was::

        before = table_checksums(toolkit.engine)
        with pytest.raises(WriteRefused):
            toolkit.write(records)
        assert table_checksums(toolkit.engine) == before

For the checks every plugin must pass (schema, vocabulary, export, erasure,
transactions), subclass :class:`partygraph.conformance.PluginConformance`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url

import partygraph
from partygraph.toolkit import Toolkit

__all__ = [
    "DATABASE_URL_VARIABLE",
    "MARKER",
    "make_toolkit",
    "partygraph_database_url",
    "partygraph_toolkit",
    "table_checksums",
    "temporary_database",
]

#: Environment variable naming a PostgreSQL database for the test suite.
DATABASE_URL_VARIABLE = "PARTYGRAPH_TEST_DATABASE_URL"
#: The marker that says how ``partygraph_toolkit`` opens its toolkit.
MARKER = "partygraph"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``partygraph`` marker (runs with ``--strict-markers`` too)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(plugins=None, *, enabled=None, settings=None, config=None): how the "
        "partygraph_toolkit fixture opens its toolkit (the arguments of make_toolkit)",
    )


MakeToolkit = Callable[..., Toolkit]


def _postgres_schema_url(base: str) -> tuple[str, Callable[[], None]]:
    schema = f"pgtest_{uuid.uuid4().hex[:12]}"
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()

    return scoped.render_as_string(hide_password=False), drop


def temporary_database(folder: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database URL and the function that removes it afterwards."""
    base = os.environ.get(DATABASE_URL_VARIABLE)
    if base:
        return _postgres_schema_url(base)
    return f"sqlite:///{folder / 'partygraph-test.db'}", lambda: None


@pytest.fixture
def partygraph_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test (SQLite, or PostgreSQL when configured)."""
    url, drop = temporary_database(tmp_path)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def make_toolkit(partygraph_database_url: str) -> Iterator[MakeToolkit]:
    """A factory of toolkits on the test database, closed after the test."""
    opened: list[Toolkit] = []

    def factory(
        plugins: Mapping[str, object] | None = None,
        *,
        enabled: list[str] | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        config: Mapping[str, Any] | None = None,
        database_url: str | None = None,
    ) -> Toolkit:
        data: dict[str, Any] = dict(config or {})
        data.setdefault("database", {})
        data["database"] = {"url": database_url or partygraph_database_url, **data["database"]}
        section: dict[str, Any] = dict(data.get("plugins", {}))
        section["enabled"] = list(enabled if enabled is not None else (plugins or {}))
        for name, values in (settings or {}).items():
            section[name] = dict(values)
        data["plugins"] = section
        toolkit = partygraph.open(data, plugins=plugins)
        opened.append(toolkit)
        return toolkit

    try:
        yield factory
    finally:
        for toolkit in opened:
            toolkit.close()


@pytest.fixture
def partygraph_toolkit(request: pytest.FixtureRequest, make_toolkit: MakeToolkit) -> Toolkit:
    """A toolkit on the test database, opened as the test's ``partygraph`` marker says.

    Without a marker: the core alone, no plugin enabled.
    """
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return make_toolkit(enabled=[])
    return make_toolkit(*marker.args, **marker.kwargs)


def table_checksums(engine: Engine, skip: Sequence[str] = ()) -> dict[str, str]:
    """A SHA-256 digest of each table's rows (in a stable order), by table name.

    Every table of the database is read, the core's, the plugins' and the
    migration version tables alike (except those named in *skip*), so a
    comparison before and after an action shows any row it added, changed or
    removed, whoever wrote it. Tables are listed, not reflected, so the digest
    is cheap enough to take around each of hundreds of writes.
    """
    digests: dict[str, str] = {}
    with engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        names = sorted(set(inspect(connection).get_table_names()) - set(skip))
        for name in names:
            rows = connection.exec_driver_sql(f"SELECT * FROM {quote(name)}")
            text = "\n".join(sorted(repr(tuple(row)) for row in rows))
            digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests
