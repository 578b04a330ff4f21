"""The consent ledger: lawful bases per party, purpose and channel, through time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from partygraph import Toolkit, ValidationError
from partygraph_privacy.ledger import Decision, states

Factory = Callable[..., Toolkit]


@pytest.fixture
def toolkit(privacy_toolkit: Factory) -> Toolkit:
    toolkit = privacy_toolkit()
    toolkit.upsert_party("alice", "person", "Alice Moreau", {"email": "alice@example.org"})
    return toolkit


def privacy(toolkit: Toolkit) -> Any:
    return toolkit.plugin("privacy")


def test_a_withdrawn_marketing_email_does_not_stop_a_billing_email_under_contract(
    toolkit: Toolkit,
) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "marketing", channel="email", at="2026-01-10T09:00:00Z")
    assert plugin.can_contact("alice", "email", "marketing", "2026-02-01") == Decision(
        True, "consent", "consent (email) recorded on 2026-01-10T09:00:00Z"
    )

    plugin.withdraw("alice", "marketing", channel="email", at="2026-03-01T00:00:00Z")

    marketing = plugin.can_contact("alice", "email", "marketing", "2026-03-02")
    assert not marketing.allowed
    assert marketing.basis is None
    assert marketing.reason == "consent (email) withdrawn on 2026-03-01T00:00:00Z"
    billing = plugin.can_contact("alice", "email", "billing", "2026-03-02")
    assert billing.allowed
    assert billing.basis == "contract"


def test_withdrawing_is_one_call_and_the_ledger_only_grows(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "marketing", at="2026-01-10")
    plugin.withdraw("alice", "marketing", at="2026-02-10")
    assert [entry["action"] for entry in plugin.ledger_history("alice")] == ["grant", "withdraw"]


def test_an_expired_consent_counts_as_absent(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "marketing", at="2026-01-01", expires_at="2026-07-01")
    assert plugin.basis("alice", "marketing", "2026-06-30T23:59:59Z").allowed
    expired = plugin.basis("alice", "marketing", "2026-07-01")
    assert not expired.allowed
    assert expired.reason == "consent expired on 2026-07-01T00:00:00Z"
    # A fresh consent after the expiry counts again.
    plugin.grant("alice", "marketing", at="2026-08-01")
    assert plugin.basis("alice", "marketing", "2026-08-02").basis == "consent"


def test_history_answers_what_we_had_at_time_t(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant(
        "alice",
        "marketing",
        channel="email",
        at="2026-01-10T09:00:00Z",
        source="web form",
        evidence="form #12",
        jurisdiction="GDPR",
    )
    plugin.withdraw("alice", "marketing", channel="email", at="2026-03-01")
    plugin.grant("alice", "marketing", channel="email", at="2026-05-01", source="shop counter")

    history = plugin.ledger_history("alice")
    assert [(e["action"], e["at"], e["source"]) for e in history] == [
        ("grant", "2026-01-10T09:00:00Z", "web form"),
        ("withdraw", "2026-03-01T00:00:00Z", None),
        ("grant", "2026-05-01T00:00:00Z", "shop counter"),
    ]
    assert history[0]["evidence"] == "form #12"
    assert history[0]["jurisdiction"] == "GDPR"
    assert history[0]["channel"] == "email"
    answers = {
        when: plugin.basis("alice", "marketing", when).allowed
        for when in ("2026-01-01", "2026-02-01", "2026-04-01", "2026-06-01")
    }
    assert answers == {
        "2026-01-01": False,
        "2026-02-01": True,
        "2026-04-01": False,
        "2026-06-01": True,
    }


def test_an_objection_takes_effect_at_once(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "profiling", basis="legitimate_interests", at="2026-01-01")
    assert plugin.basis("alice", "profiling").allowed

    plugin.object("alice", "profiling")  # now

    decision = plugin.basis("alice", "profiling")
    assert not decision.allowed
    assert decision.reason.startswith("objected to profiling on ")


def test_a_fresh_consent_after_an_objection_counts(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.object("alice", "marketing", at="2026-01-01")
    assert not plugin.basis("alice", "marketing", "2026-02-01").allowed
    plugin.grant("alice", "marketing", at="2026-03-01")
    assert plugin.basis("alice", "marketing", "2026-03-02").allowed


def test_an_objection_stops_even_an_implicit_purpose(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    assert plugin.basis("alice", "analytics").basis == "legitimate_interests"
    plugin.object("alice", "analytics", at="2026-01-01")
    assert not plugin.basis("alice", "analytics", "2026-01-02").allowed


def test_a_gpc_opt_out_blocks_sale_or_sharing_at_once(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "sale_or_sharing", at="2026-01-01")
    plugin.grant("alice", "marketing", at="2026-01-01")
    assert plugin.basis("alice", "sale_or_sharing").allowed

    plugin.opt_out("alice", gpc=True)

    decision = plugin.basis("alice", "sale_or_sharing")
    assert not decision.allowed
    assert "opted out of sale or sharing" in decision.reason
    assert "Global Privacy Control" in decision.reason
    assert plugin.basis("alice", "marketing").allowed  # an opt-out of sale is not an objection
    last = plugin.ledger_history("alice")[-1]
    assert (last["action"], last["purpose"], last["source"]) == (
        "opt_out",
        "sale_or_sharing",
        "gpc",
    )


def test_restriction_blocks_every_purpose_until_lifted_with_a_notice(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.restrict("alice", at="2026-01-01", reason="accuracy contested")
    decision = plugin.basis("alice", "billing", "2026-01-02")
    assert decision == Decision(
        False, None, "processing restricted since 2026-01-01T00:00:00Z (accuracy contested)"
    )

    with pytest.raises(ValidationError) as raised:
        plugin.lift_restriction("alice", "  ", at="2026-02-01")
    assert raised.value.field == "notice"

    plugin.lift_restriction("alice", "told on 2026-01-31 by email", at="2026-02-01")
    assert plugin.basis("alice", "billing", "2026-02-02").allowed
    assert not plugin.basis("alice", "billing", "2026-01-15").allowed  # history is kept
    assert plugin.ledger_history("alice")[-1]["note"] == "told on 2026-01-31 by email"


def test_channel_less_entries_apply_to_every_channel(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "marketing", at="2026-01-01")
    assert plugin.can_contact("alice", "email", "marketing", "2026-01-02").allowed
    assert plugin.can_contact("alice", "phone", "marketing", "2026-01-02").allowed

    plugin.withdraw("alice", "marketing", channel="phone", at="2026-02-01")
    assert plugin.can_contact("alice", "email", "marketing", "2026-02-02").allowed
    assert not plugin.can_contact("alice", "phone", "marketing", "2026-02-02").allowed

    plugin.withdraw("alice", "marketing", at="2026-03-01")
    assert not plugin.can_contact("alice", "email", "marketing", "2026-03-02").allowed


def test_a_consent_for_one_channel_does_not_reach_another(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    plugin.grant("alice", "marketing", channel="email", at="2026-01-01")
    assert plugin.can_contact("alice", "email", "marketing", "2026-01-02").allowed
    assert not plugin.can_contact("alice", "post", "marketing", "2026-01-02").allowed
    assert plugin.basis("alice", "marketing", "2026-01-02").allowed  # on some channel


def test_employee_monitoring_refuses_consent_and_needs_a_balancing_note(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    with pytest.raises(ValidationError) as consent:
        plugin.grant("alice", "employee_usage_analytics", at="2026-01-01")
    assert consent.value.field == "basis"
    assert consent.value.reason == (
        "consent is not a valid basis for monitoring employees; record legitimate_interests "
        "with a balancing note"
    )
    with pytest.raises(ValidationError) as no_note:
        plugin.grant(
            "alice", "employee_usage_analytics", basis="legitimate_interests", at="2026-01-01"
        )
    assert no_note.value.field == "note"

    plugin.grant(
        "alice",
        "employee_usage_analytics",
        basis="legitimate_interests",
        at="2026-01-01",
        note="aggregate adoption metrics only; no individual ranking",
    )
    decision = plugin.basis("alice", "employee_usage_analytics", "2026-01-02")
    assert decision.basis == "legitimate_interests"
    assert plugin.ledger_history("alice") != []


def test_unknown_purposes_and_bases_are_refused_naming_the_field(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    with pytest.raises(ValidationError) as purpose:
        plugin.grant("alice", "telepathy")
    assert purpose.value.field == "purpose"
    assert "configured" in purpose.value.reason
    with pytest.raises(ValidationError) as basis:
        plugin.grant("alice", "marketing", basis="contract")
    assert basis.value.field == "basis"
    assert basis.value.reason == "'contract' is not a lawful basis for marketing; allowed: consent"
    with pytest.raises(ValidationError) as question:
        plugin.can_contact("alice", "email", "telepathy")
    assert question.value.field == "purpose"
    assert plugin.ledger_history("alice") == []


def test_parties_that_are_not_people_need_no_basis(toolkit: Toolkit) -> None:
    toolkit.upsert_party("acme", "organization", "Acme Ltd")
    decision = privacy(toolkit).can_contact("acme", "email", "marketing")
    assert decision.allowed
    assert decision.basis is None
    assert "not a natural person" in decision.reason


def test_household_roll_ups_leave_out_a_member_who_withdrew_aggregation_consent(
    toolkit: Toolkit,
) -> None:
    plugin = privacy(toolkit)
    toolkit.upsert_party("moreau", "household", "Moreau household")
    for key in ("bob", "carol"):
        toolkit.upsert_party(key, "person")
    for key in ("alice", "bob", "carol"):
        toolkit.relate(key, "moreau", "member_of", role="partner", valid_from="2025-01-01")
        plugin.grant(key, "household_aggregation", at="2026-01-01")
    plugin.withdraw("carol", "household_aggregation", at="2026-03-01")
    members = ["alice", "bob", "carol", "moreau"]

    before = toolkit.excluded(members, "household_aggregation", "2026-02-01")
    after = toolkit.excluded(members, "household_aggregation", "2026-04-01")

    carol = toolkit.party("carol").id
    assert before == {}
    assert list(after) == [carol]
    assert "consent withdrawn on 2026-03-01" in after[carol]


def test_excluded_covers_objection_opt_out_and_restriction(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    for key in ("bob", "carol", "dave"):
        toolkit.upsert_party(key, "person")
    plugin.object("bob", "analytics", at="2026-01-01")
    plugin.restrict("carol", at="2026-01-01")
    plugin.opt_out("dave", at="2026-01-01")
    ids = {key: toolkit.party(key).id for key in ("alice", "bob", "carol", "dave")}

    analytics = toolkit.excluded(list(ids), "analytics", "2026-02-01")
    sale = toolkit.excluded(list(ids), "sale_or_sharing", "2026-02-01")

    assert set(analytics) == {ids["bob"], ids["carol"]}
    assert set(sale) == set(ids.values())  # nobody opted in; dave opted out, carol restricted
    assert "opted out" in sale[ids["dave"]]


def test_states_fold_many_pairs_from_one_read_of_the_ledger(toolkit: Toolkit) -> None:
    plugin = privacy(toolkit)
    toolkit.upsert_party("bob", "person")
    plugin.grant("alice", "marketing", at="2026-01-01")
    plugin.grant("bob", "profiling", basis="legitimate_interests", at="2026-01-01")
    ids = [toolkit.party(key).id for key in ("alice", "bob")]
    reads: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM privacy_ledger" in statement:
            reads.append(statement)

    with toolkit.engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", listen)
        found = states(
            connection,
            ids,
            ["marketing", "profiling", "billing"],
            datetime(2026, 2, 1, tzinfo=UTC),
            plugin.settings,
            kinds=toolkit.vocabulary.party_kinds,
        )
    assert len(reads) == 1
    assert {pair: state.decision().basis for pair, state in found.items()} == {
        (ids[0], "marketing"): "consent",
        (ids[0], "profiling"): None,
        (ids[0], "billing"): "contract",
        (ids[1], "marketing"): None,
        (ids[1], "profiling"): "legitimate_interests",
        (ids[1], "billing"): "contract",
    }


def test_one_reader_reads_the_ledger_once_for_every_purpose(toolkit: Toolkit) -> None:
    """In a read (a view), the hooks asking about several purposes share one ledger query,
    and answer as separate reads do."""
    plugin = privacy(toolkit)
    for key in ("bob", "carol"):
        toolkit.upsert_party(key, "person")
    plugin.object("bob", "analytics", at="2026-01-01")
    plugin.restrict("carol", at="2026-01-01")
    plugin.grant("alice", "marketing", at="2026-01-01")
    keys = ["alice", "bob", "carol"]
    purposes = ["analytics", "marketing", "sale_or_sharing", "analytics"]
    apart = [toolkit.excluded(keys, purpose, "2026-02-01") for purpose in purposes]
    reads: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM privacy_ledger" in statement:
            reads.append(statement)

    event.listen(toolkit.engine, "before_cursor_execute", listen)
    try:
        with toolkit.reader("2026-02-01") as graph:
            together = [graph.excluded(keys, purpose) for purpose in purposes]
            graph.excluded(["alice"], "marketing", datetime(2026, 1, 2, tzinfo=UTC))
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", listen)
    assert together == apart
    assert len(reads) == 2  # one per horizon


def test_people_without_entries_are_answered_as_the_fold_answers(toolkit: Toolkit) -> None:
    """A person with no ledger entry gets the answer worked out once per purpose; it is
    the fold's own answer, and a person with entries is still folded."""
    plugin = privacy(toolkit)
    toolkit.upsert_party("bob", "person")
    plugin.grant("alice", "marketing", at="2026-01-01")
    ids = {key: toolkit.party(key).id for key in ("alice", "bob")}
    for purpose in ("marketing", "analytics", "billing"):
        found = toolkit.excluded(["alice", "bob"], purpose, "2026-02-01")
        for key, party_id in ids.items():
            decision = plugin.basis(key, purpose, at="2026-02-01")
            expected = None if decision.allowed else f"no lawful basis for {purpose}: "
            assert found.get(party_id) == (
                None if expected is None else f"{expected}{decision.reason} (privacy)"
            )
    assert set(plugin.plain_answers) == {"marketing", "analytics", "billing"}
