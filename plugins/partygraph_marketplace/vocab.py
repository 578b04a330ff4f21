"""The marketplace's vocabulary, built from its settings.

- party kind ``platform`` (not a person: no personal attributes);
- relationship type ``side_of`` (member -> platform), role = the side; each row
  is one stage of the membership's lifecycle (``status``: applied, onboarding,
  active, suspended, churned), so a new status written with its ``valid_from``
  ends the previous one and the dates are kept;
- interaction types: the transaction (``trip`` or ``app_purchase``; its
  participant roles are the side names), ``support_ticket`` (opened from one
  side, optionally with an ``agent``) and ``incentive_payout``.

Every schema is strict (``additionalProperties: false``); a company adds fields
through ``[attributes.interactions.<type>]`` in its config like any other.
"""

from __future__ import annotations

from typing import Any

from partygraph import Cardinality, DataDeclaration, InteractionType, PartyKind, RelationshipType
from partygraph_marketplace.settings import Settings, Transaction

__all__ = [
    "INCENTIVE_PAYOUT",
    "PLATFORM",
    "SIDE_OF",
    "STATUSES",
    "SUPPORT_TICKET",
    "TICKET_OPEN",
    "data_declarations",
    "interaction_types",
    "party_kinds",
    "relationship_types",
]

PLATFORM = "platform"
SIDE_OF = "side_of"
SUPPORT_TICKET = "support_ticket"
INCENTIVE_PAYOUT = "incentive_payout"
AGENT = "agent"

#: The lifecycle of a side membership, in its usual order.
STATUSES = ("applied", "onboarding", "active", "suspended", "churned")
#: Ticket statuses that leave an issue open.
TICKET_OPEN = ("open", "pending")
TICKET_STATUSES = ("open", "pending", "solved", "closed")

_TIME = {"type": "string", "format": "date-time"}
_MONEY = {"type": "number", "minimum": 0}


def party_kinds() -> list[PartyKind]:
    """The platform: the party every side membership points to."""
    return [
        PartyKind(
            PLATFORM,
            label="Platform",
            description="A two-sided marketplace (a ride-sharing app, an app store ...).",
            attributes={
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "url": {"type": "string", "maxLength": 2000},
                    "region": {"type": "string", "maxLength": 200},
                },
            },
        )
    ]


def _zone(settings: Settings) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 100}
    if settings.zones:
        schema["enum"] = list(settings.zones)
    return schema


def relationship_types(settings: Settings) -> list[RelationshipType]:
    """``side_of``: a membership of one side of a platform, one row per lifecycle stage."""
    return [
        RelationshipType(
            SIDE_OF,
            label="is on a side of",
            inverse_label="has on a side",
            source_kinds={"person", "organization"},
            target_kinds={PLATFORM},
            roles=settings.side_names,
            role_required=True,
            attributes={
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "status": {
                        "description": "The membership's stage from valid_from (default active).",
                        "enum": list(STATUSES),
                    },
                    "reason": {"type": "string", "maxLength": 1000},
                    "home_zone": _zone(settings),
                },
            },
            # A new stage (with its valid_from) ends the previous one: the history stays.
            cardinality=[
                Cardinality(per="source", role=side, max=1, on_excess="end_previous")
                for side in settings.side_names
            ],
            description="Membership of one side of a platform (role: the side), by stage.",
        )
    ]


def _ratings(settings: Settings) -> dict[str, Any]:
    return {
        "description": "The rating each side gave (side -> 1 to 5): ratings.rider is the "
        "rider's rating of the driver.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            side: {"type": "number", "minimum": 1, "maximum": 5} for side in settings.side_names
        },
    }


def _currency(settings: Settings) -> dict[str, Any]:
    return {"enum": [settings.currency]}


def transaction_payload(settings: Settings, spec: Transaction) -> dict[str, Any]:
    """The payload schema of the marketplace's transaction type."""
    properties: dict[str, Any] = {
        "status": {"enum": list(spec.statuses), "description": "Default completed."},
        spec.amount: _MONEY,
        "currency": _currency(settings),
        "ratings": _ratings(settings),
    }
    if spec.name == "trip":
        properties.update(
            {
                "requested_at": _TIME,
                "started_at": _TIME,
                "ended_at": _TIME,
                "pickup_zone": _zone(settings),
                "dropoff_zone": _zone(settings),
                "distance_km": {"type": "number", "minimum": 0},
                "tip": _MONEY,
                "incentive": {
                    "description": "A platform-funded incentive paid to the supply side "
                    "for this trip (a boost, a quest step).",
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["amount"],
                    "properties": {
                        "program": {"type": "string", "maxLength": 200},
                        "amount": _MONEY,
                    },
                },
            }
        )
    else:
        properties.update(
            {
                "app": {"type": "string", "minLength": 1, "maxLength": 200},
                "kind": {"enum": ["app", "in_app", "subscription"]},
                spec.share or "revenue_share": {
                    "description": "The supply side's share of the price (0.7 = 70 %); "
                    "default: 1 - platform_fee_rate.",
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                },
            }
        )
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        # A completed transaction says what was paid.
        "if": {"properties": {"status": {"const": "completed"}}},
        "then": {"required": [spec.amount]},
    }
    if spec.name == "app_purchase":
        schema["required"] = ["app"]
    return schema


