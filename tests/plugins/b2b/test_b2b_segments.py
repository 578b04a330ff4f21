"""The b2b plugin's segment SQL answers exactly what its Python roles and figures say."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from b2b_world import touch

from partygraph import Toolkit, ValidationError
from partygraph_b2b.settings import COMMITTEE_ROLES

DATES = ("2026-02-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-08-15T00:00:00Z")
ACCOUNT_ROLES = ("customer_account", "target_account")
SETTINGS = {"target_accounts": ["org03", "org07"]}


def _day(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _world(toolkit: Toolkit, seed: int = 5) -> tuple[list[str], list[str]]:
    """Twelve organisations with committees that change, deals that move, touchpoints."""
    rng = random.Random(seed)
    start = datetime(2025, 10, 1, tzinfo=UTC)
    orgs = [f"org{index:02d}" for index in range(12)]
    people = [f"per{index:02d}" for index in range(36)]
    records: list[dict[str, Any]] = [
        {"party": {"key": key, "kind": "organization"}} for key in orgs
    ] + [{"party": {"key": key, "kind": "person"}} for key in people]
    for person in people:
        for account in rng.sample(orgs, rng.choice((1, 1, 2))):
            began = start + timedelta(days=rng.uniform(0, 200))
            link: dict[str, Any] = {
                "type": "stakeholder_of",
                "source": person,
                "target": account,
                "role": rng.choice(COMMITTEE_ROLES),
                "valid_from": _day(began),
            }
            if rng.random() < 0.25:
                link["valid_to"] = _day(began + timedelta(days=rng.uniform(10, 150)))
            records.append({"relationship": link})
    toolkit.write(records)
    deals: list[dict[str, Any]] = []
    for index, account in enumerate(orgs[:9]):
        opened = start + timedelta(days=rng.uniform(0, 150))
        key = f"deal{index}"
        deals.append({"deal": {"key": key, "account": account, "at": _day(opened)}})
        if rng.random() < 0.7:
            status = rng.choice(("won", "lost", "won"))
            when = opened + timedelta(days=rng.uniform(20, 150))
            deals.append({"deal": {"key": key, "account": account, "status": status,
                                   "at": _day(when)}})  # fmt: skip
    toolkit.write(deals)
    touches = []
    for _ in range(120):
        person = rng.choice(people)
        when = start + timedelta(days=rng.uniform(0, 320))
        account = rng.choice([None, rng.choice(orgs)])
        kind = rng.choice(("meeting", "email", "demo"))
        role = "recipient" if kind == "email" else "attendee"
        touches.append(touch(kind, _day(when), person, role=role, account=account))
    when = start + timedelta(days=200)
    touches.append(touch("contract_signed", _day(when), people[0], role="signatory",
                         account="org10"))  # fmt: skip
    toolkit.write(touches)
    return orgs, people


def _sql(toolkit: Toolkit, where: dict[str, Any], as_of: str) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_roles_in_sql_match_the_plugins_roles(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit(SETTINGS)
    orgs, people = _world(toolkit)
    for as_of in DATES:
        python: dict[str, set[str]] = {}
        contexts: dict[str, set[tuple[str, str]]] = {}
        for key in [*orgs, *people]:
            for found in toolkit.roles(key, as_of=as_of):
                if found.plugin != "b2b":
                    continue
                python.setdefault(found.role, set()).add(key)
                if found.context is not None:
                    contexts.setdefault(found.role, set()).add((key, found.context.key))
        for role in (*COMMITTEE_ROLES, *ACCOUNT_ROLES):
            assert _sql(toolkit, {"role": role}, as_of) == python.get(role, set()), (role, as_of)
        assert python.get("customer_account")
        assert python.get("target_account")
        # With the account as context: economic buyers (and end users) of target accounts.
        targets = python["target_account"]
        for role in ("economic_buyer", "end_user"):
            want = {key for key, account in contexts.get(role, ()) if account in targets}
            where = {"role": role, "of": {"role": "target_account"}}
            assert _sql(toolkit, where, as_of) == want, (role, as_of)


def test_threading_and_coverage_match_the_plugins_figures(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit(SETTINGS)
    orgs, _ = _world(toolkit)
    for as_of in DATES[1:]:
        figures = {key: dict(toolkit.metrics(key, as_of).get("b2b") or {}) for key in orgs}
        with_committee = {key for key, found in figures.items() if found.get("stakeholders")}
        at_most_one = {k for k in with_committee if figures[k]["engaged_stakeholders"] <= 1}
        assert at_most_one
        assert at_most_one != with_committee
        assert _sql(toolkit, {"predicate": "b2b.single_threaded"}, as_of) == at_most_one
        none = {k for k in with_committee if figures[k]["engaged_stakeholders"] == 0}
        where = {"predicate": "b2b.single_threaded", "params": {"max_engaged": 0}}
        assert _sql(toolkit, where, as_of) == none
        scores = sorted({figures[k]["engagement_score"] for k in with_committee})
        for place in (len(scores) // 3, 2 * len(scores) // 3):
            cut = (scores[place - 1] + scores[place]) / 2
            want = {k for k in with_committee if figures[k]["engagement_score"] > cut}
            where = {"metric": "b2b.engagement_score", "op": ">", "value": cut}
            assert _sql(toolkit, where, as_of) == want, (cut, as_of)
        for metric, name, op, value in (
            ("b2b.stakeholders", "stakeholders", ">=", 5),
            ("b2b.engaged_stakeholders", "engaged_stakeholders", ">=", 2),
            ("b2b.coverage", "coverage", ">=", 0.6),
            ("b2b.coverage", "coverage", "<", 0.4),
        ):
            want = {
                k
                for k in with_committee
                if (figures[k][name] >= value if op == ">=" else figures[k][name] < value)
            }
            where = {"metric": metric, "op": op, "value": value}
            assert _sql(toolkit, where, as_of) == want, (metric, op, value, as_of)


def test_a_won_deal_makes_a_customer_account_from_that_day(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    toolkit.write(
        [
            {"party": {"key": "acme", "kind": "organization"}},
            {"deal": {"key": "d1", "account": "acme", "at": "2026-01-10"}},
            {"deal": {"key": "d1", "account": "acme", "status": "won", "at": "2026-04-15"}},
            {"deal": {"key": "d1", "account": "acme", "status": "lost", "at": "2026-06-01"}},
        ]
    )
    assert _sql(toolkit, {"role": "target_account"}, "2026-01-09T00:00:00Z") == set()
    assert _sql(toolkit, {"role": "target_account"}, "2026-03-01T00:00:00Z") == {"acme"}
    assert _sql(toolkit, {"role": "customer_account"}, "2026-05-01T00:00:00Z") == {"acme"}
    assert _sql(toolkit, {"role": "customer_account"}, "2026-07-01T00:00:00Z") == set()


def test_predicate_parameters_are_checked_with_their_path(
    b2b_toolkit: Callable[..., Toolkit],
) -> None:
    toolkit = b2b_toolkit()
    bad = [
        ({"predicate": "b2b.committee_role", "params": {"role": "ceo"}}, "/where/params/role"),
        (
            {"predicate": "b2b.single_threaded", "params": {"max_engaged": -1}},
            "/where/params/max_engaged",
        ),
        ({"role": "economic_buyer", "of": {"kind": "nope"}}, "/where/of/kind"),
    ]
    for where, pointer in bad:
        with pytest.raises(ValidationError, match=pointer):
            toolkit.segment({"purpose": "sales", "where": where})
