"""Household roll-ups, life-stage facts and offer eligibility, for one household or all.

A :class:`Census` reads what the figures need for a set of households (or the
whole population) at one date in a constant number of statements (see
:mod:`partygraph_household.queries`), asks the enabled plugins once which
people may not be aggregated (``graph.excluded(..., "household_aggregation")``)
and leaves them out of every figure. Purchases are credited by membership
period: to the household the buyer belonged to on the purchase date. The
other roll-ups are across the members current at the date.

"Deep" figures ask the other plugins about each current member (their roles,
for the customer fact, and their published metrics, for the total value):
they are computed for a single household's view, and for the population only
when an offer rule needs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import attrs

from partygraph import GraphReader, Party, RoleAssignment
from partygraph.times import to_storage
from partygraph_household import queries
from partygraph_household.queries import HoldingRow, MemberRow, SpendRow
from partygraph_household.settings import Condition, Offer, Settings
from partygraph_household.vocabulary import HEAD, PURPOSE

__all__ = [
    "Census",
    "Households",
    "customers_among",
    "Dependency",
    "dependency",
    "evaluate_offers",
    "iso",
    "summary_of",
    "years",
]

ADULT_AGE = 18


def iso(value: datetime | None) -> str | None:
    """A date (midnight UTC) as ``YYYY-MM-DD``, other times as ISO-8601 with ``Z``."""
    if value is None:
        return None
    moment = to_storage(value)
    if moment.time() == time():
        return moment.date().isoformat()
    return moment.isoformat() + "Z"


def years(born: date | None, today: date) -> int | None:
    """Age in whole years on *today*; None when the birth date is unknown."""
    if born is None:
        return None
    return max(today.year - born.year - ((today.month, today.day) < (born.month, born.day)), 0)


def birthday(born: date | None, age: int) -> datetime | None:
    """The moment someone born on *born* turns *age* (midnight UTC)."""
    if born is None:
        return None
    try:
        day = born.replace(year=born.year + age)
    except ValueError:  # born on 29 February
        day = date(born.year + age, 3, 1)
    return datetime.combine(day, time(), UTC)


@attrs.frozen
class Dependency:
    """Whether a member is a dependent at a date, why, and until when."""

    dependent: bool
    reason: str
    since: datetime | None = None
    until: datetime | None = None


def _earliest(*values: datetime | None) -> datetime | None:
    found = [value for value in values if value is not None]
    return min(found) if found else None


def _latest(*values: datetime | None) -> datetime | None:
    found = [value for value in values if value is not None]
    return max(found) if found else None


def is_dependent(member: MemberRow, today: date, settings: Settings) -> bool:
    """The dependent rule, as a yes or no (see :func:`dependency`)."""
    if member.role == HEAD:
        return False
    limit = settings.dependent_age_limit
    age = years(member.born, today)
    if limit is not None and age is not None:
        return age < limit
    return member.role == "dependent"


def dependency(member: MemberRow, at: datetime, settings: Settings) -> Dependency:
    """The dependent rule: younger than ``dependent_age_limit`` (not head), or in the role
    dependent and not yet that old (any age, with no limit configured); with its reason."""
    limit = settings.dependent_age_limit
    born = member.born
    age = years(born, to_storage(at).date())
    if member.role == HEAD:
        return Dependency(False, "head of the household")
    if limit is not None and age is not None and born is not None:
        turns = birthday(born, limit)
        if age >= limit:
            return Dependency(
                False, f"aged {age} (born {born.isoformat()}), {limit} or older since {iso(turns)}"
            )
        though = "" if member.role == "dependent" else f", though a member as {member.role}"
        return Dependency(
            True,
            f"aged {age} (born {born.isoformat()}), under {limit}{though}",
            since=member.since,
            until=_earliest(turns, member.until),
        )
    if member.role == "dependent":
        known = "birth date unknown" if born is None else "no age limit configured"
        return Dependency(
            True, f"a member in the role dependent ({known})", member.since, member.until
        )
    return Dependency(False, f"member as {member.role}")


# -- the census ------------------------------------------------------------------------------


def _grouped(rows: Sequence[Any], key: str) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[getattr(row, key)].append(row)
    return found


class Households(Protocol):
    """What :func:`summary_of` reads: a :class:`Census` of many households, or one
    household's snapshot (:class:`partygraph_household.snapshot.Snapshot`)."""

    graph: GraphReader
    settings: Settings
    at: datetime
    today: date

    @property
    def households(self) -> Mapping[int, Party]:
        """The household parties, by id."""

    @property
    def excluded(self) -> set[int]:
        """People who may not be aggregated."""

    @property
    def spend(self) -> Mapping[int, list[SpendRow]]:
        """Purchases credited to each household."""

    @property
    def categories(self) -> Mapping[int, list[tuple[int, str]]]:
        """``(buyer, category)`` per household."""

    @property
    def holdings(self) -> Mapping[int, list[HoldingRow]]:
        """Holdings per household."""

    def current(self, household_id: int) -> list[MemberRow]:
        """Memberships current at the date."""

    def included(self, household_id: int) -> list[MemberRow]:
        """Current memberships of people who may be aggregated."""

    def customers(self, household_id: int) -> list[tuple[MemberRow, list[RoleAssignment]]]:
        """Included members who are customers, with their customer roles."""


