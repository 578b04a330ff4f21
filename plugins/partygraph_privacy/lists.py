"""Lists of values bound as one parameter, so a statement is built and compiled once.

The gate and the views ask about a set of parties (a batch's participants, a
household's members) whose size changes from call to call. An expanding
``IN`` would be rebuilt for every length; instead the whole list is one bound
parameter that the database unpacks: ``= ANY(:ids)`` with an array on
PostgreSQL, ``IN (SELECT value FROM json_each(:ids))`` with a JSON text on
SQLite. One statement per dialect serves every length, runs as a
:class:`~partygraph.storage.prepared.Prepared` statement, and has no bound on
the number of values (where SQLite allows at most 32,766 parameters).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.base import Executable

from partygraph.storage.prepared import Prepared

__all__ = ["PerDialect", "bind_list", "in_list"]

_POSTGRESQL = "postgresql"


def in_list(
    column: ColumnElement[Any], name: str, dialect: str, *, text: bool = False
) -> ColumnElement[bool]:
    """``column`` is one of the values bound as *name* (see :func:`bind_list`)."""
    if dialect == _POSTGRESQL:
        item = String() if text else BigInteger()
        return column == any_(bindparam(name, type_=ARRAY(item)))
    values = func.json_each(bindparam(name, type_=String())).table_valued("value")
    return column.in_(select(values.c.value))


def bind_list(values: Iterable[Any], dialect: str) -> Any:
    """The parameter value for :func:`in_list`: a list, or its JSON text on SQLite."""
    listed = list(values)
    return listed if dialect == _POSTGRESQL else json.dumps(listed)


class PerDialect:
    """A :class:`Prepared` statement built once per dialect by *build(dialect_name)*."""

    __slots__ = ("_build", "_by_dialect")

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._by_dialect: dict[str, Prepared] = {}

    def __call__(self, connection: Connection) -> Prepared:
        """The statement for *connection*'s dialect."""
        name = connection.dialect.name
        found = self._by_dialect.get(name)
        if found is None:
            found = self._by_dialect[name] = Prepared(self._build(name))
        return found
