"""Record builders for the internal plugin's tests: a small company as JSON Lines records."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def person(key: str, name: str | None, **attributes: Any) -> Record:
    body: Record = {"key": key, "kind": "person"}
    if name is not None:
        body["name"] = name
    if attributes:
        body["attributes"] = attributes
    return {"party": body}


def department(key: str, name: str, function: str | None = None) -> Record:
    body: Record = {"key": key, "kind": "department", "name": name}
    if function:
        body["attributes"] = {"function": function}
    return {"party": body}


def company(key: str = "acme", name: str = "Acme Corp") -> Record:
    return {"party": {"key": key, "kind": "organization", "name": name}}


def employ(
    who: str,
    where: str,
    since: str = "2025-01-01",
    *,
    role: str | None = None,
    until: str | None = None,
    title: str | None = None,
) -> Record:
    body: Record = {"type": "employed_in", "source": who, "target": where, "valid_from": since}
    if role:
        body["role"] = role
    if until:
        body["valid_to"] = until
    if title:
        body["attributes"] = {"title": title}
    return {"relationship": body}


def serves(
    provider: str,
    customer: str,
    since: str = "2026-01-01",
    *,
    categories: list[str] | None = None,
    sla: dict[str, Any] | None = None,
    until: str | None = None,
) -> Record:
    attributes: Record = {}
    if categories:
        attributes["categories"] = categories
    if sla:
        attributes["sla"] = sla
    body: Record = {"type": "serves", "source": provider, "target": customer, "valid_from": since}
    if attributes:
        body["attributes"] = attributes
    if until:
        body["valid_to"] = until
    return {"relationship": body}


def request(
    requester: str,
    provider: str,
    opened: str,
    category: str,
    *,
    resolved: str | None = None,
    satisfaction: int | None = None,
    assignee: str | None = None,
    sla: Any = None,
    key: str | None = None,
) -> Record:
    participants = [
        {"party": requester, "role": "requester"},
        {"party": provider, "role": "provider"},
    ]
    if assignee:
        participants.append({"party": assignee, "role": "assignee"})
    payload: Record = {"category": category}
    if resolved:
        payload["resolved_at"] = resolved
    if satisfaction is not None:
        payload["satisfaction"] = satisfaction
    if sla is not None:
        payload["sla_target"] = sla
    body: Record = {
        "type": "service_request",
        "occurred_at": opened,
        "participants": participants,
        "payload": payload,
    }
    if key:
        body["key"] = key
    return {"interaction": body}


def handoff(sender: str, receiver: str, at: str, outcome: str, lead: str | None = None) -> Record:
    participants = [{"party": sender, "role": "from"}, {"party": receiver, "role": "to"}]
    if lead:
        participants.append({"party": lead, "role": "lead"})
    return {
        "interaction": {
            "type": "lead_handoff",
            "occurred_at": at,
            "participants": participants,
            "payload": {"outcome": outcome},
        }
    }


def staff(where: str, prefix: str, count: int, since: str = "2025-01-01") -> list[Record]:
    """*count* employees ``<prefix>1`` ... of department *where*."""
    records: list[Record] = []
    for number in range(1, count + 1):
        key = f"{prefix}{number}"
        records.append(person(key, f"{prefix.title()} {number}"))
        records.append(employ(key, where, since))
    return records