class Census:
    """What the roll-ups of some households (or all, with ``None``) need at one date."""

    def __init__(
        self,
        graph: GraphReader,
        settings: Settings,
        at: datetime,
        household_ids: Collection[int] | None = None,
    ) -> None:
        connection = graph.connection
        if household_ids is None:
            queries.without_jit(connection)
        self.graph = graph
        self.settings = settings
        self.at = at
        self.since = at - timedelta(days=settings.recent_days)
        self.today = to_storage(at).date()
        self.households = queries.households(connection, household_ids)
        ids = household_ids
        self.memberships: dict[int, list[MemberRow]] = _grouped(
            queries.memberships(connection, at, ids), "household_id"
        )
        people: dict[int, Party] = {}
        for rows in self.memberships.values():
            for row in rows:
                assert row.party.id is not None
                people[row.party.id] = row.party
        self.people = people
        self.excluded: set[int] = (
            set(graph.excluded(list(people.values()), PURPOSE, at)) if people else set()
        )
        purchases = settings.purchases
        self.spend: dict[int, list[SpendRow]] = _grouped(
            queries.spend(connection, purchases, at, self.since, ids), "household_id"
        )
        by_household: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for household, party, category in queries.categories(
            connection, purchases, at, self.since, ids
        ):
            by_household[household].append((party, category))
        self.categories = by_household
        self.holdings: dict[int, list[HoldingRow]] = _grouped(
            queries.holdings(connection, at, ids), "household_id"
        )

    def current(self, household_id: int) -> list[MemberRow]:
        """Memberships current at the date."""
        return [row for row in self.memberships.get(household_id, []) if row.holds(self.at)]

    def included(self, household_id: int) -> list[MemberRow]:
        """Current memberships of people who may be aggregated."""
        return [row for row in self.current(household_id) if row.party.id not in self.excluded]

    def customers(self, household_id: int) -> list[tuple[MemberRow, list[RoleAssignment]]]:
        """Included members who are customers (asks every plugin for their roles)."""
        return customers_among(self.graph, self.included(household_id), self.at)


# -- one household's figures -------------------------------------------------------------------


