"""Service levels, lead hand-offs and CRM adoption, computed over the whole population."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from internal_world import (
    company,
    department,
    employ,
    handoff,
    person,
    request,
    serves,
    staff,
)

from partygraph import Context, Toolkit, ValidationError
from partygraph_internal import ReportRefused


def it_desk() -> list[dict[str, object]]:
    """IT serves everyone; Sales negotiated a 4-hour access SLA; March 2026's tickets."""
    return [
        company(),
        department("it", "IT", "it"),
        department("sales", "Sales"),
        department("support", "Support"),
        person("sam", "Sam Seller"),
        person("sue", "Sue Support"),
        employ("sam", "sales"),
        employ("sue", "support"),
        serves("it", "acme", "2026-01-01"),
        serves("it", "sales", "2026-01-01", sla={"access": "PT4H"}),
        # met: 2 h against 8 h
        request("sue", "it", "2026-03-02T09:00:00Z", "access",
                resolved="2026-03-02T11:00:00Z", satisfaction=5),
        # breached: 24 h against 8 h
        request("sue", "it", "2026-03-03T09:00:00Z", "access",
                resolved="2026-03-04T09:00:00Z", satisfaction=2),
        # met: 48 h against 3 days
        request("sue", "it", "2026-03-05T09:00:00Z", "hardware",
                resolved="2026-03-07T09:00:00Z", satisfaction=4),
        # breached: 48 h against the 1 day the request itself asked for
        request("sue", "it", "2026-03-10T09:00:00Z", "hardware",
                resolved="2026-03-12T09:00:00Z", sla="P1D"),
        # breached: 6 h against Sales' negotiated 4 h (the catalogue says 8 h)
        request("sam", "it", "2026-03-20T09:00:00Z", "access", resolved="2026-03-20T15:00:00Z"),
        # breached: still open on April 1st, due on March 30th at 17:00
        request("sue", "it", "2026-03-30T09:00:00Z", "access"),
        # open, but not due before April 1st, 03:00: not breached yet
        request("sam", "it", "2026-03-31T23:00:00Z", "incident"),
    ]  # fmt: skip


