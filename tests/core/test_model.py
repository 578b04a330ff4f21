"""The model: immutable attrs records and their cattrs round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import attrs
import cattrs
import pytest

from partygraph import (
    Interaction,
    Participant,
    Party,
    PartySummary,
    Relationship,
    RelationshipView,
    RoleAssignment,
    WriteContext,
    converter,
)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def test_records_are_frozen() -> None:
    party = Party("alice", "person", "Alice")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        party.name = "Bob"  # type: ignore[misc]
    assert attrs.evolve(party, name="Bob").name == "Bob"
    assert party.name == "Alice"


def test_attributes_are_copied_not_shared() -> None:
    source = {"email": "alice@example.org"}
    party = Party("alice", "person", attributes=source)
    source["email"] = "changed@example.org"
    assert party.attributes == {"email": "alice@example.org"}
    assert Party("bob", "person", attributes=None).attributes == {}


def test_participants_accept_tuples_mappings_and_objects() -> None:
    interaction = Interaction(
        "purchase",
        T0,
        [("alice", "purchaser"), {"party": 7, "role": "consumer"}, Participant("bob", "payer")],
    )
    assert interaction.participants == (
        Participant("alice", "purchaser"),
        Participant(7, "consumer"),
        Participant("bob", "payer"),
    )
    assert isinstance(interaction.participants, tuple)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "at", "expected"),
    [
        (None, None, T0, True),
        (T0, None, T0, True),  # valid_from is inclusive
        (T0, None, T0 - timedelta(seconds=1), False),
        (None, T0, T0, False),  # valid_to is exclusive
        (None, T0, T0 - timedelta(microseconds=1), True),
        (T0, T0 + timedelta(days=1), T0 + timedelta(hours=12), True),
    ],
)
def test_relationship_validity_bounds(
    valid_from: datetime | None, valid_to: datetime | None, at: datetime, expected: bool
) -> None:
    rel = Relationship("member_of", "a", "b", valid_from=valid_from, valid_to=valid_to)
    assert rel.is_valid_at(at) is expected


def test_party_summary_of_a_stored_party() -> None:
    summary = PartySummary.of(Party("acme", "organization", "Acme", id=4))
    assert summary == PartySummary(4, "acme", "organization", "Acme")
    with pytest.raises(AssertionError, match="only stored parties"):
        PartySummary.of(Party("acme", "organization"))


def test_write_context_defaults() -> None:
    context = WriteContext()
    assert (context.actor, context.purpose, context.source, context.at) == (
        None,
        None,
        "api",
        None,
    )


ROUND_TRIP = [
    Party(
        "alice",
        "person",
        "Alice Moreau",
        {"email": "alice@example.org", "tags": ["a", "b"], "nested": {"n": 1}},
        id=1,
        created_at=T0,
        updated_at=T0 + timedelta(days=1),
    ),
    Relationship(
        "member_of", "alice", 12, "head", True, {"since_year": 2020}, T0, T0 + timedelta(days=3), 5
    ),
    Interaction(
        "purchase",
        T0,
        [("alice", "purchaser"), (2, "consumer")],
        {"amount": 12.5, "lines": [{"sku": "X"}]},
        key="order-1",
        id=9,
    ),
    RoleAssignment(
        "economic_buyer",
        reason="economic buyer of Acme since 2026-03-01, because of relationship #812",
        plugin="b2b",
        context=PartySummary(3, "acme", "organization", "Acme Ltd"),
        customer=True,
        kind="external",
        since=T0,
        until=None,
        evidence=("relationship:812",),
    ),
    RelationshipView(
        Relationship("knows", 1, 2, valid_from=T0),
        "incoming",
        "knows",
        PartySummary(1, "alice", "person", None),
        True,
    ),
    WriteContext(actor="ops@example.org", purpose="marketing", source="import", at=T0),
]


@pytest.mark.parametrize("record", ROUND_TRIP, ids=lambda record: type(record).__name__)
def test_converter_round_trip_through_json(record: object) -> None:
    data = converter.unstructure(record)
    text = json.dumps(data)  # JSON-ready: no datetimes, tuples or attrs objects left
    assert converter.structure(json.loads(text), type(record)) == record


def test_datetimes_unstructure_as_utc_iso_with_z() -> None:
    data = converter.unstructure(Party("a", "person", created_at=T0))
    assert data["created_at"] == "2026-01-10T09:00:00Z"


def test_structure_parses_dates_and_offsets_into_aware_utc() -> None:
    rel = converter.structure(
        {
            "type": "member_of",
            "source": "alice",
            "target": 3,
            "valid_from": "2026-01-10",
            "valid_to": "2026-02-01T12:00:00+02:00",
        },
        Relationship,
    )
    assert rel.valid_from == datetime(2026, 1, 10, tzinfo=UTC)
    assert rel.valid_to == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert rel.valid_to is not None
    assert rel.valid_to.utcoffset() == timedelta(0)
    assert (rel.source, rel.target) == ("alice", 3)


def test_naive_and_offset_datetimes_compare_as_utc() -> None:
    paris = timezone(timedelta(hours=1))
    structured = converter.structure(
        {"role": "x", "reason": "y", "since": "2026-01-10T10:00:00+01:00"}, RoleAssignment
    )
    assert structured.since == datetime(2026, 1, 10, 10, 0, tzinfo=paris)


def test_structure_rejects_an_unknown_role_kind() -> None:
    with pytest.raises(cattrs.errors.ClassValidationError):
        converter.structure({"role": "r", "reason": "x", "kind": "galactic"}, RoleAssignment)


def test_structure_rejects_a_bad_datetime() -> None:
    with pytest.raises(cattrs.errors.ClassValidationError) as caught:
        converter.structure({"key": "a", "kind": "person", "created_at": "yesterday"}, Party)
    errors = caught.value.exceptions
    assert any("ISO-8601" in str(error) for error in errors)
