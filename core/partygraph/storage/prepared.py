"""Statements compiled once and run straight on the driver's cursor.

A per-party read or a single write sends a few dozen small indexed statements.
Through SQLAlchemy's full execution path each costs about 50 µs of Python
(execution context, cache key, result metadata) against a few µs in the
driver, which is most of a view's time. :class:`Prepared` keeps SQLAlchemy
for what it is good at, writing the statement once for each dialect, and then
runs it on the DBAPI cursor of the same connection and transaction, applying
the same bind and result conversions SQLAlchemy would (dates on SQLite, JSON).

Behaviour is unchanged where it matters: driver errors are raised as
SQLAlchemy's ``DBAPIError`` subclasses (so retries and error messages work
the same), and when anything listens for statements on the connection
(``echo``, a ``before_cursor_execute`` listener such as the benchmark's
statement capture) the statement takes SQLAlchemy's ordinary path instead.
Statements with expanding ``IN`` parameters also take the ordinary path.
"""

from __future__ import annotations

import collections
import contextlib
import keyword
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Connection, bindparam, exc
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = [
    "MAX_BOUND",
    "IdShape",
    "Prepared",
    "bind_ids",
    "bucketed",
    "copy_rows",
    "driver_cursor",
    "execute_many",
    "ids_in",
]

#: Longest id list bound parameter by parameter.
MAX_BOUND = 256

#: How an id list filters a statement: None (it does not), 0 (one expanding
#: parameter), n (n parameters, ``name_0`` ... ``name_{n-1}``).
IdShape = int | None

Processor = Callable[[Any], Any] | None


class _Bind(NamedTuple):
    name: str
    key: str
    default: Any
    processor: Processor


class _Compiled:
    """One statement's SQL text, parameters and result conversion for one dialect."""

    __slots__ = ("binds", "dialect", "fast", "make", "named", "processors", "sql", "types")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = cast(Any, statement).compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql: str = compiled.string
        self.fast = not (compiled.literal_execute_params or compiled.post_compile_params)
        bind_processors = compiled._bind_processors
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        order = list(compiled.positiontup or by_name)
        self.named = compiled.positiontup is None
        self.binds = tuple(
            _Bind(
                name,
                by_name[name].key,
                by_name[name].effective_value,
                _processor(bind_processors.get(name)),
            )
            for name in order
        )
        columns = compiled._result_columns
        self.dialect = dialect
        self.types = [column.type for column in columns]
        # Both are settled at the first run: some conversions depend on the type
        # the driver reports for a column (PostgreSQL's floats and numerics).
        self.processors: list[Processor] | None = None
        self.make: Callable[[Iterable[Any]], Any] | None = None
        if columns:
            self.make = _row_maker([column.keyname for column in columns])

    def settle(self, description: Sequence[Any] | None) -> None:
        """Row names and conversions, from the statement's columns and the driver's types."""
        reported = [column[1] for column in description or ()]
        if self.make is None:
            # A textual statement declares no columns: name them as the driver does.
            self.make = _row_maker([column[0] for column in description or ()])
        if self.types and len(reported) == len(self.types):
            processors = [
                _result_processor(type_, self.dialect, coltype)
                for type_, coltype in zip(self.types, reported, strict=True)
            ]
            self.processors = processors if any(processors) else None
        self.types = []

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = []
        for bind in self.binds:
            value = params.get(bind.key, bind.default)
            if bind.processor is not None:
                value = bind.processor(value)
            values.append(value)
        if self.named:
            return {bind.name: value for bind, value in zip(self.binds, values, strict=True)}
        return values


def _row_maker(names: list[str]) -> Callable[[Iterable[Any]], Any]:
    """A named-tuple factory for rows with these column names."""
    fields = [_field_name(name, index) for index, name in enumerate(names)]
    return collections.namedtuple("Row", fields, rename=True)._make  # type: ignore[attr-defined, no-any-return]


def _sqlite_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _result_processor(type_: Any, dialect: Dialect, coltype: Any) -> Processor:
    """SQLAlchemy's conversion of a result column, with a faster one for SQLite's dates.

    SQLite stores a ``DateTime`` as ISO text, which :meth:`datetime.fromisoformat`
    reads several times faster than the dialect's regular expression.
    """
    if dialect.name == "sqlite" and type(type_.dialect_impl(dialect)) is SQLITE_DATETIME:
        return _sqlite_datetime
    return _processor(type_._cached_result_processor(dialect, coltype))


def _processor(found: Any) -> Processor:
    """A conversion function, or None (SQLAlchemy's own per-dialect processors)."""
    return found if callable(found) else None


def _field_name(name: str, index: int) -> str:
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_"):
        return name
    return f"_{index}"


