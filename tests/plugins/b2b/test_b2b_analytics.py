"""Engagement scores (weights, recency, roll-ups), attribution to accounts, targets, metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from b2b_world import touch
from sqlalchemy import event

from partygraph import Toolkit, ValidationError

#: A group (parent) with two subsidiaries; Pia is the economic buyer of sub-a and an
#: end user at sub-b; Sam is a champion at sub-b.
GROUP = [
    {"party": {"key": "group", "kind": "organization", "name": "Group"}},
    {"party": {"key": "sub-a", "kind": "organization", "name": "Sub A"}},
    {"party": {"key": "sub-b", "kind": "organization", "name": "Sub B"}},
    {"party": {"key": "pia", "kind": "person", "name": "Pia"}},
    {"party": {"key": "sam", "kind": "person", "name": "Sam"}},
    {"relationship": {"type": "subsidiary_of", "source": "sub-a", "target": "group",
                      "valid_from": "2020-01-01"}},
    {"relationship": {"type": "subsidiary_of", "source": "sub-b", "target": "group",
                      "valid_from": "2020-01-01"}},
    {"relationship": {"type": "stakeholder_of", "source": "pia", "target": "sub-a",
                      "role": "economic_buyer", "valid_from": "2026-01-01"}},
    {"relationship": {"type": "stakeholder_of", "source": "pia", "target": "sub-b",
                      "role": "end_user", "valid_from": "2026-01-01"}},
    {"relationship": {"type": "stakeholder_of", "source": "sam", "target": "sub-b",
                      "role": "champion", "valid_from": "2026-01-01"}},
    {"relationship": {"type": "stakeholder_of", "source": "sam", "target": "sub-b",
                      "role": "decision_maker", "valid_from": "2026-01-01"}},
]  # fmt: skip
AS_OF = "2026-06-01"
SETTINGS = {
    "interaction_weights": {"meeting": 2, "email": 1, "demo": 4},
    "recency": [{"days": 30, "weight": 1}, {"days": 90, "weight": 0.5}],
    "role_weights": {"economic_buyer": 3, "end_user": 1, "champion": 2, "decision_maker": 2.5},
}


@pytest.fixture
def group(b2b_toolkit: Callable[..., Toolkit]) -> Toolkit:
    toolkit = b2b_toolkit(SETTINGS)
    toolkit.write(GROUP)
    return toolkit


def score_of(toolkit: Toolkit, key: str) -> tuple[float, float]:
    entry = next(e for e in toolkit.plugin("b2b").scores(AS_OF) if e["account"]["key"] == key)
    return entry["score"], entry["rolled_up_score"]


def test_scores_weigh_type_role_and_recency_and_roll_up_to_the_parent(group: Toolkit) -> None:
    group.write(
        [
            # Pia at sub-a: a meeting 10 days ago (2 x 1) and an email 60 days ago (1 x 0.5),
            # as economic buyer (x 3): 7.5. A demo 200 days ago is beyond every step: 0.
            touch("meeting", "2026-05-22T10:00:00Z", "pia", account="sub-a"),
            touch("email", "2026-04-02T10:00:00Z", "pia", role="recipient", account="sub-a"),
            touch("demo", "2025-11-13T10:00:00Z", "pia", account="sub-a"),
            # Sam at sub-b: a demo 5 days ago (4 x 1) with his weightiest role (2.5): 10.
            touch("demo", "2026-05-27T10:00:00Z", "sam", account="sub-b"),
            {"deal": {"key": "a1", "account": "sub-a", "amount": 100, "at": "2026-01-01"}},
            {"deal": {"key": "b1", "account": "sub-b", "amount": 50, "status": "won",
                      "at": "2026-01-01"}},
        ]
    )  # fmt: skip
    assert score_of(group, "sub-a") == (7.5, 7.5)
    assert score_of(group, "sub-b") == (10.0, 10.0)
    assert score_of(group, "group") == (0.0, 17.5)
    scores = group.plugin("b2b").scores(AS_OF)
    assert [e["account"]["key"] for e in scores] == ["group", "sub-b", "sub-a"]
    top = scores[0]
    assert [(s["account"]["key"], s["rolled_up_score"]) for s in top["subsidiaries"]] == [
        ("sub-a", 7.5),
        ("sub-b", 10.0),
    ]
    figures = group.metrics("group", as_of=AS_OF)["b2b"]
    assert (figures["engagement_score"], figures["rolled_up_score"]) == (0.0, 17.5)
    assert (figures["open_pipeline"], figures["rolled_up_open_pipeline"]) == (0.0, 100.0)
    assert figures["rolled_up_won_amount"] == 50.0
    assert group.view("sub-a", as_of=AS_OF).sections["b2b"]["hierarchy"]["parent"]["key"] == (
        "group"
    )


def test_an_interaction_counts_for_the_accounts_it_names_or_else_for_all_of_them(
    group: Toolkit,
) -> None:
    group.write(
        [
            # Names sub-a: counts for Pia at sub-a only.
            touch("meeting", "2026-05-22T10:00:00Z", "pia", account="sub-a"),
            # Names no account: counts wherever Pia is a stakeholder.
            touch("email", "2026-05-23T10:00:00Z", "pia", role="recipient", account=None),
        ]
    )
    entries = {e["account"]["key"]: e for e in group.plugin("b2b").coverage(AS_OF)}
    engaged_a = entries["sub-a"]["engaged"]
    engaged_b = entries["sub-b"]["engaged"]
    assert [(p["person"]["key"], p["interactions"]) for p in engaged_a] == [("pia", 2)]
    assert [(p["person"]["key"], p["interactions"]) for p in engaged_b] == [("pia", 1)]
    assert entries["sub-b"]["covered"] == ["end_user"]
    # Pia's metrics: two accounts, engaged at both.
    assert group.metrics("pia", as_of=AS_OF)["b2b"] == {
        "stakeholder_accounts": 2,
        "engaged_accounts": 2,
        "last_engaged": "2026-05-23T10:00:00Z",
    }


def test_required_roles_and_window_come_from_the_config(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit({"required_roles": ["champion"], "engagement_window_days": 10})
    toolkit.write([*GROUP, touch("meeting", "2026-05-15T10:00:00Z", "sam", account="sub-b")])
    (entry,) = toolkit.plugin("b2b").coverage("2026-05-20", account="sub-b")
    assert (entry["required"], entry["covered"], entry["window_days"]) == (
        ["champion"],
        ["champion"],
        10,
    )
    (entry,) = toolkit.plugin("b2b").coverage("2026-05-30", account="sub-b")
    assert entry["missing"] == ["champion"]
    assert entry["named_not_engaged"] == ["champion"]


def test_target_accounts_named_in_the_config(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit({"target_accounts": ["sub-a", "nobody"]})
    toolkit.write(GROUP)
    (role,) = toolkit.roles("sub-a", as_of=AS_OF)
    assert (role.role, role.customer) == ("target_account", False)
    assert "named as a target account in [plugins.b2b] target_accounts" in role.reason
    assert toolkit.roles("sub-b", as_of=AS_OF) == []
    (pia_at_a, pia_at_b) = toolkit.roles("pia", as_of=AS_OF)
    assert "Sub A is a target account, not yet a customer" in pia_at_a.reason
    assert "has no won or open deal" not in pia_at_a.reason
    assert pia_at_b.reason.count("a user, not a buyer") == 1


def test_a_stakeholder_of_several_roles_gets_one_role_each_and_one_track(
    group: Toolkit,
) -> None:
    roles = group.roles("sam", as_of=AS_OF)
    assert [(r.role, r.context.key if r.context else None) for r in roles] == [
        ("decision_maker", "sub-b"),
        ("champion", "sub-b"),
    ]
    (entry,) = [
        e
        for e in group.plugin("b2b").messaging(AS_OF)["stakeholders"]
        if e["person"]["key"] == "sam"
    ]
    # The weightiest role decides the track: decision maker (2.5) over champion (2).
    assert (entry["roles"], entry["track"]) == (["decision_maker", "champion"], "business_value")


def test_a_stakeholder_can_have_a_track_of_her_own(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit()
    toolkit.write(
        [
            *GROUP[:5],
            {"relationship": {"type": "stakeholder_of", "source": "pia", "target": "sub-a",
                              "role": "economic_buyer",
                              "attributes": {"track": "security_integration"}}},
        ]
    )  # fmt: skip
    (role,) = toolkit.roles("pia", as_of=AS_OF)
    assert "messaging track: security_integration" in role.reason
    with pytest.raises(ValidationError, match="attributes/track"):
        toolkit.relate("sam", "sub-a", "stakeholder_of", role="legal", attributes={"track": "x"})


@contextlib.contextmanager
def statements(toolkit: Toolkit) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(toolkit.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(toolkit.engine, "before_cursor_execute", listen)


def test_population_analytics_run_a_fixed_number_of_statements(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    """Set-based: the statement count does not grow with the number of accounts."""
    toolkit = b2b_toolkit()

    def world(accounts: range) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for n in accounts:
            records += [
                {"party": {"key": f"acct-{n}", "kind": "organization"}},
                {"party": {"key": f"p-{n}", "kind": "person"}},
                {"relationship": {"type": "stakeholder_of", "source": f"p-{n}",
                                  "target": f"acct-{n}", "role": "economic_buyer"}},
                {"deal": {"key": f"d-{n}", "account": f"acct-{n}", "at": "2026-01-01"}},
                touch("meeting", "2026-05-20T10:00:00Z", f"p-{n}", account=f"acct-{n}"),
            ]  # fmt: skip
        return records

    b2b = toolkit.plugin("b2b")
    toolkit.write(world(range(2)))
    with statements(toolkit) as few:
        assert len(b2b.coverage(AS_OF)) == 2
        b2b.scores(AS_OF)
    toolkit.write(world(range(2, 30)))
    with statements(toolkit) as many:
        assert len(b2b.coverage(AS_OF)) == 30
        assert len(b2b.single_threaded(AS_OF)) == 30
        b2b.scores(AS_OF)
    assert len(many) == len(few) * 3 // 2
    assert len(few) <= 24
