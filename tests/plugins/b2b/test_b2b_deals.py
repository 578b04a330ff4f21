"""Deals: states over time, as-of reads, currencies, contracts, export and erasure."""

from __future__ import annotations

from collections.abc import Callable

from b2b_world import touch

from partygraph import Toolkit

WORLD = [
    {"party": {"key": "initech", "kind": "organization", "name": "Initech"}},
    {"party": {"key": "hooli", "kind": "organization", "name": "Hooli"}},
    {"party": {"key": "bill", "kind": "person", "name": "Bill Lumbergh"}},
]


def state_count(toolkit: Toolkit) -> int:
    with toolkit.engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT count(*) FROM b2b_deal_state").scalar() or 0)


def test_a_deal_s_states_are_kept_and_read_as_of_any_date(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    toolkit.write(
        [
            *WORLD,
            {"deal": {"key": "tps", "account": "initech", "name": "TPS reports",
                      "stage": "discovery", "amount": 1000, "at": "2026-01-01"}},
            {"deal": {"key": "tps", "account": "initech", "stage": "proposal", "amount": 1500,
                      "expected_close": "2026-05-31", "at": "2026-02-01"}},
            {"deal": {"key": "tps", "account": "initech", "status": "lost", "at": "2026-03-01"}},
        ]
    )  # fmt: skip
    b2b = toolkit.plugin("b2b")
    assert b2b.deals("2025-12-31") == []
    (early,) = b2b.deals("2026-01-15")
    assert (early["stage"], early["status"], early["amount"]) == ("discovery", "open", 1000.0)
    assert early["account"]["key"] == "initech"
    (middle,) = b2b.deals("2026-02-15")
    assert (middle["stage"], middle["amount"], middle["expected_close"]) == (
        "proposal",
        1500.0,
        "2026-05-31",
    )
    (late,) = b2b.deals("2026-03-15")
    # Fields left out keep their previous value; the deal was opened on 1 January.
    assert (late["status"], late["stage"], late["name"], late["opened_at"]) == (
        "lost",
        "proposal",
        "TPS reports",
        "2026-01-01T00:00:00Z",
    )
    # In progress: a target account; lost: no role any more.
    assert [r.role for r in toolkit.roles("initech", as_of="2026-02-15")] == ["target_account"]
    assert toolkit.roles("initech", as_of="2026-03-15") == []


def test_importing_the_same_state_again_changes_nothing(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    records = [
        *WORLD,
        {"deal": {"key": "d", "account": "hooli", "amount": 10, "at": "2026-01-01"}},
        {"deal": {"key": "d", "account": "hooli", "status": "won", "at": "2026-02-01"}},
    ]
    toolkit.write(records)
    toolkit.write(records)
    assert state_count(toolkit) == 2
    # The same moment again corrects that state instead of adding one.
    toolkit.plugin("b2b").record_deal("d", "hooli", amount=12, at="2026-02-01")
    assert state_count(toolkit) == 2
    (deal,) = toolkit.plugin("b2b").deals("2026-03-01")
    assert (deal["status"], deal["amount"], deal["won_at"]) == ("won", 12.0, "2026-02-01T00:00:00Z")
    # A state written late for an earlier date does not replace the latest one.
    toolkit.plugin("b2b").record_deal("d", "hooli", amount=11, at="2026-01-15")
    (deal,) = toolkit.plugin("b2b").deals("2026-03-01")
    assert deal["amount"] == 12.0
    assert toolkit.plugin("b2b").deals("2026-01-20")[0]["amount"] == 11.0


def test_a_signed_contract_alone_makes_a_customer_account(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    toolkit.write(
        [
            *WORLD,
            touch("contract_signed", "2026-03-01T12:00:00Z", "bill", role="signatory",
                  account="initech", contract="C-7", term_months=12),
        ]
    )  # fmt: skip
    assert toolkit.roles("initech", as_of="2026-03-01") == []
    (role,) = toolkit.roles("initech", as_of="2026-03-02")
    assert (role.role, role.customer, role.kind) == ("customer_account", True, "external")
    assert role.reason.startswith("Initech is a customer account since 2026-03-01: contract signed")
    assert role.evidence[0].startswith("interaction #")
    # Bill signed but holds no committee role: no b2b role for him.
    assert toolkit.roles("bill", as_of="2026-03-02") == []


def test_pipeline_figures_convert_to_the_reporting_currency(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit({"currency": "EUR", "exchange_rates": {"USD": 0.5}})
    toolkit.write(
        [
            *WORLD,
            {"deal": {"key": "a", "account": "hooli", "amount": 100, "at": "2026-01-01"}},
            {"deal": {"key": "b", "account": "hooli", "amount": 100, "currency": "USD",
                      "at": "2026-01-01"}},
            {"deal": {"key": "c", "account": "hooli", "amount": 100, "currency": "JPY",
                      "at": "2026-01-01"}},
            {"deal": {"key": "d", "account": "hooli", "amount": 40, "status": "won",
                      "at": "2026-01-02"}},
        ]
    )  # fmt: skip
    figures = toolkit.metrics("hooli", as_of="2026-02-01")["b2b"]
    assert (figures["open_pipeline"], figures["won_amount"], figures["currency"]) == (
        150.0,
        40.0,
        "EUR",
    )
    pipeline = toolkit.view("hooli", as_of="2026-02-01").sections["b2b"]["pipeline"]
    assert pipeline["open_by_currency"] == {"EUR": 100.0, "USD": 100.0, "JPY": 100.0}
    assert pipeline["unconverted_deals"] == 1


def test_export_and_erasure_of_an_account_cover_its_deals(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    toolkit.write(
        [
            *WORLD,
            {"deal": {"key": "x", "account": "initech", "amount": 5, "at": "2026-01-01"}},
            {"deal": {"key": "x", "account": "initech", "status": "won", "at": "2026-02-01"}},
            {"deal": {"key": "y", "account": "hooli", "amount": 7, "at": "2026-01-01"}},
        ]
    )  # fmt: skip
    exported = toolkit.export_subject("initech")["plugins"]["b2b"]
    assert [(d["key"], [s["status"] for s in d["states"]]) for d in exported["deals"]] == [
        ("x", ["open", "won"])
    ]
    assert "b2b" not in toolkit.export_subject("bill")["plugins"]
    report = toolkit.erase_subject("initech")
    assert report["plugins"]["b2b"] == {"deals": 1, "deal_states": 2}
    assert [d["key"] for d in toolkit.plugin("b2b").deals("2026-03-01")] == ["y"]
    assert state_count(toolkit) == 1
