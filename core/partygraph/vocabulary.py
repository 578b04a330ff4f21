"""The vocabulary: which party kinds, relationship types and interaction types exist.

Plugins contribute entries through registration hooks; a company's config can
add custom attributes to any of them as JSON Schema fragments. The composed
:class:`Vocabulary` is built once per toolkit and holds one compiled validator
per schema, so validating a write costs a dictionary lookup and a compiled
check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import jsonschema

from partygraph._schema_messages import describe_errors
from partygraph.errors import PluginError, ValidationError
from partygraph.validation import CompiledSchema

if TYPE_CHECKING:
    from partygraph.writing import WriteSession

__all__ = [
    "Cardinality",
    "DataDeclaration",
    "InteractionType",
    "PartyKind",
    "RecordType",
    "RelationshipType",
    "Vocabulary",
]

_T = TypeVar("_T")
_ANY_OBJECT: Mapping[str, Any] = {"type": "object"}


def _names(value: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset(value) if value is not None else None


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _schema(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else dict(_ANY_OBJECT)


@attrs.frozen
class PartyKind:
    """A kind of party (person, organization, household ...).

    ``attributes`` is a JSON Schema for the party's attributes; ``personal``
    says whether parties of this kind are natural persons (data subjects).
    """

    name: str
    label: str | None = None
    description: str = ""
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=_schema)
    personal: bool = False


@attrs.frozen
class Cardinality:
    """A limit on how many relationships of a type may be current at once.

    ``per`` names the end that is counted: ``per="target", role="head", max=1``
    is "at most one current head per household". ``on_excess="end_previous"``
    ends the oldest current link on the new link's ``valid_from`` instead of
    refusing the write.
    """

    per: Literal["source", "target"]
    max: int = 1
    role: str | None = None
    primary_only: bool = False
    on_excess: Literal["fail", "end_previous"] = "fail"


@attrs.frozen
class RelationshipType:
    """A typed edge between two parties, with a label for each direction.

    ``symmetric`` types ("spouse of") read the same from both ends.
    ``source_kinds`` / ``target_kinds`` / ``roles`` of None allow anything.
    """

    name: str
    label: str
    inverse_label: str | None = None
    symmetric: bool = False
    source_kinds: frozenset[str] | None = attrs.field(default=None, converter=_names)
    target_kinds: frozenset[str] | None = attrs.field(default=None, converter=_names)
    roles: frozenset[str] | None = attrs.field(default=None, converter=_names)
    role_required: bool = False
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=_schema)
    cardinality: tuple[Cardinality, ...] = attrs.field(default=(), converter=_tuple)
    description: str = ""

    def label_for(self, direction: Literal["outgoing", "incoming"]) -> str:
        """The label as seen from the source (outgoing) or the target (incoming)."""
        if direction == "outgoing" or self.symmetric:
            return self.label
        return self.inverse_label or f"{self.label} (inverse)"


@attrs.frozen
class InteractionType:
    """A kind of event: who may take part, and what its payload looks like.

    ``roles`` of None allows any participant role; ``required_roles`` must each
    appear at least once. ``purposes`` declares why such events are processed
    (a privacy plugin gates on it).
    """

    name: str
    label: str | None = None
    roles: frozenset[str] | None = attrs.field(default=None, converter=_names)
    required_roles: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    payload: Mapping[str, Any] = attrs.field(factory=dict, converter=_schema)
    purposes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    description: str = ""


@attrs.frozen
class RecordType:
    """A further interchange record type contributed by a plugin (``consent`` ...).

    ``schema`` validates the record's body; ``apply`` writes a batch of bodies
    inside the caller's transaction. Records of plugin types are applied after
    the batch's parties and relationships and before its interactions.
    """

    name: str
    schema: Mapping[str, Any]
    apply: Callable[[Sequence[Mapping[str, Any]], WriteSession], None]
    description: str = ""
    purposes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class DataDeclaration:
    """What one stored field holds about people, and under which rules.

    ``table`` and ``field`` name the column (``"party"``, ``"name"``) or a key
    inside a JSON column (``"attributes.email"``, ``"payload.lines"``).
    ``category`` is a data category (fideslang-style, e.g.
    ``user.contact.email``), ``subjects`` the data subjects it concerns
    (customer, employee, child ...), ``purposes`` why it is processed and
    ``retention`` how long it is kept (an ISO-8601 duration such as ``P7Y``,
    or None for "as long as the relationship lasts"). A privacy plugin drives
    consent checks, access exports, erasure and records of processing from
    these declarations.
    """

    table: str
    field: str
    category: str
    personal: bool = True
    subjects: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    purposes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    retention: str | None = None
    description: str = ""


def _merge(base: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict[str, Any]:
    """Add a config fragment's properties and required keys to a schema."""
    merged = dict(base)
    merged["properties"] = {**base.get("properties", {}), **fragment.get("properties", {})}
    required = list(base.get("required", []))
    required += [name for name in fragment.get("required", []) if name not in required]
    if required:
        merged["required"] = required
    for key, value in fragment.items():
        if key not in {"properties", "required"}:
            merged[key] = value
    return merged


#: Checks a schema against the JSON Schema meta-schema (``pattern`` must be a regex).
_META_VALIDATOR = jsonschema.Draft202012Validator(
    jsonschema.Draft202012Validator.META_SCHEMA,
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
)


