"""What the internal plugin registers: departments, employment, serving, and three events.

- party kind ``department`` (a department or a team; not a natural person);
- ``employed_in`` (person -> department), one department at a time: a new
  link with a ``valid_from`` ends the previous one there, so a move from
  marketing to finance keeps the marketing years in the history;
- ``serves`` (department -> department, or department -> organization, which
  means everyone in it): an internal supplier-customer pair, with the
  catalogue categories it covers and SLA overrides;
- interactions ``service_request``, ``lead_handoff`` and ``crm_usage``.

Schemas that depend on the catalogue (category names) are built from the
settings, so an unknown category is refused by the core's validation with the
list of known ones.
"""

from __future__ import annotations

from typing import Any

from partygraph import (
    Cardinality,
    DataDeclaration,
    InteractionType,
    PartyKind,
    RelationshipType,
)
from partygraph_internal.settings import EMPLOYEE_USAGE_PURPOSE, Settings

__all__ = [
    "CRM_USAGE",
    "DEPARTMENT",
    "EMPLOYED_IN",
    "LEAD_HANDOFF",
    "SERVES",
    "SERVICE_REQUEST",
    "data_declarations",
    "interaction_types",
    "party_kinds",
    "relationship_types",
]

DEPARTMENT = "department"
EMPLOYED_IN = "employed_in"
SERVES = "serves"
SERVICE_REQUEST = "service_request"
LEAD_HANDOFF = "lead_handoff"
CRM_USAGE = "crm_usage"

_TIME: dict[str, Any] = {
    "description": "ISO-8601 date or date-time (UTC unless an offset is given).",
    "type": "string",
    "minLength": 10,
    "maxLength": 40,
}
_SLA: dict[str, Any] = {
    "description": (
        "An SLA target: an ISO-8601 duration in weeks, days, hours or minutes "
        "(PT8H, P3D, PT30M). A bare number is refused: it has no unit."
    ),
    "type": ["string", "number"],
}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}


def party_kinds() -> list[PartyKind]:
    """The ``department`` kind."""
    return [
        PartyKind(
            DEPARTMENT,
            label="Department",
            description=(
                "A department or team of the organisation. Employees are persons "
                "employed_in it; it serves other departments and requests their services."
            ),
            attributes={
                "type": "object",
                "properties": {
                    "function": {
                        "description": "What it does: marketing, sales, it, hr, finance ...",
                        "type": "string",
                        "maxLength": 64,
                    },
                    "code": {"description": "An internal code.", "type": "string", "maxLength": 64},
                    "level": {
                        "description": "A department or a team within one.",
                        "enum": ["department", "team"],
                    },
                    "cost_center": {"type": "string", "maxLength": 64},
                },
            },
        )
    ]


