"""The marketplace plugin's settings: the preset, the sides, programs and analytics knobs.

The sides of the marketplace are configuration, not code. A preset brings its
sides and its transaction type (``ride-sharing``: ``rider`` and ``driver``,
``trip``; ``app-store``: ``user`` and ``developer``, ``app_purchase``);
``[plugins.marketplace.sides]`` adds sides to it, or changes a preset side's
label or role rule, and with ``preset = "custom"`` declares them all. What
the JSON Schema cannot say (a side named in a program must exist, a custom
marketplace needs a demand and a supply side ...) is checked here, each
problem raised as a :class:`partygraph.ValidationError` naming its config key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from partygraph import ValidationError

__all__ = [
    "PRESETS",
    "RESERVED_SIDE_NAMES",
    "TRANSACTIONS",
    "Churn",
    "Preset",
    "Program",
    "Settings",
    "Side",
    "Transaction",
]

Position = Literal["demand", "supply"]
RoleSince = Literal["first_transaction", "activation"]
PeriodName = Literal["week", "month"]

#: Participant roles that cannot be side names (the support agent of a ticket).
RESERVED_SIDE_NAMES = frozenset({"agent"})
_ROOT = "/plugins/marketplace"


@attrs.frozen
class Side:
    """One side of the marketplace: its name is a participant role and a role assignment.

    ``position`` says whether the side buys (``demand``: riders, app users) or
    provides (``supply``: drivers, developers). ``role_since`` says when its
    role starts: at the side's first completed transaction, or when its
    membership is first ``active`` (drivers are activated).
    """

    name: str
    position: Position
    label: str
    role_since: RoleSince
    description: str = ""

    @property
    def supply(self) -> bool:
        """True for a providing side (drivers, developers)."""
        return self.position == "supply"


@attrs.frozen
class Transaction:
    """What the transaction interaction type of a marketplace looks like.

    ``amount`` is the payload field holding what the demand side paid,
    ``tip`` the field of a tip passed on in full to the supply side (or None),
    ``share`` the field of a per-transaction revenue share of the supply side
    (or None), ``zones`` whether it has pickup and drop-off zones,
    ``incentive`` whether it can carry a platform-funded incentive.
    """

    name: str
    noun: str
    plural: str
    amount: str
    tip: str | None
    share: str | None
    zones: bool
    incentive: bool
    statuses: tuple[str, ...]
    #: Statuses that need a supply-side participant.
    needs_supply: tuple[str, ...]


#: The transaction types a marketplace can use.
TRANSACTIONS: Mapping[str, Transaction] = {
    "trip": Transaction(
        name="trip",
        noun="trip",
        plural="trips",
        amount="fare",
        tip="tip",
        share=None,
        zones=True,
        incentive=True,
        statuses=("completed", "cancelled", "unfulfilled"),
        needs_supply=("completed",),
    ),
    "app_purchase": Transaction(
        name="app_purchase",
        noun="app purchase",
        plural="app_purchases",
        amount="price",
        tip=None,
        share="revenue_share",
        zones=False,
        incentive=False,
        statuses=("completed", "refunded"),
        needs_supply=("completed", "refunded"),
    ),
}


@attrs.frozen
class Preset:
    """A shipped marketplace shape: its sides, its transaction type and its fee."""

    sides: tuple[Side, ...]
    transaction: str
    fee_rate: float


#: The shipped presets; ``custom`` has no sides of its own.
PRESETS: Mapping[str, Preset] = {
    "ride-sharing": Preset(
        sides=(
            Side(
                "rider",
                "demand",
                "Rider",
                "first_transaction",
                "Requests and pays for trips; gets personalised trip suggestions.",
            ),
            Side(
                "driver",
                "supply",
                "Driver",
                "activation",
                "Drives the trips; gets earnings reports, incentive programs and support.",
            ),
        ),
        transaction="trip",
        fee_rate=0.25,
    ),
    "app-store": Preset(
        sides=(
            Side("user", "demand", "User", "first_transaction", "Buys apps and in-app content."),
            Side(
                "developer",
                "supply",
                "Developer",
                "activation",
                "Publishes apps; gets a revenue share, tools and support.",
            ),
        ),
        transaction="app_purchase",
        fee_rate=0.30,
    ),
    "custom": Preset(sides=(), transaction="trip", fee_rate=0.25),
}


@attrs.frozen
class Program:
    """An incentive program: enough completed transactions (and rating) in a period -> bonus."""

    name: str
    side: str
    period: PeriodName
    min_trips: int
    min_average_rating: float | None
    bonus: Decimal
    description: str = ""


@attrs.frozen
class Churn:
    """When a supply-side member's falling activity counts as a churn risk."""

    window_weeks: int = 4
    drop: float = 0.5
    min_trips: int = 4


