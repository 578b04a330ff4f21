"""What the household plugin registers: party kinds, relationship types, data declarations."""

from __future__ import annotations

from typing import Any, Literal

from partygraph import Cardinality, DataDeclaration, PartyKind, RelationshipType
from partygraph_household.settings import Settings

__all__ = [
    "ACCOUNT_HOLDING",
    "HEAD",
    "HOLDS",
    "HOUSEHOLD",
    "MEMBER_OF",
    "MEMBERSHIP_ROLES",
    "PURPOSE",
    "data_declarations",
    "party_kinds",
    "relationship_types",
]

#: The party kind of a household, and of a joint account or product.
HOUSEHOLD = "household"
ACCOUNT_HOLDING = "account_holding"
#: person -> household; the privacy plugin recognises a guardian through role ``head``.
MEMBER_OF = "member_of"
HEAD = "head"
MEMBERSHIP_ROLES = ("head", "partner", "dependent", "other")
#: person (or household) -> account_holding, with a share.
HOLDS = "holds"
HOLDING_ROLES = ("holder", "beneficiary")
#: The purpose every roll-up is processed for (a privacy plugin may leave members out).
PURPOSE = "household_aggregation"

_ADDRESS: dict[str, Any] = {
    "description": "Postal address: one line of text, or its parts.",
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 500},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                name: {"type": "string", "maxLength": 200}
                for name in (
                    "line1",
                    "line2",
                    "street",
                    "house_number",
                    "postal_code",
                    "city",
                    "region",
                    "country",
                )
            },
        },
    ],
}

HOUSEHOLD_ATTRIBUTES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "address": _ADDRESS,
        "segment": {"type": "string", "maxLength": 100},
    },
}

HOLDING_ATTRIBUTES: dict[str, Any] = {
    "type": "object",
    "required": ["product"],
    "properties": {
        "product": {
            "description": "What is held: joint_account, family_insurance, education_savings ...",
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]{0,63}$",
        },
        "balance": {"type": "number"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "opened_on": {"type": "string", "format": "date"},
        "provider": {"type": "string", "maxLength": 200},
    },
}

MEMBERSHIP_ATTRIBUTES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "relation": {
            "description": "How the member is related to the head (spouse, child, parent ...).",
            "type": "string",
            "maxLength": 50,
        },
        "note": {"type": "string", "maxLength": 500},
    },
}

HOLDS_ATTRIBUTES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "share": {
            "description": "The holder's share, a fraction: 0.5 for one of two equal holders.",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
        },
    },
}


def party_kinds() -> list[PartyKind]:
    """Household, and a joint account or product held by members."""
    return [
        PartyKind(
            HOUSEHOLD,
            label="Household",
            description="People living together and treated as one economic unit.",
            attributes=HOUSEHOLD_ATTRIBUTES,
        ),
        PartyKind(
            ACCOUNT_HOLDING,
            label="Account or product holding",
            description="A joint account, a family insurance, an education savings plan ...",
            attributes=HOLDING_ATTRIBUTES,
        ),
    ]


def relationship_types(settings: Settings) -> list[RelationshipType]:
    """``member_of`` (with its cardinality rules) and ``holds``."""
    # The core applies the rules in order, and a rule that ends a link does so before the
    # next rule is checked: the rule that may refuse comes first, so that a refused
    # membership never ends the current head's.
    rules: list[Cardinality] = []
    if settings.max_households_per_person is not None:
        on_excess: Literal["fail", "end_previous"] = (
            "end_previous" if settings.joining_another_household == "end_previous" else "fail"
        )
        rules.append(
            Cardinality(per="source", max=settings.max_households_per_person, on_excess=on_excess)
        )
    rules.append(Cardinality(per="target", role=HEAD, max=1, on_excess="end_previous"))
    return [
        RelationshipType(
            MEMBER_OF,
            label="member of",
            inverse_label="has member",
            source_kinds={"person"},
            target_kinds={HOUSEHOLD},
            roles=set(MEMBERSHIP_ROLES),
            role_required=True,
            attributes=MEMBERSHIP_ATTRIBUTES,
            cardinality=rules,
            description=(
                "A person's membership of a household, in a role (head, partner, dependent, "
                "other); at most one head at a time, and a new head ends the previous one's "
                "headship on that date."
            ),
        ),
        RelationshipType(
            HOLDS,
            label="holds",
            inverse_label="held by",
            source_kinds={"person", HOUSEHOLD},
            target_kinds={ACCOUNT_HOLDING},
            roles=set(HOLDING_ROLES),
            attributes=HOLDS_ATTRIBUTES,
            description="Holding a share of an account or product; joint holders share one.",
        ),
    ]


def data_declarations(settings: Settings) -> list[DataDeclaration]:
    """What the plugin reads and adds about people (it has no tables of its own)."""
    members = ("customer", "household_member")
    return [
        DataDeclaration(
            "party",
            f"attributes.{settings.address_attribute}",
            "user.contact.address",
            subjects=members,
            purposes=("service", PURPOSE),
            description="Postal address; people sharing one are proposed as a household.",
        ),
        DataDeclaration(
            "party",
            "attributes.segment",
            "user.demographic",
            subjects=("household_member",),
            purposes=(PURPOSE,),
            description="A household's segment.",
        ),
        DataDeclaration(
            "party",
            "attributes.product",
            "user.financial",
            subjects=members,
            purposes=("service", PURPOSE),
            description="The product an account holding is (joint account, insurance ...).",
        ),
        DataDeclaration(
            "party",
            "attributes.balance",
            "user.financial.bank_account",
            subjects=members,
            purposes=("service", PURPOSE),
            description="The balance of an account holding.",
        ),
        DataDeclaration(
            "relationship",
            "role",
            "user.childrens",
            subjects=("household_member", "child"),
            purposes=("service", PURPOSE),
            description="Role in a household (head, partner, dependent): shows who is a child.",
        ),
        DataDeclaration(
            "relationship",
            "attributes.relation",
            "user.demographic",
            subjects=("household_member", "child"),
            purposes=("service", PURPOSE),
            description="How a member is related to the head.",
        ),
        DataDeclaration(
            "relationship",
            "attributes.share",
            "user.financial",
            subjects=members,
            purposes=("service", PURPOSE),
            description="A holder's share of a joint account or product.",
        ),
    ]
