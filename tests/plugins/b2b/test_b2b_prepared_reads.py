"""A party's snapshot runs prepared statements with ids bound one by one; same answers.

Scopes of up to ``MAX_BOUND`` ids are bound one parameter per id, longer ones
as one expanding parameter (SQLAlchemy's ordinary path). Both must read the
same snapshot; an account's deals read only its own deal states; and a read
after a write sees the write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from b2b_world import touch
from test_b2b_analytics import AS_OF, GROUP, SETTINGS

from partygraph import Toolkit
from partygraph.storage import prepared
from partygraph.times import parse_time
from partygraph_b2b.analytics import load, stakes_from_views, status_rows
from partygraph_b2b.deals import deals_as_of, status_as_of

DEALS = [
    {"deal": {"key": "a1", "account": "sub-a", "amount": 100, "at": "2026-01-01"}},
    {"deal": {"key": "a1", "account": "sub-a", "status": "won", "at": "2026-02-01"}},
    {"deal": {"key": "a2", "account": "sub-a", "amount": 70, "at": "2026-03-01"}},
    {"deal": {"key": "b1", "account": "sub-b", "amount": 50, "status": "won", "at": "2026-01-01"}},
    {"deal": {"key": "late", "account": "sub-b", "amount": 5, "at": "2026-09-01"}},
]


@pytest.fixture
def group(b2b_toolkit: Callable[..., Toolkit]) -> Toolkit:
    toolkit = b2b_toolkit(SETTINGS)
    toolkit.write(GROUP)
    toolkit.write(
        [
            touch("meeting", "2026-05-22T10:00:00Z", "pia", account="sub-a"),
            touch("email", "2026-04-02T10:00:00Z", "pia", role="recipient", account="sub-a"),
            touch("demo", "2026-05-27T10:00:00Z", "sam", account=None),
            *DEALS,
        ]
    )
    return toolkit


def everything(toolkit: Toolkit) -> dict[str, Any]:
    """Views' b2b parts of every party and the population reports."""
    found: dict[str, Any] = {}
    for key in ("group", "sub-a", "sub-b", "pia", "sam"):
        view = toolkit.view(key, AS_OF)
        found[key] = (
            [role for role in view.roles if role.plugin == "b2b"],
            view.metrics.get("b2b"),
            view.sections.get("b2b"),
        )
    plugin = toolkit.plugin("b2b")
    found["coverage"] = plugin.coverage(AS_OF, account="group")
    found["scores"] = plugin.scores(AS_OF, account="group")
    return found


def test_ids_bound_one_by_one_or_expanding_read_the_same(
    group: Toolkit, monkeypatch: pytest.MonkeyPatch
) -> None:
    bound = everything(group)
    assert bound["sub-a"][1]["won_amount"] == 100
    assert bound["pia"][0]
    monkeypatch.setattr(prepared, "MAX_BOUND", 1)
    assert everything(group) == bound


def test_an_account_deals_are_its_row_of_everyone_deals(group: Toolkit) -> None:
    at = parse_time("2026-06-01", "at")
    with group.reader(AS_OF) as graph:
        everyone = deals_as_of(graph.connection, at)
        for key in ("sub-a", "sub-b", "group"):
            account = graph.party(key).id
            assert account is not None
            mine = deals_as_of(graph.connection, at, [account])
            assert mine == ({account: everyone[account]} if account in everyone else {})
    assert [d.key for d in everyone[graph.party("sub-a").id or 0]] == ["a1", "a2"]


def test_a_read_after_a_write_sees_the_write(group: Toolkit) -> None:
    before = group.metrics("sub-b", as_of=AS_OF)["b2b"]
    group.write(
        [
            touch("meeting", "2026-05-30T10:00:00Z", "sam", account="sub-b"),
            {"deal": {"key": "b2", "account": "sub-b", "amount": 20, "at": "2026-05-01"}},
        ]
    )
    after = group.metrics("sub-b", as_of=AS_OF)["b2b"]
    assert after["engagement_score"] > before["engagement_score"]
    assert after["open_pipeline"] == before["open_pipeline"] + 20


def test_a_person_stakes_from_the_reader_relationships_match_the_stakes_read(
    group: Toolkit,
) -> None:
    group.write(
        [
            {"party": {"key": "eve", "kind": "person", "name": "Eve"}},
            {"party": {"key": "ned", "kind": "person", "name": "Ned"}},
            {"relationship": {"type": "stakeholder_of", "source": "eve", "target": "sub-a",
                              "role": "influencer", "valid_from": "2025-01-01",
                              "valid_to": "2026-03-01"}},
            {"relationship": {"type": "stakeholder_of", "source": "eve", "target": "sub-b",
                              "role": "champion", "valid_from": "2026-09-01"}},
            {"relationship": {"type": "stakeholder_of", "source": "ned", "target": "sub-b",
                              "role": "champion", "attributes": {"track": "security_integration"}}},
        ]
    )  # fmt: skip
    plugin = group.plugin("b2b")
    with group.reader(AS_OF) as graph:
        for key in ("pia", "sam", "eve", "ned"):
            person = graph.party(key)
            assert person.id is not None
            views = graph.relationships(
                person, type="stakeholder_of", direction="outgoing", history=True
            )
            held = stakes_from_views(person.id, views)
            common = {"persons": [person.id], "with_touches": True}
            read = load(graph, plugin.settings, graph.as_of, **common)
            given = load(graph, plugin.settings, graph.as_of, stakes=held, **common)
            assert given == read
            assert bool(read.roles) == (key != "eve")


def test_an_account_roles_alone_are_those_of_its_view(group: Toolkit) -> None:
    group.write(
        [
            {"party": {"key": "solo", "kind": "organization", "name": "Solo"}},
            {"deal": {"key": "s1", "account": "solo", "amount": 9, "at": "2026-02-01"}},
            touch(
                "contract_signed", "2026-03-01T10:00:00Z", "pia", role="signatory", account="sub-b"
            ),
        ]
    )
    for key in ("group", "sub-a", "sub-b", "solo"):
        alone = [role for role in group.roles(key, AS_OF) if role.plugin == "b2b"]
        viewed = [role for role in group.view(key, AS_OF).roles if role.plugin == "b2b"]
        assert alone == viewed
        assert bool(alone) == (key != "group")


def test_an_account_status_rows_in_one_statement_match_everyone(group: Toolkit) -> None:
    group.write(
        [
            touch("contract_signed", "2026-03-01T10:00:00Z", "pia", role="signatory",
                  account="sub-b"),
            touch("contract_signed", "2026-03-01T10:00:00Z", "sam", role="signatory",
                  account="sub-b"),
            touch("contract_signed", "2026-02-01T10:00:00Z", "sam", role="signatory",
                  account="sub-a"),
            touch("contract_signed", "2026-07-01T10:00:00Z", "sam", role="signatory",
                  account="sub-a"),
        ]
    )  # fmt: skip
    at = parse_time(AS_OF, "at")
    with group.reader(AS_OF) as graph:
        deals, contracts = status_rows(graph.connection, at, None)
        ids = [graph.party(key).id or 0 for key in ("sub-a", "sub-b", "group")]
        mine = status_as_of(graph.connection, at, ids)
    assert mine == (
        {a: deals[a] for a in ids if a in deals},
        {a: contracts[a] for a in ids if a in contracts},
    )
    assert [len(mine[1][a]) for a in ids[:2]] == [1, 2]