@attrs.frozen
class Settings:
    """Everything under ``[plugins.marketplace]``, resolved against the preset."""

    preset: str = "ride-sharing"
    sides: tuple[Side, ...] = PRESETS["ride-sharing"].sides
    transaction: Transaction = TRANSACTIONS["trip"]
    currency: str = "EUR"
    fee_rate: float = 0.25
    zones: tuple[str, ...] = ()
    timezone: str = "UTC"
    programs: tuple[Program, ...] = ()
    churn: Churn = attrs.field(factory=Churn)
    suggestion_min_trips: int = 2
    suggestion_limit: int = 5

    # -- lookups -------------------------------------------------------------------------

    @property
    def tz(self) -> tzinfo:
        """The time zone periods and times of day are counted in."""
        return ZoneInfo(self.timezone)

    @property
    def side_names(self) -> tuple[str, ...]:
        """Every side's name, in config order."""
        return tuple(side.name for side in self.sides)

    def side(self, name: str) -> Side:
        """The side called *name*; a :class:`ValidationError` listing the sides otherwise."""
        for side in self.sides:
            if side.name == name:
                return side
        known = ", ".join(self.side_names)
        raise ValidationError("side", f"no side {name!r} in this marketplace; sides: {known}", name)

    def find(self, name: str) -> Side | None:
        """The side called *name*, or None."""
        return next((side for side in self.sides if side.name == name), None)

    def positioned(self, position: Position) -> tuple[Side, ...]:
        """The demand or the supply sides."""
        return tuple(side for side in self.sides if side.position == position)

    def counterparts(self, side: Side) -> tuple[Side, ...]:
        """The sides across a transaction from *side* (demand <-> supply)."""
        return tuple(other for other in self.sides if other.position != side.position)

    def default_side(self, position: Position) -> Side:
        """The first side in that position (the driver, the rider ...)."""
        return self.positioned(position)[0]

    def programs_of(self, side: str) -> tuple[Program, ...]:
        """The incentive programs of one side."""
        return tuple(program for program in self.programs if program.side == side)

    # -- building --------------------------------------------------------------------------

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Settings:
        """Resolve a validated config section (defaults filled in) against its preset."""
        preset_name = str(values.get("preset", "ride-sharing"))
        preset = PRESETS[preset_name]
        sides = _sides(preset, preset_name, values.get("sides") or {})
        transaction = values.get("transaction") or preset.transaction
        if preset_name == "app-store" and transaction != "app_purchase":
            raise ValidationError(
                f"{_ROOT}/transaction",
                "the app-store preset records app_purchase transactions; "
                "use preset = 'custom' for another shape",
                transaction,
            )
        if preset_name == "ride-sharing" and transaction != "trip":
            raise ValidationError(
                f"{_ROOT}/transaction",
                "the ride-sharing preset records trip transactions; "
                "use preset = 'custom' for another shape",
                transaction,
            )
        timezone = str(values.get("timezone", "UTC"))
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"{_ROOT}/timezone",
                f"unknown time zone {timezone!r}; use an IANA name such as 'Europe/Paris'",
                timezone,
            ) from None
        fee = values.get("platform_fee_rate")
        names = {side.name for side in sides}
        churn = values.get("churn") or {}
        suggestions = values.get("suggestions") or {}
        return cls(
            preset=preset_name,
            sides=sides,
            transaction=TRANSACTIONS[transaction],
            currency=str(values.get("currency", "EUR")),
            fee_rate=float(preset.fee_rate if fee is None else fee),
            zones=tuple(values.get("zones") or ()),
            timezone=timezone,
            programs=_programs(values.get("incentives") or [], sides, names),
            churn=Churn(
                window_weeks=int(churn.get("window_weeks", 4)),
                drop=float(churn.get("drop", 0.5)),
                min_trips=int(churn.get("min_trips", 4)),
            ),
            suggestion_min_trips=int(suggestions.get("min_trips", 2)),
            suggestion_limit=int(suggestions.get("limit", 5)),
        )


