"""Run a segment: one SQL statement for the members, one privacy check per purpose.

The statement is compiled for the toolkit's dialect with every value bound.
With a plugin answering ``partygraph_permitted`` (a privacy plugin), members
without a lawful basis for the segment's purpose -- and, on an export, for its
export purposes -- are left out, and how many were left out is reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from partygraph.model import Party
from partygraph.reading import SqlGraph
from partygraph.segments.compiler import SegmentCompiler
from partygraph.segments.model import SegmentDefinition, SegmentResult

__all__ = ["evaluate_segment", "rendered_statement"]


def rendered_statement(statement: Select[Any], graph: SqlGraph) -> tuple[str, dict[str, Any]]:
    """The SQL text with placeholders, and the values bound to them."""
    compiled = statement.compile(
        dialect=graph.connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), dict(compiled.params)


def _purposes(definition: SegmentDefinition, export: bool, extra: Iterable[str]) -> tuple[str, ...]:
    chosen = [definition.purpose, *(definition.export_purposes if export else ()), *extra]
    return tuple(dict.fromkeys(chosen))


def evaluate_segment(
    compiler: SegmentCompiler,
    definition: SegmentDefinition,
    graph: SqlGraph,
    as_of: datetime,
    *,
    export: bool = False,
    purposes: Iterable[str] = (),
) -> SegmentResult:
    """The members of *definition* at *as_of* that may be processed for its purposes."""
    statement = compiler.statement(definition.where)
    rows = graph.connection.execute(statement).all()
    members = [Party(row.key, row.kind, row.name, row.attributes or {}, row.id) for row in rows]
    checked = _purposes(definition, export, purposes)
    reasons: Counter[str] = Counter()
    for purpose in checked:
        if not members:
            break
        left_out: Mapping[int, str] = graph.excluded(members, purpose, as_of)
        if left_out:
            reasons[purpose] += len(left_out)
            members = [party for party in members if party.id not in left_out]
    text, parameters = rendered_statement(statement, graph)
    return SegmentResult(
        name=definition.name,
        purpose=definition.purpose,
        purposes=checked,
        as_of=as_of,
        members=tuple(members),
        excluded=sum(reasons.values()),
        exclusion_reasons=dict(reasons),
        statement=text,
        parameters={key: _plain(value) for key, value in parameters.items()},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value
