"""The household tests' world.

``shopfake`` is an in-process stand-in for a plugin that sells to people (the
b2c plugin is built separately): purchases with lines, a ``customer`` role for
whoever bought, and a ``clv`` metric. The household plugin never imports it:
it reads purchases from the core's tables and asks for roles and metrics
through the core, as it would with any plugin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from partygraph import (
    GraphReader,
    InteractionType,
    Party,
    RoleAssignment,
    hookimpl,
)

PURCHASE_PAYLOAD = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "quantity", "unit_price"],
                "properties": {
                    "sku": {"type": "string"},
                    "category": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


class ShopFake:
    """Purchases (purchaser, consumer), a newsletter (marketing), customers and their CLV."""

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return [
            InteractionType(
                "purchase",
                roles={"purchaser", "consumer"},
                required_roles=("purchaser",),
                payload=PURCHASE_PAYLOAD,
                purposes=("service", "billing"),
            ),
            InteractionType(
                "return",
                roles={"purchaser", "consumer"},
                payload={
                    "type": "object",
                    "required": ["order_id"],
                    "properties": {
                        "order_id": {"type": "string"},
                        "amount": {"type": "number", "exclusiveMinimum": 0},
                    },
                },
                purposes=("service", "billing"),
            ),
            InteractionType(
                "product_usage",
                roles={"user"},
                required_roles=("user",),
                payload={"type": "object", "properties": {"order_id": {"type": "string"}}},
                purposes=("service",),
            ),
            InteractionType("newsletter", roles={"recipient"}, purposes=("marketing",)),
        ]

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        bought = graph.interactions(party, type="purchase", role="purchaser", before=as_of)
        if bought:
            yield RoleAssignment(
                "customer",
                reason=f"made {len(bought)} purchase(s)",
                customer=True,
                since=bought[-1].occurred_at,
                evidence=tuple(f"interaction #{item.id}" for item in bought),
            )

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        bought = graph.interactions(party, type="purchase", role="purchaser", before=as_of)
        if not bought:
            return None
        clv = sum(
            line["quantity"] * line["unit_price"]
            for item in bought
            for line in item.payload.get("lines", [])
        )
        return {"clv": round(clv, 2), "orders": len(bought), "segment": "retail"}


def purchase(
    buyer: str,
    when: str,
    lines: list[tuple[str, str, int, float]],
    *,
    consumers: Iterable[str] = (),
    key: str | None = None,
    order: str | None = None,
) -> dict[str, Any]:
    """A purchase record: lines of (sku, category, quantity, unit price)."""
    body: dict[str, Any] = {
        "type": "purchase",
        "occurred_at": when,
        "participants": [
            {"party": buyer, "role": "purchaser"},
            *({"party": other, "role": "consumer"} for other in consumers),
        ],
        "payload": {
            "currency": "EUR",
            "lines": [
                {"sku": sku, "category": category, "quantity": quantity, "unit_price": price}
                for sku, category, quantity, price in lines
            ],
        },
    }
    if key is not None:
        body["key"] = key
    if order is not None:
        body["payload"]["order_id"] = order
    return {"interaction": body}


def usage(user: str, when: str, order: str) -> dict[str, Any]:
    """Someone using a product from an order."""
    return {
        "interaction": {
            "type": "product_usage",
            "occurred_at": when,
            "participants": [{"party": user, "role": "user"}],
            "payload": {"order_id": order},
        }
    }


def refund(buyer: str, when: str, order: str, amount: float | None = None) -> dict[str, Any]:
    """A return of part (*amount*) or all of an order."""
    payload: dict[str, Any] = {"order_id": order}
    if amount is not None:
        payload["amount"] = amount
    return {
        "interaction": {
            "type": "return",
            "occurred_at": when,
            "participants": [{"party": buyer, "role": "purchaser"}],
            "payload": payload,
        }
    }


#: The Moreau family: Alice (head) and Bob (partner), Chloé (18 on 2024-03-10) and Dan.
FAMILY: list[dict[str, Any]] = [
    {"party": {"key": "moreau", "kind": "household", "name": "Moreau household",
               "attributes": {"address": "12 Rue des Lilas, 75011 Paris"}}},
    {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau",
               "attributes": {"birth_date": "1980-04-02", "email": "alice@example.org"}}},
    {"party": {"key": "bob", "kind": "person", "name": "Bob Moreau",
               "attributes": {"birth_date": "1979-09-12"}}},
    {"party": {"key": "chloe", "kind": "person", "name": "Chloé Moreau",
               "attributes": {"birth_date": "2006-03-10"}}},
    {"party": {"key": "dan", "kind": "person", "name": "Dan Moreau",
               "attributes": {"birth_date": "2012-07-01"}}},
    {"relationship": {"type": "member_of", "source": "alice", "target": "moreau",
                      "role": "head", "valid_from": "2015-01-01"}},
    {"relationship": {"type": "member_of", "source": "bob", "target": "moreau",
                      "role": "partner", "valid_from": "2015-01-01"}},
    {"relationship": {"type": "member_of", "source": "chloe", "target": "moreau",
                      "role": "dependent", "valid_from": "2015-01-01"}},
    {"relationship": {"type": "member_of", "source": "dan", "target": "moreau",
                      "role": "dependent", "valid_from": "2015-01-01"}},
]  # fmt: skip
