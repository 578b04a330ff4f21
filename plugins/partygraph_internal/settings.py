"""The internal plugin's settings, typed, and the one unit SLAs are written in.

SLA targets are ISO-8601 durations in weeks, days, hours or minutes (``PT8H``,
``P3D``, ``PT30M``). Months and years are refused: their length varies, so a
"1 month" SLA would be met or breached depending on the calendar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs

from partygraph import ValidationError

__all__ = [
    "EMPLOYEE_USAGE_PURPOSE",
    "Category",
    "PerEmployee",
    "Settings",
    "format_duration",
    "parse_sla",
]

#: The purpose under which employees' use of the CRM is measured.
EMPLOYEE_USAGE_PURPOSE = "employee_usage_analytics"

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_EXAMPLES = "write PT8H for 8 hours, P3D for 3 days, PT30M for 30 minutes, P1W for a week"


def parse_sla(value: object, field: str) -> timedelta:
    """An SLA target -> timedelta; a :class:`ValidationError` naming *field* otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(
            field, f"an SLA target is an ISO-8601 duration; {_EXAMPLES}; got {value!r}", value
        )
    if isinstance(value, int | float):
        raise ValidationError(
            field,
            f"{value!r} has no unit; an SLA target is an ISO-8601 duration: {_EXAMPLES}",
            value,
        )
    text = value.strip().upper()
    found = _DURATION.match(text)
    if found is None or text in {"P", "PT"} or text.endswith("T"):
        date_part = text[1:].split("T", 1)[0] if text.startswith("P") else ""
        if re.fullmatch(r"(\d+[YMWD])+", date_part) and re.search("[YM]", date_part):
            raise ValidationError(
                field,
                f"{value!r} is in months or years, whose length varies; give the SLA in "
                f"weeks, days, hours or minutes ({_EXAMPLES})",
                value,
            )
        raise ValidationError(
            field, f"{value!r} is not an ISO-8601 duration in a unit SLAs use; {_EXAMPLES}", value
        )
    weeks, days, hours, minutes = (int(part) if part else 0 for part in found.groups())
    duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise ValidationError(
            field, f"an SLA target must be longer than zero, got {value!r}", value
        )
    return duration


def format_duration(value: timedelta | float | None) -> str:
    """A short human form: ``8 h``, ``3 d``, ``45 min``, ``2 d 4 h``."""
    if value is None:
        return "n/a"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)


@attrs.frozen
class Category:
    """A service category of the catalogue and its SLA target."""

    name: str
    sla: timedelta
    sla_text: str
    description: str = ""


@attrs.frozen
class PerEmployee:
    """Whether per-employee usage figures exist, and on which lawful basis."""

    enabled: bool = False
    lawful_basis: str | None = None
    balancing_note: str = ""


@attrs.frozen
class Settings:
    """Everything under ``[plugins.internal]``."""

    catalogue: Mapping[str, Category] = attrs.field(factory=dict)
    activity_window_days: int | None = 365
    report_days: int = 90
    min_group_size: int = 5
    record_usage: bool = True
    recommended_attributes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    crm_owner: str | None = None
    per_employee: PerEmployee = attrs.field(factory=PerEmployee)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Build from the validated section (defaults filled in); check what a schema cannot."""
        prefix = "/plugins/internal"
        catalogue = {}
        for name, spec in (values.get("catalogue") or {}).items():
            sla = parse_sla(spec.get("sla"), f"{prefix}/catalogue/{name}/sla")
            catalogue[name] = Category(name, sla, str(spec["sla"]), spec.get("description", ""))
        per = values.get("per_employee") or {}
        per_employee = PerEmployee(
            enabled=bool(per.get("enabled", False)),
            lawful_basis=per.get("lawful_basis"),
            balancing_note=str(per.get("balancing_note", "")).strip(),
        )
        if per_employee.enabled and per_employee.lawful_basis is None:
            raise ValidationError(
                f"{prefix}/per_employee/lawful_basis",
                "per-employee figures need a declared lawful basis (legitimate_interests with "
                "a balancing_note, legal_obligation or contract); without one, leave "
                "per_employee.enabled false and report adoption per department",
            )
        if per_employee.lawful_basis == "legitimate_interests" and not per_employee.balancing_note:
            raise ValidationError(
                f"{prefix}/per_employee/balancing_note",
                "legitimate interests need the balancing test that supports them: say why "
                "measuring each employee's CRM use outweighs their privacy",
            )
        return cls(
            catalogue=catalogue,
            activity_window_days=values.get("activity_window_days", 365),
            report_days=int(values.get("report_days", 90)),
            min_group_size=int(values.get("min_group_size", 5)),
            record_usage=bool(values.get("record_usage", True)),
            recommended_attributes={
                kind: tuple(names)
                for kind, names in (values.get("recommended_attributes") or {}).items()
            },
            crm_owner=values.get("crm_owner"),
            per_employee=per_employee,
        )

    def category(self, name: str) -> Category | None:
        """A catalogue category by name."""
        return self.catalogue.get(name)
