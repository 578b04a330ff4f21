"""ISO 4217 currency codes and their minor units (digits after the decimal point).

Amounts are stored as integers in minor units (cents for EUR, yen for JPY,
fils for KWD), so sums are exact and ties in rankings stay ties. The list
holds the active codes and a few recently withdrawn ones that old orders may
still carry (ANG, CUC, HRK, SLL, ZWL); precious metals and test codes (XAU,
XTS, XXX ...) have no minor unit and are not money a shop is paid in.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["MINOR_UNITS", "converted", "from_minor", "is_currency", "to_minor"]

_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN "
    "ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD "
    "KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR "
    "MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB "
    "SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY "
    "TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"

#: Currency code -> number of minor-unit digits.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}


def is_currency(code: object) -> bool:
    """True for an ISO 4217 code this plugin knows."""
    return isinstance(code, str) and code in MINOR_UNITS


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in *currency* as an integer of minor units (half-even rounding)."""
    scaled = amount.scaleb(MINOR_UNITS[currency])
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(minor: float | int, currency: str) -> float:
    """Minor units back to an amount, rounded to the currency's digits."""
    digits = MINOR_UNITS[currency]
    return round(float(minor) / 10.0**digits, digits)


def converted(minor: float | int, factor: float) -> float:
    """Minor units times an exchange *factor*, as whole minor units of the reporting currency.

    Halves round away from zero, as SQL's ``round`` does on SQLite and on
    PostgreSQL's numeric type, so a party's figures (computed here) and the
    population's (computed in SQL) agree to the minor unit.
    """
    if factor == 1.0:
        return float(minor)
    value = minor * factor
    return float(math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5))
