"""Population analytics against a straightforward reference computation on generated data."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs
import pytest
from b2c_records import person, purchase, refund

from partygraph import Toolkit

AS_OF = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
CATEGORIES = ("shoes", "shirts", "toys", "books", "garden")
PRICES = (4.99, 9.5, 12.0, 19.99, 35.25, 80.0)
COMPARED = (
    "orders", "returned_orders", "historic_clv", "aov", "frequency", "predicted_clv", "clv",
    "recency_days", "rfm_r", "rfm_f", "rfm_m",
)  # fmt: skip


@attrs.define
class Order:
    order_id: str
    buyer: str
    at: datetime
    lines: list[tuple[str, str, int, float]]
    refunds: list[tuple[datetime, Decimal | None]] = attrs.field(factory=list)

    @property
    def total(self) -> Decimal:
        return sum(
            (
                (Decimal(str(q)) * Decimal(str(p))).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
                for _, _, q, p in self.lines
            ),
            Decimal(0),
        )

    def refunded(self, until: datetime) -> Decimal:
        total = Decimal(0)
        for when, amount in self.refunds:
            if when <= until:
                total += self.total - total if amount is None else amount
        return total


def generate(seed: int = 7, people: int = 160) -> tuple[list[dict[str, Any]], list[Order]]:
    """Seeded shoppers with purchases, partial and full returns; a few leads buy nothing."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    orders: list[Order] = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for index in range(people):
        key = f"p{index:03d}"
        records.append(person(key))
        for number in range(rng.choice((0, 1, 1, 2, 3, 4, 6, 9))):
            at = start + timedelta(days=rng.randrange(700), hours=rng.randrange(24))
            lines = [
                (f"SKU-{rng.randrange(50)}", rng.choice(CATEGORIES), rng.randint(1, 3),
                 rng.choice(PRICES))
                for _ in range(rng.randint(1, 3))
            ]  # fmt: skip
            order = Order(f"{key}-{number}", key, at, lines)
            luck = rng.random()
            if luck < 0.12:
                order.refunds.append((at + timedelta(days=rng.randint(1, 40)), None))
            elif luck < 0.25:
                order.refunds.append((at + timedelta(days=rng.randint(1, 40)), Decimal("1.50")))
            orders.append(order)
    for order in orders:
        records.append(purchase(order.order_id, order.at.isoformat(), order.buyer, order.lines))
        for when, amount in order.refunds:
            records.append(
                refund(order.order_id, when.isoformat(), order.buyer,
                       float(amount) if amount is not None else None)
            )  # fmt: skip
    return records, orders


def reference_rfm(orders: list[Order], as_of: datetime) -> dict[str, dict[str, Any]]:
    """RFM the plain way: per customer, then count who is strictly worse."""
    figures: dict[str, dict[str, Any]] = {}
    for order in orders:
        if order.at > as_of:
            continue
        row = figures.setdefault(order.buyer, {"orders": 0, "net": Decimal(0), "last": None})
        refunded = order.refunded(as_of)
        row["net"] += order.total - refunded
        if refunded < order.total:
            row["orders"] += 1
            row["last"] = max(row["last"] or order.at, order.at)
    customers = {key: row for key, row in figures.items() if row["orders"]}
    n = len(customers)
    for row in customers.values():
        row["last_day"] = row["last"].date()
    for row in customers.values():
        worse_r = sum(1 for other in customers.values() if other["last_day"] < row["last_day"])
        worse_f = sum(1 for other in customers.values() if other["orders"] < row["orders"])
        worse_m = sum(1 for other in customers.values() if other["net"] < row["net"])
        row["r"] = 1 + 5 * worse_r // n
        row["f"] = 1 + 5 * worse_f // n
        row["m"] = 1 + 5 * worse_m // n
        row["recency_days"] = (as_of.date() - row["last_day"]).days
    return customers


@pytest.fixture
def world(b2c: Callable[..., Toolkit]) -> tuple[Toolkit, list[Order]]:
    toolkit = b2c()
    records, orders = generate()
    toolkit.write(records)
    return toolkit, orders


def test_rfm_matches_the_reference_computation(world: tuple[Toolkit, list[Order]]) -> None:
    toolkit, orders = world
    expected = reference_rfm(orders, AS_OF)
    found = {row["key"]: row for row in toolkit.plugin("b2c").rfm(AS_OF)}
    assert len(expected) > 100
    assert set(found) == set(expected)
    for key, row in expected.items():
        got = found[key]
        assert (got["r"], got["f"], got["m"]) == (row["r"], row["f"], row["m"]), key
        assert got["orders"] == row["orders"]
        assert got["recency_days"] == row["recency_days"]
        assert Decimal(str(got["historic_clv"])) == row["net"]
    # Every score is used, and ties share one.
    assert {row["r"] for row in found.values()} == {1, 2, 3, 4, 5}


