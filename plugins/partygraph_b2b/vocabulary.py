"""What the b2b plugin registers: relationship types, B2B touchpoints, the deal record.

The core owns the party kind ``organization``; its business attributes
(industry, employees, annual revenue) are validated by this plugin before a
write (``ORGANIZATION_ATTRIBUTES``), since a plugin cannot change another's
kind schema.
"""

from __future__ import annotations

from typing import Any

from partygraph import Cardinality, InteractionType, RelationshipType
from partygraph_b2b.settings import COMMITTEE_ROLES, Settings

__all__ = [
    "ACCOUNT_ROLE",
    "ORGANIZATION_ATTRIBUTES",
    "PURPOSES",
    "deal_schema",
    "interaction_types",
    "relationship_types",
]

#: Why the plugin's data is processed (a purpose the privacy plugin configures).
PURPOSES = ("sales",)
#: The participant role that names the account an interaction is about.
ACCOUNT_ROLE = "account"

#: Business attributes of an organisation, checked on every write of one.
ORGANIZATION_ATTRIBUTES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "industry": {"type": "string", "minLength": 1, "maxLength": 255},
        "employees": {"type": "integer", "minimum": 0},
        "annual_revenue": {"type": "number", "minimum": 0},
    },
}

_TEXT = {"type": "string", "maxLength": 255}
_MONEY = {
    "amount": {"type": "number", "minimum": 0},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "deal": {"type": "string", "minLength": 1, "maxLength": 255},
}


def relationship_types(settings: Settings) -> list[RelationshipType]:
    """``works_at``, ``stakeholder_of`` and ``subsidiary_of``."""
    return [
        RelationshipType(
            "works_at",
            label="works at",
            inverse_label="employs",
            source_kinds={"person"},
            target_kinds={"organization"},
            attributes={
                "type": "object",
                "properties": {"title": _TEXT, "department": _TEXT},
            },
            description="A person's job at an organisation, with title and department.",
        ),
        RelationshipType(
            "stakeholder_of",
            label="stakeholder of",
            inverse_label="has stakeholder",
            source_kinds={"person"},
            target_kinds={"organization"},
            roles=set(COMMITTEE_ROLES),
            role_required=True,
            attributes={
                "type": "object",
                "properties": {
                    "track": {"enum": sorted(settings.tracks)},
                    "influence": {"enum": ["low", "medium", "high"]},
                    "note": {"type": "string", "maxLength": 2000},
                },
            },
            description=(
                "A person's place in an account's buying committee; influencers may be "
                "outsiders who do not work at the account."
            ),
        ),
        RelationshipType(
            "subsidiary_of",
            label="subsidiary of",
            inverse_label="parent of",
            source_kinds={"organization"},
            target_kinds={"organization"},
            attributes={
                "type": "object",
                "properties": {"ownership": {"type": "number", "minimum": 0, "maximum": 100}},
            },
            # One parent at a time; a new parent from a date ends the previous link there.
            cardinality=[Cardinality(per="source", max=1, on_excess="end_previous")],
            description="The account hierarchy; figures roll up to the parent.",
        ),
    ]


def interaction_types() -> list[InteractionType]:
    """B2B touchpoints; any of them may name the account (participant role ``account``)."""

    def touchpoint(
        name: str,
        roles: set[str],
        payload: dict[str, Any],
        description: str,
        required: tuple[str, ...] = (),
    ) -> InteractionType:
        return InteractionType(
            name,
            label=name.replace("_", " "),
            roles={*roles, ACCOUNT_ROLE},
            required_roles=required,
            payload={"type": "object", "properties": payload},
            purposes=PURPOSES,
            description=description,
        )

    return [
        touchpoint(
            "meeting",
            {"organizer", "attendee"},
            {
                "topic": _TEXT,
                "channel": {"enum": ["in_person", "video", "phone"]},
                "duration_minutes": {"type": "number", "minimum": 0},
            },
            "A meeting with stakeholders of an account.",
        ),
        touchpoint(
            "email",
            {"sender", "recipient", "cc"},
            {"subject": _TEXT, "direction": {"enum": ["inbound", "outbound"]}},
            "An email exchanged with stakeholders.",
        ),
        touchpoint(
            "demo",
            {"presenter", "attendee"},
            {"product": _TEXT, "topic": _TEXT},
            "A product demonstration.",
        ),
        touchpoint(
            "proposal",
            {"sender", "recipient"},
            {**_MONEY, "topic": _TEXT},
            "A proposal sent to an account (payload.deal names the deal).",
        ),
        touchpoint(
            "contract_signed",
            {"signatory", "witness"},
            {**_MONEY, "contract": _TEXT, "term_months": {"type": "integer", "minimum": 1}},
            "A contract signed by an account: the account becomes a customer account.",
            required=(ACCOUNT_ROLE,),
        ),
    ]


def deal_schema(settings: Settings) -> dict[str, Any]:
    """The body of a ``deal`` record (stages from the config)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "account"],
        "properties": {
            "key": {"type": "string", "minLength": 1, "maxLength": 255},
            "account": {"type": ["string", "integer"]},
            "name": _TEXT,
            "stage": {"enum": list(settings.deal_stages)},
            "status": {"enum": ["open", "won", "lost"]},
            "amount": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "expected_close": {"type": "string", "format": "date"},
            "at": {"type": "string"},
        },
    }
