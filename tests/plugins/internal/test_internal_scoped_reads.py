"""A party's reads scoped to it give what the population reports give for it.

A department's view computes its service levels, lead hand-offs and CRM
adoption for that department only (its own requests, hand-offs and
employees), and a person's roles and figures share one activity statement;
these tests hold the scoped answers to the population's, and check that a
read after a write sees the write (the per-read memo does not outlive it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from internal_world import department, employ, handoff, person, request, serves, staff

from partygraph import Context, Toolkit
from partygraph_internal import analytics
from partygraph_internal.analytics import Period

PERIOD = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def world(toolkit: Toolkit) -> dict[str, int]:
    """Three departments trading requests and leads; Sam moves from Sales to Ops."""
    toolkit.write(
        [
            department("it", "IT", "it"),
            department("sales", "Sales"),
            department("ops", "Ops"),
            *staff("sales", "rep", 5),
            *staff("ops", "op", 5),
            person("sam", "Sam Seller"),
            employ("sam", "sales", since="2025-01-01", until="2026-02-15"),
            employ("sam", "ops", since="2026-02-15"),
            serves("it", "sales", "2025-01-01"),
            request("sam", "it", "2026-02-01T09:00:00Z", "access", resolved="2026-02-01T10:00:00Z"),
            request("sam", "it", "2026-03-01T09:00:00Z", "access"),
            request("rep1", "it", "2026-03-02T09:00:00Z", "hardware", satisfaction=4),
            request("ops", "it", "2026-03-03T09:00:00Z", "access", resolved="2026-03-05T09:00:00Z"),
            handoff("sam", "op1", "2026-02-01T10:00Z", "accepted"),
            handoff("sam", "rep2", "2026-03-01T10:00Z", "rejected"),
            handoff("sales", "ops", "2026-03-02T10:00Z", "pending"),
            handoff("it", "sales", "2026-03-03T10:00Z", "accepted"),
        ]
    )
    for number, user in enumerate(["rep1", "rep2", "op1", "op2", "op3", "sam"], start=1):
        toolkit.write(
            [person(f"c{number}", f"Customer {number}", email=f"c{number}@example.org")],
            context=Context(actor=user, at=datetime(2026, 3, 10, tzinfo=UTC)),
        )
    with toolkit.reader() as graph:
        return {key: graph.party(key).id or 0 for key in ("it", "sales", "ops", "sam")}


def test_a_department_scoped_report_is_its_row_of_the_population_report(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"min_group_size": 2})
    ids = world(toolkit)
    settings = toolkit.plugin("internal").settings
    with toolkit.reader("2026-04-01") as graph:
        connection = graph.connection
        levels = analytics.service_levels(connection, PERIOD)
        handed = analytics.handoffs(connection, PERIOD)
        adoption = analytics.adoption(graph, settings, PERIOD)
        for key, party_id in ids.items():
            if key == "sam":
                continue
            assert analytics.service_levels(connection, PERIOD, [party_id]) == [
                row for row in levels if row["department"] == key
            ]
            assert analytics.handoffs(connection, PERIOD, [party_id]) == [
                row for row in handed if key in (row["from"], row["to"])
            ]
            assert analytics.adoption(graph, settings, PERIOD, [party_id]) == [
                row for row in adoption if row["department"] == key
            ]
    assert any(row["from"] == "sales" for row in handed)
    assert any(row["department"] == "ops" and row["reported"] for row in adoption)


def test_a_department_view_shows_its_figures_and_a_later_read_sees_a_new_request(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    world(toolkit)
    view = toolkit.view("it", "2026-04-01")
    section = view.sections["internal"]
    assert section["service_levels"]["requests"] == 4
    assert view.metrics["internal"]["requests_received"] == 4
    assert section["lead_handoffs"] == [
        {"from": "it", "to": "sales", "handed": 1, "accepted": 1, "rejected": 0,
         "pending": 0, "acceptance_rate": 1.0},
    ]  # fmt: skip
    toolkit.write([request("rep2", "it", "2026-03-20T09:00:00Z", "access")])
    later = toolkit.view("it", "2026-04-01")
    assert later.sections["internal"]["service_levels"]["requests"] == 5
    assert later.metrics["internal"]["requests_received"] == 5


def test_a_person_roles_and_figures_come_from_one_activity_read(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    world(toolkit)
    view = toolkit.view("sam", "2026-04-01")
    assert view.metrics["internal"] == {"requests_filed": 2}
    assert {(role.role, role.context.key if role.context else None) for role in view.roles
            if role.plugin == "internal"} == {("internal_customer", "it")}  # fmt: skip
    assert toolkit.metrics("op2", as_of="2026-04-01").get("internal") is None
    toolkit.write([request("op2", "it", "2026-03-21T09:00:00Z", "access")])
    assert toolkit.metrics("op2", as_of="2026-04-01")["internal"] == {"requests_filed": 1}
    assert [
        role.role for role in toolkit.roles("op2", "2026-04-01") if role.plugin == "internal"
    ] == ["internal_customer"]


def test_a_department_s_requests_are_those_the_population_report_credits_to_it(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    # A department's roles read its requests from its own employed_in links; the
    # population report credits every request through the requester's employment
    # of the day. Both must count the same requests (Sam's move, and Ops asking
    # as a department, included).
    toolkit = internal_toolkit()
    world(toolkit)
    year = Period(datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    credited = {
        (customer, row["department"]): n
        for row in toolkit.plugin("internal").service_levels(year.since, year.until)
        for customer, n in row["by_customer"].items()
    }
    filed = {}
    for key in ("it", "sales", "ops"):
        for role in toolkit.roles(key, "2026-04-01"):
            if role.role == "internal_customer" and role.context is not None:
                for part in role.reason.split("; "):
                    if " filed " in part:
                        filed[(key, role.context.key)] = int(part.split(" filed ")[1].split()[0])
    assert filed == {
        pair: n
        for pair, n in credited.items()
        if pair[0] != pair[1] and pair[0] != "(no department)"
    }
    assert filed == {("sales", "it"): 2, ("ops", "it"): 2}


def test_a_period_without_crm_usage_reports_headcounts_and_no_activity(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit({"min_group_size": 2})
    ids = world(toolkit)
    settings = toolkit.plugin("internal").settings
    quiet = Period(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    with toolkit.reader("2025-07-01") as graph:
        everyone = analytics.adoption(graph, settings, quiet)
        for key in ("it", "sales", "ops"):
            assert analytics.adoption(graph, settings, quiet, [ids[key]]) == [
                row for row in everyone if row["department"] == key
            ]
    sales = next(row for row in everyone if row["department"] == "sales")
    assert sales["reported"]
    assert sales["active_users"] == 0
    assert sales["records"] == 0
