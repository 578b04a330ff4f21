"""Money rounded to the cent: the whole-cent fast path agrees with the Decimal rounding."""

from __future__ import annotations

import random

from partygraph_marketplace.periods import cents, money


def test_whole_cents_agree_with_money_on_sums_of_fares_and_fees() -> None:
    rng = random.Random(7)
    values = [0.0, 0.005, 0.015, 1.005, 2.675, 11.5625, 19.0625, 1e7 + 0.005, 123456789.125]
    for _ in range(20_000):
        fares = [
            round(rng.uniform(3, 80), rng.choice((0, 1, 2))) for _ in range(rng.randrange(1, 40))
        ]
        rate = rng.choice((0.25, 0.3, 0.15, 1 / 3))
        values += [sum(fares), sum(fare * rate for fare in fares), rng.randrange(100_000) / 1000]
    for value in values:
        assert cents(value) == int(money(value) * 100), value
        assert float(money(value)) == cents(value) / 100  # type: ignore[operator]


def test_a_negative_amount_is_left_to_money() -> None:
    assert cents(-0.001) is None
    assert str(money(-0.001)) == "-0.00"
