"""The segments of one toolkit: the config's definitions, checked against the vocabulary.

The config schema checks each definition's shape. This module checks what the
schema cannot know: that kinds, relationship and interaction types exist, that
some enabled plugin answers each role, metric and predicate in SQL, that
predicate parameters match their schemas, that comparisons fit their values,
and that segments referring to each other do not go round in a circle. Every
problem is reported with the JSON pointer of the offending key.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
import jsonschema

from partygraph._schema_messages import closest, describe_errors
from partygraph.errors import ValidationError
from partygraph.segments.model import (
    Condition,
    SegmentDefinition,
    SegmentMetric,
    SegmentPredicate,
)
from partygraph.vocabulary import Vocabulary

__all__ = ["DISCRIMINATORS", "SegmentCatalog", "discriminator", "json_type"]

#: The keys that say what a condition is; a condition has exactly one of them.
DISCRIMINATORS = (
    "all",
    "any",
    "not",
    "kind",
    "attribute",
    "relationship",
    "interaction",
    "role",
    "metric",
    "predicate",
    "segment",
)
#: Keys allowed beside each discriminator.
_COMPANIONS: Mapping[str, frozenset[str]] = {
    "attribute": frozenset({"op", "value"}),
    "metric": frozenset({"op", "value"}),
    "role": frozenset({"of", "plugin"}),
    "predicate": frozenset({"params"}),
}
_SCALAR_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_ORDER_OPS = frozenset({"<", "<=", ">", ">="})


def discriminator(condition: Condition) -> str:
    """The key that says what *condition* is (validated conditions have exactly one)."""
    return next(key for key in DISCRIMINATORS if key in condition)


def _unknown(what: str, name: str, known: Iterable[str], hint_extra: str = "") -> str:
    known = sorted(known)
    hint = closest(name, known)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    listed = ", ".join(known) if known else f"none{hint_extra}"
    return f"unknown {what} {name!r}{suggestion} (known: {listed})"


class SegmentCatalog:
    """Named segments with the predicates and metrics plugins give for them."""

    def __init__(
        self,
        definitions: Mapping[str, Mapping[str, Any]],
        predicates: Iterable[tuple[str, SegmentPredicate]],
        metrics: Iterable[tuple[str, SegmentMetric]],
        vocabulary: Vocabulary,
    ) -> None:
        self.vocabulary = vocabulary
        self.predicates: dict[str, SegmentPredicate] = {}
        for plugin, predicate in predicates:
            self._register(self.predicates, plugin, predicate, "segment predicate")
        self.metrics: dict[str, SegmentMetric] = {}
        for plugin, metric in metrics:
            self._register(self.metrics, plugin, metric, "segment metric")
        self.definitions: dict[str, SegmentDefinition] = {
            name: SegmentDefinition(
                name=name,
                purpose=str(body["purpose"]),
                where=body["where"],
                description=str(body.get("description", "")),
                export_purposes=tuple(body.get("export_purposes", ())),
            )
            for name, body in sorted(definitions.items())
        }

    @staticmethod
    def _register(into: dict[str, Any], plugin: str, item: Any, what: str) -> None:
        if "." in item.name:
            raise ValidationError(
                f"{what} {item.name!r}", f"plugin {plugin!r}: names must not contain '.'"
            )
        full = f"{plugin}.{item.name}"
        into[full] = attrs.evolve(item, plugin=plugin)

    # -- lookups ---------------------------------------------------------------------

    def role_predicates(self, role: str, plugin: str | None = None) -> list[SegmentPredicate]:
        """The predicates that answer *role* (of *plugin* only, if given)."""
        return [
            predicate
            for predicate in self.predicates.values()
            if role in predicate.roles and (plugin is None or predicate.plugin == plugin)
        ]

    @property
    def roles(self) -> dict[str, list[str]]:
        """Each role segments can ask about, with the predicates answering it."""
        found: dict[str, list[str]] = {}
        for full, predicate in self.predicates.items():
            for role in predicate.roles:
                found.setdefault(role, []).append(full)
        return dict(sorted(found.items()))

    def definition(self, name: str) -> SegmentDefinition:
        """The segment called *name*; :class:`ValidationError` naming the known ones."""
        try:
            return self.definitions[name]
        except KeyError:
            raise ValidationError("segment", _unknown("segment", name, self.definitions)) from None

    def adhoc(self, body: Mapping[str, Any]) -> SegmentDefinition:
        """A definition given in code, checked like the config's; unnamed."""
        problems = describe_errors(_segment_validator().iter_errors(body))
        if not problems:
            # Named segments were checked (cycles included) when the toolkit opened,
            # and nothing can refer to an unnamed one, so no circle can start here.
            problems = self.condition_problems(body["where"], "/where")
        if problems:
            where, message = problems[0]
            raise ValidationError(f"segment{where}", message)
        return SegmentDefinition(
            name="",
            purpose=str(body["purpose"]),
            where=body["where"],
            description=str(body.get("description", "")),
            export_purposes=tuple(body.get("export_purposes", ())),
        )

    # -- checking --------------------------------------------------------------------

    def problems(self) -> list[tuple[str, str]]:
        """Every problem in the definitions, as ``(JSON pointer, message)``."""
        found: list[tuple[str, str]] = []
        for name, definition in self.definitions.items():
            where = f"/segments/{name}"
            found.extend(self.condition_problems(definition.where, f"{where}/where"))
            found.extend(self._cycle(name, f"{where}/where"))
        return sorted(set(found))

    def condition_problems(self, condition: Any, at: str) -> list[tuple[str, str]]:
        """Problems in one condition (and those nested in it)."""
        return list(self._check(condition, at))

    def _check(self, condition: Any, at: str) -> Iterator[tuple[str, str]]:
        if not isinstance(condition, Mapping) or not condition:
            yield at, "a condition must be a non-empty table (object)"
            return
        kinds = [key for key in DISCRIMINATORS if key in condition]
        if len(kinds) != 1:
            listed = ", ".join(DISCRIMINATORS)
            what = "none" if not kinds else " and ".join(repr(k) for k in kinds)
            yield at, f"a condition needs exactly one of {listed}; found {what}"
            return
        kind = kinds[0]
        allowed = {kind, *_COMPANIONS.get(kind, ())}
        for key in condition:
            if key not in allowed:
                yield f"{at}/{key}", f"{key!r} does not go with {kind!r}"
        yield from getattr(self, f"_check_{kind}")(condition, at)

    def _check_all(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        for index, item in enumerate(condition["all"]):
            yield from self._check(item, f"{at}/all/{index}")

    def _check_any(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        for index, item in enumerate(condition["any"]):
            yield from self._check(item, f"{at}/any/{index}")

    def _check_not(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        yield from self._check(condition["not"], f"{at}/not")

    def _check_kind(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        value = condition["kind"]
        names = [value] if isinstance(value, str) else list(value)
        for index, name in enumerate(names):
            if name not in self.vocabulary.party_kinds:
                where = f"{at}/kind" if isinstance(value, str) else f"{at}/kind/{index}"
                yield where, _unknown("party kind", name, self.vocabulary.party_kinds)

    def _check_comparison(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        op = condition.get("op", "=" if "value" in condition else "exists")
        value = condition.get("value")
        if op == "exists":
            if "value" in condition:
                yield f"{at}/value", "op 'exists' takes no value"
            return
        if "value" not in condition:
            yield f"{at}/value", f"op {op!r} needs a value"
        elif op in ("in", "not in") and not isinstance(value, list):
            yield f"{at}/value", f"op {op!r} needs a list of values"
        elif op in _SCALAR_OPS and isinstance(value, list):
            yield f"{at}/value", f"op {op!r} compares with one value, not a list"
        elif op in _ORDER_OPS and isinstance(value, bool):
            yield f"{at}/value", f"op {op!r} cannot order booleans"
        elif isinstance(value, list) and len({json_type(item) for item in value}) > 1:
            yield f"{at}/value", "the values of a list must all be of one type"

    def _check_attribute(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        yield from self._check_comparison(condition, at)

    def _check_metric(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        name = condition["metric"]
        if name not in self.metrics:
            yield (
                f"{at}/metric",
                _unknown("metric", name, self.metrics, " (no plugin publishes one)"),
            )
            return
        op = condition.get("op", "=")
        value = condition.get("value")
        if op == "exists":
            yield from self._check_comparison(condition, at)
            return
        values = value if isinstance(value, list) else [value]
        if "value" in condition and not all(json_type(v) == "number" for v in values):
            yield f"{at}/value", f"metric {name!r} is a number; compare it with numbers"
        else:
            yield from self._check_comparison(condition, at)

    def _check_relationship(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        body = condition["relationship"]
        name = body["type"]
        if name not in self.vocabulary.relationship_types:
            known = self.vocabulary.relationship_types
            yield f"{at}/relationship/type", _unknown("relationship type", name, known)
        if "other" in body:
            yield from self._check(body["other"], f"{at}/relationship/other")

    def _check_interaction(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        body = condition["interaction"]
        name = body["type"]
        known = self.vocabulary.interaction_types
        if name not in known:
            yield f"{at}/interaction/type", _unknown("interaction type", name, known)
        elif "role" in body and (roles := known[name].roles) and body["role"] not in roles:
            yield f"{at}/interaction/role", _unknown(f"role in {name!r}", body["role"], roles)
        if "at_most" in body and body["at_most"] < body.get("at_least", 0):
            yield f"{at}/interaction/at_most", "at_most is below at_least"

    def _check_role(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        role, plugin = condition["role"], condition.get("plugin")
        if not self.role_predicates(role, plugin):
            answering = self.roles
            if plugin is not None and role in answering:
                yield f"{at}/plugin", f"plugin {plugin!r} does not answer role {role!r} in SQL"
            else:
                extra = " (no enabled plugin answers roles in SQL)"
                yield f"{at}/role", _unknown("role for segments", role, answering, extra)
        if "of" in condition:
            yield from self._check(condition["of"], f"{at}/of")

    def _check_predicate(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        name = condition["predicate"]
        predicate = self.predicates.get(name)
        if predicate is None:
            extra = " (no plugin publishes one)"
            yield f"{at}/predicate", _unknown("predicate", name, self.predicates, extra)
            return
        params = condition.get("params", {})
        validator = jsonschema.Draft202012Validator(predicate.schema)
        yield from describe_errors(validator.iter_errors(params), f"{at}/params")
        for key, value in params.items() if isinstance(params, Mapping) else ():
            if key in predicate.condition_params:
                yield from self._check_nested(value, f"{at}/params/{key}")

    def _check_nested(self, condition: Any, at: str) -> Iterator[tuple[str, str]]:
        """A condition inside a predicate's parameters: the schema first, then the rest."""
        problems = describe_errors(_condition_validator().iter_errors(condition), at)
        if problems:
            yield from problems
        else:
            yield from self._check(condition, at)

    def _check_segment(self, condition: Condition, at: str) -> Iterator[tuple[str, str]]:
        name = condition["segment"]
        if name not in self.definitions:
            yield f"{at}/segment", _unknown("segment", name, self.definitions)

    def _cycle(self, start: str, at: str) -> Iterator[tuple[str, str]]:
        path = [start]
        seen = {start}

        def visit(name: str) -> str | None:
            for ref in _references(self.definitions[name].where):
                if ref not in self.definitions:
                    continue
                if ref == start:
                    return " -> ".join([*path, ref])
                if ref in seen:
                    continue
                seen.add(ref)
                path.append(ref)
                found = visit(ref)
                if found:
                    return found
                path.pop()
            return None

        loop = visit(start)
        if loop:
            yield at, f"segments refer to each other in a circle: {loop}"


@functools.cache
def _segment_validator() -> jsonschema.Draft202012Validator:
    from partygraph.schemas import load_schema

    definitions = load_schema("config")["$defs"]
    return jsonschema.Draft202012Validator({"$defs": definitions, "$ref": "#/$defs/segment"})


@functools.cache
def _condition_validator() -> jsonschema.Draft202012Validator:
    from partygraph.schemas import load_schema

    definitions = load_schema("config")["$defs"]
    return jsonschema.Draft202012Validator({"$defs": definitions, "$ref": "#/$defs/condition"})


def json_type(value: Any) -> str:
    """The JSON type a config value compares as: boolean, number or string."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _references(condition: Any) -> Iterator[str]:
    """Every segment name a condition refers to, however deeply nested."""
    if isinstance(condition, Mapping):
        if isinstance(condition.get("segment"), str):
            yield condition["segment"]
        for value in condition.values():
            yield from _references(value)
    elif isinstance(condition, list):
        for item in condition:
            yield from _references(item)
