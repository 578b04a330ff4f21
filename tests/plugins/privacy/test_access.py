"""Field-level access: each viewer role sees only the attribute categories it may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from partygraph import Context, Toolkit, ValidationError

PrivacyToolkit = Callable[..., Toolkit]

ALICE = {
    "email": "alice@example.org",
    "phone": "+33 6 12 34 56 78",
    "birth_date": "1990-04-02",
    "loyalty_tier": "gold",  # the shop declares it: user.behavior.purchase_history (usage)
    "favourite_colour": "teal",  # declared by nobody
}


def world(privacy_toolkit: PrivacyToolkit, **settings: object) -> Toolkit:
    toolkit = privacy_toolkit(settings)
    toolkit.upsert_party("alice", "person", "Alice Moreau", ALICE)
    toolkit.upsert_party("bob", "person", "Bob Moreau")
    toolkit.upsert_party("acme", "organization", "Acme Ltd", {"domain": "acme.example"})
    toolkit.upsert_party("moreau", "household", "The Moreaus")
    toolkit.relate("alice", "moreau", "member_of", role="head")
    toolkit.relate("bob", "moreau", "member_of", role="partner")
    toolkit.record_interaction(
        "purchase",
        "2026-01-10T10:00:00Z",
        [("alice", "purchaser"), ("bob", "consumer")],
        {"total": 42, "note": "birthday present"},
    )
    return toolkit


def as_role(role: str | None) -> Context:
    return Context(actor="someone", viewer_role=role)


def test_an_analyst_sees_no_contact_data(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    view = toolkit.view("alice", context=as_role("analyst"))  # business and usage
    assert dict(view.party.attributes) == {"loyalty_tier": "gold"}
    assert view.party.name is None  # identity
    assert view.party.key == "alice"
    assert view.interactions[0].payload == {"total": 42, "note": "birthday present"}

    document = toolkit.export_subject("alice", context=as_role("analyst"))
    assert document["party"]["attributes"] == {"loyalty_tier": "gold"}
    assert document["party"]["name"] is None
    flat = repr(document)
    assert "alice@example.org" not in flat
    assert "+33 6" not in flat
    assert "Alice Moreau" not in flat


def test_support_sees_contact_and_usage(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    view = toolkit.view("alice", context=as_role("support"))  # identity, contact, usage
    assert dict(view.party.attributes) == {
        "email": "alice@example.org",
        "phone": "+33 6 12 34 56 78",
        "birth_date": "1990-04-02",
        "loyalty_tier": "gold",
    }
    assert view.party.name == "Alice Moreau"
    assert view.interactions[0].payload["total"] == 42
    document = toolkit.export_subject("alice", context=as_role("support"))
    assert document["party"]["attributes"]["email"] == "alice@example.org"
    assert document["interactions"][0]["payload"]["total"] == 42


def test_sales_sees_no_usage_data(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    view = toolkit.view("alice", context=as_role("sales"))  # identity, contact, business
    assert "loyalty_tier" not in view.party.attributes
    assert view.party.attributes["email"] == "alice@example.org"
    assert view.interactions[0].payload == {}
    assert view.interactions[0].type == "purchase"
    document = toolkit.export_subject("alice", context=as_role("sales"))
    assert document["interactions"][0]["payload"] == {}


def test_undeclared_attributes_are_hidden_from_every_role(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    for role in ("sales", "support", "marketing", "analyst", "dpo"):
        view = toolkit.view("alice", context=as_role(role))
        assert "favourite_colour" not in view.party.attributes, role
    dpo = toolkit.view("alice", context=as_role("dpo"))
    assert set(dpo.party.attributes) == {"email", "phone", "birth_date", "loyalty_tier"}
    # Without a viewer role (system use, the subject's own export) nothing is hidden.
    assert dict(toolkit.view("alice").party.attributes) == ALICE
    assert toolkit.export_subject("alice")["party"]["attributes"] == ALICE


def test_related_persons_names_follow_the_same_rule(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    household = toolkit.view("moreau", context=as_role("analyst"))
    assert household.party.name == "The Moreaus"  # not a person: business data
    names = {item.other.key: item.other.name for item in household.relationships}
    assert names == {"alice": None, "bob": None}
    names = {
        item.other.key: item.other.name
        for item in toolkit.view("moreau", context=as_role("sales")).relationships
    }
    assert names == {"alice": "Alice Moreau", "bob": "Bob Moreau"}


def test_organisation_attributes_are_business_data(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    assert toolkit.view("acme", context=as_role("analyst")).party.attributes == {
        "domain": "acme.example"
    }
    support = toolkit.view("acme", context=as_role("support"))  # no business category
    assert dict(support.party.attributes) == {}
    assert support.party.name == "Acme Ltd"


def test_an_unknown_role_is_a_clear_error(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    with pytest.raises(ValidationError) as caught:
        toolkit.view("alice", context=as_role("intern"))
    message = str(caught.value)
    assert "'intern'" in message
    assert "analyst, dpo, marketing, sales, support" in message
    with pytest.raises(ValidationError, match="intern"):
        toolkit.export_subject("alice", context=as_role("intern"))


def test_roles_come_from_the_config(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit, viewer_roles={"auditor": ["identity"]})
    view = toolkit.view("alice", context=as_role("auditor"))
    assert dict(view.party.attributes) == {"birth_date": "1990-04-02"}  # date_of_birth: identity
    assert view.party.name == "Alice Moreau"
    with pytest.raises(ValidationError, match="configured viewer roles: auditor"):
        toolkit.view("alice", context=as_role("analyst"))


def test_after_a_limit_request_sensitive_data_serves_only_the_expected_service(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    health = {"type": "string", "x-data-category": "user.health_and_medical"}
    toolkit = make_toolkit(
        enabled=["privacy"],
        config={"attributes": {"parties": {"person": {"properties": {"health_note": health}}}}},
    )
    toolkit.upsert_party(
        "alice", "person", "Alice", {"email": "alice@example.org", "health_note": "asthma"}
    )
    marketing, service = Context(purpose="marketing"), Context(purpose="service")
    assert toolkit.view("alice", context=marketing).party.attributes["health_note"] == "asthma"

    toolkit.plugin("privacy").limit_sensitive("alice", at="2026-01-01")

    limited = toolkit.view("alice", context=marketing).party.attributes
    assert "health_note" not in limited
    assert limited["email"] == "alice@example.org"  # only sensitive data is limited
    assert toolkit.view("alice", context=service).party.attributes["health_note"] == "asthma"
    before = toolkit.view("alice", "2025-12-31", context=marketing).party.attributes
    assert before["health_note"] == "asthma"  # the limit takes effect from its date


def test_a_limit_request_costs_no_query_for_a_party_without_sensitive_data(
    make_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = make_toolkit(enabled=["privacy"])
    toolkit.upsert_party("alice", "person", "Alice", {"email": "alice@example.org"})
    toolkit.plugin("privacy").limit_sensitive("alice", at="2026-01-01")
    reads: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "privacy_ledger" in statement:
            reads.append(statement)

    event.listen(toolkit.engine, "before_cursor_execute", listen)
    view = toolkit.view("alice", context=Context(purpose="marketing"))
    event.remove(toolkit.engine, "before_cursor_execute", listen)
    assert view.party.attributes == {"email": "alice@example.org"}
    assert reads == []
