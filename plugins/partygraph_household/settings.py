"""The household plugin's settings, typed, with every default filled in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["Condition", "Offer", "PurchaseSettings", "Settings"]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value)


@attrs.frozen
class PurchaseSettings:
    """Which interactions are purchases, and how to read their amount and categories."""

    types: tuple[str, ...] = ("purchase",)
    return_types: tuple[str, ...] = ("return",)
    buyer_roles: tuple[str, ...] = ("purchaser",)
    consumer_roles: tuple[str, ...] = ("consumer",)
    amount_fields: tuple[str, ...] = ("total", "amount")
    lines_field: str = "lines"
    line_amount_fields: tuple[str, ...] = ("amount",)
    line_price_fields: tuple[str, ...] = ("unit_price", "price")
    line_quantity_field: str = "quantity"
    category_field: str = "category"
    currency_field: str = "currency"
    order_field: str = "order_id"
    usage_types: tuple[str, ...] = ("product_usage",)
    usage_roles: tuple[str, ...] = ("user",)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> PurchaseSettings:
        """Build from the validated ``purchases`` table."""
        default = cls()
        return cls(
            types=_strings(values.get("types", default.types)),
            return_types=_strings(values.get("return_types", default.return_types)),
            buyer_roles=_strings(values.get("buyer_roles", default.buyer_roles)),
            consumer_roles=_strings(values.get("consumer_roles", default.consumer_roles)),
            amount_fields=_strings(values.get("amount_fields", default.amount_fields)),
            lines_field=str(values.get("lines_field", default.lines_field)),
            line_amount_fields=_strings(
                values.get("line_amount_fields", default.line_amount_fields)
            ),
            line_price_fields=_strings(values.get("line_price_fields", default.line_price_fields)),
            line_quantity_field=str(values.get("line_quantity_field", default.line_quantity_field)),
            category_field=str(values.get("category_field", default.category_field)),
            currency_field=str(values.get("currency_field", default.currency_field)),
            order_field=str(values.get("order_field", default.order_field)),
            usage_types=_strings(values.get("usage_types", default.usage_types)),
            usage_roles=_strings(values.get("usage_roles", default.usage_roles)),
        )


@attrs.frozen
class Condition:
    """One condition of an offer rule: a test on a fact, or on the products held."""

    fact: str | None = None
    equals: Any = None
    has_equals: bool = False
    at_least: float | None = None
    at_most: float | None = None
    holds_product: str | None = None
    lacks_product: str | None = None

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Condition:
        """Build from one validated condition."""
        return cls(
            fact=values.get("fact"),
            equals=values.get("equals"),
            has_equals="equals" in values,
            at_least=values.get("at_least"),
            at_most=values.get("at_most"),
            holds_product=values.get("holds_product"),
            lacks_product=values.get("lacks_product"),
        )


@attrs.frozen
class Offer:
    """An offer and the conditions that make a household eligible for it."""

    name: str
    label: str
    when: tuple[Condition, ...]

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Offer:
        """Build from one validated rule."""
        name = str(values["name"])
        return cls(
            name=name,
            label=str(values.get("label") or name.replace("_", " ")),
            when=tuple(Condition.from_config(item) for item in values["when"]),
        )


@attrs.frozen
class Settings:
    """Everything under ``[plugins.household]``."""

    max_households_per_person: int | None = 1
    joining_another_household: str = "refuse"
    former_head_role: str = "other"
    dependent_age_limit: int | None = 18
    senior_age: int = 65
    address_attribute: str = "address"
    recent_days: int = 365
    shared_preference_min_members: int = 2
    value_metrics: tuple[str, ...] = ("clv",)
    purchases: PurchaseSettings = attrs.field(factory=PurchaseSettings)
    offers: tuple[Offer, ...] = ()

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Build from the validated config section (defaults already filled in)."""
        default = cls()
        offers: Sequence[Mapping[str, Any]] = values.get("offers", ())
        return cls(
            max_households_per_person=values.get(
                "max_households_per_person", default.max_households_per_person
            ),
            joining_another_household=str(
                values.get("joining_another_household", default.joining_another_household)
            ),
            former_head_role=str(values.get("former_head_role", default.former_head_role)),
            dependent_age_limit=values.get("dependent_age_limit", default.dependent_age_limit),
            senior_age=int(values.get("senior_age", default.senior_age)),
            address_attribute=str(values.get("address_attribute", default.address_attribute)),
            recent_days=int(values.get("recent_days", default.recent_days)),
            shared_preference_min_members=int(
                values.get("shared_preference_min_members", default.shared_preference_min_members)
            ),
            value_metrics=_strings(values.get("value_metrics", default.value_metrics)),
            purchases=PurchaseSettings.from_config(values.get("purchases", {})),
            offers=tuple(Offer.from_config(item) for item in offers),
        )

    @property
    def deep_facts_needed(self) -> bool:
        """Whether an offer rule tests a fact that asks other plugins (customer, total value)."""
        return any(
            condition.fact in ("customer", "total_value")
            for offer in self.offers
            for condition in offer.when
        )
