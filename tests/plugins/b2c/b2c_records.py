"""Record builders (the interchange format) and small readers for the b2c plugin's tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from partygraph import Toolkit


def person(key: str, name: str | None = None, **attributes: Any) -> dict[str, Any]:
    """A ``party`` record of a person."""
    return {
        "party": {
            "key": key,
            "kind": "person",
            "name": name or key.title(),
            "attributes": attributes,
        }
    }


def purchase(
    order_id: str,
    at: str,
    purchaser: str | None,
    lines: Sequence[tuple[str, str, float, float]] = (("SKU-1", "toys", 1, 10.0),),
    *,
    consumers: Sequence[str] = (),
    currency: str | None = None,
) -> dict[str, Any]:
    """A ``purchase`` record; *lines* are (sku, category, quantity, unit price)."""
    participants = [{"party": purchaser, "role": "purchaser"}] if purchaser else []
    participants += [{"party": key, "role": "consumer"} for key in consumers]
    payload: dict[str, Any] = {
        "order_id": order_id,
        "lines": [
            {"sku": sku, "category": category, "quantity": quantity, "unit_price": price}
            for sku, category, quantity, price in lines
        ],
    }
    if currency is not None:
        payload["currency"] = currency
    return {
        "interaction": {
            "type": "purchase",
            "occurred_at": at,
            "participants": participants,
            "payload": payload,
        }
    }


def refund(order_id: str, at: str, party: str, amount: float | None = None) -> dict[str, Any]:
    """A ``return`` record (the whole order when *amount* is None)."""
    payload: dict[str, Any] = {"order_id": order_id}
    if amount is not None:
        payload["amount"] = amount
    return {
        "interaction": {
            "type": "return",
            "occurred_at": at,
            "participants": [{"party": party, "role": "purchaser"}],
            "payload": payload,
        }
    }


def usage(party: str, at: str, product: str = "tablet") -> dict[str, Any]:
    """A ``product_usage`` record."""
    return {
        "interaction": {
            "type": "product_usage",
            "occurred_at": at,
            "participants": [{"party": party, "role": "user"}],
            "payload": {"product": product},
        }
    }


def roles_of(toolkit: Toolkit, key: str, as_of: str) -> dict[str, Any]:
    """The party's b2c roles at *as_of*: role name -> assignment (the last one of a name)."""
    return {role.role: role for role in toolkit.roles(key, as_of=as_of) if role.plugin == "b2c"}


def count_rows(toolkit: Toolkit, table_name: str) -> int:
    """Rows in one of the toolkit's tables."""
    table = dict((table.name, table) for _, table in toolkit.tables())[table_name]
    with toolkit.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
