"""The privacy plugin's settings, typed, with every default filled in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["LAWFUL_BASES", "Deadlines", "Purpose", "Settings"]

#: GDPR art. 6 lawful bases.
LAWFUL_BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
)


@attrs.frozen
class Purpose:
    """A purpose of processing and the lawful bases that can justify it."""

    name: str
    bases: tuple[str, ...]
    description: str = ""
    implicit: bool = False
    requires_note: bool = False
    workplace: bool = False


@attrs.frozen
class Deadlines:
    """Data-subject request deadlines (GDPR art. 12(3); CCPA 1798.130)."""

    gdpr_months: int = 1
    gdpr_extension_months: int = 2
    ccpa_confirm_business_days: int = 10
    ccpa_days: int = 45
    ccpa_max_days: int = 90


@attrs.frozen
class Settings:
    """Everything under ``[plugins.privacy]``."""

    mode: str = "refuse"
    quarantine_days: int = 30
    jurisdiction: str = "GDPR"
    secret: str | None = None
    purposes: Mapping[str, Purpose] = attrs.field(factory=dict)
    purpose_overrides: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    digital_consent_age: Mapping[str, int] = attrs.field(factory=lambda: {"GDPR": 16, "CCPA": 13})
    ccpa_sale_opt_in_age: int = 16
    deadlines: Deadlines = attrs.field(factory=Deadlines)
    retention: Mapping[str, str] = attrs.field(factory=dict)
    masking: Mapping[str, str] = attrs.field(factory=lambda: {"user": "fixed"})
    viewer_roles: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    recipients: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: ``buffered`` or ``immediate``: how read-access entries reach the audit chain.
    audit_reads: str = "buffered"
    #: Pending read entries that trigger an append.
    audit_read_batch: int = 100
    #: Seconds the oldest pending read entry may wait (checked at the next read).
    audit_read_seconds: float = 1.0

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Build from the validated config section (defaults already filled in)."""
        purposes = {
            name: Purpose(
                name=name,
                bases=tuple(spec["bases"]),
                description=spec.get("description", ""),
                implicit=bool(spec.get("implicit", False)),
                requires_note=bool(spec.get("requires_note", False)),
                workplace=bool(spec.get("workplace", False)),
            )
            for name, spec in values.get("purposes", {}).items()
        }
        audit = values.get("audit", {})
        return cls(
            mode=values.get("mode", "refuse"),
            quarantine_days=int(values.get("quarantine_days", 30)),
            jurisdiction=values.get("jurisdiction", "GDPR"),
            secret=values.get("secret"),
            purposes=purposes,
            purpose_overrides={k: tuple(v) for k, v in values.get("purpose_overrides", {}).items()},
            digital_consent_age=dict(values.get("digital_consent_age", {"GDPR": 16, "CCPA": 13})),
            ccpa_sale_opt_in_age=int(values.get("ccpa_sale_opt_in_age", 16)),
            deadlines=Deadlines(**values.get("deadlines", {})),
            retention=dict(values.get("retention", {})),
            masking=dict(values.get("masking", {"user": "fixed"})),
            viewer_roles={k: tuple(v) for k, v in values.get("viewer_roles", {}).items()},
            recipients={k: tuple(v) for k, v in values.get("recipients", {}).items()},
            audit_reads=audit.get("reads", "buffered"),
            audit_read_batch=int(audit.get("read_batch", 100)),
            audit_read_seconds=float(audit.get("read_seconds", 1.0)),
        )

    def purpose(self, name: str) -> Purpose | None:
        """The configured purpose, or None if the config does not declare it."""
        return self.purposes.get(name)
