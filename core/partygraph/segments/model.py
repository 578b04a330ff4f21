"""What segments are made of: definitions, the SQL building blocks plugins give, results.

A segment is an audience declared in the config (``[segments.<name>]``): a purpose
and a condition over kinds, attributes, relationships, interactions, roles and
metrics. It compiles to one parameterised SQL statement. Plugins contribute the
pieces only they can express in SQL -- "economic buyer of an account", "customer
lifetime value" -- as :class:`SegmentPredicate` and :class:`SegmentMetric`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Select, Table

from partygraph.model import Party

__all__ = [
    "Condition",
    "SegmentDefinition",
    "SegmentMetric",
    "SegmentPredicate",
    "SegmentResult",
    "SegmentScope",
]

#: A condition of the filter language, as written in the config (a JSON object).
Condition = Mapping[str, Any]


@attrs.frozen
class SegmentScope:
    """What a plugin's predicate or metric needs to build its SQL.

    ``as_of`` is naive UTC, ready to compare with stored times; ``tables`` holds
    the core's tables (``party``, ``relationship``, ``interaction``,
    ``participant``); ``dialect`` is ``"sqlite"`` or ``"postgresql"``.
    :meth:`members` compiles a nested condition (a predicate's ``of`` parameter,
    say) into a ``SELECT`` of party ids, so predicates can take conditions as
    parameters without building SQL from user values.
    """

    as_of: datetime
    tables: Mapping[str, Table]
    dialect: str
    compile_condition: Callable[[Condition], Select[Any]] = attrs.field(repr=False)

    def members(self, condition: Condition) -> Select[Any]:
        """A ``SELECT`` of the ids of the parties matching *condition*."""
        return self.compile_condition(condition)


def _names(values: Iterable[str]) -> frozenset[str]:
    """A typed converter (``converter=frozenset`` leaves mypy an unsolved type variable)."""
    return frozenset(values)


#: Builds a predicate's SQL: ``(params, scope) -> SELECT party_id``.
PredicateBuilder = Callable[[Mapping[str, Any], SegmentScope], Select[Any]]
#: Builds a metric's SQL: ``scope -> SELECT party_id, value``.
MetricBuilder = Callable[[SegmentScope], Select[Any]]


@attrs.frozen
class SegmentPredicate:
    """A named condition a plugin can express in SQL.

    ``build(params, scope)`` returns a ``SELECT`` of one column, the ids of the
    matching parties, valid at ``scope.as_of``. ``params`` (validated against
    ``schema`` first) come from the config; use them only as bound values. A
    predicate listing ``roles`` also answers the filter language's
    ``{role = "..."}`` condition for those roles: it then receives
    ``{"role": name}`` plus ``{"of": condition}`` when the condition names the
    context ("economic buyers *of* target accounts"). Parameters named in
    ``condition_params`` hold nested conditions: they are checked like any
    condition and compiled with ``scope.members(params[name])``.
    """

    name: str
    build: PredicateBuilder = attrs.field(repr=False)
    description: str = ""
    schema: Mapping[str, Any] = attrs.field(factory=lambda: {"type": "object"})
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    condition_params: frozenset[str] = attrs.field(default=frozenset({"of"}), converter=_names)
    plugin: str = ""


@attrs.frozen
class SegmentMetric:
    """A named per-party figure a plugin can compute in SQL (CLV, churn risk ...).

    ``build(scope)`` returns a ``SELECT`` of two columns labelled ``party_id``
    and ``value`` (a number), one row per party that has the figure at
    ``scope.as_of``. Segments compare it with ``op`` and ``value``.
    """

    name: str
    build: MetricBuilder = attrs.field(repr=False)
    description: str = ""
    unit: str | None = None
    plugin: str = ""


@attrs.frozen
class SegmentDefinition:
    """A segment as declared under ``[segments.<name>]``."""

    name: str
    purpose: str
    where: Condition
    description: str = ""
    export_purposes: tuple[str, ...] = ()


@attrs.frozen
class SegmentResult:
    """The members of a segment at ``as_of``, after the privacy check.

    ``members`` are the parties that may be processed for every purpose asked
    (the segment's purpose, plus the export purposes on an export), with their
    id, key, kind, name and attributes (not their timestamps);
    ``excluded`` counts those left out, with ``exclusion_reasons`` counting
    each reason. ``statement`` and ``parameters`` are the SQL that ran.
    """

    name: str
    purpose: str
    purposes: tuple[str, ...]
    as_of: datetime
    members: tuple[Party, ...]
    excluded: int
    exclusion_reasons: Mapping[str, int]
    statement: str
    parameters: Mapping[str, Any]

    @property
    def count(self) -> int:
        """How many parties are in the segment after the privacy check."""
        return len(self.members)

    @property
    def keys(self) -> list[str]:
        """The members' keys, in id order."""
        return [party.key for party in self.members]
