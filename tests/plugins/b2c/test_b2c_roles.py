"""Who is the customer: purchasers, consumers, prospects, loyal and lapsed customers, as of
any date."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest
from b2c_records import person, purchase, refund, roles_of, usage

from partygraph import Cardinality, RelationshipType, Toolkit, hookimpl


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_parent_buying_for_a_child_is_the_customer_and_the_child_only_a_consumer(
    b2c: Callable[..., Toolkit],
) -> None:
    toolkit = b2c()
    toolkit.write(
        [
            person("paul", "Paul Martin"),
            person("lea", "Léa Martin", birth_date="2014-05-01"),
            purchase("O-1", "2025-03-01T10:00:00Z", "paul", [("LEGO-1", "toys", 2, 24.5)],
                     consumers=["lea"]),
        ]
    )  # fmt: skip
    parent = roles_of(toolkit, "paul", "2025-04-01")
    child = roles_of(toolkit, "lea", "2025-04-01")
    assert set(parent) == {"customer"}
    assert parent["customer"].customer is True
    assert parent["customer"].since == at("2025-03-01T10:00:00")
    assert "bought 1 order as purchaser on 2025-03-01" in parent["customer"].reason
    assert "net spend 49.00 EUR" in parent["customer"].reason
    assert "Bought for Léa Martin (lea)" in parent["customer"].reason
    assert set(child) == {"consumer"}  # not a customer, and not a prospect either
    consumer = child["consumer"]
    assert consumer.customer is False
    assert consumer.context is not None
    assert consumer.context.key == "paul"
    assert "made by Paul Martin (paul)" in consumer.reason
    assert "Not the billing customer" in consumer.reason
    assert consumer.evidence[0].startswith("interaction #")
    # Before the purchase, the child was nothing to the shop; the father was a lead.
    assert roles_of(toolkit, "lea", "2025-02-01") == {}
    assert set(roles_of(toolkit, "paul", "2025-02-01")) == {"prospect"}


def test_a_lead_becomes_customer_then_loyal_then_lapsed(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c({"loyal": {"min_orders": 3, "window_days": 90}, "lapse_after_days": 120})
    toolkit.write(
        [
            person("ann", "Ann Smith"),
            purchase("A-1", "2025-01-10T09:00:00Z", "ann"),
            purchase("A-2", "2025-02-10T09:00:00Z", "ann"),
            purchase("A-3", "2025-03-01T09:00:00Z", "ann"),
        ]
    )
    lead = roles_of(toolkit, "ann", "2025-01-01")
    assert set(lead) == {"prospect"}
    assert "no purchase yet: a lead" in lead["prospect"].reason

    first = roles_of(toolkit, "ann", "2025-01-10T09:00:00Z")  # the moment of the first purchase
    assert set(first) == {"customer"}

    loyal = roles_of(toolkit, "ann", "2025-03-15")
    assert set(loyal) == {"customer", "loyal_customer"}
    assert loyal["loyal_customer"].since == at("2025-03-01T09:00:00")
    assert loyal["loyal_customer"].customer is True
    assert "3 purchases in the last 90 days (rule: at least 3)" in loyal["loyal_customer"].reason
    assert loyal["customer"].since == at("2025-01-10T09:00:00")

    # The first purchase leaves the 90-day window on 2025-04-10: loyal no more, still a customer.
    assert set(roles_of(toolkit, "ann", "2025-04-11")) == {"customer"}

    lapsed = roles_of(toolkit, "ann", "2025-07-30")  # 120 days after 2025-03-01 is 2025-06-29
    assert set(lapsed) == {"customer", "lapsed_customer"}
    assert lapsed["lapsed_customer"].since == at("2025-06-29T09:00:00")
    assert "no purchase for 151 days, since order A-3 on 2025-03-01" in (
        lapsed["lapsed_customer"].reason
    )
    assert "a customer since 2025-01-10" in lapsed["lapsed_customer"].reason

    # Buying again ends the lapse.
    toolkit.write([purchase("A-4", "2025-08-01T09:00:00Z", "ann")])
    assert set(roles_of(toolkit, "ann", "2025-08-02")) == {"customer"}
    assert set(roles_of(toolkit, "ann", "2025-07-30")) == {"customer", "lapsed_customer"}


def test_loyal_by_lifetime_value(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c({"loyal": {"min_orders": None, "min_clv": 500}})
    toolkit.write(
        [
            person("vip"),
            purchase("V-1", "2025-01-01", "vip", [("TV", "electronics", 1, 450)]),
            purchase("V-2", "2025-02-01", "vip", [("HDMI", "electronics", 2, 25)]),
        ]
    )
    assert "loyal_customer" not in roles_of(toolkit, "vip", "2025-01-15")
    loyal = roles_of(toolkit, "vip", "2025-02-15")["loyal_customer"]
    assert "net spend 500.00 EUR (rule: at least 500.00 EUR)" in loyal.reason
    assert loyal.since == at("2025-02-01T00:00:00")


def test_a_full_return_undoes_customer_and_a_partial_one_does_not(
    b2c: Callable[..., Toolkit],
) -> None:
    toolkit = b2c()
    toolkit.write(
        [
            person("bob"),
            person("eve"),
            purchase("B-1", "2025-05-01", "bob", [("COAT", "clothing", 1, 120)]),
            refund("B-1", "2025-05-20", "bob"),
            purchase("E-1", "2025-05-01", "eve", [("COAT", "clothing", 1, 120)]),
            refund("E-1", "2025-05-20", "eve", amount=20),
        ]
    )
    assert set(roles_of(toolkit, "bob", "2025-05-10")) == {"customer"}
    after = roles_of(toolkit, "bob", "2025-06-01")
    assert set(after) == {"prospect"}
    assert "returned everything in full, last on 2025-05-20" in after["prospect"].reason
    assert after["prospect"].since == at("2025-05-20T00:00:00")
    kept = roles_of(toolkit, "eve", "2025-06-01")
    assert set(kept) == {"customer"}
    assert "net spend 100.00 EUR" in kept["customer"].reason
    assert toolkit.metrics("bob", as_of="2025-06-01")["b2c"]["historic_clv"] == 0.0
    assert toolkit.metrics("eve", as_of="2025-06-01")["b2c"]["historic_clv"] == 100.0


def test_product_usage_makes_a_consumer_and_buying_for_oneself_can_too(
    b2c: Callable[..., Toolkit],
) -> None:
    toolkit = b2c()
    toolkit.write(
        [
            person("gran", "Margaret Doe"),
            person("sam", "Sam Doe"),
            usage("gran", "2025-02-01", "streaming app"),
            usage("gran", "2025-02-03", "streaming app"),
            purchase("S-1", "2025-03-01", "sam", consumers=["sam"]),
        ]
    )
    gran = roles_of(toolkit, "gran", "2025-03-01")
    assert set(gran) == {"consumer"}
    assert gran["consumer"].context is None
    assert "used products 2 times between 2025-02-01 and 2025-02-03" in gran["consumer"].reason
    assert gran["consumer"].since == at("2025-02-01T00:00:00")
    sam = toolkit.roles("sam", as_of="2025-03-02")
    assert sorted(role.role for role in sam) == ["consumer", "customer"]
    own = next(role for role in sam if role.role == "consumer")
    assert "named themselves consumer of 1 own purchase" in own.reason


def test_son_is_billing_customer_and_mother_service_customer(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c()
    toolkit.write(
        [
            person("son", "Tom Weber"),
            person("mum", "Helga Weber", birth_date="1950-01-01"),
            purchase("SUB-1", "2025-01-01", "son", [("MAG-12", "magazines", 1, 60)],
                     consumers=["mum"]),
            usage("mum", "2025-01-05", "magazine app"),
        ]
    )  # fmt: skip
    son = roles_of(toolkit, "son", "2025-02-01")
    mum = toolkit.roles("mum", as_of="2025-02-01")
    assert set(son) == {"customer"}
    assert sorted((role.role, role.context.key if role.context else "-") for role in mum) == [
        ("consumer", "-"),
        ("consumer", "son"),
    ]
    assert not any(role.customer for role in mum)
    plugin = toolkit.plugin("b2c")
    assert plugin.recipients("SUB-1", "billing")["to"] == ["son"]
    assert plugin.recipients("SUB-1", "service")["to"] == ["mum"]
    assert sorted(plugin.recipients("SUB-1", "marketing")["to"]) == ["mum", "son"]


class Staff:
    """A stand-in plugin with the relationship type an internal plugin would register."""

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return [
            RelationshipType(
                "employed_in",
                label="employed in",
                source_kinds={"person"},
                target_kinds={"organization"},
                cardinality=[Cardinality(per="source", max=1)],
            )
        ]


def test_children_employees_and_organisations_are_no_leads(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = make_toolkit(plugins={"staff": Staff}, enabled=["b2c", "staff"])
    toolkit.write(
        [
            person("kid", birth_date="2015-01-01"),
            person("clerk"),
            person("adult", birth_date="1990-01-01"),
            {"party": {"key": "shop", "kind": "organization", "name": "The Shop"}},
            {"relationship": {"type": "employed_in", "source": "clerk", "target": "shop",
                              "valid_from": "2024-01-01", "valid_to": "2025-06-01"}},
        ]
    )  # fmt: skip
    assert roles_of(toolkit, "kid", "2025-01-01") == {}
    assert set(roles_of(toolkit, "kid", "2032-01-02")) == {"prospect"}  # 17 then
    assert roles_of(toolkit, "clerk", "2025-01-01") == {}
    assert set(roles_of(toolkit, "clerk", "2025-07-01")) == {"prospect"}  # left the shop
    assert set(roles_of(toolkit, "adult", "2025-01-01")) == {"prospect"}
    assert roles_of(toolkit, "shop", "2025-01-01") == {}


def test_prospects_can_be_turned_off(b2c: Callable[..., Toolkit]) -> None:
    toolkit = b2c({"prospects": {"enabled": False}})
    toolkit.write([person("ann")])
    assert toolkit.roles("ann") == []


def test_a_partys_purchases_are_found_through_its_typed_participant_index(
    b2c: Callable[..., Toolkit],
) -> None:
    """The purchases of one party are searched by (party, type, role, time), not by
    (party, time): a party with many other interactions costs no more to read."""
    toolkit = b2c()
    if toolkit.engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL plans by its statistics")
    from partygraph_b2c import statements

    with toolkit.engine.connect() as connection:
        sql = statements.orders_of_party.statement.compile(dialect=connection.dialect).string
        params = ["2030-01-01", "purchaser", "purchaser", "consumer", 1, "purchase"]
        params += ["2030-01-01", "purchaser", "consumer"]
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params)).all()
    first = str(plan[0][-1])
    assert "ix_participant_party_type" in first
    assert "role=?" in first