def interaction_types(settings: Settings) -> list[InteractionType]:
    """The transaction type, support tickets and incentive payouts."""
    spec = settings.transaction
    sides = settings.side_names
    required: list[str] = []
    demand = settings.positioned("demand")
    supply = settings.positioned("supply")
    if len(demand) == 1:
        required.append(demand[0].name)
    if len(supply) == 1 and "unfulfilled" not in spec.statuses:
        required.append(supply[0].name)
    return [
        InteractionType(
            spec.name,
            label=spec.noun.capitalize(),
            roles=sides,
            required_roles=required,
            payload=transaction_payload(settings, spec),
            purposes=("service", "billing"),
            description="A marketplace transaction between a demand side and a supply side.",
        ),
        InteractionType(
            SUPPORT_TICKET,
            label="Support ticket",
            roles=(*sides, AGENT),
            payload={
                "type": "object",
                "additionalProperties": False,
                "required": ["ticket", "status"],
                "properties": {
                    "ticket": {"type": "string", "minLength": 1, "maxLength": 200},
                    "status": {"enum": list(TICKET_STATUSES)},
                    "subject": {"type": "string", "maxLength": 500},
                    "category": {"type": "string", "maxLength": 100},
                    "priority": {"enum": ["low", "normal", "high", "urgent"]},
                    "transaction": {
                        "description": "The key of the transaction it is about.",
                        "type": "string",
                        "maxLength": 200,
                    },
                },
            },
            purposes=("support",),
            description="One event of a support ticket (opened, answered, solved ...), "
            "recorded with the side it was opened from as the participant's role.",
        ),
        InteractionType(
            INCENTIVE_PAYOUT,
            label="Incentive payout",
            roles=sides,
            payload={
                "type": "object",
                "additionalProperties": False,
                "required": ["amount"],
                "properties": {
                    "amount": _MONEY,
                    "currency": _currency(settings),
                    "program": {"type": "string", "maxLength": 200},
                    "period": {"type": "string", "maxLength": 20},
                    "note": {"type": "string", "maxLength": 1000},
                },
            },
            purposes=("billing",),
            description="A bonus paid to a member of a side (an incentive program met ...).",
        ),
    ]


def data_declarations(settings: Settings) -> list[DataDeclaration]:
    """What the marketplace's table and payloads hold about people.

    Of the payloads, only text fields are declared: an erasure masks them in the
    interactions others keep (a driver's trips with an erased rider), while the
    amounts stay numbers, so the other side's earnings still add up.
    """
    subjects = settings.side_names
    purposes = ("service", "billing", "analytics")
    table = "marketplace_activity"

    def own(field: str, category: str, description: str, personal: bool = True) -> DataDeclaration:
        return DataDeclaration(
            table,
            field,
            category,
            personal=personal,
            subjects=subjects if personal else (),
            purposes=purposes if personal else (),
            description=description,
        )

    declarations = [
        own("party_id", "user.unique_id", "The member of a side a row is about."),
        own("side", "user.behavior.purchase_history", "The side the member acted on."),
        own("kind", "user.behavior.purchase_history", "A transaction, or an incentive payout."),
        own("occurred_at", "user.behavior.purchase_history", "When it happened."),
        own("status", "user.behavior.purchase_history", "Completed, cancelled, refunded ..."),
        own("completed", "user.behavior.purchase_history", "Whether it was completed."),
        own("amount", "user.financial", "What was paid (fare, price) or paid out."),
        own("fee", "user.financial", "The platform's fee on it, as applied then."),
        own("tip", "user.financial", "The tip passed on to the supply side."),
        own("incentive", "user.financial", "A platform-funded incentive on it."),
        own("rating", "user.behavior", "The rating the member received for it."),
        own("pickup_zone", "user.location.imprecise", "Where a trip started (a zone)."),
        own("dropoff_zone", "user.location.imprecise", "Where a trip ended (a zone)."),
        own(
            "interaction_id",
            "system.operations",
            "The interaction a row comes from (a reference, no personal data).",
            personal=False,
        ),
        DataDeclaration(
            "relationship",
            "attributes.home_zone",
            "user.location.imprecise",
            subjects=subjects,
            purposes=("service",),
            description="The zone a member of a side mostly works or rides in.",
        ),
        DataDeclaration(
            "interaction",
            "payload.subject",
            "user.content.private",
            subjects=subjects,
            purposes=("support",),
            description="What a support ticket is about, in the member's words.",
        ),
    ]
    if settings.transaction.zones:
        for field in ("pickup_zone", "dropoff_zone"):
            declarations.append(
                DataDeclaration(
                    "interaction",
                    f"payload.{field}",
                    "user.location.imprecise",
                    subjects=subjects,
                    purposes=("service", "analytics", "profiling"),
                    description="Where a trip started or ended (a zone, not an address); "
                    "the basis of trip suggestions and of supply and demand per zone.",
                )
            )
    return declarations
