"""Bad purchases and returns are refused with an error naming the field, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from b2c_records import count_rows, person, purchase, refund

from partygraph import ConfigError, RecordsRejected, Toolkit, ValidationError


def _nothing_written(toolkit: Toolkit) -> None:
    assert count_rows(toolkit, "interaction") == 0
    assert count_rows(toolkit, "b2c_order") == 0
    assert count_rows(toolkit, "b2c_order_category") == 0
    assert count_rows(toolkit, "b2c_return") == 0


@pytest.fixture
def shop(b2c: Callable[..., Toolkit]) -> Toolkit:
    toolkit = b2c()
    toolkit.write([person("paul"), person("lea")])
    return toolkit


def _record(toolkit: Toolkit, record: dict[str, Any]) -> None:
    body = record["interaction"]
    toolkit.record_interaction(
        body["type"], body["occurred_at"], body["participants"], body["payload"]
    )


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        (
            purchase("O-1", "2025-01-01", "paul", [("S", "toys", -1, 10)]),
            "payload/lines/0/quantity",
            "must be greater than 0, got -1",
        ),
        (
            purchase("O-1", "2025-01-01", "paul", currency="XYZ"),
            "payload/currency",
            "'XYZ' is not an ISO 4217 currency code",
        ),
        (
            purchase("O-1", "2025-01-01", "paul", currency="eur"),
            "payload/currency",
            "must match the pattern",
        ),
        (
            purchase("O-1", "2025-01-01", None, consumers=["lea"]),
            "participants",
            "a purchase needs a 'purchaser'",
        ),
        (
            {"interaction": {**purchase("O-1", "2025-01-01", "paul")["interaction"],
                             "participants": [{"party": "paul", "role": "purchaser"},
                                              {"party": "lea", "role": "purchaser"}]}},
            "participants",
            "exactly one purchaser (the billing customer), got 2",
        ),
        (
            purchase("O-1", "2025-01-01", "paul", currency="USD"),
            "payload/currency",
            "no exchange rate from USD to the reporting currency EUR",
        ),
        (
            purchase("O-1", "2025-01-01", "paul", [("S", "toys, games", 1, 10)]),
            "payload/lines/0/category",
            "must match the pattern",
        ),
        (
            refund("NOPE", "2025-01-01", "paul"),
            "payload/order_id",
            "no purchase with order id 'NOPE'",
        ),
    ],
)  # fmt: skip
def test_bad_records_are_refused_naming_the_field(
    shop: Toolkit, record: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _record(shop, record)
    assert caught.value.field == field
    assert words in str(caught.value)
    _nothing_written(shop)


def test_a_bad_line_in_an_import_stops_the_whole_import(shop: Toolkit, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    records = [
        purchase("O-1", "2025-01-01", "paul"),
        purchase("O-2", "2025-01-02", "paul", currency="XYZ"),
        purchase("O-3", "2025-01-03", "paul", [("S", "toys", -2, 10)]),
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    with pytest.raises(RecordsRejected) as caught:
        shop.import_jsonl(path)
    assert [item.line for item in caught.value.report.rejected] == [2, 3]
    assert "line 2: payload/currency: 'XYZ' is not an ISO 4217" in str(caught.value)
    assert "line 3: payload/lines/0/quantity: must be greater than 0" in str(caught.value)
    _nothing_written(shop)
    report = shop.import_jsonl(path, skip_invalid=True)
    assert [item.line for item in report.rejected] == [2, 3]
    assert "payload/currency: 'XYZ' is not an ISO 4217 currency code" in report.rejected[0].reason
    assert count_rows(shop, "b2c_order") == 1


def test_order_ids_are_unique(shop: Toolkit) -> None:
    shop.write([purchase("O-1", "2025-01-01", "paul")])
    with pytest.raises(ValidationError, match="order 'O-1' is already recorded"):
        shop.write([purchase("O-1", "2025-02-01", "paul")])
    with pytest.raises(
        RecordsRejected, match="line 2: payload/order_id: order 'O-2' appears twice"
    ):
        shop.write([purchase("O-2", "2025-02-01", "paul"), purchase("O-2", "2025-02-02", "lea")])
    assert count_rows(shop, "b2c_order") == 1


def test_returns_must_fit_their_order(shop: Toolkit) -> None:
    shop.write([purchase("O-1", "2025-01-10", "paul", [("S", "toys", 2, 10)])])
    with pytest.raises(ValidationError) as early:
        shop.write([refund("O-1", "2025-01-01", "paul")])
    assert early.value.field == "occurred_at"
    with pytest.raises(ValidationError) as much:
        shop.write([refund("O-1", "2025-01-20", "paul", amount=25)])
    assert much.value.field == "payload/amount"
    assert "more than is left of order 'O-1' (20.00 EUR)" in str(much.value)
    in_dollars = refund("O-1", "2025-01-20", "paul")
    in_dollars["interaction"]["payload"]["currency"] = "USD"
    with pytest.raises(ValidationError, match="paid in EUR, not USD"):
        shop.write([in_dollars])
    # Two returns in one write share what is left of the order.
    with pytest.raises(RecordsRejected, match="line 2: payload/amount: 15 EUR is more than"):
        shop.write(
            [refund("O-1", "2025-01-20", "paul", 15), refund("O-1", "2025-01-21", "paul", 15)]
        )
    assert count_rows(shop, "b2c_return") == 0
    shop.write([refund("O-1", "2025-01-20", "paul", 15), refund("O-1", "2025-01-21", "paul")])
    with pytest.raises(ValidationError, match="already returned in full"):
        shop.write([refund("O-1", "2025-01-22", "paul")])
    assert count_rows(shop, "b2c_return") == 2


def test_an_order_and_its_return_can_arrive_in_one_file(shop: Toolkit) -> None:
    shop.write([refund("O-9", "2025-01-05", "paul"), purchase("O-9", "2025-01-01", "paul")])
    assert count_rows(shop, "b2c_return") == 1
    assert shop.metrics("paul", as_of="2025-02-01")["b2c"]["returned_orders"] == 1


def test_other_currencies_need_a_rate_and_are_converted(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c({"currency": "EUR", "exchange_rates": {"USD": 0.5, "JPY": 0.01}})
    toolkit.write(
        [
            person("kim"),
            purchase("U-1", "2025-01-01", "kim", [("S", "toys", 1, 10.00)], currency="USD"),
            purchase("J-1", "2025-01-02", "kim", [("S", "toys", 3, 1000)], currency="JPY"),
            purchase("E-1", "2025-01-03", "kim", [("S", "toys", 1, 0.99)]),
        ]
    )
    figures = toolkit.metrics("kim", as_of="2025-02-01")["b2c"]
    assert figures["historic_clv"] == pytest.approx(5.00 + 30.00 + 0.99)
    assert figures["currency"] == "EUR"
    (row,) = toolkit.plugin("b2c").customers("2025-02-01")
    assert row["historic_clv"] == figures["historic_clv"]


def test_a_converted_half_minor_unit_rounds_away_from_zero_everywhere(
    b2c: Callable[..., Toolkit],
) -> None:
    """A party's figures (Python) and the population's (SQL) round the same way."""
    toolkit = b2c({"currency": "EUR", "exchange_rates": {"USD": 0.5}})
    toolkit.write(
        [
            person("kim"),
            # 5, 7 and 1 US cents are 2.5, 3.5 and 0.5 euro cents: 3 + 4 + 1.
            purchase("U-1", "2025-01-01", "kim", [("S", "toys", 1, 0.05)], currency="USD"),
            purchase("U-2", "2025-01-02", "kim", [("S", "toys", 1, 0.07)], currency="USD"),
            purchase("U-3", "2025-01-03", "kim", [("S", "games", 1, 0.01)], currency="USD"),
        ]
    )
    figures = toolkit.metrics("kim", as_of="2025-02-01")["b2c"]
    assert figures["historic_clv"] == pytest.approx(0.08)
    (row,) = toolkit.plugin("b2c").customers("2025-02-01")
    assert row["historic_clv"] == figures["historic_clv"]
    view = toolkit.view("kim", as_of="2025-02-01").sections["b2c"]
    spend = {row["category"]: row["spend"] for row in view["preferences"]["top_categories"]}
    assert spend == {"toys": pytest.approx(0.07), "games": pytest.approx(0.01)}


@pytest.mark.parametrize(
    ("settings", "pointer"),
    [
        ({"currency": "XYZ"}, "/plugins/b2c/currency"),
        ({"exchange_rates": {"ABC": 1.2}}, "/plugins/b2c/exchange_rates/ABC"),
    ],
)
def test_config_currencies_must_be_iso_4217(
    b2c: Callable[..., Toolkit], settings: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        b2c(settings)
    assert caught.value.field == pointer


def test_config_keys_are_checked(b2c: Callable[..., Toolkit]) -> None:
    with pytest.raises(ConfigError) as caught:
        b2c({"loyal": {"min_order": 3}, "lapse_after_days": 0})
    text = str(caught.value)
    assert "/plugins/b2c/loyal/min_order" in text
    assert "/plugins/b2c/lapse_after_days" in text
