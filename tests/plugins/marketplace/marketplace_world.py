"""Interchange records for the marketplace tests: a platform, side memberships, trips."""

from __future__ import annotations

from typing import Any

ZONES = ["gare", "airport", "centre", "university"]


def party(key: str, kind: str = "person", name: str | None = None) -> dict[str, Any]:
    return {"party": {"key": key, "kind": kind, "name": name or key.capitalize()}}


def stage(
    key: str,
    side: str,
    status: str,
    valid_from: str,
    platform: str = "rideco",
    reason: str | None = None,
) -> dict[str, Any]:
    """One stage of a side membership (a side_of relationship from *valid_from*)."""
    attributes: dict[str, Any] = {"status": status}
    if reason:
        attributes["reason"] = reason
    return {
        "relationship": {
            "type": "side_of",
            "source": key,
            "target": platform,
            "role": side,
            "attributes": attributes,
            "valid_from": valid_from,
        }
    }


def trip(
    at: str,
    rider: str | None,
    driver: str | None,
    *,
    key: str | None = None,
    rider_side: str = "rider",
    driver_side: str = "driver",
    **payload: Any,
) -> dict[str, Any]:
    """A trip (fare 10 unless given) between a rider and a driver."""
    participants = []
    if rider is not None:
        participants.append({"party": rider, "role": rider_side})
    if driver is not None:
        participants.append({"party": driver, "role": driver_side})
    payload.setdefault("fare", 10)
    body: dict[str, Any] = {
        "type": "trip",
        "occurred_at": at,
        "participants": participants,
        "payload": payload,
    }
    if key is not None:
        body["key"] = key
    return {"interaction": body}


def ticket(
    at: str, key: str, side: str, ticket_id: str, status: str, **payload: Any
) -> dict[str, Any]:
    return {
        "interaction": {
            "type": "support_ticket",
            "occurred_at": at,
            "participants": [{"party": key, "role": side}],
            "payload": {"ticket": ticket_id, "status": status, **payload},
        }
    }


def ride_world() -> list[dict[str, Any]]:
    """RideCo; Alice rides (joined 2026-01-05); Dave drives (applied 2026-01-02,
    onboarding 2026-01-06, active 2026-01-12); Sam does both."""
    return [
        party("rideco", "platform", "RideCo"),
        party("alice", name="Alice Moreau"),
        party("dave", name="Dave Martin"),
        party("sam", name="Sam Diallo"),
        stage("alice", "rider", "active", "2026-01-05"),
        stage("dave", "driver", "applied", "2026-01-02"),
        stage("dave", "driver", "onboarding", "2026-01-06"),
        stage("dave", "driver", "active", "2026-01-12"),
        stage("sam", "rider", "active", "2026-01-03"),
        stage("sam", "driver", "active", "2026-01-04"),
    ]
