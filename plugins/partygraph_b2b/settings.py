"""The b2b plugin's settings, typed, with every default filled in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from partygraph import ValidationError

__all__ = [
    "BUYER_ROLES",
    "COMMITTEE_ROLES",
    "ENGAGEMENT_TYPES",
    "ROLE_LABELS",
    "Settings",
    "Track",
]

#: The buying-committee roles, in the order the design brief lists them.
COMMITTEE_ROLES = (
    "economic_buyer",
    "decision_maker",
    "champion",
    "technical_evaluator",
    "end_user",
    "influencer",
    "executive_sponsor",
    "procurement",
    "legal",
)

#: Roles that act for the account in the purchase. End users use what the account
#: buys; influencers sway the decision without buying: neither is a buyer.
BUYER_ROLES = frozenset(COMMITTEE_ROLES) - {"end_user", "influencer"}

#: Words for reasons a support agent reads.
ROLE_LABELS = {
    "economic_buyer": "economic buyer",
    "decision_maker": "decision maker",
    "champion": "champion",
    "technical_evaluator": "technical evaluator",
    "end_user": "end user",
    "influencer": "influencer",
    "executive_sponsor": "executive sponsor",
    "procurement": "procurement",
    "legal": "legal",
}

#: The plugin's own interaction types: B2B touchpoints.
ENGAGEMENT_TYPES = ("meeting", "email", "demo", "proposal", "contract_signed")

_SECTION = "/plugins/b2b"


@attrs.frozen
class Track:
    """A messaging track: what content a stakeholder should receive."""

    name: str
    description: str
    themes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"track": self.name, "description": self.description, "themes": list(self.themes)}


@attrs.frozen
class Settings:
    """Everything under ``[plugins.b2b]``."""

    target_accounts: tuple[str, ...] = ()
    required_roles: tuple[str, ...] = ("economic_buyer", "technical_evaluator", "end_user")
    engagement_window_days: int = 90
    engagement_types: tuple[str, ...] = ENGAGEMENT_TYPES
    role_weights: Mapping[str, float] = attrs.field(factory=dict)
    interaction_weights: Mapping[str, float] = attrs.field(factory=dict)
    recency: tuple[tuple[int, float], ...] = ((30, 1.0), (90, 0.5), (365, 0.2))
    deal_stages: tuple[str, ...] = (
        "qualification",
        "discovery",
        "demo",
        "proposal",
        "negotiation",
        "closed",
    )
    currency: str = "EUR"
    exchange_rates: Mapping[str, float] = attrs.field(factory=dict)
    analytics_purpose: str = "sales"
    messaging_purpose: str = "marketing"
    messaging_tracks: Mapping[str, str] = attrs.field(factory=dict)
    tracks: Mapping[str, Track] = attrs.field(factory=dict)

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Build from the validated config section (defaults already filled in)."""
        from partygraph.schemas import load_schema

        defaults = load_schema("plugins/b2b")["properties"]

        def get(name: str) -> Any:
            return values[name] if name in values else defaults[name]["default"]

        # Tables of names merge over the defaults: a config that sets one track or one
        # weight keeps the others.
        tracks = {
            name: Track(name, str(spec["description"]), tuple(spec.get("themes", ())))
            for name, spec in {**defaults["tracks"]["default"], **get("tracks")}.items()
        }
        settings = cls(
            target_accounts=tuple(get("target_accounts")),
            required_roles=tuple(get("required_roles")),
            engagement_window_days=int(get("engagement_window_days")),
            engagement_types=tuple(get("engagement_types")),
            role_weights={**defaults["role_weights"]["default"], **get("role_weights")},
            interaction_weights={
                **defaults["interaction_weights"]["default"],
                **get("interaction_weights"),
            },
            recency=tuple(
                sorted((int(step["days"]), float(step["weight"])) for step in get("recency"))
            ),
            deal_stages=tuple(get("deal_stages")),
            currency=str(get("currency")),
            exchange_rates={k: float(v) for k, v in get("exchange_rates").items()},
            analytics_purpose=str(get("analytics_purpose")),
            messaging_purpose=str(get("messaging_purpose")),
            messaging_tracks={**defaults["messaging_tracks"]["default"], **get("messaging_tracks")},
            tracks=tracks,
        )
        for role, track in settings.messaging_tracks.items():
            if track not in tracks:
                raise ValidationError(
                    f"{_SECTION}/messaging_tracks/{role}",
                    f"no track {track!r} in [plugins.b2b.tracks]; known: "
                    + (", ".join(sorted(tracks)) or "none"),
                    track,
                )
        return settings

    # -- lookups ---------------------------------------------------------------------------

    def role_weight(self, role: str) -> float:
        """The score weight of a committee role (0 for a role not in the vocabulary)."""
        return float(self.role_weights.get(role, 0.0))

    def type_weight(self, interaction_type: str) -> float:
        """The score weight of an engagement interaction type (1 when not configured)."""
        return float(self.interaction_weights.get(interaction_type, 1.0))

    def track_for(self, roles: list[str], override: str | None = None) -> Track:
        """The track of a stakeholder holding *roles*: an override, else the weightiest role's."""
        if override is not None and override in self.tracks:
            return self.tracks[override]
        ranked = sorted(
            roles, key=lambda role: (-self.role_weight(role), COMMITTEE_ROLES.index(role))
        )
        return self.tracks[self.messaging_tracks[ranked[0]]]

    def rate(self, currency: str) -> float | None:
        """Value of one unit of *currency* in the reporting currency, if known."""
        if currency == self.currency:
            return 1.0
        return self.exchange_rates.get(currency)
