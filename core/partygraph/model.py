"""The party model: parties, relationships, interactions and role assignments.

These are plain, immutable attrs records. They carry no database session and
no behaviour beyond small predicates, so hooks can receive them, tests can
build them, and :data:`converter` turns them into JSON-ready dicts and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs
import cattrs

from partygraph.times import parse_time

__all__ = [
    "Context",
    "Interaction",
    "Participant",
    "Party",
    "PartyRef",
    "PartySummary",
    "Relationship",
    "RelationshipView",
    "RoleAssignment",
    "RoleKind",
    "WriteContext",
    "converter",
]

#: A party is referred to by its external key (str) or its numeric id (int).
PartyRef = str | int
#: Whom a role makes the party a customer of.
RoleKind = Literal["external", "internal", "ecosystem"]


def _frozen_dict(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else {}


@attrs.frozen
class Party:
    """A person, organisation, household, department ... any registered kind."""

    key: str
    kind: str
    name: str | None = None
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class PartySummary:
    """Enough of a party to name it in a role, a relationship or a view."""

    id: int
    key: str
    kind: str
    name: str | None = None

    @classmethod
    def of(cls, party: Party) -> PartySummary:
        """Summarise a stored party."""
        assert party.id is not None, "only stored parties can be summarised"
        return cls(party.id, party.key, party.kind, party.name)


@attrs.frozen
class Relationship:
    """A typed, directed, time-bounded edge from *source* to *target*.

    ``valid_from`` None means "since an unknown time"; ``valid_to`` None means
    "still valid". Ending a relationship sets ``valid_to``; nothing is
    overwritten, so history answers "what was true at time T?".
    """

    type: str
    source: PartyRef
    target: PartyRef
    role: str | None = None
    primary: bool = False
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    id: int | None = None

    def is_valid_at(self, at: datetime) -> bool:
        """True when the relationship holds at *at* (``valid_to`` is exclusive)."""
        started = self.valid_from is None or self.valid_from <= at
        return started and (self.valid_to is None or at < self.valid_to)


@attrs.frozen
class RelationshipView:
    """A relationship as one of its two parties sees it."""

    relationship: Relationship
    direction: Literal["outgoing", "incoming"]
    label: str
    other: PartySummary
    current: bool


@attrs.frozen
class Participant:
    """A party taking part in an interaction, in a role (rider, purchaser ...)."""

    party: PartyRef
    role: str


def _participants(value: Any) -> tuple[Participant, ...]:
    if type(value) is tuple and all(type(item) is Participant for item in value):
        return value
    out = []
    for item in value:
        if isinstance(item, Participant):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Participant(item["party"], item["role"]))
        else:
            party, role = item
            out.append(Participant(party, role))
    return tuple(out)


@attrs.frozen
class Interaction:
    """A timestamped event with one or more participants, each in a role.

    ``key`` is an optional external identifier (an order number, a trip id):
    recording the same key twice keeps the first and ignores the second.
    """

    type: str
    occurred_at: datetime
    participants: tuple[Participant, ...] = attrs.field(converter=_participants)
    payload: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    key: str | None = None
    id: int | None = None


@attrs.frozen
class RoleAssignment:
    """A role a party plays, relative to a context party or none, and why.

    ``plugin`` is filled in by the toolkit with the name of the plugin that
    answered; plugins leave it out.
    """

    role: str
    reason: str
    plugin: str | None = None
    context: PartySummary | None = None
    customer: bool = False
    kind: RoleKind = "external"
    since: datetime | None = None
    until: datetime | None = None
    evidence: tuple[str, ...] = ()


@attrs.frozen
class Context:
    """Who reads or writes, in which capacity, and why.

    Plugins audit, gate and count with it: ``actor`` is the person (or
    system) acting, ``purpose`` the reason for the processing, ``viewer_role``
    the capacity a reader acts in (sales, support, analyst ...), ``source``
    the channel (api, import, cli ...), ``at`` the time of the action.
    """

    actor: str | None = None
    purpose: str | None = None
    source: str = "api"
    at: datetime | None = None
    viewer_role: str | None = None


#: The same class under the name the write API first used.
WriteContext = Context


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(datetime, lambda value: value.isoformat().replace("+00:00", "Z"))
    conv.register_structure_hook(datetime, lambda value, _type: parse_time(value))
    conv.register_structure_hook(
        PartyRef, lambda value, _type: value if isinstance(value, int | str) else str(value)
    )
    return conv


#: Converts model objects to JSON-ready dicts (``converter.unstructure``) and back.
converter = _make_converter()