def test_per_party_metrics_agree_with_the_population_pass(
    world: tuple[Toolkit, list[Order]],
) -> None:
    toolkit, _ = world
    population = {row["key"]: row for row in toolkit.plugin("b2c").customers(AS_OF)}
    for key in sorted(population)[:25]:
        figures = toolkit.metrics(key, as_of=AS_OF)["b2c"]
        row = population[key]
        for name in COMPARED:
            assert figures[name] == row[name], (key, name)
    # A later scoring date still answers from the same pass when nothing happened in between,
    # and a new purchase is taken into account at once.
    best = max(population.values(), key=lambda row: (row["rfm_m"], row["historic_clv"]))
    worst = min(population.values(), key=lambda row: (row["rfm_m"], row["historic_clv"]))
    assert toolkit.metrics(worst["key"], as_of=AS_OF)["b2c"]["rfm_m"] == worst["rfm_m"] < 5
    toolkit.write(
        [purchase("BIG", (AS_OF - timedelta(days=1)).isoformat(), worst["key"],
                  [("YACHT", "garden", 1, 99999)])]
    )  # fmt: skip
    assert toolkit.metrics(worst["key"], as_of=AS_OF)["b2c"]["rfm_m"] == 5
    assert toolkit.metrics(best["key"], as_of=AS_OF)["b2c"]["rfm_m"] == 5


def test_lifetime_value_follows_the_documented_formula(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c(
        {"clv": {"horizon_years": 2, "annual_retention": 0.5, "discount_rate": 0.0,
                 "margin": 1.0, "min_tenure_days": 365}}
    )  # fmt: skip
    toolkit.write(
        [
            person("amy"),
            purchase("A-1", "2025-01-01", "amy", [("S", "shoes", 1, 100)]),
            purchase("A-2", "2025-03-01", "amy", [("S", "shoes", 1, 50)]),
            purchase("A-3", "2025-04-01", "amy", [("S", "shoes", 1, 30)]),
            refund("A-3", "2025-04-02", "amy"),
        ]
    )
    figures = toolkit.metrics("amy", as_of="2025-06-01")["b2c"]
    assert figures["orders"] == 2
    assert figures["historic_clv"] == 150.0
    assert figures["aov"] == 75.0
    assert figures["frequency"] == pytest.approx(2 / (365 / 365.25), abs=1e-4)
    # 75 x 2.0014 per year x (1 + 0.5) years of expected buying
    expected = 75 * (2 / (365 / 365.25)) * 1.5
    assert figures["predicted_clv"] == pytest.approx(expected, abs=0.01)
    assert figures["clv"] == pytest.approx(150 + expected, abs=0.01)
    assert figures["first_purchase_at"] == "2025-01-01"
    assert figures["last_purchase_at"] == "2025-03-01"


def test_top_categories_and_the_category_audience(
    world: tuple[Toolkit, list[Order]],
) -> None:
    toolkit, orders = world
    plugin = toolkit.plugin("b2c")
    # Reference: units of each category over the kept orders, most first, then spend, then name.
    units: dict[str, dict[str, list[Decimal]]] = {}
    for order in orders:
        if order.at > AS_OF or order.refunded(AS_OF) >= order.total:
            continue
        mine = units.setdefault(order.buyer, {})
        seen: set[str] = set()
        for _, category, quantity, price in order.lines:
            entry = mine.setdefault(category, [Decimal(0), Decimal(0), Decimal(0)])
            entry[0] += quantity
            entry[1] += (Decimal(str(quantity)) * Decimal(str(price))).quantize(Decimal("0.01"))
            if category not in seen:
                entry[2] += 1
                seen.add(category)

    def top(key: str) -> list[str]:
        ranked = sorted(
            units[key].items(), key=lambda item: (-item[1][0], -item[1][1], -item[1][2], item[0])
        )
        return [name for name, _ in ranked[:3]]

    for key in sorted(units)[:20]:
        found = plugin.top_categories(key, AS_OF, limit=3)
        assert [item["category"] for item in found] == top(key), key
        assert toolkit.metrics(key, as_of=AS_OF)["b2c"]["top_categories"] == ", ".join(top(key))
    audience = plugin.audience("garden", AS_OF)
    expected = sorted(key for key in units if "garden" in top(key))
    assert sorted(row["key"] for row in audience["parties"]) == expected
    assert audience["left_out"] == 0


def test_customers_summary_and_a_date_before_anything(world: tuple[Toolkit, list[Order]]) -> None:
    toolkit, orders = world
    plugin = toolkit.plugin("b2c")
    assert plugin.customers("2023-06-01") == []
    summary = plugin.summary(AS_OF)
    expected = reference_rfm(orders, AS_OF)
    assert summary["customers"] == len(expected)
    assert Decimal(str(summary["historic_clv"])) == sum(row["net"] for row in expected.values())
    lapsed = sum(1 for row in expected.values() if AS_OF - row["last"] >= timedelta(days=365))
    assert summary["lapsed"] == lapsed
    assert date.fromisoformat(summary["as_of"][:10]) == AS_OF.date()