def _check_fragment(where: str, fragment: Mapping[str, Any]) -> None:
    """A config's custom-attribute fragment must be a valid, self-contained JSON Schema.

    Each property's schema is checked against the JSON Schema meta-schema
    (a misspelt type, a pattern that is no regular expression), and references
    must stay inside the schema (``#/...``): a config never makes partygraph
    fetch a schema from the network or the file system.
    """
    for name, schema in (fragment.get("properties") or {}).items():
        field = f"{where}/properties/{name}"
        stack: list[tuple[Any, str]] = [(schema, field)]
        while stack:
            item, place = stack.pop()
            if isinstance(item, Mapping):
                for key, value in item.items():
                    if key in {"$ref", "$dynamicRef", "$id", "$anchor", "$schema"} and not (
                        key in {"$ref", "$dynamicRef"}
                        and isinstance(value, str)
                        and value.startswith("#")
                    ):
                        raise ValidationError(
                            f"{place}/{key}",
                            f"only references inside the schema (#/...) are allowed, got {value!r}",
                        )
                    stack.append((value, f"{place}/{key}"))
            elif isinstance(item, list):
                stack.extend((value, f"{place}/{index}") for index, value in enumerate(item))
        described = describe_errors(_META_VALIDATOR.iter_errors(schema))
        if described:
            where, message = described[0]
            raise ValidationError(field + where, message)


class Vocabulary:
    """The composed vocabulary of one toolkit, with compiled validators."""

    def __init__(
        self,
        party_kinds: Iterable[tuple[str, PartyKind]],
        relationship_types: Iterable[tuple[str, RelationshipType]],
        interaction_types: Iterable[tuple[str, InteractionType]],
        record_types: Iterable[tuple[str, RecordType]] = (),
        custom_attributes: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        custom = custom_attributes or {}
        self.party_kinds = self._collect("party kind", party_kinds)
        self.relationship_types = self._collect("relationship type", relationship_types)
        self.interaction_types = self._collect("interaction type", interaction_types)
        self.record_types = self._collect("record type", record_types)
        self._party_schemas: dict[str, CompiledSchema] = {}
        self._relationship_schemas: dict[str, CompiledSchema] = {}
        self._payload_schemas: dict[str, CompiledSchema] = {}
        self._record_schemas = {
            name: CompiledSchema(rtype.schema) for name, rtype in self.record_types.items()
        }
        for section, fragments in custom.items():
            for name, fragment in fragments.items():
                _check_fragment(f"/attributes/{section}/{name}", fragment)
        for name, kind in self.party_kinds.items():
            schema = _merge(kind.attributes, custom.get("parties", {}).get(name, {}))
            self._party_schemas[name] = CompiledSchema(schema)
        for name, rtype in self.relationship_types.items():
            schema = _merge(rtype.attributes, custom.get("relationships", {}).get(name, {}))
            self._relationship_schemas[name] = CompiledSchema(schema)
        for name, itype in self.interaction_types.items():
            schema = _merge(itype.payload, custom.get("interactions", {}).get(name, {}))
            self._payload_schemas[name] = CompiledSchema(schema)
        for section, known in (
            ("parties", self.party_kinds),
            ("relationships", self.relationship_types),
            ("interactions", self.interaction_types),
        ):
            for name in custom.get(section, {}):
                if name not in known:
                    raise ValidationError(
                        f"/attributes/{section}/{name}",
                        f"no such {section[:-1] if section != 'parties' else 'party'} "
                        f"{'kind' if section == 'parties' else 'type'} {name!r}; known: "
                        + (", ".join(sorted(known)) or "none"),
                    )

    @staticmethod
    def _collect(what: str, entries: Iterable[tuple[str, _T]]) -> dict[str, _T]:
        found: dict[str, _T] = {}
        owner: dict[str, str] = {}
        for plugin, entry in entries:
            name: str = getattr(entry, "name")  # noqa: B009 - every record has a name
            if name in found:
                raise PluginError(
                    f"{what} {name!r} is registered by both plugin {owner[name]!r} "
                    f"and plugin {plugin!r}; rename one of them"
                )
            found[name] = entry
            owner[name] = plugin
        return found

    # -- lookups that raise errors naming the field -------------------------------------

    def party_kind(self, name: str, field: str = "kind") -> PartyKind:
        """The registered kind, or a :class:`ValidationError` listing the known ones."""
        try:
            return self.party_kinds[name]
        except KeyError:
            raise _unknown(field, "party kind", name, self.party_kinds) from None

    def relationship_type(self, name: str, field: str = "type") -> RelationshipType:
        """The registered relationship type, or a :class:`ValidationError`."""
        try:
            return self.relationship_types[name]
        except KeyError:
            raise _unknown(field, "relationship type", name, self.relationship_types) from None

    def interaction_type(self, name: str, field: str = "type") -> InteractionType:
        """The registered interaction type, or a :class:`ValidationError`."""
        try:
            return self.interaction_types[name]
        except KeyError:
            raise _unknown(field, "interaction type", name, self.interaction_types) from None

    def party_schema(self, kind: str) -> CompiledSchema:
        """The compiled attribute schema of a party kind (config fragments included)."""
        return self._party_schemas[kind]

    def relationship_schema(self, type_name: str) -> CompiledSchema:
        """The compiled attribute schema of a relationship type."""
        return self._relationship_schemas[type_name]

    def record_schema(self, name: str) -> CompiledSchema:
        """The compiled schema of a plugin's record type."""
        return self._record_schemas[name]

    def payload_schema(self, type_name: str) -> CompiledSchema:
        """The compiled payload schema of an interaction type."""
        return self._payload_schemas[type_name]


def _unknown(field: str, what: str, name: str, known: Mapping[str, object]) -> ValidationError:
    from partygraph._schema_messages import closest

    hint = closest(name, known) if isinstance(name, str) else None
    allowed = ", ".join(sorted(known)) or "none (enable a plugin that registers one)"
    suggestion = f" Did you mean {hint!r}?" if hint else ""
    return ValidationError(field, f"unknown {what} {name!r}.{suggestion} Known: {allowed}", name)
