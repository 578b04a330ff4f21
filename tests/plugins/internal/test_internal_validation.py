"""Bad input is refused with an error naming the field, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from internal_world import department, employ, handoff, person, request, serves

from partygraph import ConfigError, RecordsRejected, Toolkit, ValidationError


def office(toolkit: Toolkit) -> None:
    toolkit.write(
        [
            department("it", "IT"),
            department("facilities", "Facilities"),  # serves no one
            department("sales", "Sales"),
            person("sam", "Sam Seller"),
            employ("sam", "sales"),
            serves("it", "sales", "2026-01-01", categories=["access", "hardware"]),
        ]
    )


def requests_of(toolkit: Toolkit, who: str) -> int:
    return len(toolkit.interactions(who, type="service_request"))


def jsonl(folder: Path, *records: dict[str, Any]) -> Path:
    path = folder / "records.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_a_request_to_a_department_that_serves_no_one_is_refused(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    office(toolkit)
    with pytest.raises(ValidationError) as refused:
        toolkit.record_interaction(
            "service_request",
            "2026-03-01T09:00:00Z",
            [("sam", "requester"), ("facilities", "provider")],
            {"category": "general"},
        )
    assert refused.value.field == "participants/1/party"
    assert refused.value.reason.startswith(
        "department 'facilities' serves no one on 2026-03-01: no serves relationship from it "
        "is valid then"
    )
    # IT serves Sales, but not before January.
    with pytest.raises(ValidationError, match="'it' serves no one on 2025-12-01"):
        toolkit.record_interaction(
            "service_request",
            "2025-12-01T09:00:00Z",
            [("sam", "requester"), ("it", "provider")],
            {"category": "access"},
        )
    # Nor for a category its serves links do not list.
    with pytest.raises(ValidationError) as category:
        toolkit.record_interaction(
            "service_request",
            "2026-03-01T09:00:00Z",
            [("sam", "requester"), ("it", "provider")],
            {"category": "payroll"},
        )
    assert category.value.field == "payload/category"
    assert category.value.reason == (
        "'payroll' is not a service IT offers on 2026-03-01; it offers: access, hardware"
    )
    assert requests_of(toolkit, "sam") == 0
    assert toolkit.plugin("internal").service_levels("2026-01-01", "2026-12-31") == []


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"category": "access", "satisfaction": 0}, "payload/satisfaction", "at least 1, got 0"),
        ({"category": "access", "satisfaction": 6}, "payload/satisfaction", "at most 5, got 6"),
        ({"category": "access", "sla_target": "8h"}, "payload/sla_target", "write PT8H"),
        ({"category": "access", "sla_target": 8}, "payload/sla_target", "8 has no unit"),
        ({"category": "access", "sla_target": "P1M"}, "payload/sla_target", "months or years"),
        ({"category": "teleport"}, "payload/category", "must be one of"),
        (
            {"category": "access", "resolved_at": "2026-02-01T00:00:00Z"},
            "payload/resolved_at",
            "before the request was opened",
        ),
        ({"category": "access", "resolved_at": "next tuesday"}, "payload/resolved_at", "ISO-8601"),
    ],
)
def test_bad_service_requests_name_the_field(
    internal_toolkit: Callable[..., Toolkit],
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    toolkit = internal_toolkit()
    office(toolkit)
    with pytest.raises(ValidationError) as refused:
        toolkit.record_interaction(
            "service_request",
            "2026-03-01T09:00:00Z",
            [("sam", "requester"), ("it", "provider")],
            payload,
        )
    assert refused.value.field == field
    assert message in refused.value.reason
    assert requests_of(toolkit, "sam") == 0


def test_wrong_parties_and_units_elsewhere_are_refused(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit()
    office(toolkit)
    with pytest.raises(ValidationError) as provider:
        toolkit.record_interaction(
            "service_request",
            "2026-03-01T09:00:00Z",
            [("it", "requester"), ("sam", "provider")],
            {"category": "access"},
        )
    assert provider.value.field == "participants/1/party"
    assert provider.value.reason == "must be a department, got person 'sam'"
    with pytest.raises(ValidationError) as unit:
        toolkit.relate("it", "sales", "serves", attributes={"sla": {"access": "8 hours"}})
    assert unit.value.field == "attributes/sla/access"
    with pytest.raises(ValidationError, match="a department does not serve itself"):
        toolkit.relate("it", "it", "serves")
    with pytest.raises(ValidationError) as employer:
        toolkit.relate("sam", "sales", "employed_in", role="intern")
    assert employer.value.field == "role"
    with pytest.raises(ValidationError, match="handed to someone else"):
        toolkit.record_interaction(
            "lead_handoff",
            "2026-03-01",
            [("sales", "from"), ("sales", "to")],
            {"outcome": "pending"},
        )
    with pytest.raises(ValidationError) as usage:
        toolkit.record_interaction(
            "crm_usage",
            "2026-03-01",
            [("sam", "user")],
            {"fields_filled": 9, "fields_expected": 4},
        )
    assert usage.value.field == "payload/fields_filled"
    assert toolkit.interactions("sales") == []
    assert [view.relationship.type for view in toolkit.relationships("it")] == ["serves"]


def test_a_bulk_import_reports_every_bad_line_and_writes_nothing(
    internal_toolkit: Callable[..., Toolkit], tmp_path: Path
) -> None:
    toolkit = internal_toolkit()
    office(toolkit)
    source = jsonl(
        tmp_path,
        request("sam", "it", "2026-03-01T09:00:00Z", "access", key="ok-1"),
        request("sam", "facilities", "2026-03-01T10:00:00Z", "general", key="bad-provider"),
        request("sam", "it", "2026-03-01T11:00:00Z", "access", satisfaction=0),
        request("sam", "it", "2026-03-01T12:00:00Z", "access", sla="3 days"),
        handoff("sales", "it", "2026-03-01T13:00:00Z", "accepted"),
    )
    with pytest.raises(RecordsRejected) as rejected:
        toolkit.import_jsonl(source)
    reasons = {item.line: item.reason for item in rejected.value.report.rejected}
    assert sorted(reasons) == [2, 3, 4]
    assert reasons[2].startswith("participants/1/party: department 'facilities' serves no one")
    assert reasons[3].startswith("payload/satisfaction: must be at least 1")
    assert reasons[4].startswith("payload/sla_target: '3 days' is not an ISO-8601 duration")
    assert requests_of(toolkit, "sam") == 0
    assert toolkit.interactions("it") == []

    # Skipping the invalid lines writes the others, and their derived rows.
    report = toolkit.import_jsonl(source, skip_invalid=True)
    assert report.created["interaction"] == 2
    assert [item.line for item in report.rejected] == [2, 3, 4]
    (it,) = toolkit.plugin("internal").service_levels("2026-03-01", "2026-04-01")
    assert it["requests"] == 1


def test_a_catalogue_sla_in_the_wrong_unit_is_a_config_error(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    with pytest.raises(ConfigError) as config:
        internal_toolkit({"catalogue": {"access": {"sla": "8h"}}})
    (violation,) = config.value.violations
    assert violation.pointer == "/plugins/internal/catalogue/access/sla"
    with pytest.raises(ConfigError) as months:
        internal_toolkit({"catalogue": {"access": {"sla": "P1M"}}})
    assert months.value.violations[0].pointer == "/plugins/internal/catalogue/access/sla"
    with pytest.raises(ValidationError) as zero:
        internal_toolkit({"catalogue": {"access": {"sla": "PT0H"}}})
    assert zero.value.field == "/plugins/internal/catalogue/access/sla"
    assert zero.value.reason == "an SLA target must be longer than zero, got 'PT0H'"
    with pytest.raises(ConfigError) as consent:
        internal_toolkit({"per_employee": {"enabled": True, "lawful_basis": "consent"}})
    assert consent.value.violations[0].pointer == "/plugins/internal/per_employee/lawful_basis"
    # A catalogue of one's own replaces the default: requests use its categories.
    toolkit = internal_toolkit({"catalogue": {"onboarding": {"sla": "P2D"}}})
    toolkit.write([department("hr", "HR"), department("sales", "Sales"), serves("hr", "sales")])
    with pytest.raises(ValidationError, match="must be one of 'onboarding'"):
        toolkit.record_interaction(
            "service_request", "2026-03-01", [("sales", "requester"), ("hr", "provider")],
            {"category": "access"},
        )  # fmt: skip
    toolkit.record_interaction(
        "service_request", "2026-03-01", [("sales", "requester"), ("hr", "provider")],
        {"category": "onboarding", "resolved_at": "2026-03-02"},
    )  # fmt: skip
    (hr,) = toolkit.plugin("internal").service_levels("2026-03-01", "2026-04-01")
    assert hr["sla"]["met"] == 1
