"""What the nonprofit plugin adds to the shared vocabulary.

A ``program`` is what a non-profit runs to serve people. People are served
(``service_delivery``), enrolled (``enrolled_in``), give (``donation``) and
volunteer (``volunteers_for``). Interaction types declare their purposes,
so a privacy plugin can gate them.
"""

from __future__ import annotations

from partygraph import DataDeclaration, InteractionType, PartyKind, RelationshipType

__all__ = [
    "DONATION",
    "ENROLLED_IN",
    "PROGRAM",
    "SERVICE_DELIVERY",
    "VOLUNTEERS_FOR",
    "data_declarations",
    "interaction_types",
    "party_kinds",
    "relationship_types",
]

PROGRAM = "program"
ENROLLED_IN = "enrolled_in"
VOLUNTEERS_FOR = "volunteers_for"
SERVICE_DELIVERY = "service_delivery"
DONATION = "donation"

_SERVED_SUBJECTS = ("beneficiary",)
_DONOR_SUBJECTS = ("donor",)


def party_kinds() -> list[PartyKind]:
    """The ``program`` party kind."""
    return [
        PartyKind(
            PROGRAM,
            label="Programme",
            description="Something a non-profit runs to serve people: a food bank, tutoring.",
            attributes={
                "type": "object",
                "properties": {
                    "mission": {"type": "string", "maxLength": 500},
                    "area": {"type": "string", "maxLength": 200},
                },
            },
        )
    ]


def relationship_types() -> list[RelationshipType]:
    """Enrolment in a programme, and volunteering."""
    return [
        RelationshipType(
            ENROLLED_IN,
            label="enrolled in",
            inverse_label="has participant",
            source_kinds={"person"},
            target_kinds={PROGRAM},
            roles={"participant"},
            description="A person the programme serves over a period (a course, a season).",
        ),
        RelationshipType(
            VOLUNTEERS_FOR,
            label="volunteers for",
            inverse_label="has volunteer",
            source_kinds={"person"},
            target_kinds={PROGRAM, "organization"},
            roles={"volunteer", "coordinator"},
            attributes={
                "type": "object",
                "properties": {"skills": {"type": "array", "items": {"type": "string"}}},
            },
        ),
    ]


def interaction_types() -> list[InteractionType]:
    """Service deliveries and donations."""
    return [
        InteractionType(
            SERVICE_DELIVERY,
            label="Service delivery",
            roles={"served", "program", "volunteer"},
            required_roles=("served", "program"),
            payload={
                "type": "object",
                "additionalProperties": False,
                "required": ["service"],
                "properties": {
                    "service": {"type": "string", "maxLength": 200},
                    "units": {"type": "number", "exclusiveMinimum": 0},
                },
            },
            purposes=("service",),
            description="Someone was served by a programme (a food parcel, a tutoring hour).",
        ),
        InteractionType(
            DONATION,
            label="Donation",
            roles={"donor", "recipient"},
            required_roles=("donor",),
            payload={
                "type": "object",
                "additionalProperties": False,
                "required": ["amount"],
                "properties": {
                    "amount": {"type": "number", "exclusiveMinimum": 0},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "campaign": {"type": "string", "maxLength": 200},
                    "gift_aid": {"type": "boolean"},
                },
            },
            purposes=("fundraising", "billing"),
            description="A gift from a donor (a person or an organization).",
        ),
    ]


def data_declarations() -> list[DataDeclaration]:
    """What the gift table holds about donors."""

    def gift(field: str, description: str) -> DataDeclaration:
        return DataDeclaration(
            "nonprofit_gift",
            field,
            "user.financial",
            subjects=_DONOR_SUBJECTS,
            purposes=("fundraising", "billing"),
            retention="P7Y",
            description=description,
        )

    return [
        gift("received_at", "When the gift was received."),
        gift("amount", "How much was given."),
        gift("currency", "The gift's currency."),
        gift("campaign", "The appeal the gift answered."),
        gift("gift_aid", "Whether the donor declared the gift for tax relief."),
        DataDeclaration(
            "interaction",
            "payload.service",
            "user.behavior",
            subjects=_SERVED_SUBJECTS,
            purposes=("service",),
            description="What a person received from a programme (service deliveries).",
        ),
    ]