def _sides(preset: Preset, preset_name: str, configured: Mapping[str, Any]) -> tuple[Side, ...]:
    """The preset's sides, with the config's changes and additions, in order."""
    found: dict[str, Side] = {side.name: side for side in preset.sides}
    for name, spec in configured.items():
        where = f"{_ROOT}/sides/{name}"
        if name in RESERVED_SIDE_NAMES:
            raise ValidationError(where, f"{name!r} is reserved (the support agent of a ticket)")
        base = found.get(name)
        position = spec.get("position") or (base.position if base else None)
        if position is None:
            raise ValidationError(
                f"{where}/position", "a side the preset does not have needs a position: "
                "'demand' (buys: riders, app users) or 'supply' (provides: drivers, developers)"
            )  # fmt: skip
        role_since = spec.get("role_since") or (
            base.role_since
            if base and base.position == position
            else ("activation" if position == "supply" else "first_transaction")
        )
        found[name] = Side(
            name=name,
            position=position,
            label=spec.get("label") or (base.label if base else name.replace("_", " ").title()),
            role_since=role_since,
            description=spec.get("description") or (base.description if base else ""),
        )
    sides = tuple(found.values())
    if not sides:
        raise ValidationError(
            f"{_ROOT}/sides",
            f"the {preset_name!r} preset has no sides of its own: declare them, e.g. "
            "sides.guest = {position = 'demand'} and sides.host = {position = 'supply'}",
        )
    for position in ("demand", "supply"):
        if not any(side.position == position for side in sides):
            raise ValidationError(
                f"{_ROOT}/sides",
                f"a marketplace needs at least one {position} side; sides: "
                + ", ".join(f"{side.name} ({side.position})" for side in sides),
            )
    return sides


def _programs(
    specs: list[Mapping[str, Any]], sides: tuple[Side, ...], names: set[str]
) -> tuple[Program, ...]:
    programs = []
    seen: set[str] = set()
    supply = next(side.name for side in sides if side.position == "supply")
    for index, spec in enumerate(specs):
        where = f"{_ROOT}/incentives/{index}"
        name = str(spec["name"])
        if name in seen:
            raise ValidationError(f"{where}/name", f"two programs are called {name!r}", name)
        seen.add(name)
        side = str(spec.get("side") or supply)
        if side not in names:
            raise ValidationError(
                f"{where}/side",
                f"no side {side!r} in this marketplace; sides: " + ", ".join(sorted(names)),
                side,
            )
        rating = spec.get("min_average_rating")
        programs.append(
            Program(
                name=name,
                side=side,
                period=spec.get("period", "week"),
                min_trips=int(spec["min_trips"]),
                min_average_rating=float(rating) if rating is not None else None,
                bonus=Decimal(str(spec["bonus"])),
                description=str(spec.get("description", "")),
            )
        )
    return tuple(programs)
