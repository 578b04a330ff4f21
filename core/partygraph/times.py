"""One notion of time: aware UTC at the edges, naive UTC in storage.

Public so that plugins read and write times exactly as the core does.

Dates (``2026-01-10``) mean midnight UTC of that day. Naive datetimes given by
a caller are taken as UTC. Storage keeps naive UTC so that SQLite text and
PostgreSQL ``timestamp`` columns compare the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

__all__ = [
    "MIN_TIME",
    "from_storage",
    "isoformat",
    "naive_utc",
    "parse_time",
    "storage_text",
    "to_storage",
    "utcnow",
]

#: Stored for "valid since an unknown time", so that every row has a start.
MIN_TIME = datetime(1, 1, 1)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def parse_time(value: object, field: str = "time") -> datetime:
    """Turn a datetime, a date or an ISO-8601 string into an aware UTC datetime.

    Raises ``ValueError`` naming *field* when *value* is none of these.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(), UTC)
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{field} must be an ISO-8601 date or date-time, got {value!r}"
            ) from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"{field} must be an ISO-8601 date or date-time, got {value!r}")


def to_storage(value: datetime) -> datetime:
    """Aware datetime -> naive UTC, as stored."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def storage_text(value: datetime) -> str:
    """Naive-UTC text in the exact format SQLAlchemy stores on SQLite."""
    return to_storage(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def from_storage(value: datetime | str | None) -> datetime | None:
    """Stored naive UTC (or its SQLite text) -> aware UTC; the unknown start -> None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.replace(tzinfo=None) == MIN_TIME:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime | str) -> datetime:
    """A stored time (SQLite hands back text, PostgreSQL a datetime) as naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_storage(value)


def isoformat(value: datetime | str | None) -> str | None:
    """A stored (naive UTC, or SQLite's text) or aware time as ISO 8601 with ``Z``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_storage(value).isoformat() + "Z"
