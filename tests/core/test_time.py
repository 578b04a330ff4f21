"""Stored times read back the same from SQLite text and PostgreSQL datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from partygraph.times import naive_utc


def test_stored_text_and_datetimes_read_back_as_naive_utc() -> None:
    expected = datetime(2026, 2, 1, 10, 0)
    assert naive_utc("2026-02-01 10:00:00.000000") == expected
    assert naive_utc(datetime(2026, 2, 1, 10, 0)) == expected
    assert naive_utc(datetime(2026, 2, 1, 10, 0, tzinfo=UTC)) == expected
    assert naive_utc(datetime(2026, 2, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))) == expected


def test_isoformat_writes_stored_and_aware_times_the_same_way() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from partygraph.times import isoformat

    stored = datetime(2026, 3, 1, 10, 0)
    aware = datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert isoformat(stored) == isoformat(aware) == "2026-03-01T10:00:00Z"
    assert isoformat("2026-03-01 10:00:00.000000") == "2026-03-01T10:00:00Z"
    assert isoformat(datetime(2026, 3, 1, tzinfo=UTC)) == "2026-03-01T00:00:00Z"
    assert isoformat(None) is None
