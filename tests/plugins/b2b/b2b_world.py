"""The ERP deal of seed 000, as JSON Lines records, and helpers to add touchpoints.

Acme Manufacturing evaluates an ERP system. The CFO (Carla) is the economic
buyer and cares about ROI; two accountants (Ann at Acme, Abe at its French
subsidiary) will use it; the IT lead (Ian) evaluates security; an outside
consultant (Cora, of Ledger Partners) influences the decision.
"""

from __future__ import annotations

from typing import Any

ERP_WORLD: list[dict[str, Any]] = [
    {"party": {"key": "acme", "kind": "organization", "name": "Acme Manufacturing",
               "attributes": {"industry": "manufacturing", "employees": 1200,
                              "annual_revenue": 250000000}}},
    {"party": {"key": "acme-fr", "kind": "organization", "name": "Acme France"}},
    {"party": {"key": "ledger", "kind": "organization", "name": "Ledger Partners"}},
    {"party": {"key": "carla", "kind": "person", "name": "Carla Diaz",
               "attributes": {"email": "carla@acme.example"}}},
    {"party": {"key": "ann", "kind": "person", "name": "Ann Berg",
               "attributes": {"email": "ann@acme.example"}}},
    {"party": {"key": "abe", "kind": "person", "name": "Abe Cole"}},
    {"party": {"key": "ian", "kind": "person", "name": "Ian Fox"}},
    {"party": {"key": "cora", "kind": "person", "name": "Cora Lind"}},
    {"relationship": {"type": "subsidiary_of", "source": "acme-fr", "target": "acme",
                      "valid_from": "2020-01-01"}},
    {"relationship": {"type": "works_at", "source": "carla", "target": "acme",
                      "valid_from": "2019-01-01",
                      "attributes": {"title": "CFO", "department": "Finance"}}},
    {"relationship": {"type": "works_at", "source": "ann", "target": "acme",
                      "valid_from": "2021-01-01",
                      "attributes": {"title": "Accountant", "department": "Finance"}}},
    {"relationship": {"type": "works_at", "source": "abe", "target": "acme-fr",
                      "valid_from": "2022-01-01", "attributes": {"title": "Accountant"}}},
    {"relationship": {"type": "works_at", "source": "ian", "target": "acme",
                      "valid_from": "2018-01-01",
                      "attributes": {"title": "IT lead", "department": "IT"}}},
    {"relationship": {"type": "works_at", "source": "cora", "target": "ledger",
                      "valid_from": "2015-01-01", "attributes": {"title": "ERP consultant"}}},
    {"relationship": {"type": "stakeholder_of", "source": "carla", "target": "acme",
                      "role": "economic_buyer", "valid_from": "2026-01-10"}},
    {"relationship": {"type": "stakeholder_of", "source": "ann", "target": "acme",
                      "role": "end_user", "valid_from": "2026-01-10"}},
    {"relationship": {"type": "stakeholder_of", "source": "abe", "target": "acme",
                      "role": "end_user", "valid_from": "2026-01-10"}},
    {"relationship": {"type": "stakeholder_of", "source": "ian", "target": "acme",
                      "role": "technical_evaluator", "valid_from": "2026-01-10"}},
    {"relationship": {"type": "stakeholder_of", "source": "cora", "target": "acme",
                      "role": "influencer", "valid_from": "2026-01-10"}},
    {"deal": {"key": "erp-2026", "account": "acme", "name": "ERP rollout", "stage": "discovery",
              "amount": 250000, "expected_close": "2026-06-30", "at": "2026-01-10"}},
]  # fmt: skip


def touch(
    kind: str,
    at: str,
    *people: str,
    role: str = "attendee",
    account: str | None = "acme",
    **payload: Any,
) -> dict[str, Any]:
    """An interaction record of *kind* with *people* in *role*, naming *account*."""
    participants = [{"party": person, "role": role} for person in people]
    if account is not None:
        participants.append({"party": account, "role": "account"})
    return {
        "interaction": {
            "type": kind,
            "occurred_at": at,
            "participants": participants,
            "payload": payload,
        }
    }


#: Only the CFO engages at first: an ROI review and an e-mail about the business case.
CFO_ONLY = [
    touch("meeting", "2026-02-01T10:00:00Z", "carla", topic="ROI review"),
    touch("email", "2026-02-10T09:00:00Z", "carla", role="recipient", subject="Business case"),
]
#: Then the accountants see a demo (usability, training).
ACCOUNTANTS = [
    touch("demo", "2026-02-20T14:00:00Z", "ann", "abe", product="ERP", topic="month-end close"),
]
#: Then IT reviews security and integration.
IT_REVIEW = [
    touch("meeting", "2026-03-05T10:00:00Z", "ian", topic="security and integration review"),
]
#: The deal is won and the contract signed.
WON = [
    {"deal": {"key": "erp-2026", "account": "acme", "stage": "closed", "status": "won",
              "at": "2026-04-15"}},
    touch("contract_signed", "2026-04-20T12:00:00Z", "carla", role="signatory",
          deal="erp-2026", amount=250000, currency="EUR"),
]  # fmt: skip
