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
import keyword
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Prepared"]

Processor = Callable[[Any], Any] | None


class _Bind(NamedTuple):
    name: str
    key: str
    default: Any
    processor: Processor


class _Compiled:
    """One statement's SQL text, parameters and result conversion for one dialect."""

    __slots__ = ("binds", "fast", "make", "named", "processors", "sql")

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
        self.processors: list[Processor] | None = None
        self.make: Callable[[Iterable[Any]], Any] | None = None
        if columns:
            try:
                processors = [
                    _processor(column.type._cached_result_processor(dialect, None))
                    for column in columns
                ]
            except (TypeError, exc.SQLAlchemyError):
                # Some conversions depend on the type the driver reports for the
                # column (PostgreSQL's numeric and float columns): SQLAlchemy's
                # ordinary path knows it, so the statement takes that path.
                self.fast = False
                processors = []
            self.processors = processors if any(processors) else None
            names = [_field_name(column.keyname, index) for index, column in enumerate(columns)]
            self.make = collections.namedtuple("Row", names, rename=True)._make  # type: ignore[attr-defined]

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

    def _cursor(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        compiled = self._compiled(connection)
        if not compiled.fast or _observed(connection):
            return None, compiled
        if not connection.in_transaction():
            connection.begin()
        parameters = compiled.parameters(params)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
        except connection.dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise exc.DBAPIError.instance(
                compiled.sql,
                parameters,
                error,
                connection.dialect.loaded_dbapi.Error,
                dialect=connection.dialect,
            ) from error
        return cursor, compiled

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row of the result."""
        cursor, compiled = self._cursor(connection, params or {})
        if cursor is None:
            return list(connection.execute(self.statement, dict(params or {})))
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
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
        cursor, _ = self._cursor(connection, params or {})
        if cursor is None:
            return int(connection.execute(self.statement, dict(params or {})).rowcount)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _observed(connection: Connection) -> bool:
    """Whether something listens for this connection's statements (echo, events)."""
    return bool(connection._echo or connection.dispatch.before_cursor_execute)


def _converted(fetched: list[Any], compiled: _Compiled) -> list[Any]:
    make = compiled.make
    assert make is not None, "the statement returns no rows"
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
