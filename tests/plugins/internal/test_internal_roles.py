"""Who is whose internal customer, and why: roles through the public API, as of any date."""

from __future__ import annotations

from collections.abc import Callable

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

from partygraph import RoleAssignment, Toolkit


def by_context(roles: list[RoleAssignment], role: str) -> dict[str | None, RoleAssignment]:
    return {
        (found.context.key if found.context else None): found
        for found in roles
        if found.role == role
    }


def test_marketing_serving_sales_with_leads_makes_sales_its_internal_customer(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    outcomes = ["accepted", "accepted", "rejected", "accepted", "pending", "accepted"]
    toolkit.write(
        [
            department("marketing", "Marketing", "marketing"),
            department("sales", "Sales", "sales"),
            person("lena", "Lena Lead", email="lena@prospect.example"),
            serves("marketing", "sales", "2026-01-01", categories=["leads"]),
            *(
                handoff("marketing", "sales", f"2026-02-{day:02d}T10:00:00Z", outcome, "lena")
                for day, outcome in enumerate(outcomes, start=2)
            ),
        ]
    )

    sales = by_context(toolkit.roles("sales", as_of="2026-03-01"), "internal_customer")
    assert set(sales) == {"marketing"}
    role = sales["marketing"]
    assert role.plugin == "internal"
    assert role.customer is True
    assert role.kind == "internal"
    assert role.since is not None
    assert role.since.date().isoformat() == "2026-01-01"
    assert "Marketing serves Sales by declaration since 2026-01-01" in role.reason
    assert "services: leads within 2 d" in role.reason
    assert (
        "Sales received 6 leads from Marketing between 2026-02-02 and 2026-02-07 "
        "(4 accepted, 1 rejected, 1 pending; acceptance 80%)"
    ) in role.reason
    assert role.evidence[0].startswith("relationship #")
    assert len([item for item in role.evidence if item.startswith("interaction #")]) >= 1

    marketing = by_context(toolkit.roles("marketing", as_of="2026-03-01"), "internal_supplier")
    assert set(marketing) == {"sales"}
    assert marketing["sales"].customer is False
    assert "Marketing handed 6 leads to Sales" in marketing["sales"].reason

    # The acceptance rate, as the analytics report it.
    report = toolkit.plugin("internal").handoffs("2026-01-01", "2026-03-01")
    assert report == [
        {
            "from": "marketing",
            "to": "sales",
            "handed": 6,
            "accepted": 4,
            "rejected": 1,
            "pending": 1,
            "acceptance_rate": 0.8,
        }
    ]
    assert (
        toolkit.metrics("marketing", as_of="2026-03-01")["internal"]["lead_acceptance_rate"] == 0.8
    )

    # Before the declaration and the first lead, Sales is nobody's internal customer.
    assert toolkit.roles("sales", as_of="2025-12-31") == []


def test_an_employee_who_moves_keeps_her_past_requests_with_her_old_department(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    toolkit.write(
        [
            company(),
            department("it", "IT", "it"),
            department("marketing", "Marketing"),
            department("finance", "Finance"),
            person("alice", "Alice Moreau"),
            serves("it", "acme", "2026-01-01"),
            employ("alice", "marketing", "2024-05-01"),
            employ("alice", "finance", "2026-03-01"),  # ends her marketing years
            request("alice", "it", "2026-01-15T09:00:00Z", "access", resolved="2026-01-15T10:00Z"),
            request("alice", "it", "2026-04-10T09:00:00Z", "hardware"),
        ]
    )

    marketing = by_context(toolkit.roles("marketing", as_of="2026-05-01"), "internal_customer")
    assert "Marketing filed 1 service request with IT on 2026-01-15 (1 access)" in (
        marketing["it"].reason
    )
    assert "IT serves everyone at Acme Corp by declaration" in marketing["it"].reason
    finance = by_context(toolkit.roles("finance", as_of="2026-05-01"), "internal_customer")
    assert "Finance filed 1 service request with IT on 2026-04-10 (1 hardware)" in (
        finance["it"].reason
    )
    assert "Marketing" not in finance["it"].reason

    # As of February, finance is served by declaration only; the request came later.
    february = by_context(toolkit.roles("finance", as_of="2026-02-01"), "internal_customer")
    assert "filed" not in february["it"].reason

    # Alice herself is IT's internal customer for both requests.
    alice = by_context(toolkit.roles("alice", as_of="2026-05-01"), "internal_customer")
    assert "Alice Moreau filed 2 service requests with IT between 2026-01-15 and 2026-04-10" in (
        alice["it"].reason
    )
    levels = toolkit.plugin("internal").service_levels("2026-01-01", "2026-05-01")
    assert levels[0]["by_customer"] == {"finance": 1, "marketing": 1}


def test_employment_written_after_the_requests_still_decides_their_department(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    toolkit.write(
        [
            company(),
            department("it", "IT", "it"),
            department("marketing", "Marketing"),
            department("finance", "Finance"),
            person("alice", "Alice Moreau"),
            serves("it", "acme", "2026-01-01"),
            request("alice", "it", "2026-01-15T09:00:00Z", "access", resolved="2026-01-15T10:00Z"),
            request("alice", "it", "2026-04-10T09:00:00Z", "hardware"),
        ]
    )
    internal = toolkit.plugin("internal")

    def by_customer() -> dict[str, int]:
        (levels,) = internal.service_levels("2026-01-01", "2026-05-01")
        found: dict[str, int] = levels["by_customer"]
        return found

    assert by_customer() == {"(no department)": 2}
    toolkit.write([employ("alice", "marketing", "2024-05-01")])
    assert by_customer() == {"marketing": 2}
    toolkit.write([employ("alice", "finance", "2026-03-01")])  # a move, backdated
    assert by_customer() == {"finance": 1, "marketing": 1}
    marketing = by_context(toolkit.roles("marketing", as_of="2026-05-01"), "internal_customer")
    assert "Marketing filed 1 service request with IT on 2026-01-15" in marketing["it"].reason
    it = by_context(toolkit.roles("it", as_of="2026-05-01"), "internal_supplier")
    assert "IT handled 1 service request from Finance on 2026-04-10" in it["finance"].reason

    # Her finance job ends before the April request: it is nobody's department's now.
    (job,) = [
        found.relationship
        for found in toolkit.relationships("alice")
        if found.relationship.type == "employed_in" and found.current
    ]
    toolkit.end_relationship(job.id or 0, "2026-04-01T00:00:00Z")
    assert by_customer() == {"(no department)": 1, "marketing": 1}
    assert "finance" not in by_context(toolkit.roles("it", as_of="2026-05-01"), "internal_supplier")

    # The move is history, not an overwrite.
    history = toolkit.relationships("alice", as_of="2026-05-01", history=True)
    ended = [view for view in history if view.other.key == "marketing"]
    assert ended[0].relationship.valid_to is not None
    assert ended[0].relationship.valid_to.date().isoformat() == "2026-03-01"


def test_a_recruiter_s_hiring_managers_are_her_internal_customers(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    toolkit.write(
        [
            department("recruiting", "Recruiting", "hr"),
            department("engineering", "Engineering"),
            department("sales", "Sales"),
            person("rita", "Rita Recruiter"),
            person("hank", "Hank Hiring"),
            person("mia", "Mia Manager"),
            person("ed", "Ed Engineer"),
            employ("rita", "recruiting", role="employee", title="Senior recruiter"),
            employ("hank", "engineering", role="manager"),
            employ("mia", "sales", role="manager"),
            employ("ed", "engineering"),
            serves("recruiting", "engineering", categories=["hiring"]),
            serves("recruiting", "sales", categories=["hiring"]),
            request("hank", "recruiting", "2026-02-01T09:00Z", "hiring", assignee="rita",
                    resolved="2026-02-20T09:00Z", satisfaction=5),
            request("hank", "recruiting", "2026-03-01T09:00Z", "hiring", assignee="rita"),
            request("mia", "recruiting", "2026-03-05T09:00Z", "hiring", assignee="rita",
                    resolved="2026-04-20T09:00Z", satisfaction=3),
        ]
    )  # fmt: skip

    rita = by_context(toolkit.roles("rita", as_of="2026-05-01"), "internal_supplier")
    assert set(rita) == {"hank", "mia"}
    # The second request, open past its 30-day SLA on May 1st, counts as breached.
    assert rita["hank"].reason == (
        "Rita Recruiter handled 2 service requests from Hank Hiring for Recruiting "
        "between 2026-02-01 and 2026-03-01 (2 hiring); SLA met for 1 of 2, 1 still open"
    )
    assert "SLA met for 0 of 1" in rita["mia"].reason  # 46 days against a 30-day SLA
    assert all(role.kind == "internal" and not role.customer for role in rita.values())

    hank = by_context(toolkit.roles("hank", as_of="2026-05-01"), "internal_customer")
    assert set(hank) == {"rita", "recruiting"}
    assert hank["rita"].customer is True
    assert hank["rita"].reason == (
        "Rita Recruiter handled 2 of Hank Hiring's service requests to Recruiting "
        "between 2026-02-01 and 2026-03-01 (2 hiring)"
    )
    assert hank["rita"].evidence == ("interaction #1", "interaction #2")
    assert hank["rita"].context is not None
    assert hank["rita"].context.kind == "person"

    # An engineer who asked for nothing is nobody's internal customer himself ...
    assert toolkit.roles("ed", as_of="2026-05-01") == []
    # ... while his department, served by declaration and through Hank, is.
    engineering = by_context(toolkit.roles("engineering", as_of="2026-05-01"), "internal_customer")
    assert "Engineering filed 2 service requests with Recruiting" in (
        engineering["recruiting"].reason
    )
    recruiting = by_context(toolkit.roles("recruiting", as_of="2026-05-01"), "internal_supplier")
    assert set(recruiting) == {"engineering", "sales"}
    # Before the first request, the recruiter has no internal customers yet.
    assert toolkit.roles("rita", as_of="2026-01-15") == []
    # The view carries the roles and the employee's department.
    view = toolkit.view("rita", as_of="2026-05-01")
    assert {role.role for role in view.roles} == {"internal_supplier"}
    assert view.sections["internal"]["department"] == "recruiting"
    assert view.sections["internal"]["title"] == "Senior recruiter"


def test_roles_follow_the_as_of_date_and_the_activity_window(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"activity_window_days": 30})
    toolkit.write(
        [
            department("it", "IT"),
            department("support", "Support"),
            department("product", "Product"),
            *staff("support", "sup", 1),
            serves("product", "support", "2026-01-01", categories=["information"],
                   until="2026-06-01"),
            request("sup1", "it", "2026-02-10T09:00Z", "incident", resolved="2026-02-10T10:00Z"),
            serves("it", "product", "2026-01-01"),
        ]
    )  # fmt: skip

    declared = by_context(toolkit.roles("support", as_of="2026-03-01"), "internal_customer")
    product = declared["product"]
    assert product.until is not None
    assert product.until.date().isoformat() == "2026-06-01"
    assert "until 2026-06-01" in product.reason
    assert "information within 2 d" in product.reason
    # The declaration has ended by July.
    assert "product" not in by_context(toolkit.roles("support", "2026-07-01"), "internal_customer")

    # The request counts for 30 days, then no longer makes Support IT's customer.
    assert "it" in by_context(toolkit.roles("support", "2026-02-20"), "internal_customer")
    assert "it" not in by_context(toolkit.roles("support", "2026-03-20"), "internal_customer")
    # A department is never its own customer.
    assert all(
        role.context is None or role.context.key != "support"
        for role in toolkit.roles("support", "2026-02-20")
    )
