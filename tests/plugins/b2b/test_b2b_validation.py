"""Bad input is refused with an error naming the field, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from b2b_world import ERP_WORLD, touch

from partygraph import RecordsRejected, Toolkit, ValidationError

TABLES = ("party", "relationship", "interaction", "b2b_deal", "b2b_deal_state")


def counts(toolkit: Toolkit) -> dict[str, int]:
    with toolkit.engine.connect() as connection:
        return {
            table: int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
            for table in TABLES
        }


PEOPLE = [
    {"party": {"key": "acme", "kind": "organization", "name": "Acme"}},
    {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"relationship": {"type": "stakeholder_of", "source": "bob", "target": "acme",
                              "role": "cfo"}},
            "line 3: role: 'cfo' is not a role of stakeholder_of; allowed: champion, "
            "decision_maker, economic_buyer, end_user, executive_sponsor, influencer, legal, "
            "procurement, technical_evaluator",
        ),
        (
            {"relationship": {"type": "stakeholder_of", "source": "bob", "target": "acme"}},
            "line 3: role: a stakeholder_of relationship needs a role",
        ),
        (
            {"relationship": {"type": "works_at", "source": "bob", "target": "bob"}},
            "line 3: target: a works_at relationship ends at a organization, got 'bob', "
            "a person",
        ),
        (
            {"deal": {"key": "d1", "account": "acme", "amount": "a lot"}},
            "line 3: /amount: must be a number, got 'a lot'",
        ),
        (
            {"deal": {"key": "d1", "account": "acme", "stage": "haggling"}},
            "line 3: /stage: must be one of 'qualification', 'discovery', 'demo', 'proposal'",
        ),
        (
            {"relationship": {"type": "works_at", "source": "bob", "target": "acme",
                              "attributes": {"title": 42}}},
            "line 3: attributes/title: must be a string, got 42",
        ),
        (
            touch("meeting", "2026-02-01T10:00:00Z", "bob", role="buyer"),
            "line 3: participants/0/role: 'buyer' is not a role of meeting",
        ),
        (
            touch("proposal", "2026-02-01T10:00:00Z", "bob", role="recipient", amount="many"),
            "line 3: payload/amount: must be a number, got 'many'",
        ),
        (
            touch("contract_signed", "2026-02-01T10:00:00Z", "bob", role="signatory",
                  account=None),
            "line 3: participants: a contract_signed needs a 'account'",
        ),
    ],
)  # fmt: skip
def test_bad_records_are_refused_and_nothing_is_written(
    b2b_toolkit: Callable[..., Toolkit], record: dict[str, Any], message: str
) -> None:
    toolkit = b2b_toolkit()
    with pytest.raises(RecordsRejected) as caught:
        toolkit.write([*PEOPLE, record])
    assert message in str(caught.value)
    assert "nothing was written" in str(caught.value)
    assert counts(toolkit) == dict.fromkeys(TABLES, 0)


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        (
            {"party": {"key": "initech", "kind": "organization",
                       "attributes": {"employees": "many"}}},
            "attributes/employees",
            "organization 'initech' (line 1): must be an integer, got 'many'",
        ),
        (
            {"party": {"key": "initech", "kind": "organization",
                       "attributes": {"annual_revenue": -5}}},
            "attributes/annual_revenue",
            "organization 'initech' (line 1): must be at least 0, got -5",
        ),
        (
            {"deal": {"key": "d2", "account": "carla", "amount": 10}},
            "account",
            "deal record (line 1): a deal belongs to an organization; 'carla' is a person",
        ),
        (
            {"deal": {"key": "d2", "account": "nobody"}},
            "account",
            "deal record (line 1): no party with key 'nobody'",
        ),
        (
            {"deal": {"key": "erp-2026", "account": "ledger"}},
            "account",
            "deal 'erp-2026' belongs to another account",
        ),
        (
            {"deal": {"key": "d2", "account": "acme", "at": "yesterday"}},
            "at",
            "at must be an ISO-8601 date or date-time, got 'yesterday'",
        ),
        (
            touch("meeting", "2026-02-01T10:00:00Z", "ian", account="carla"),
            "participants/1/party",
            "the account of a meeting is an organization; 'carla' is a person",
        ),
        (
            touch("proposal", "2026-02-01T10:00:00Z", "carla", role="recipient", deal="nope"),
            "payload/deal",
            "no deal with key 'nope'",
        ),
        (
            touch("proposal", "2026-02-01T10:00:00Z", "cora", role="recipient",
                  account="ledger", deal="erp-2026"),
            "payload/deal",
            "deal 'erp-2026' belongs to another account",
        ),
        (
            {"relationship": {"type": "subsidiary_of", "source": "acme", "target": "acme-fr"}},
            "target",
            "'acme-fr' is itself a subsidiary of 'acme'; the account hierarchy cannot loop",
        ),
        (
            {"relationship": {"type": "subsidiary_of", "source": "ledger", "target": "ledger"}},
            "target",
            "'ledger' cannot be a subsidiary of itself",
        ),
    ],
)  # fmt: skip
def test_the_plugin_s_own_checks_name_the_field_and_write_nothing(
    erp: Toolkit, record: dict[str, Any], field: str, message: str
) -> None:
    before = counts(erp)
    with pytest.raises(ValidationError) as caught:
        erp.write([record])
    assert caught.value.field == field
    assert message in caught.value.reason
    assert counts(erp) == before


def test_single_writes_raise_the_error_for_the_field(erp: Toolkit) -> None:
    before = counts(erp)
    with pytest.raises(ValidationError) as caught:
        erp.relate("cora", "acme", "stakeholder_of", role="consultant")
    assert caught.value.field == "role"
    with pytest.raises(ValidationError) as caught:
        erp.relate("cora", "carla", "works_at")
    assert caught.value.field == "target"
    with pytest.raises(ValidationError) as caught:
        erp.upsert_party("acme", "organization", attributes={"employees": 12.5})
    assert caught.value.field == "attributes/employees"
    with pytest.raises(ValidationError) as caught:
        erp.plugin("b2b").record_deal("erp-2026", "acme", amount="250k")
    assert caught.value.field == "amount"
    assert counts(erp) == before
    assert erp.party("acme").attributes["employees"] == 1200


def test_skip_invalid_writes_the_rest_and_reports_each_bad_line(erp: Toolkit) -> None:
    report = erp.write(
        [
            {"party": {"key": "initech", "kind": "organization",
                       "attributes": {"employees": "many"}}},
            {"party": {"key": "hooli", "kind": "organization", "attributes": {"employees": 90}}},
            {"deal": {"key": "d3", "account": "carla"}},
            {"deal": {"key": "d4", "account": "hooli", "amount": 5}},
            touch("meeting", "2026-02-01T10:00:00Z", "ian", account="carla"),
            touch("meeting", "2026-02-02T10:00:00Z", "ian"),
        ],
        skip_invalid=True,
    )  # fmt: skip
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (1, "attributes/employees"),
        (3, "account"),
        (5, "participants/1/party"),
    ]
    assert dict(report.created) == {"party": 1, "deal": 1, "interaction": 1}
    assert erp.party("hooli").attributes == {"employees": 90}
    assert [d["key"] for d in erp.plugin("b2b").deals(account="hooli")] == ["d4"]


def test_the_erp_world_itself_is_valid(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit()
    report = toolkit.write(ERP_WORLD)
    assert report.rejected == []
    assert counts(toolkit) == {
        "party": 8,
        "relationship": 11,
        "interaction": 0,
        "b2b_deal": 1,
        "b2b_deal_state": 1,
    }
