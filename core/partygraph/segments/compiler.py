"""Compile a segment's condition into one parameterised SQL statement.

Every value from the config becomes a bound parameter; no SQL is ever built
from strings a user wrote. Each leaf condition compiles to an expression that
is never NULL, so ``not`` is an exact complement under SQL's three-valued
logic. The statement selects from aliases of the core tables, and every
sub-select embedded with ``IN`` is compiled with correlation switched off, so
a plugin's predicate may use the plain core tables without being silently
correlated to the outer query.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Select,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from partygraph.segments.catalog import SegmentCatalog, discriminator, json_type
from partygraph.segments.model import Condition, SegmentScope
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)

__all__ = ["MEMBER_COLUMNS", "SegmentCompiler"]

#: The party columns a segment's statement returns, in order. The timestamps are
#: left out: an audience of 100,000 does not need them, and parsing them doubles
#: the cost of reading the rows on SQLite.
MEMBER_COLUMNS = ("id", "key", "kind", "name", "attributes")

_CORE_TABLES = {
    "party": party_table,
    "relationship": relationship_table,
    "interaction": interaction_table,
    "participant": participant_table,
}
_SQLITE_TYPES: dict[str, tuple[str, ...]] = {
    "number": ("integer", "real"),
    "string": ("text",),
    "boolean": ("true", "false"),
}
_POSTGRES_TYPES: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "string": ("string",),
    "boolean": ("boolean",),
}


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    """``column op value``, false (never NULL) where the column is NULL."""
    comparisons: dict[str, Any] = {
        "=": lambda: column == value,
        "!=": lambda: column != value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "in": lambda: column.in_(value),
        "not in": lambda: column.not_in(value),
    }
    return and_(column.is_not(None), comparisons[op]())


class SegmentCompiler:
    """Turns conditions into SQL for one dialect and one ``as_of`` (naive UTC)."""

    def __init__(self, catalog: SegmentCatalog, dialect: str, as_of: datetime) -> None:
        self.catalog = catalog
        self.dialect = dialect
        self.as_of = as_of
        #: What a plugin's predicate or metric is built in.
        self.scope = SegmentScope(
            as_of=as_of, tables=_CORE_TABLES, dialect=dialect, compile_condition=self.ids
        )

    # -- statements ------------------------------------------------------------------

    def statement(self, condition: Condition) -> Select[Any]:
        """The members' party rows (:data:`MEMBER_COLUMNS`), in id order."""
        member = party_table.alias("member")
        columns = [member.c[name] for name in MEMBER_COLUMNS]
        return select(*columns).where(self.expression(condition, member)).order_by(member.c.id)

    def ids(self, condition: Condition) -> Select[Any]:
        """A ``SELECT`` of the matching parties' ids, to embed with ``IN``."""
        alias = party_table.alias()
        return select(alias.c.id).where(self.expression(condition, alias)).correlate(None)

    # -- conditions ------------------------------------------------------------------

    def expression(self, condition: Condition, party: FromClause) -> ColumnElement[bool]:
        """A boolean expression on *party* (an alias of ``party``) for *condition*."""
        kind = discriminator(condition)
        method = getattr(self, f"_{kind}")
        result: ColumnElement[bool] = method(condition, party)
        return result

    def _all(self, c: Condition, p: FromClause) -> Any:
        return and_(*(self.expression(item, p) for item in c["all"]))

    def _any(self, c: Condition, p: FromClause) -> Any:
        return or_(*(self.expression(item, p) for item in c["any"]))

    def _not(self, c: Condition, p: FromClause) -> Any:
        return not_(self.expression(c["not"], p))

    def _kind(self, c: Condition, p: FromClause) -> Any:
        value = c["kind"]
        return p.c.kind.in_([value] if isinstance(value, str) else list(value))

    def _segment(self, c: Condition, p: FromClause) -> Any:
        return self.expression(self.catalog.definition(c["segment"]).where, p)

    # -- attributes ------------------------------------------------------------------

    def _attribute(self, c: Condition, p: FromClause) -> Any:
        name = c["attribute"]
        op = c.get("op", "=" if "value" in c else "exists")
        column = p.c.attributes
        if op == "exists":
            found = self._attribute_type(column, name)
            return and_(found.is_not(None), found != "null")
        value = c["value"]
        sample = value[0] if isinstance(value, list) else value
        typed = self._typed_attribute(column, name, json_type(sample))
        return _compare(typed, op, value)

    def _attribute_type(self, column: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        """The attribute's JSON type name, NULL when the attribute is missing."""
        if self.dialect == "postgresql":
            return func.jsonb_typeof(column.op("->")(literal(name, String)))
        return func.json_type(column, literal(f'$."{name}"', String))

    def _typed_attribute(
        self, column: ColumnElement[Any], name: str, wanted: str
    ) -> ColumnElement[Any]:
        """The attribute's value when its JSON type is *wanted*, else NULL."""
        found = self._attribute_type(column, name)
        if self.dialect == "postgresql":
            text = column.op("->>", return_type=String)(literal(name, String))
            value: ColumnElement[Any] = text
            if wanted == "number":
                value = cast(text, Float)
            elif wanted == "boolean":
                value = cast(text, Boolean)
            names: tuple[str, ...] = _POSTGRES_TYPES[wanted]
        else:
            value = func.json_extract(column, literal(f'$."{name}"', String))
            names = _SQLITE_TYPES[wanted]
        return case((found.in_(names), value), else_=None)

    # -- relationships and interactions ----------------------------------------------

    def _relationship(self, c: Condition, p: FromClause) -> Any:
        body = c["relationship"]
        direction = body.get("direction", "out")
        sides = {"out": [("source_id", "target_id")], "in": [("target_id", "source_id")]}
        sides["either"] = sides["out"] + sides["in"]
        others = self.ids(body["other"]) if "other" in body else None
        found = []
        for own, other in sides[direction]:
            edge = relationship_table.alias()
            conditions = [
                edge.c.type == body["type"],
                edge.c[own] == p.c.id,
                edge.c.valid_from <= self.as_of,
                or_(edge.c.valid_to.is_(None), edge.c.valid_to > self.as_of),
            ]
            if "role" in body:
                conditions.append(edge.c.role == body["role"])
            if others is not None:
                conditions.append(edge.c[other].in_(others))
            found.append(select(literal(1)).where(*conditions).correlate(p).exists())
        return or_(*found)

    def _interaction(self, c: Condition, p: FromClause) -> Any:
        body = c["interaction"]
        at_most = body.get("at_most")
        # "at least once" unless a maximum is given: {at_most = 0} means never.
        at_least = int(body.get("at_least", 1 if at_most is None else 0))
        taking_part = participant_table.alias()
        conditions = [
            taking_part.c.party_id == p.c.id,
            taking_part.c.type == body["type"],
            taking_part.c.occurred_at < self.as_of,
        ]
        if "role" in body:
            conditions.append(taking_part.c.role == body["role"])
        if "within_days" in body:
            since = self.as_of - timedelta(days=float(body["within_days"]))
            conditions.append(taking_part.c.occurred_at >= since)
        if at_most is None:
            if at_least == 0:
                return true()
            if at_least == 1:
                return select(literal(1)).where(*conditions).correlate(p).exists()
        count = (
            select(func.count())
            .select_from(taking_part)
            .where(*conditions)
            .correlate(p)
            .scalar_subquery()
        )
        bounds = [count >= at_least] if at_least else []
        if at_most is not None:
            bounds.append(count <= int(at_most))
        return and_(*bounds)

    # -- what plugins contribute -------------------------------------------------------

    def _in(self, p: FromClause, chosen: Select[Any]) -> ColumnElement[bool]:
        found = chosen.correlate(None).subquery()
        first = next(iter(found.c))
        return p.c.id.in_(select(first).where(first.is_not(None)))

    def _predicate(self, c: Condition, p: FromClause) -> Any:
        predicate = self.catalog.predicates[c["predicate"]]
        params: Mapping[str, Any] = c.get("params", {})
        return self._in(p, predicate.build(params, self.scope))

    def _role(self, c: Condition, p: FromClause) -> Any:
        params: dict[str, Any] = {"role": c["role"]}
        if "of" in c:
            params["of"] = c["of"]
        answers = self.catalog.role_predicates(c["role"], c.get("plugin"))
        if not answers:
            return false()
        return or_(*(self._in(p, predicate.build(params, self.scope)) for predicate in answers))

    def _metric(self, c: Condition, p: FromClause) -> Any:
        metric = self.catalog.metrics[c["metric"]]
        figures = metric.build(self.scope).correlate(None).subquery()
        op = c.get("op", "=" if "value" in c else "exists")
        value_column = figures.c.value
        if op == "exists":
            chosen = select(figures.c.party_id).where(value_column.is_not(None))
        else:
            chosen = select(figures.c.party_id).where(_compare(value_column, op, c["value"]))
        return p.c.id.in_(chosen.where(figures.c.party_id.is_not(None)))