def test_it_service_levels_count_sla_breaches(internal_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = internal_toolkit()
    toolkit.write(it_desk())
    plugin = toolkit.plugin("internal")

    (it,) = plugin.service_levels("2026-03-01", "2026-04-01")
    assert it["department"] == "it"
    assert it["requests"] == 7
    assert it["by_category"] == {"access": 4, "hardware": 2, "incident": 1}
    assert it["by_customer"] == {"support": 5, "sales": 2}
    assert it["resolved"] == 5
    assert it["open"] == 2
    sla = {"met": 2, "breached": 4, "overdue": 1, "attainment": pytest.approx(1 / 3, abs=1e-3)}
    assert it["sla"] == sla
    assert it["median_resolution_hours"] == 24.0  # of 2, 6, 24, 48, 48
    assert it["satisfaction"] == {"responses": 3, "average": pytest.approx(3.67)}

    # Judged a day later, the incident is overdue too.
    (later,) = plugin.service_levels("2026-03-01", "2026-04-02")
    assert later["sla"]["breached"] == 5
    assert later["sla"]["overdue"] == 2

    # IT's internal supplier role says so, and its figures carry the attainment.
    roles = {
        (role.role, role.context.key if role.context else None): role
        for role in toolkit.roles("it", as_of="2026-04-01")
    }
    support = roles[("internal_supplier", "support")].reason
    assert "IT handled 5 service requests from Support between 2026-03-02 and 2026-03-30" in support
    assert "(3 access, 2 hardware); SLA met for 2 of 5, 1 still open" in support
    assert (
        "IT serves Sales by declaration since 2026-01-01; services: the whole catalogue "
        "(access within PT4H)"
    ) in roles[("internal_supplier", "sales")].reason
    # Mid-day on March 30th: six requests, the latest not due yet.
    figures = toolkit.metrics("it", as_of="2026-03-30T12:00:00Z")["internal"]
    assert figures["requests_received"] == 6
    assert figures["sla_breached"] == 3
    assert figures["sla_attainment"] == 0.4
    # The SLA report for one department, and an unknown one refused.
    assert plugin.service_levels("2026-03-01", "2026-04-01", departments=["sales"]) == []
    with pytest.raises(ValidationError, match="'sam' is a person, not a department"):
        plugin.service_levels("2026-03-01", "2026-04-01", departments=["sam"])


def test_lead_handoffs_between_employees_count_for_their_departments(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    toolkit.write(
        [
            department("marketing", "Marketing"),
            department("sales", "Sales"),
            person("mara", "Mara Marketer"),
            person("sam", "Sam Seller"),
            employ("mara", "marketing"),
            employ("sam", "sales"),
            handoff("mara", "sam", "2026-02-01T10:00Z", "accepted"),
            handoff("mara", "sam", "2026-02-02T10:00Z", "rejected"),
            handoff("marketing", "sales", "2026-02-03T10:00Z", "accepted"),
            handoff("sales", "marketing", "2026-02-04T10:00Z", "pending"),  # recycled lead
        ]
    )
    report = toolkit.plugin("internal").handoffs("2026-02-01", "2026-03-01")
    assert report == [
        {"from": "marketing", "to": "sales", "handed": 3, "accepted": 2, "rejected": 1,
         "pending": 0, "acceptance_rate": pytest.approx(0.6667)},
        {"from": "sales", "to": "marketing", "handed": 1, "accepted": 0, "rejected": 0,
         "pending": 1, "acceptance_rate": None},
    ]  # fmt: skip


def adoption_world(toolkit: Toolkit) -> None:
    """Support has 3 employees, Sales 5, Ops 6 (2 of them use the CRM); each writes in March."""
    toolkit.write(
        [
            department("support", "Support"),
            department("sales", "Sales"),
            department("ops", "Ops"),
            *staff("support", "sup", 3),
            *staff("sales", "rep", 5),
            *staff("ops", "op", 6),
        ]
    )
    users = [f"sup{n}" for n in range(1, 4)] + [f"rep{n}" for n in range(1, 6)] + ["op1", "op2"]
    for number, user in enumerate(users, start=1):
        # Each user creates two customers: one with an email only, one with email and phone.
        toolkit.write(
            [
                person(f"c{number}a", f"Customer {number}a", email=f"c{number}a@example.org"),
                person(f"c{number}b", f"Customer {number}b", email=f"c{number}b@example.org",
                       phone="+33 1 23 45 67 89"),
            ],
            context=Context(actor=user, at=datetime(2026, 3, 10, tzinfo=UTC)),
        )  # fmt: skip


def test_adoption_refuses_to_report_a_three_person_department(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    adoption_world(toolkit)
    report = {row["department"]: row for row in toolkit.plugin("internal").adoption(
        "2026-03-01", "2026-04-01")}  # fmt: skip

    assert report["support"] == {
        "department": "support",
        "name": "Support",
        "reported": False,
        "status": "too few to report",
        "reason": "fewer than 5 employees in the period (the minimum group size)",
    }
    sales = report["sales"]
    assert sales["reported"] is True
    assert sales["headcount"] == 5
    assert sales["active_users"] == 5
    assert sales["active_share"] == 1.0
    assert sales["records"] == 10
    assert sales["records_per_user"] == 2.0
    # name + email + phone expected per person: 2 of 3 filled, then 3 of 3.
    assert sales["completeness"] == pytest.approx(5 / 6, abs=1e-3)
    # Ops is big enough, but 2 active users' totals would be theirs: withheld.
    assert report["ops"]["headcount"] == 6
    assert report["ops"]["active_users"] == 2
    assert report["ops"]["records"] == "too few to report"
    assert report["ops"]["completeness"] == "too few to report"
    # A department's own figures say the same.
    support_figures = toolkit.metrics("support", as_of="2026-03-31")["internal"]
    assert support_figures == {"crm_adoption": "too few to report"}

    # With a smaller minimum, the same data is reported.
    smaller = internal_toolkit({"min_group_size": 2})
    rows = {row["department"]: row for row in smaller.plugin("internal").adoption(
        "2026-03-01", "2026-04-01")}  # fmt: skip
    assert rows["support"]["active_users"] == 3
    assert rows["ops"]["records"] == 4


def test_per_employee_figures_are_refused_without_a_lawful_basis_and_shown_with_one(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    adoption_world(toolkit)
    with pytest.raises(ReportRefused, match="per-employee CRM usage figures are off"):
        toolkit.plugin("internal").employee_usage("2026-03-01", "2026-04-01")
    # Nor do an employee's own figures show them.
    assert "crm_records" not in toolkit.metrics("sup1", as_of="2026-03-31").get("internal", {})

    # Enabling them needs a basis, and legitimate interests need their balancing note.
    with pytest.raises(ValidationError) as no_basis:
        internal_toolkit({"per_employee": {"enabled": True}})
    assert no_basis.value.field == "/plugins/internal/per_employee/lawful_basis"
    with pytest.raises(ValidationError) as no_note:
        internal_toolkit(
            {"per_employee": {"enabled": True, "lawful_basis": "legitimate_interests"}}
        )
    assert no_note.value.field == "/plugins/internal/per_employee/balancing_note"

    allowed = internal_toolkit(
        {
            "per_employee": {
                "enabled": True,
                "lawful_basis": "legitimate_interests",
                "balancing_note": "coaching on CRM data quality; no ranking, no pay decisions",
            }
        }
    )
    report = allowed.plugin("internal").employee_usage("2026-03-01", "2026-04-01", ["support"])
    assert report["lawful_basis"] == "legitimate_interests"
    assert report["balancing_note"].startswith("coaching")
    assert report["withheld"] == []
    first = report["employees"][0]
    assert [row["employee"] for row in report["employees"]] == ["sup1", "sup2", "sup3"]
    assert first["department"] == "support"
    assert first["records_created"] == 2
    assert first["completeness"] == pytest.approx(5 / 6, abs=1e-3)
    assert first["active_days"] == 1
    assert first["last_active"].startswith("2026-03-10")
    assert allowed.metrics("sup1", as_of="2026-03-31")["internal"]["crm_records"] == 2
