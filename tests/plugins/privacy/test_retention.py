"""Retention: purge deletes interactions older than their type's period, and expired quarantine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from partygraph import Toolkit, ValidationError, WriteWithheld

PrivacyToolkit = Callable[..., Toolkit]

SETTINGS = {
    # Newsletters and browsing need consent by default; here they need nothing, so
    # the test is about retention alone.
    "purpose_overrides": {"newsletter": ["service"], "browsing": ["analytics"]},
    "retention": {"purchase": "P1Y", "browsing": "P30D"},
}
NOW = "2026-06-01T00:00:00Z"


def world(privacy_toolkit: PrivacyToolkit) -> Toolkit:
    toolkit = privacy_toolkit(SETTINGS)
    toolkit.upsert_party("alice", "person", "Alice")
    toolkit.upsert_party("bob", "person", "Bob")
    records = [
        (
            "old-purchase",
            "purchase",
            "2025-05-31T23:00:00Z",
            [("alice", "purchaser"), ("bob", "consumer")],
        ),
        ("new-purchase", "purchase", "2025-06-01T01:00:00Z", [("alice", "purchaser")]),
        ("old-browsing", "browsing", "2026-04-01T00:00:00Z", [("alice", "user")]),
        ("new-browsing", "browsing", "2026-05-20T00:00:00Z", [("bob", "user")]),
        ("old-newsletter", "newsletter", "2019-01-01T00:00:00Z", [("alice", "recipient")]),
    ]
    for key, kind, at, participants in records:
        toolkit.record_interaction(kind, at, participants, key=key)
    return toolkit


def stored(toolkit: Toolkit) -> tuple[list[str], int]:
    with toolkit.engine.connect() as connection:
        keys = connection.exec_driver_sql("SELECT key FROM interaction ORDER BY key").scalars()
        participants = connection.exec_driver_sql("SELECT count(*) FROM participant").scalar()
    return list(keys), int(participants or 0)


def test_a_dry_run_reports_and_deletes_nothing(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = world(privacy_toolkit)
    before = stored(toolkit)
    report = toolkit.plugin("privacy").purge(at=NOW)  # dry run by default
    assert report["dry_run"] is True
    assert report["interactions"] == {
        "browsing": {"retention": "P30D", "cutoff": "2026-05-02T00:00:00Z", "count": 1},
        "purchase": {"retention": "P1Y", "cutoff": "2025-06-01T00:00:00Z", "count": 1},
    }
    assert report["participants"] == 3
    assert report["quarantine"] == 0
    assert report["total"] == 2
    assert stored(toolkit) == before


def test_a_purge_deletes_only_old_records_of_types_with_retention(
    privacy_toolkit: PrivacyToolkit,
) -> None:
    toolkit = world(privacy_toolkit)
    privacy = toolkit.plugin("privacy")
    report = privacy.purge(dry_run=False, at=NOW)
    assert report["dry_run"] is False
    assert {name: item["count"] for name, item in report["interactions"].items()} == {
        "browsing": 1,
        "purchase": 1,
    }
    keys, participants = stored(toolkit)
    assert keys == ["new-browsing", "new-purchase", "old-newsletter"]
    assert participants == 3
    assert [item.key for item in toolkit.interactions("alice")] == [
        "new-purchase",
        "old-newsletter",
    ]

    # Audited, with counts only.
    last = privacy.verify_audit()
    assert last["ok"] is True
    with toolkit.engine.connect() as connection:
        action = connection.exec_driver_sql(
            "SELECT action FROM privacy_audit WHERE action = 'purge'"
        ).scalars()
        assert list(action) == ["purge"]

    # Purging again finds nothing more.
    again = privacy.purge(dry_run=False, at=NOW)
    assert again["total"] == 0


def test_expired_quarantine_is_purged(privacy_toolkit: PrivacyToolkit) -> None:
    toolkit = privacy_toolkit({"mode": "quarantine", "quarantine_days": 30})
    toolkit.upsert_party("alice", "person", "Alice")
    with pytest.raises(WriteWithheld):  # no consent to marketing: kept aside
        toolkit.record_interaction("newsletter", "2026-01-10T10:00:00Z", [("alice", "recipient")])
    privacy = toolkit.plugin("privacy")
    assert privacy.purge(dry_run=False)["quarantine"] == 0  # not expired yet
    later = datetime.now(UTC).replace(microsecond=0)
    later = later.replace(year=later.year + 1)
    assert privacy.purge(at=later)["quarantine"] == 1
    assert privacy.purge(dry_run=False, at=later)["quarantine"] == 1
    with toolkit.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM privacy_quarantine").scalar() == 0


def test_periods_use_calendar_months() -> None:
    from partygraph_privacy.retention import parse_duration

    march_end = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert parse_duration("P1M").before(march_end) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert parse_duration("P1Y1M").before(march_end) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert parse_duration("P2W3D").before(march_end) == datetime(2026, 3, 14, 12, tzinfo=UTC)
    assert parse_duration("P13M").before(march_end) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert parse_duration("P1Y").before(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2023, 2, 28, tzinfo=UTC
    )
    for bad in ("P", "P0D", "1Y", "P1H"):
        with pytest.raises(ValidationError):
            parse_duration(bad)
