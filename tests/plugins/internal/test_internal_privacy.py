"""With the privacy plugin: the gate lets internal service through; monitoring needs a basis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from internal_world import company, department, person, request, serves, staff

from partygraph import Context, Toolkit, ValidationError, WriteRefused

BALANCING_NOTE = "aggregate adoption and data-quality coaching; no ranking, no appraisal use"
PER_EMPLOYEE = {
    "per_employee": {
        "enabled": True,
        "lawful_basis": "legitimate_interests",
        "balancing_note": BALANCING_NOTE,
    }
}


def office(toolkit: Toolkit) -> None:
    toolkit.write(
        [
            company(),
            department("it", "IT"),
            department("sales", "Sales"),
            serves("it", "acme", "2026-01-01"),
            *staff("sales", "rep", 2),
        ]
    )


def usage_of(toolkit: Toolkit, who: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        toolkit.export_subject(who)["plugins"].get("internal", {}).get("crm_usage", [])
    )
    return found


def test_service_requests_and_handoffs_pass_the_gate_on_implicit_purposes(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit(privacy=True)
    office(toolkit)
    report = toolkit.write(
        [
            request("rep1", "it", "2026-03-02T09:00:00Z", "access",
                    resolved="2026-03-02T10:00:00Z", satisfaction=4),
            person("lena", "Lena Lead", email="lena@prospect.example"),
            {"interaction": {
                "type": "lead_handoff", "occurred_at": "2026-03-03T09:00:00Z",
                "participants": [{"party": "rep1", "role": "from"}, {"party": "rep2", "role": "to"},
                                 {"party": "lena", "role": "lead"}],
                "payload": {"outcome": "accepted"},
            }},
        ]
    )  # fmt: skip
    assert report.created["interaction"] == 2
    roles = toolkit.roles("rep1", as_of="2026-04-01")
    assert [role.context.key for role in roles if role.context] == ["it"]
    (it,) = toolkit.plugin("internal").service_levels("2026-03-01", "2026-04-01")
    assert it["sla"]["met"] == 1


def test_crm_usage_needs_legitimate_interests_with_a_note_never_consent(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit(privacy=True)
    office(toolkit)
    privacy = toolkit.plugin("privacy")

    def log_usage() -> None:
        toolkit.record_interaction(
            "crm_usage", "2026-03-05T18:00:00Z", [("rep1", "user")], {"records_created": 4}
        )

    with pytest.raises(WriteRefused, match="rep1: no lawful basis for employee_usage_analytics"):
        log_usage()
    with pytest.raises(ValidationError, match="consent is not a valid basis for monitoring"):
        privacy.grant("rep1", "employee_usage_analytics", basis="consent", at="2026-01-01")
    with pytest.raises(WriteRefused):
        log_usage()
    assert usage_of(toolkit, "rep1") == []

    privacy.grant(
        "rep1",
        "employee_usage_analytics",
        basis="legitimate_interests",
        note=BALANCING_NOTE,
        at="2026-01-01",
    )
    log_usage()
    assert [row["source"] for row in usage_of(toolkit, "rep1")] == ["crm_usage"]


def test_automatic_usage_evidence_respects_the_employee_s_basis_and_objection(
    internal_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = internal_toolkit(PER_EMPLOYEE, privacy=True)
    office(toolkit)
    privacy = toolkit.plugin("privacy")

    def write_as(actor: str, key: str, day: int) -> None:
        toolkit.write(
            [person(key, f"Customer {key}", email=f"{key}@example.org")],
            context=Context(actor=actor, at=datetime(2026, 3, day, 12, tzinfo=UTC)),
        )

    # No basis yet: the write goes through, but nothing is recorded about rep1.
    write_as("rep1", "c1", 2)
    assert usage_of(toolkit, "rep1") == []

    privacy.grant(
        "rep1",
        "employee_usage_analytics",
        basis="legitimate_interests",
        note=BALANCING_NOTE,
        at="2026-03-01",
    )
    write_as("rep1", "c2", 3)
    assert [row["records_created"] for row in usage_of(toolkit, "rep1")] == [1]
    report = toolkit.plugin("internal").employee_usage("2026-03-01", "2026-04-01")
    assert [row["employee"] for row in report["employees"]] == ["rep1"]
    assert report["employees"][0]["records"] == 1
    # rep2 has no basis: withheld, with the reason, and no figures.
    (withheld,) = report["withheld"]
    assert withheld["employee"] == "rep2"
    assert "no lawful basis for employee_usage_analytics" in withheld["reason"]
    assert "records" not in withheld

    # rep1 objects: nothing more is recorded, and the figures are withheld.
    privacy.object("rep1", "employee_usage_analytics", at="2026-03-04")
    write_as("rep1", "c3", 5)
    assert len(usage_of(toolkit, "rep1")) == 1
    after = toolkit.plugin("internal").employee_usage("2026-03-01", "2026-04-01")
    assert after["employees"] == []
    assert {row["employee"] for row in after["withheld"]} == {"rep1", "rep2"}
    assert "objected to employee_usage_analytics" in after["withheld"][0]["reason"]
    assert "crm_records" not in toolkit.metrics("rep1", as_of="2026-03-31").get("internal", {})
