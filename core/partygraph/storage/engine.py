"""Engines for the two supported databases, tuned for partygraph's workload.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a
busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so that two
writers queue instead of failing half-way. PostgreSQL URLs without a driver
use psycopg 3. Passwords never appear in messages: use :func:`redact_url`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from partygraph.errors import StorageError, ValidationError
from partygraph.storage.prepared import driver_cursor

__all__ = ["WRITE", "adopt_engine", "create_engine_for", "redact_text", "redact_url"]

#: Execution option marking a connection whose transaction will write.
WRITE = "partygraph_write"
_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")


def redact_url(url: str | Any) -> str:
    """The URL as text with its password replaced by ``***``."""
    try:
        return str(make_url(str(url)).render_as_string(hide_password=True))
    except (ArgumentError, ValueError):
        return _PASSWORD.sub(r"\1***\3", str(url))


def redact_text(text: str, url: str | None = None) -> str:
    """Remove any password of *url* (and any ``user:password@`` form) from *text*."""
    if url:
        try:
            password = make_url(url).password
        except (ArgumentError, ValueError):
            password = None
        if password:
            text = text.replace(str(password), "***")
    return _PASSWORD.sub(r"\1***\3", text)


def read_json(text: str | bytes) -> Any:
    """JSON column text as Python values: orjson (several times faster), else the standard library.

    The standard library also reads what only it writes (``NaN``, integers
    beyond 64 bits), which a plugin's own JSON column might hold.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_engine_for(url: str, *, echo: bool = False) -> Engine:
    """An engine for a ``sqlite:///`` or ``postgresql://`` URL, configured for partygraph."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValidationError(
            "/database/url", f"is not a database URL: {redact_url(url)!r}", None
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(
                    f"cannot create the SQLite database {database!r}: "
                    f"the folder {str(parent)!r} does not exist"
                )
        kwargs: dict[str, Any] = {
            "echo": echo,
            "connect_args": {"timeout": 30},
            "json_deserializer": read_json,
        }
        if database in {"", ":memory:"}:
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        engine = sa_create_engine(parsed, **kwargs)
        _tune_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa_create_engine(
                parsed, echo=echo, pool_pre_ping=True, json_deserializer=read_json
            )
        except ModuleNotFoundError as error:
            raise StorageError(
                f"PostgreSQL needs the driver {error.name!r}: pip install 'partygraph[postgresql]'"
            ) from None
    raise ValidationError(
        "/database/url",
        f"unsupported database {backend!r} in {redact_url(url)!r}; "
        "use sqlite:///FILE or postgresql://USER@HOST/DB",
        None,
    )


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # answers "memory" for in-memory databases
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE, False)
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    # Straight to the driver: every read and write starts here, and SQLAlchemy's
    # execution path costs several times the statement.
    with driver_cursor(connection, statement) as cursor:
        cursor.execute(statement)


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for writers."""
    if not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
    if not event.contains(engine, "begin", _on_begin):
        event.listen(engine, "begin", _on_begin)


def adopt_engine(engine: Engine) -> Engine:
    """Prepare an engine an application hands over (``partygraph.open(engine=...)``).

    A SQLite engine gets the same tuning as one partygraph creates (WAL, foreign
    keys, busy timeout, ``BEGIN IMMEDIATE`` for partygraph's writes), because
    partygraph's id allocation relies on a writer holding the write lock from
    the start of its transaction. Connections already pooled are recycled.
    """
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
        engine.dispose(close=False)
    return engine
