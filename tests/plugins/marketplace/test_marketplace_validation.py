"""Bad input is refused with an error naming the field, and nothing is written."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from marketplace_world import stage, ticket, trip

from partygraph import RecordsRejected, Toolkit, ValidationError

Rows = Callable[[Toolkit, str], int]


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        (
            trip("2026-02-03T08:00:00Z", "dave", "sam"),
            "participants/0/party",
            "'dave' is not an active rider at 2026-02-03T08:00:00Z: it has no side_of membership",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", "dave", fare=-4),
            "payload/fare",
            "must be at least 0, got -4",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", "dave", ratings={"rider": 6}),
            "payload/ratings/rider",
            "must be at most 5, got 6",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", "dave", pickup_zone="moon"),
            "payload/pickup_zone",
            "must be one of 'gare', 'airport', 'centre', 'university', got 'moon'",
        ),
        (
            trip("2026-01-08T08:00:00Z", "alice", "dave"),
            "participants/1/party",
            "its status is 'onboarding' since 2026-01-06",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", "alice"),
            "participants/1/party",
            "one party cannot be on both sides of one trip",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", None),
            "participants",
            "a completed trip needs a driver",
        ),
        (
            trip("2026-02-03T08:00:00Z", "alice", "dave", currency="USD"),
            "payload/currency",
            "must be one of 'EUR'",
        ),
        (
            {
                "interaction": {
                    "type": "trip",
                    "occurred_at": "2026-02-03T08:00:00Z",
                    "participants": [{"party": "alice", "role": "rider"}],
                    "payload": {"status": "unfulfilled", "ratings": {"driver": 5}},
                }
            },
            "payload/ratings/driver",
            "no driver took part in this trip",
        ),
        (
            trip(
                "2026-02-03T08:00:00Z",
                "alice",
                "dave",
                requested_at="2026-02-03T08:00:00Z",
                started_at="2026-02-03T08:10:00Z",
                ended_at="2026-02-03T08:05:00Z",
            ),
            "payload/ended_at",
            "is before started_at",
        ),
        (
            ticket("2026-02-03T08:00:00Z", "alice", "driver", "T-9", "open"),
            "participants/0/party",
            "'alice' has not joined the driver side by 2026-02-03T08:00:00Z",
        ),
        (
            {
                "interaction": {
                    "type": "trip",
                    "occurred_at": "2026-02-03",
                    "participants": [{"party": "alice", "role": "passenger"}],
                    "payload": {"fare": 1},
                }
            },
            "participants/0/role",
            "'passenger' is not a role of trip",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_written(
    ride: Toolkit, rows: Rows, record: dict[str, Any], field: str, message: str
) -> None:
    before = rows(ride, "interaction")
    body = record["interaction"]
    with pytest.raises(ValidationError) as caught:
        ride.record_interaction(
            body["type"], body["occurred_at"], body["participants"], body.get("payload")
        )
    assert caught.value.field == field
    assert message in str(caught.value)
    assert rows(ride, "interaction") == before


def test_a_bad_line_in_an_import_writes_nothing(ride: Toolkit, rows: Rows) -> None:
    good = trip("2026-02-03T08:00:00Z", "alice", "dave")
    bad = trip("2026-02-03T09:00:00Z", "dave", "sam")  # Dave is not a rider
    text = "".join(json.dumps(record) + "\n" for record in (good, bad, good))
    with pytest.raises(ValidationError) as caught:
        ride.import_jsonl(io.BytesIO(text.encode()))
    assert caught.value.field == "participants/0/party"
    assert "record 2" in str(caught.value)
    assert rows(ride, "interaction") == 0
    # A negative fare is caught by the schema: the import lists the line.
    negative = trip("2026-02-03T09:00:00Z", "alice", "dave", fare=-1)
    text = "".join(json.dumps(record) + "\n" for record in (good, negative))
    with pytest.raises(RecordsRejected, match="line 2: payload/fare: must be at least 0"):
        ride.import_jsonl(io.BytesIO(text.encode()))
    assert rows(ride, "interaction") == 0


def test_skip_invalid_writes_the_good_trips_and_reports_each_bad_one(
    ride: Toolkit, rows: Rows
) -> None:
    records = [
        trip("2026-02-03T08:00:00Z", "alice", "dave"),
        trip("2026-02-03T09:00:00Z", "dave", "sam"),
        trip("2026-01-07T09:00:00Z", "alice", "dave"),
    ]
    report = ride.write(records, skip_invalid=True)
    assert report.created["interaction"] == 1
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (2, "participants/0/party"),
        (3, "participants/1/party"),
    ]
    assert rows(ride, "interaction") == 1


def test_memberships_written_in_the_same_import_count(ride: Toolkit, rows: Rows) -> None:
    # A new rider joins and rides in one file; a later batch sees a later stage.
    records = [
        {"party": {"key": "lea", "kind": "person"}},
        stage("lea", "rider", "active", "2026-02-01"),
        trip("2026-02-02T08:00:00Z", "lea", "dave"),
        trip("2026-02-03T08:00:00Z", "lea", "dave"),
        stage("lea", "rider", "suspended", "2026-02-10"),
        trip("2026-02-11T08:00:00Z", "lea", "dave"),
    ]
    with pytest.raises(ValidationError, match="its status is 'suspended' since 2026-02-10"):
        ride.write(records, batch_size=2)
    assert rows(ride, "interaction") == 0
    report = ride.write(records[:5], batch_size=2)
    assert report.created["interaction"] == 2


def test_side_of_needs_a_side_and_a_platform(ride: Toolkit) -> None:
    with pytest.raises(ValidationError) as caught:
        ride.relate("alice", "rideco", "side_of", role="courier", valid_from="2026-02-01")
    assert caught.value.field == "role"
    with pytest.raises(ValidationError) as caught:
        ride.relate("alice", "dave", "side_of", role="rider", valid_from="2026-02-01")
    assert caught.value.field == "target"
    with pytest.raises(ValidationError) as caught:
        ride.relate(
            "alice",
            "rideco",
            "side_of",
            role="rider",
            attributes={"status": "sleeping"},
            valid_from="2026-02-01",
        )
    assert caught.value.field == "attributes/status"
