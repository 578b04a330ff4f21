"""Writes made by an employee become CRM usage evidence, once per batch, in the plugin's table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from internal_world import department, employ, person, staff

from partygraph import Context, Toolkit

PER_EMPLOYEE = {
    "per_employee": {
        "enabled": True,
        "lawful_basis": "legitimate_interests",
        "balancing_note": "data-quality coaching; figures are never used for appraisals",
    }
}
MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)


def usage_rows(toolkit: Toolkit, who: str) -> list[dict[str, Any]]:
    plugins = toolkit.export_subject(who)["plugins"]
    found: list[dict[str, Any]] = plugins.get("internal", {}).get("crm_usage", [])
    return found


def sales_team(toolkit: Toolkit) -> None:
    toolkit.write(
        [
            department("sales", "Sales"),
            *staff("sales", "rep", 2),
            person("former", "Former Employee"),
            employ("former", "sales", "2024-01-01", until="2025-12-31"),
            person("outsider", "Outside Consultant"),
        ]
    )


def test_an_employee_s_writes_are_counted_per_batch_with_their_completeness(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit(PER_EMPLOYEE)
    sales_team(toolkit)
    acting = Context(actor="rep1", at=MARCH)
    records = [
        person("c1", "Customer One", email="c1@example.org", phone="+33 1"),
        person("c2", "Customer Two"),
        person("c3", None, email="c3@example.org"),
        {"party": {"key": "lead-co", "kind": "organization", "name": "Lead Co"}},
    ]
    report = toolkit.write(records, context=acting, batch_size=2)
    assert report.created["party"] == 4

    rows = usage_rows(toolkit, "rep1")
    assert len(rows) == 2  # one per batch, never one per record
    assert sum(row["records_created"] for row in rows) == 4
    # person: name, email, phone; organization: name, domain, industry.
    assert sum(row["fields_expected"] for row in rows) == 12
    assert sum(row["fields_filled"] for row in rows) == 3 + 1 + 1 + 1
    assert all(row["source"] == "write" for row in rows)

    # An update counts as one, an interaction as a record created.
    toolkit.upsert_party("c2", "person", attributes={"email": "c2@example.org"}, context=acting)
    toolkit.record_interaction(
        "lead_handoff", MARCH, [("rep1", "from"), ("rep2", "to")], {"outcome": "pending"},
        context=acting,
    )  # fmt: skip
    usage = toolkit.plugin("internal").employee_usage("2026-03-01", "2026-04-01")
    rep1 = next(row for row in usage["employees"] if row["employee"] == "rep1")
    assert rep1["records_created"] == 5
    assert rep1["records_updated"] == 1
    assert rep1["active_days"] == 1
    rep2 = next(row for row in usage["employees"] if row["employee"] == "rep2")
    assert rep2["records"] == 0  # employed, but wrote nothing


def test_unknown_actors_and_non_employees_leave_no_evidence(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit(PER_EMPLOYEE)
    sales_team(toolkit)
    for actor in ("nobody", "outsider", "former", "sales"):
        toolkit.write([person(f"by-{actor}", "Someone")], context=Context(actor=actor, at=MARCH))
    toolkit.write([person("no-actor", "Someone")], context=Context(at=MARCH))
    for who in ("outsider", "former", "rep1"):
        assert usage_rows(toolkit, who) == []
    # The former employee still worked here in 2025: then her writes counted.
    toolkit.write(
        [person("old", "Old Customer")],
        context=Context(actor="former", at=datetime(2025, 6, 1, tzinfo=UTC)),
    )
    assert len(usage_rows(toolkit, "former")) == 1


def test_turning_usage_recording_off_records_nothing(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"record_usage": False})
    sales_team(toolkit)
    toolkit.write([person("c1", "Customer")], context=Context(actor="rep1", at=MARCH))
    assert usage_rows(toolkit, "rep1") == []


def test_imported_crm_usage_counts_and_makes_crm_users_customers_of_its_owner(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"crm_owner": "salesops", "min_group_size": 2})
    sales_team(toolkit)
    toolkit.write([department("salesops", "Sales Operations")])
    toolkit.write(
        [
            {
                "interaction": {
                    "type": "crm_usage",
                    "occurred_at": f"2026-03-0{day}T18:00:00Z",
                    "participants": [{"party": "rep2", "role": "user"}],
                    "payload": {"records_created": 3, "records_updated": 2,
                                "fields_filled": 8, "fields_expected": 10},
                }
            }
            for day in (2, 3)
        ],
        context=Context(actor="rep1", at=MARCH),  # importing a usage log is not rep1's usage
    )  # fmt: skip
    assert usage_rows(toolkit, "rep1") == []
    rows = usage_rows(toolkit, "rep2")
    assert [row["source"] for row in rows] == ["crm_usage", "crm_usage"]
    (sales,) = toolkit.plugin("internal").adoption("2026-03-01", "2026-04-01", ["sales"])
    assert sales["active_users"] == 1
    assert sales["records"] == "too few to report"  # one active user: his own figures

    roles = toolkit.roles("rep2", as_of="2026-03-15")
    assert [(role.role, role.context.key if role.context else None) for role in roles] == [
        ("internal_customer", "salesops")
    ]
    assert roles[0].reason == (
        "Rep 2 uses the CRM, which Sales Operations runs (CRM usage recorded in the 365 days "
        "to 2026-03-15; per-employee figures are off)"
    )
    assert toolkit.roles("rep1", as_of="2026-03-15") == []
