"""The b2c vocabulary: ``purchase``, ``return`` and ``product_usage``, with payload schemas.

A purchase answers "who is the customer?" from two perspectives: billing (the
``purchaser``: revenue, lifetime value, loyalty) and service (each
``consumer``: the person the product is for -- usage, support, product
messages). Both purposes are implicit under the privacy plugin (they rest on
the contract), so a consumer's marketing opt-out never stops a purchaser's
receipt.
"""

from __future__ import annotations

from typing import Any

from partygraph import InteractionType

__all__ = [
    "PRODUCT_USAGE",
    "PURCHASE",
    "PURCHASE_PAYLOAD",
    "RETURN",
    "RETURN_PAYLOAD",
    "USAGE_PAYLOAD",
    "interaction_types",
]

PURCHASE = "purchase"
RETURN = "return"
PRODUCT_USAGE = "product_usage"

_CURRENCY: dict[str, Any] = {
    "description": "ISO 4217 code (default: the configured reporting currency).",
    "type": "string",
    "pattern": "^[A-Z]{3}$",
}
_ORDER_ID: dict[str, Any] = {
    "description": "The order's identifier in the selling system; unique.",
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
}
# Fields any interaction may carry for the privacy plugin's gate.
_CHANNEL: dict[str, Any] = {"type": "string", "maxLength": 64}
_DEVICE: dict[str, Any] = {"type": "string", "maxLength": 256}

#: One order: who bought (participants), and what (lines).
PURCHASE_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id", "lines"],
    "properties": {
        "order_id": _ORDER_ID,
        "currency": _CURRENCY,
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku", "category", "quantity", "unit_price"],
                "properties": {
                    "sku": {"type": "string", "minLength": 1, "maxLength": 128},
                    "category": {
                        "description": "Product category (no commas: top categories are "
                        "published as a comma-separated list).",
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "pattern": "^[^,]+$",
                    },
                    "quantity": {"type": "number", "exclusiveMinimum": 0},
                    "unit_price": {"type": "number", "minimum": 0},
                    "name": {"type": "string", "maxLength": 256},
                },
            },
        },
        "store": {"type": "string", "maxLength": 128},
        "channel": _CHANNEL,
        "device": _DEVICE,
    },
}

#: A return of part or all of an order.
RETURN_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id"],
    "properties": {
        "order_id": {**_ORDER_ID, "description": "The order returned (its purchase's order_id)."},
        "amount": {
            "description": "Amount refunded, in the order's currency (default: all that is "
            "left of the order).",
            "type": "number",
            "exclusiveMinimum": 0,
        },
        "currency": {**_CURRENCY, "description": "Must be the order's currency if given."},
        "reason": {"type": "string", "maxLength": 512},
        "channel": _CHANNEL,
        "device": _DEVICE,
    },
}

#: A use of a product: what was used (when is the interaction's occurred_at).
USAGE_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["product"],
    "properties": {
        "product": {
            "description": "What was used: a SKU, a product or a feature.",
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
        },
        "category": {"type": "string", "minLength": 1, "maxLength": 128},
        "order_id": {**_ORDER_ID, "description": "The purchase the product came from, if known."},
        "duration_seconds": {"type": "number", "minimum": 0},
        "details": {"type": "object"},
        "channel": _CHANNEL,
        "device": _DEVICE,
    },
}


def interaction_types() -> list[InteractionType]:
    """The three interaction types, each with the purposes it is processed for."""
    return [
        InteractionType(
            PURCHASE,
            label="Purchase",
            roles={"purchaser", "consumer"},
            required_roles=("purchaser",),
            payload=PURCHASE_PAYLOAD,
            purposes=("billing", "service"),
            description="An order: one purchaser (the billing customer) and optional "
            "consumers (the people the products are for: the service customers).",
        ),
        InteractionType(
            RETURN,
            label="Return",
            roles={"purchaser", "consumer"},
            payload=RETURN_PAYLOAD,
            purposes=("billing", "service"),
            description="Goods sent back: refers to an order by its order_id; a return of "
            "the whole order undoes the purchase.",
        ),
        InteractionType(
            PRODUCT_USAGE,
            label="Product usage",
            roles={"user"},
            required_roles=("user",),
            payload=USAGE_PAYLOAD,
            purposes=("service",),
            description="Someone used a product: makes them a consumer, whether or not "
            "they bought it.",
        ),
    ]
