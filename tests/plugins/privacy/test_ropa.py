"""Records of processing (GDPR art. 30), from the config and the declarations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from partygraph import Toolkit

PrivacyToolkit = Callable[..., Toolkit]

SETTINGS = {
    "retention": {"purchase": "P10Y", "browsing": "P6M"},
    "recipients": {"marketing": ["Mailchimp (processor)", "Agency X"], "billing": ["Tax office"]},
    "purposes": {
        "service": {"description": "Delivering orders.", "bases": ["contract"], "implicit": True},
        "billing": {"bases": ["contract", "legal_obligation"], "implicit": True},
        "marketing": {"description": "Newsletters.", "bases": ["consent"]},
        "profiling": {"bases": ["consent", "legitimate_interests"]},
        "employee_usage_analytics": {
            "bases": ["legitimate_interests"],
            "requires_note": True,
            "workplace": True,
        },
        "research": {"description": "Unused so far.", "bases": ["consent"]},
    },
}


def by_purpose(ropa: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["purpose"]: entry for entry in ropa["purposes"]}


def test_each_purpose_with_its_bases_types_categories_retention_and_recipients(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = privacy_toolkit(SETTINGS, notes=True)
    ropa = toolkit.plugin("privacy").ropa()
    entries = by_purpose(ropa)
    assert list(entries) == sorted(entries)
    assert set(entries) == {
        "billing",
        "employee_usage_analytics",
        "marketing",
        "privacy_compliance",
        "profiling",
        "research",
        "service",
    }

    service = entries["service"]
    assert service["description"] == "Delivering orders."
    assert service["lawful_bases"] == ["contract"]
    assert service["implicit"] is True
    assert service["processed_by"] == [{"plugin": "shop", "interaction_type": "purchase"}]
    # The shop's own declarations for the purpose, and the interactions themselves.
    assert service["data_categories"] == [
        "user.behavior",
        "user.behavior.purchase_history",
        "user.content.private",
    ]
    assert "customer" in service["data_subjects"]
    assert service["retention"]["interaction_types"] == {"purchase": "P10Y"}
    assert service["recipients"] == []

    marketing = entries["marketing"]
    assert marketing["lawful_bases"] == ["consent"]
    assert marketing["recipients"] == ["Agency X", "Mailchimp (processor)"]
    assert marketing["processed_by"] == [{"plugin": "shop", "interaction_type": "newsletter"}]
    assert marketing["retention"]["interaction_types"] == {}

    assert entries["billing"]["retention"]["interaction_types"] == {"purchase": "P10Y"}
    assert entries["billing"]["recipients"] == ["Tax office"]
    assert entries["profiling"]["retention"]["interaction_types"] == {"browsing": "P6M"}
    assert entries["employee_usage_analytics"]["workplace"] is True
    assert entries["employee_usage_analytics"]["requires_note"] is True
    assert entries["research"]["processed_by"] == []
    assert entries["research"]["data_categories"] == []

    own = entries["privacy_compliance"]
    assert own["lawful_bases"] == ["legal_obligation"]
    assert "user.privacy_preferences" in own["data_categories"]
    assert {"plugin": "privacy", "record_type": "consent"} in own["processed_by"]
    assert "child" in own["data_subjects"]

    # The core's party data serves every purpose: listed once.
    common = ropa["common"]
    assert "user.contact.email" in common["data_categories"]
    assert {"plugin": "core", "table": "party", "field": "attributes.email"}.items() <= next(
        field for field in common["fields"] if field["field"] == "attributes.email"
    ).items()
    assert ropa["plugins"] == ["privacy", "shop"]


def test_purpose_overrides_move_types_between_purposes(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit({"purpose_overrides": {"browsing": ["analytics"]}})
    entries = by_purpose(toolkit.plugin("privacy").ropa())
    assert entries["analytics"]["processed_by"] == [
        {"plugin": "shop", "interaction_type": "browsing"}
    ]
    assert entries["profiling"]["processed_by"] == []


def test_the_document_is_deterministic_and_json_ready(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit(SETTINGS, notes=True)
    privacy = toolkit.plugin("privacy")
    first = json.dumps(privacy.ropa(), sort_keys=False)
    assert json.dumps(privacy.ropa(), sort_keys=False) == first
    assert json.loads(first) == privacy.ropa()