def _spend_figures(
    rows: Sequence[SpendRow], excluded: set[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(all before the date, the recent window) of the people who may be aggregated."""
    kept = [row for row in rows if row.party_id not in excluded]
    by_currency: dict[str, float] = defaultdict(float)
    for row in kept:
        by_currency[row.currency or ""] += row.amount
    figures: dict[str, Any] = {
        "purchases": sum(row.purchases for row in kept),
        "amount": round(float(sum(row.amount for row in kept)), 2),
        "buyers": len({row.party_id for row in kept}),
        "first": iso(_earliest(*(row.first for row in kept))),
        "last": iso(_latest(*(row.last for row in kept))),
    }
    named = {currency: round(value, 2) for currency, value in by_currency.items() if currency}
    if len(named) == 1 and len(by_currency) == 1:
        figures["currency"] = next(iter(named))
    elif named:
        figures["by_currency"] = dict(sorted(named.items()))
    recent = {
        "purchases": sum(row.recent_purchases for row in kept),
        "amount": round(float(sum(row.recent_amount for row in kept)), 2),
        "buyers": len({row.party_id for row in kept if row.recent_purchases}),
    }
    return figures, recent


def _products(rows: Sequence[HoldingRow], excluded: set[int]) -> list[dict[str, Any]]:
    """Each holding once, however many members hold it."""
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        if not row.by_household and row.holder_id in excluded:
            continue
        holding = row.holding
        assert holding.id is not None
        entry = found.get(holding.id)
        if entry is None:
            entry = found[holding.id] = {
                "key": holding.key,
                "name": holding.name,
                "product": holding.attributes.get("product"),
                "balance": holding.attributes.get("balance"),
                "currency": holding.attributes.get("currency"),
                "holders": 0,
                "household_share": None,
                "held_by_household": False,
                "evidence": [],
            }
        if row.by_household:
            entry["held_by_household"] = True
        else:
            entry["holders"] += 1
        if row.share is not None:
            entry["household_share"] = round((entry["household_share"] or 0.0) + row.share, 6)
        entry["evidence"].append(f"relationship #{row.relationship_id}")
    return sorted(found.values(), key=lambda item: (str(item["product"]), item["key"]))


def _shared_preferences(
    rows: Sequence[tuple[int, str]], members: set[int], minimum: int
) -> list[dict[str, Any]]:
    buyers: dict[str, set[int]] = defaultdict(set)
    for party, category in rows:
        if party in members:
            buyers[category].add(party)
    shared = [
        {"category": category, "members": len(people)}
        for category, people in buyers.items()
        if len(people) >= minimum
    ]
    return sorted(shared, key=lambda item: (-int(item["members"]), str(item["category"])))


def customers_among(
    graph: GraphReader, members: Sequence[MemberRow], at: datetime
) -> list[tuple[MemberRow, list[RoleAssignment]]]:
    """The *members* some plugin calls a customer, with those roles."""
    found = []
    for member in members:
        roles = [role for role in graph.roles(member.party, at) if role.customer]
        if roles:
            found.append((member, roles))
    return found


def _value(
    graph: GraphReader, members: Sequence[MemberRow], at: datetime, names: Sequence[str]
) -> dict[str, Any]:
    """The sum over members of the metrics other plugins publish under *names*."""
    by_metric: dict[str, float] = defaultdict(float)
    for member in members:
        for plugin, figures in graph.metrics(member.party, at).items():
            for name, value in figures.items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if name in names or f"{plugin}.{name}" in names:
                    by_metric[f"{plugin}.{name}"] += float(value)
    return {
        "total": round(sum(by_metric.values()), 2),
        "by_metric": {name: round(value, 2) for name, value in sorted(by_metric.items())},
    }


def _life_stage(members: Sequence[MemberRow], today: date, settings: Settings) -> dict[str, Any]:
    known = [age for member in members if (age := years(member.born, today)) is not None]
    dependents = 0
    under_18 = 0
    for member in members:
        if is_dependent(member, today, settings):
            dependents += 1
            age = years(member.born, today)
            if age is not None and age < ADULT_AGE:
                under_18 += 1
    return {
        "members": len(members),
        "adults": len(members) - dependents,
        "dependents": dependents,
        "dependents_under_18": under_18,
        "has_dependents_under_18": bool(under_18),
        "minors": sum(1 for age in known if age < ADULT_AGE),
        "seniors": sum(1 for age in known if age >= settings.senior_age),
        "youngest_age": min(known) if known else None,
        "oldest_age": max(known) if known else None,
    }


def summary_of(census: Households, household_id: int, *, deep: bool = True) -> dict[str, Any]:
    """One household's roll-ups, facts and offers (JSON-ready); nobody left out is named."""
    settings = census.settings
    at = census.at
    household = census.households[household_id]
    current = census.current(household_id)
    included = census.included(household_id)
    excluded = census.excluded
    counted = {member.party.id for member in included if member.party.id is not None}
    spend_rows = census.spend.get(household_id, [])
    left_out = {member.party.id for member in current if member.party.id in excluded} | {
        row.party_id for row in spend_rows if row.party_id in excluded
    }
    has_head = any(member.role == HEAD for member in current)
    status = "empty" if not current else ("active" if has_head else "no_head")
    life_stage = _life_stage(included, census.today, settings)
    products = _products(census.holdings.get(household_id, []), excluded)
    spend, recent = _spend_figures(spend_rows, excluded)
    facts: dict[str, Any] = {
        **life_stage,
        "has_head": has_head,
        "products": len(products),
        "spend": spend["amount"],
        "recent_spend": recent["amount"],
        "recent_purchases": recent["purchases"],
    }
    rollup: dict[str, Any] = {
        "members_counted": len(included),
        "left_out": len(left_out),
        "spend": spend,
        "recent_spend": {"days": settings.recent_days, **recent},
        "shared_preferences": _shared_preferences(
            census.categories.get(household_id, []),
            counted,
            settings.shared_preference_min_members,
        ),
        "products": products,
        "holdings_value": round(
            sum(
                float(item["balance"])
                for item in products
                if isinstance(item["balance"], int | float)
            ),
            2,
        ),
        "life_stage": life_stage,
    }
    if left_out:
        rollup["note"] = (
            f"{len(left_out)} member(s) left out of these figures: their data may not be "
            f"aggregated ({PURPOSE}). Who is not shown."
        )
    if deep or settings.deep_facts_needed:
        customers = census.customers(household_id)
        value = _value(census.graph, included, at, settings.value_metrics)
        facts["customer"] = bool(customers)
        facts["total_value"] = value["total"]
        rollup["customers"] = len(customers)
        rollup["total_value"] = value
    held = {str(item["product"]) for item in products if item["product"]}
    offers = evaluate_offers(settings.offers, facts, held, products)
    return {
        "household": {"id": household_id, "key": household.key, "name": household.name},
        "as_of": iso(at),
        "status": status,
        "members": [
            {
                "key": member.party.key,
                "name": member.party.name,
                "role": member.role,
                "since": iso(member.since),
                "relationship": member.relationship_id,
            }
            for member in current
        ],
        "rollup": rollup,
        "facts": facts,
        "offers": offers,
    }


# -- offers ----------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "unknown"
    return str(value)


def _test(
    condition: Condition,
    facts: Mapping[str, Any],
    held: set[str],
    products: Sequence[Mapping[str, Any]],
) -> tuple[bool, list[str]]:
    """Whether one condition holds, and the facts that show it."""
    because: list[str] = []
    if condition.fact is not None:
        value = facts.get(condition.fact)
        if condition.has_equals:
            if value != condition.equals or isinstance(value, bool) != isinstance(
                condition.equals, bool
            ):
                return False, []
            because.append(f"{condition.fact} is {_shown(value)}")
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        bounds = []
        if condition.at_least is not None:
            if number is None or number < condition.at_least:
                return False, []
            bounds.append(f"at least {_shown(condition.at_least)}")
        if condition.at_most is not None:
            if number is None or number > condition.at_most:
                return False, []
            bounds.append(f"at most {_shown(condition.at_most)}")
        if bounds:
            because.append(f"{condition.fact} is {_shown(value)} ({', '.join(bounds)})")
        if not condition.has_equals and not bounds:
            if not value:
                return False, []
            because.append(f"{condition.fact} is {_shown(value)}")
    if condition.holds_product is not None:
        if condition.holds_product not in held:
            return False, []
        keys = [item["key"] for item in products if item["product"] == condition.holds_product]
        because.append(f"holds {condition.holds_product} ({', '.join(keys)})")
    if condition.lacks_product is not None:
        if condition.lacks_product in held:
            return False, []
        because.append(f"holds no {condition.lacks_product}")
    return True, because


def evaluate_offers(
    offers: Sequence[Offer],
    facts: Mapping[str, Any],
    held: set[str],
    products: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The offers the household is eligible for, each with the facts that made it so."""
    eligible = []
    for offer in offers:
        because: list[str] = []
        for condition in offer.when:
            ok, shown = _test(condition, facts, held, products)
            if not ok:
                break
            because.extend(shown)
        else:
            eligible.append({"offer": offer.name, "label": offer.label, "because": because})
    return eligible