def relationship_types(settings: Settings) -> list[RelationshipType]:
    """``employed_in`` and ``serves``."""
    categories = sorted(settings.catalogue)
    return [
        RelationshipType(
            EMPLOYED_IN,
            label="employed in",
            inverse_label="employs",
            source_kinds={"person"},
            target_kinds={DEPARTMENT},
            roles={"employee", "manager", "head", "contractor"},
            attributes={
                "type": "object",
                "properties": {
                    "title": {"description": "Job title.", "type": "string", "maxLength": 200},
                    "fte": {
                        "description": "Full-time equivalent.",
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 1,
                    },
                },
            },
            # One department at a time: a move ends the previous link on the new one's
            # valid_from, so past requests stay credited to the department of their day.
            cardinality=[Cardinality(per="source", max=1, on_excess="end_previous")],
            description="An employee's department (or team), with validity dates.",
        ),
        RelationshipType(
            SERVES,
            label="serves",
            inverse_label="is served by",
            source_kinds={DEPARTMENT},
            target_kinds={DEPARTMENT, "organization"},
            attributes={
                "type": "object",
                "properties": {
                    "categories": {
                        "description": "Catalogue categories this pair covers (absent: any).",
                        "type": "array",
                        "items": {"enum": categories},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                    "sla": {
                        "description": "Category -> SLA target replacing the catalogue's.",
                        "type": "object",
                        "propertyNames": {"enum": categories},
                        "additionalProperties": _SLA,
                    },
                    "note": {"type": "string", "maxLength": 2000},
                },
                "additionalProperties": False,
            },
            description=(
                "An internal supplier-customer pair. The target is a department, or an "
                "organization: the whole company, i.e. everyone."
            ),
        ),
    ]


def interaction_types(settings: Settings) -> list[InteractionType]:
    """``service_request``, ``lead_handoff`` and ``crm_usage``."""
    categories = sorted(settings.catalogue)
    return [
        InteractionType(
            SERVICE_REQUEST,
            label="Service request",
            roles={"requester", "provider", "assignee"},
            required_roles=("requester", "provider"),
            payload={
                "type": "object",
                "required": ["category"],
                "properties": {
                    "category": {"description": "A catalogue category.", "enum": categories},
                    "resolved_at": _TIME,
                    "sla_target": _SLA,
                    "satisfaction": {
                        "description": "The requester's rating, 1 (poor) to 5 (excellent).",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 5,
                    },
                    "summary": {"type": "string", "maxLength": 500},
                    "channel": {"type": "string", "maxLength": 64},
                },
            },
            purposes=("support",),
            description=(
                "A requester (an employee or a department) asks a provider department for a "
                "service; opened at occurred_at. An assignee is the employee who handled it."
            ),
        ),
        InteractionType(
            LEAD_HANDOFF,
            label="Lead hand-off",
            roles={"from", "to", "lead"},
            required_roles=("from", "to"),
            payload={
                "type": "object",
                "required": ["outcome"],
                "properties": {
                    "outcome": {"enum": ["accepted", "rejected", "pending"]},
                    "decided_at": _TIME,
                    "reason": {"type": "string", "maxLength": 500},
                    "score": {"type": "number"},
                    "source": {"type": "string", "maxLength": 128},
                },
            },
            purposes=("sales",),
            description=(
                "A lead handed from one department (or employee) to another, typically "
                "marketing to sales, and whether it was accepted."
            ),
        ),
        InteractionType(
            CRM_USAGE,
            label="CRM usage",
            roles={"user"},
            required_roles=("user",),
            payload={
                "type": "object",
                "properties": {
                    "records_created": _COUNT,
                    "records_updated": _COUNT,
                    "fields_filled": _COUNT,
                    "fields_expected": _COUNT,
                    "minutes": {"type": "number", "minimum": 0},
                    "tool": {"type": "string", "maxLength": 128},
                },
                "additionalProperties": False,
            },
            purposes=(EMPLOYEE_USAGE_PURPOSE,),
            description=(
                "An employee's use of the CRM over a period (records created or updated, "
                "attributes filled), imported from a usage log."
            ),
        ),
    ]


def data_declarations() -> list[DataDeclaration]:
    """What the plugin's tables, payloads and relationship attributes hold about people."""
    employee = ("employee",)
    support = ("support",)
    usage = (EMPLOYEE_USAGE_PURPOSE,)

    def own(
        table: str,
        field: str,
        category: str,
        purposes: tuple[str, ...],
        description: str,
        *,
        personal: bool = True,
    ) -> DataDeclaration:
        return DataDeclaration(
            table,
            field,
            category,
            personal=personal,
            subjects=employee if personal else (),
            purposes=purposes,
            description=description,
        )

    return [
        own("internal_request", "requester_id", "user.unique_id", support, "Who asked."),
        own("internal_request", "assignee_id", "user.unique_id", support, "Who handled it."),
        own("internal_request", "opened_at", "user.behavior", support, "When it was opened."),
        own("internal_request", "resolved_at", "user.behavior", support, "When it was resolved."),
        own(
            "internal_request",
            "satisfaction",
            "user.behavior",
            support,
            "The requester's rating of the service.",
        ),
        own(
            "internal_request",
            "category",
            "system.operations",
            support,
            "The catalogue category (no personal data).",
            personal=False,
        ),
        own(
            "internal_request",
            "provider_id",
            "system.operations",
            support,
            "The provider department (not a person).",
            personal=False,
        ),
        own("internal_usage", "party_id", "user.unique_id", usage, "The employee using the CRM."),
        own("internal_usage", "at", "user.behavior", usage, "When the CRM was used."),
        own(
            "internal_usage",
            "records_created",
            "user.behavior",
            usage,
            "How many records the employee created.",
        ),
        own(
            "internal_usage",
            "records_updated",
            "user.behavior",
            usage,
            "How many records the employee updated.",
        ),
        own(
            "internal_usage",
            "fields_filled",
            "user.behavior",
            usage,
            "Attributes filled in the records touched (data completeness).",
        ),
        own(
            "internal_usage",
            "fields_expected",
            "user.behavior",
            usage,
            "Required and recommended attributes of the records touched.",
        ),
        own(
            "relationship",
            "attributes.title",
            "user.job_title",
            support,
            "An employee's job title (employed_in).",
        ),
        own(
            "interaction",
            "payload.satisfaction",
            "user.behavior",
            support,
            "A requester's rating of an internal service (service_request).",
        ),
        own(
            "interaction",
            "payload.records_created",
            "user.behavior",
            usage,
            "An employee's CRM activity (crm_usage).",
        ),
    ]
