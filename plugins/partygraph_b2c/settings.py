"""The b2c plugin's settings, typed, with every default filled in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from partygraph import ValidationError
from partygraph_b2c.currencies import MINOR_UNITS

__all__ = ["ClvModel", "LoyalRule", "Preferences", "Prospects", "Settings"]


@attrs.frozen
class LoyalRule:
    """``loyal_customer``: N kept purchases in D days, or a historic CLV of at least X."""

    min_orders: int | None = 3
    window_days: int = 365
    min_clv: float | None = None


@attrs.frozen
class Prospects:
    """Who counts as a lead."""

    enabled: bool = True
    kinds: tuple[str, ...] = ("person",)
    min_age: int | None = 16
    exclude_relationship_types: tuple[str, ...] = ("employed_in",)


@attrs.frozen
class ClvModel:
    """The predictive lifetime-value model's parameters."""

    horizon_years: int = 3
    annual_retention: float = 0.8
    discount_rate: float = 0.1
    margin: float = 1.0
    min_tenure_days: int = 365
    lapsed_factor: float = 0.5

    @property
    def multiplier(self) -> float:
        """margin x sum over t = 1..H of retention^(t-1) / (1 + discount)^t."""
        years = range(1, self.horizon_years + 1)
        return self.margin * sum(
            self.annual_retention ** (t - 1) / (1 + self.discount_rate) ** t for t in years
        )


@attrs.frozen
class Preferences:
    """How top categories are ranked, and for which purpose they are computed."""

    top_n: int = 3
    rank_by: Literal["quantity", "spend", "orders"] = "quantity"
    purpose: str | None = "profiling"


@attrs.frozen
class Settings:
    """Everything under ``[plugins.b2c]``."""

    currency: str = "EUR"
    exchange_rates: Mapping[str, float] = attrs.field(factory=dict)
    loyal: LoyalRule = attrs.field(factory=LoyalRule)
    lapse_after_days: int = 365
    prospects: Prospects = attrs.field(factory=Prospects)
    clv: ClvModel = attrs.field(factory=ClvModel)
    preferences: Preferences = attrs.field(factory=Preferences)
    analytics_purpose: str | None = "analytics"
    rfm_cache_seconds: int = 300  # no longer used; accepted so that configurations load

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Build from the validated config section (defaults already filled in).

        Raises :class:`ValidationError` for what the schema cannot check: currency
        codes that are not ISO 4217.
        """
        currency = str(values.get("currency", "EUR"))
        if currency not in MINOR_UNITS:
            raise ValidationError(
                "/plugins/b2c/currency", f"{currency!r} is not an ISO 4217 currency code", currency
            )
        rates = {str(code): float(rate) for code, rate in values.get("exchange_rates", {}).items()}
        for code in sorted(rates):
            if code not in MINOR_UNITS:
                raise ValidationError(
                    f"/plugins/b2c/exchange_rates/{code}",
                    f"{code!r} is not an ISO 4217 currency code",
                    code,
                )
        rates.pop(currency, None)
        loyal = values.get("loyal", {})
        prospects = values.get("prospects", {})
        clv = values.get("clv", {})
        preferences = values.get("preferences", {})
        return cls(
            currency=currency,
            exchange_rates=rates,
            loyal=LoyalRule(
                min_orders=loyal.get("min_orders", 3),
                window_days=int(loyal.get("window_days", 365)),
                min_clv=loyal.get("min_clv"),
            ),
            lapse_after_days=int(values.get("lapse_after_days", 365)),
            prospects=Prospects(
                enabled=bool(prospects.get("enabled", True)),
                kinds=tuple(prospects.get("kinds", ("person",))),
                min_age=prospects.get("min_age", 16),
                exclude_relationship_types=tuple(
                    prospects.get("exclude_relationship_types", ("employed_in",))
                ),
            ),
            clv=ClvModel(
                horizon_years=int(clv.get("horizon_years", 3)),
                annual_retention=float(clv.get("annual_retention", 0.8)),
                discount_rate=float(clv.get("discount_rate", 0.1)),
                margin=float(clv.get("margin", 1.0)),
                min_tenure_days=int(clv.get("min_tenure_days", 365)),
                lapsed_factor=float(clv.get("lapsed_factor", 0.5)),
            ),
            preferences=Preferences(
                top_n=int(preferences.get("top_n", 3)),
                rank_by=preferences.get("rank_by", "quantity"),
                purpose=preferences.get("purpose", "profiling"),
            ),
            analytics_purpose=values.get("analytics_purpose", "analytics"),
            rfm_cache_seconds=int(values.get("rfm_cache_seconds", 300)),
        )

    def accepts(self, currency: str) -> bool:
        """True when amounts in *currency* can be reported (reporting currency or a rate)."""
        return currency == self.currency or currency in self.exchange_rates

    def factor(self, currency: str) -> float:
        """Minor units of *currency* -> minor units of the reporting currency."""
        if currency == self.currency:
            return 1.0
        shift = MINOR_UNITS[self.currency] - MINOR_UNITS[currency]
        return self.exchange_rates[currency] * 10.0**shift