class Prepared:
    """A SQLAlchemy statement run with bound parameters at the driver's cost.

    Build it once (module level, or once per shape) and call :meth:`rows`,
    :meth:`first`, :meth:`scalar` or :meth:`execute` with the connection a
    hook received. Rows are named tuples: ``row.column`` and ``row[0]`` work.
    """

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[Any, ...], _Compiled] = {}

    def _compiled(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, dialect.server_version_info)
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self.statement, dialect)
        return compiled

    def _direct(self, connection: Connection) -> _Compiled | None:
        """The compiled statement when it may run on the driver's cursor, else None."""
        compiled = self._compiled(connection)
        if not compiled.fast or _observed(connection):
            return None
        if not connection.in_transaction():
            connection.begin()
        return compiled

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row of the result."""
        compiled = self._direct(connection)
        if compiled is None:
            return list(connection.execute(self.statement, dict(params or {})))
        parameters = compiled.parameters(params or {})
        with driver_cursor(connection, compiled.sql, parameters) as cursor:
            cursor.execute(compiled.sql, parameters)
            fetched = cursor.fetchall()
            if compiled.make is None or compiled.types:
                compiled.settle(cursor.description)
        return _converted(fetched, compiled)

    def first(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        found = self.rows(connection, params)
        return found[0] if found else None

    def scalar(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def execute(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it touched."""
        compiled = self._direct(connection)
        if compiled is None:
            return int(connection.execute(self.statement, dict(params or {})).rowcount)
        parameters = compiled.parameters(params or {})
        with driver_cursor(connection, compiled.sql, parameters) as cursor:
            cursor.execute(compiled.sql, parameters)
            return int(cursor.rowcount)


@contextlib.contextmanager
def driver_cursor(connection: Connection, statement: str, parameters: Any = ()) -> Iterator[Any]:
    """A DBAPI cursor of *connection* that sends *statement*; closed after the block.

    The driver's errors are raised as SQLAlchemy's ``DBAPIError`` classes, as
    SQLAlchemy's own execution path raises them, so retries and messages work
    the same.
    """
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            statement,
            parameters,
            error,
            connection.dialect.loaded_dbapi.Error,
            dialect=connection.dialect,
        ) from error
    finally:
        cursor.close()


def _padded_size(count: int) -> int:
    size = 1
    while size < count:
        size *= 2
    return size


def bucketed(ids: Sequence[Any], limit: int = MAX_BOUND) -> list[tuple[int, dict[str, Any]]]:
    """*ids* as chunks of at most *limit*: (size, ``{"id0": ..., "id1": ...}``).

    Each chunk is padded to a power of two with its last id (a repeated id
    changes no ``IN``), so a handful of prepared shapes serve every count.
    """
    chunks = []
    for start in range(0, len(ids), limit):
        chunk = list(ids[start : start + limit])
        size = _padded_size(len(chunk))
        chunk += [chunk[-1]] * (size - len(chunk))
        chunks.append((size, {f"id{index}": value for index, value in enumerate(chunk)}))
    return chunks


def bind_ids(params: dict[str, Any], name: str, ids: Sequence[int]) -> IdShape:
    """Put *ids* into *params* under *name*; the shape to build the statement with.

    Ids are bound one parameter each (``name_0``, ``name_1`` ...), padded to a
    power of two with the last id, so a few prepared shapes serve every list;
    an empty or long list is one expanding parameter (SQLAlchemy's ordinary
    path). Build the condition with :func:`ids_in`.
    """
    if not ids or len(ids) > MAX_BOUND:
        params[name] = list(ids)
        return 0
    size = _padded_size(len(ids))
    last = ids[-1]
    for index in range(size):
        params[f"{name}_{index}"] = ids[index] if index < len(ids) else last
    return size


def ids_in(column: Any, name: str, shape: IdShape) -> ColumnElement[bool]:
    """``column IN (...)`` for an id list bound by :func:`bind_ids` with this shape."""
    if not shape:
        expanding: ColumnElement[bool] = column.in_(bindparam(name, expanding=True))
        return expanding
    bound: ColumnElement[bool] = column.in_([bindparam(f"{name}_{i}") for i in range(shape)])
    return bound


def execute_many(connection: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run driver-level *sql* (the driver's own placeholders) once per row in *rows*.

    The bulk path's inserts are already written for the driver; this sends
    them to its cursor directly, with the same error translation and the same
    fallback to SQLAlchemy when something listens for statements.
    """
    if not rows:
        return
    if _observed(connection):
        connection.exec_driver_sql(sql, list(rows))
        return
    if not connection.in_transaction():
        connection.begin()
    with driver_cursor(connection, sql, rows) as cursor:
        cursor.executemany(sql, rows)


#: Fewer rows than this go through ``executemany``: COPY's set-up costs more.
COPY_THRESHOLD = 64


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> bool:
    """Write *rows* with PostgreSQL's ``COPY ... FROM STDIN``; False when it does not apply.

    COPY is PostgreSQL's bulk path, several times faster than batched
    INSERTs. It applies on psycopg connections, for batches worth its set-up,
    when nothing listens for statements; otherwise the caller inserts.
    """
    if (
        connection.dialect.name != "postgresql"
        or connection.dialect.driver != "psycopg"
        or len(rows) < COPY_THRESHOLD
        or _observed(connection)
    ):
        return False
    if not connection.in_transaction():
        connection.begin()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver_cursor(connection, statement) as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return True


def _observed(connection: Connection) -> bool:
    """Whether something listens for this connection's statements (echo, events)."""
    return bool(connection._echo or connection.dispatch.before_cursor_execute)


def _converted(fetched: list[Any], compiled: _Compiled) -> list[Any]:
    make = compiled.make
    assert make is not None
    processors = compiled.processors
    if processors is None:
        return [make(values) for values in fetched]
    return [
        make(
            [
                value if processor is None or value is None else processor(value)
                for processor, value in zip(processors, values, strict=True)
            ]
        )
        for values in fetched
    ]
