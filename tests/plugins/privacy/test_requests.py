"""Data-subject requests: legal deadlines, verification before release, the access export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from partygraph import Context, Toolkit, ValidationError, WriteRefused

PrivacyToolkit = Callable[..., Toolkit]


def with_alice(privacy_toolkit: PrivacyToolkit, **settings: Any) -> Toolkit:
    toolkit = privacy_toolkit(settings, notes=True)
    toolkit.upsert_party(
        "alice", "person", "Alice Moreau", {"email": "alice@example.org", "phone": "+33 6 1"}
    )
    return toolkit


# -- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"),  # no 31 February: its last day
        ("2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"),  # leap year
        ("2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z"),
        ("2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z"),
    ],
)
def test_gdpr_requests_are_due_one_calendar_month_after_receipt(
    privacy_toolkit: PrivacyToolkit, received: str, due: str
) -> None:
    toolkit = with_alice(privacy_toolkit)
    request = toolkit.plugin("privacy").receive_request("alice", "access", received_at=received)
    assert request["jurisdiction"] == "GDPR"
    assert request["received_at"] == received
    assert request["due_at"] == due
    assert request["confirm_by"] is None
    assert request["status"] == "received"
    assert request["verified"] is False


def test_gdpr_extension_needs_notice_within_the_first_month(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    early = privacy.receive_request("alice", "access", received_at="2026-01-31")
    late = privacy.receive_request("alice", "erasure", received_at="2026-01-31")

    extended = privacy.extend_request(early["id"], notice_at="2026-02-20")
    assert extended["due_at"] == "2026-04-30T00:00:00Z"  # received + 3 months
    assert extended["extension_notice_at"] == "2026-02-20T00:00:00Z"
    assert extended["status"] == "extended"
    with pytest.raises(ValidationError, match="extended already"):
        privacy.extend_request(early["id"], notice_at="2026-02-21")

    with pytest.raises(ValidationError, match="within the original period") as caught:
        privacy.extend_request(late["id"], notice_at="2026-03-01")
    assert caught.value.field == "notice_at"
    (unchanged,) = [item for item in privacy.requests("alice") if item["id"] == late["id"]]
    assert unchanged["due_at"] == "2026-02-28T00:00:00Z"
    assert unchanged["extension_notice_at"] is None


def test_ccpa_confirm_within_ten_business_days_answer_within_45_days_or_90(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = with_alice(privacy_toolkit)
    toolkit.upsert_party("carol", "person", "Carol", {"jurisdiction": "CCPA"})
    privacy = toolkit.plugin("privacy")
    # Friday 2 January 2026: ten business days later is Friday 16 January.
    request = privacy.receive_request("carol", "access", received_at="2026-01-02")
    assert request["jurisdiction"] == "CCPA"
    assert request["confirm_by"] == "2026-01-16T00:00:00Z"
    assert request["due_at"] == "2026-02-16T00:00:00Z"  # 45 days
    confirmed = privacy.confirm_request(request["id"], at="2026-01-09")
    assert confirmed["confirmed_at"] == "2026-01-09T00:00:00Z"
    assert confirmed["confirmation_overdue"] is False

    extended = privacy.extend_request(request["id"], notice_at="2026-02-10")
    assert extended["due_at"] == "2026-04-02T00:00:00Z"  # 90 days

    # The jurisdiction may also be given for the request; notice after day 45 is too late.
    other = privacy.receive_request(
        "alice", "erasure", received_at="2026-01-02", jurisdiction="CCPA"
    )
    assert other["jurisdiction"] == "CCPA"
    with pytest.raises(ValidationError, match="too late"):
        privacy.extend_request(other["id"], notice_at="2026-02-17")


def test_deadlines_follow_the_configuration(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = with_alice(
        privacy_toolkit, deadlines={"ccpa_days": 30, "ccpa_confirm_business_days": 5}
    )
    privacy = toolkit.plugin("privacy")
    request = privacy.receive_request(
        "alice", "access", received_at="2026-01-02", jurisdiction="ccpa"
    )
    assert request["confirm_by"] == "2026-01-09T00:00:00Z"
    assert request["due_at"] == "2026-02-01T00:00:00Z"


def test_bad_requests_are_refused_with_the_field(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    with pytest.raises(ValidationError, match="unknown request kind 'forget'"):
        privacy.receive_request("alice", "forget")
    with pytest.raises(ValidationError, match="unknown jurisdiction") as caught:
        privacy.receive_request("alice", "access", jurisdiction="LGPD")
    assert caught.value.field == "jurisdiction"
    request = privacy.receive_request("alice", "access")
    with pytest.raises(ValidationError, match="evidence"):
        privacy.verify_request(request["id"], " ")
    with pytest.raises(ValidationError, match="reason"):
        privacy.refuse_request(request["id"], "")
    assert privacy.requests() == privacy.requests("alice")


# -- verification before release ---------------------------------------------------------------


def test_an_unverified_request_releases_nothing_and_its_deadline_still_runs(
    privacy_toolkit: PrivacyToolkit, tmp_path: Path
) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    request = privacy.receive_request("alice", "access", received_at="2025-01-02")
    target = tmp_path / "export.json"
    with pytest.raises(WriteRefused, match=f"request {request['id']} is not verified"):
        privacy.fulfil_request(request["id"], path=target)
    assert not target.exists()
    (waiting,) = privacy.requests("alice")
    assert waiting["status"] == "received"
    assert waiting["overdue"] is True  # received long ago: the deadline ran while it waited

    privacy.verify_request(request["id"], "answered the security questions", at="2025-01-03")
    done = privacy.fulfil_request(request["id"], path=target)
    assert done["request"]["status"] == "completed"
    assert done["request"]["closed_at"] is not None
    assert done["request"]["overdue"] is False
    assert done["result"]["party"]["key"] == "alice"
    assert json.loads(target.read_text())["party"]["key"] == "alice"
    with pytest.raises(ValidationError, match="already completed"):
        privacy.fulfil_request(request["id"])


def test_request_steps_are_audited_without_naming_the_subject(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    request = privacy.receive_request("alice", "access", context=Context(actor="dpo"))
    with pytest.raises(WriteRefused):
        privacy.fulfil_request(request["id"])
    privacy.verify_request(request["id"], "signed letter")
    privacy.fulfil_request(request["id"])
    from partygraph_privacy.audit import entries

    steps = [
        entry["action"] for entry in entries(privacy) if entry["action"].startswith("request:")
    ]
    assert steps == [
        "request:received",
        "request:release_refused_unverified",
        "request:verified",
        "request:approved",
        "request:exported",
    ]
    text = json.dumps(entries(privacy), default=str)
    assert "alice" not in text.lower()
    assert "Moreau" not in text


# -- the access export -------------------------------------------------------------------------


def test_access_export_holds_consents_roles_plugin_data_and_earlier_requests(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    privacy.grant("alice", "marketing", channel="email", at="2026-01-10", source="web form")
    privacy.withdraw("alice", "marketing", channel="email", at="2026-02-01")
    toolkit.record_interaction("purchase", "2026-01-12T10:00:00Z", [("alice", "purchaser")])
    toolkit.plugin("shop").add_note(toolkit, "alice", "prefers calls after 6pm")
    earlier = privacy.receive_request("alice", "erasure", received_at="2026-01-15")
    privacy.refuse_request(earlier["id"], "invoices under legal hold")
    request = privacy.receive_request("alice", "portability")
    privacy.verify_request(request["id"], "logged in to the account")

    document = privacy.fulfil_request(request["id"])["result"]
    json.dumps(document)  # machine-readable as it is
    assert document["party"]["attributes"]["email"] == "alice@example.org"
    assert [i["type"] for i in document["interactions"]] == ["purchase"]
    (role,) = document["roles"]
    assert (role["role"], role["plugin"], role["reason"]) == ("customer", "shop", "made a purchase")
    assert document["plugins"]["shop"] == {"notes": ["prefers calls after 6pm"]}
    own = document["plugins"]["privacy"]
    assert [(e["action"], e["purpose"], e["channel"]) for e in own["ledger"]] == [
        ("grant", "marketing", "email"),
        ("withdraw", "marketing", "email"),
    ]
    assert own["ledger"][0]["source"] == "web form"
    by_id = {item["id"]: item for item in own["requests"]}
    assert by_id[earlier["id"]]["status"] == "refused"
    assert by_id[earlier["id"]]["outcome"] == "invoices under legal hold"
    assert by_id[request["id"]]["kind"] == "portability"


def test_export_files_are_remembered_for_erasure(
    privacy_toolkit: PrivacyToolkit, tmp_path: Path
) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    target = tmp_path / "out" / "alice.json"
    document = privacy.export("alice", path=target)
    assert json.loads(target.read_text()) == json.loads(json.dumps(document, default=str))
    again = privacy.export("alice")
    assert len(again["plugins"]["privacy"]["export_files"]) == 1


# -- other requests ----------------------------------------------------------------------------


def test_rectification_and_restriction_requests(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    fix = privacy.receive_request("alice", "rectification")
    privacy.verify_request(fix["id"], "email confirmation")
    done = privacy.fulfil_request(
        fix["id"], name="Alice Moreau-Diaz", attributes={"phone": "+33 6 2"}
    )
    assert done["result"].name == "Alice Moreau-Diaz"
    alice = toolkit.party("alice")
    assert alice.name == "Alice Moreau-Diaz"
    assert alice.attributes == {"email": "alice@example.org", "phone": "+33 6 2"}

    freeze = privacy.receive_request("alice", "restriction")
    privacy.verify_request(freeze["id"], "email confirmation")
    done = privacy.fulfil_request(freeze["id"], reason="accuracy contested")
    assert done["request"]["outcome"] == "processing restricted to storage"
    decision = privacy.can_contact("alice", "email", "billing")
    assert not decision.allowed
    assert "restricted" in decision.reason

    with pytest.raises(ValidationError, match="corrected name or attributes"):
        privacy.rectify("alice")


def test_objection_and_opt_out_requests(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = with_alice(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    privacy.grant("alice", "marketing", at="2026-01-01")
    privacy.grant("alice", "sale_or_sharing", at="2026-01-01")
    for kind in ("objection", "opt_out"):
        request = privacy.receive_request("alice", kind)
        privacy.verify_request(request["id"], "logged in")
        privacy.fulfil_request(request["id"])
    assert not privacy.basis("alice", "marketing").allowed
    assert not privacy.basis("alice", "sale_or_sharing").allowed
    assert [item["status"] for item in privacy.requests("alice")] == ["completed", "completed"]
