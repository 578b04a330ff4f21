"""One party's figures (the metrics hook) and its section of the 360-degree view.

The figures come from the party's own history (:mod:`partygraph_b2c.history`),
with the same definitions as the population figures of
:func:`partygraph_b2c.analytics.customer_rows`, so a party's ``clv`` in its
view and in the population listing agree. RFM scores are population ranks:
they come from the scale of the last population scoring
(:class:`partygraph_b2c.analytics.RfmScale`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from partygraph_b2c.currencies import from_minor
from partygraph_b2c.history import History
from partygraph_b2c.roles import who

__all__ = ["metrics", "view_section"]

Figure = float | int | str | None


def _clv(history: History) -> dict[str, Figure]:
    at = history.as_of
    settings = history.settings
    currency = settings.currency
    kept = history.kept_orders(at)
    placed = [order for order in history.orders if order.at <= at]
    gross = sum(order.gross() for order in placed)
    net = history.net_minor(at)
    figures: dict[str, Figure] = {
        "currency": currency,
        "orders": len(kept),
        "returned_orders": len(placed) - len(kept),
        "gross_revenue": from_minor(gross, currency),
        "refunded": from_minor(gross - net, currency),
        "historic_clv": from_minor(net, currency),
        "aov": None,
        "frequency": None,
        "predicted_clv": from_minor(0, currency),
        "clv": from_minor(net, currency),
        "first_purchase_at": None,
        "last_purchase_at": None,
        "recency_days": None,
    }
    if not kept:
        return figures
    model = settings.clv
    first = min(order.at for order in kept)
    last = max(order.at for order in kept)
    aov = net / len(kept)
    tenure = max((at - first).total_seconds() / 86400.0, float(model.min_tenure_days))
    frequency = len(kept) * 365.25 / tenure
    factor = model.lapsed_factor if history.is_lapsed(at) else 1.0
    predicted = aov * frequency * model.multiplier * factor
    figures.update(
        {
            "aov": from_minor(aov, currency),
            "frequency": round(frequency, 4),
            "predicted_clv": from_minor(predicted, currency),
            "clv": from_minor(net + predicted, currency),
            "first_purchase_at": first.date().isoformat(),
            "last_purchase_at": last.date().isoformat(),
            "recency_days": (at.date() - last.date()).days,
        }
    )
    return figures


def metrics(
    history: History,
    rfm: tuple[int, int, int] | None,
    categories: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Figure]:
    """Plain-named figures: lifetime value, order value, frequency, RFM, top categories."""
    at = history.as_of
    figures = _clv(history)
    figures.update(
        {
            "rfm_r": rfm[0] if rfm else None,
            "rfm_f": rfm[1] if rfm else None,
            "rfm_m": rfm[2] if rfm else None,
            "rfm": "".join(str(value) for value in rfm) if rfm else None,
            "top_categories": (
                ", ".join(str(item["category"]) for item in categories) or None
                if categories is not None
                else None
            ),
            "consumer_purchases": len(history.kept_consumed(at)),
            "product_uses": history.usage.count if history.usage is not None else 0,
        }
    )
    return figures


def view_section(
    history: History,
    rfm: tuple[int, int, int] | None,
    categories: Sequence[Mapping[str, Any]] | None,
    withheld: str | None,
) -> dict[str, Any]:
    """The b2c section of the 360-degree view: billing side, service side, preferences."""
    at = history.as_of
    currency = history.settings.currency
    figures = _clv(history)
    recent = sorted(
        (order for order in history.orders if order.at <= at),
        key=lambda order: (order.at, order.interaction_id),
        reverse=True,
    )[:5]
    billing = {
        **{key: value for key, value in figures.items() if key != "currency"},
        "recent_orders": [
            {
                "order_id": order.order_id,
                "at": order.at.isoformat().replace("+00:00", "Z"),
                "total": from_minor(order.gross(), currency),
                "refunded": from_minor(order.gross() - order.net(at), currency),
                "returned_in_full": not order.kept(at),
                "for": [who(item) for item in history.bought_for.get(order.interaction_id, ())],
            }
            for order in recent
        ],
    }
    consumed = sorted(history.kept_consumed(at), key=lambda item: item.order.at, reverse=True)[:5]
    usage = history.usage
    service: dict[str, Any] = {
        "consumer_of": [
            {
                "order_id": item.order.order_id,
                "at": item.order.at.isoformat().replace("+00:00", "Z"),
                "bought_by": who(item.purchaser) if item.purchaser is not None else None,
            }
            for item in consumed
        ],
        "usage": (
            {
                "uses": usage.count,
                "first_used": usage.first_at.date().isoformat(),
                "last_used": usage.last_at.date().isoformat(),
                "recent_products": list(usage.products),
            }
            if usage is not None
            else None
        ),
    }
    preferences: dict[str, Any] = (
        {"withheld": withheld}
        if withheld is not None
        else {"top_categories": list(categories or [])}
    )
    return {
        "currency": currency,
        "billing": billing,
        "service": service,
        "rfm": (
            {"r": rfm[0], "f": rfm[1], "m": rfm[2], "score": "".join(map(str, rfm))}
            if rfm
            else None
        ),
        "preferences": preferences,
    }
