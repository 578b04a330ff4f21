"""Retention: delete interactions older than their type's period, and expired quarantine.

``[plugins.privacy.retention]`` maps interaction types to ISO-8601 durations
(``P10Y``, ``P18M``, ``P6W``, ``P30D``; years and months are calendar years
and months, the day clamped to the month's end: one month before 31 March is
28 or 29 February). :func:`purge` deletes, per type, the interactions that
occurred before ``at`` minus that period (with their participant rows; one
set-based ``DELETE`` per table and type), and the quarantined records whose
``expires_at`` has passed -- all in one write transaction, with one audit
entry ``purge``. With ``dry_run=True`` (the default) it only counts.

Purging does not call other plugins: a plugin keeping derived figures about
interactions recomputes them from what remains when it next reads.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Connection, delete, func, select

from partygraph import ValidationError
from partygraph.storage.tables import interaction_table, participant_table
from partygraph.times import parse_time, to_storage, utcnow
from partygraph_privacy import tables
from partygraph_privacy.audit import append, write_transaction

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = ["Duration", "parse_duration", "purge"]

_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")
_EARLIEST = datetime(1, 1, 1)

_inter = interaction_table
_part = participant_table


@attrs.frozen
class Duration:
    """An ISO-8601 period of years, months, weeks and days."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def before(self, at: datetime) -> datetime:
        """The instant this period before *at* (calendar months, day clamped)."""
        total = at.year * 12 + (at.month - 1) - (self.years * 12 + self.months)
        year, month = divmod(total, 12)
        if year < 1:
            return _EARLIEST.replace(tzinfo=at.tzinfo)
        day = min(at.day, calendar.monthrange(year, month + 1)[1])
        shifted = at.replace(year=year, month=month + 1, day=day)
        try:
            return shifted - timedelta(weeks=self.weeks, days=self.days)
        except OverflowError:
            return _EARLIEST.replace(tzinfo=at.tzinfo)


def parse_duration(text: str, field: str = "retention") -> Duration:
    """Parse ``P[nY][nM][nW][nD]``; a malformed or zero period is a :class:`ValidationError`."""
    found = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise ValidationError(
            field, f"{text!r} is not an ISO-8601 period such as P10Y, P18M, P6W or P30D", text
        )
    years, months, weeks, days = (int(part) if part else 0 for part in found.groups())
    if not (years or months or weeks or days):
        raise ValidationError(field, f"{text!r} is a period of zero: everything would go", text)
    return Duration(years, months, weeks, days)


def _plan(plugin: PrivacyPlugin, now: datetime) -> list[tuple[str, str, datetime]]:
    plan = []
    for type_name in sorted(plugin.settings.retention):
        period = plugin.settings.retention[type_name]
        cutoff = parse_duration(period, f"/plugins/privacy/retention/{type_name}").before(now)
        plan.append((type_name, period, to_storage(cutoff)))
    return plan


def _old(type_name: str, cutoff: datetime) -> Any:
    return (_inter.c.type == type_name) & (_inter.c.occurred_at < cutoff)


def _count(connection: Connection, plan: list[tuple[str, str, datetime]], now: datetime) -> Any:
    counts = {}
    participants = 0
    for type_name, _period, cutoff in plan:
        ids = select(_inter.c.id).where(_old(type_name, cutoff))
        counts[type_name] = int(
            connection.execute(
                select(func.count()).select_from(_inter).where(_old(type_name, cutoff))
            ).scalar_one()
        )
        participants += int(
            connection.execute(
                select(func.count()).select_from(_part).where(_part.c.interaction_id.in_(ids))
            ).scalar_one()
        )
    quarantine = int(
        connection.execute(
            select(func.count())
            .select_from(tables.quarantine)
            .where(tables.quarantine.c.expires_at <= now)
        ).scalar_one()
    )
    return counts, participants, quarantine


def _delete(connection: Connection, plan: list[tuple[str, str, datetime]], now: datetime) -> Any:
    counts = {}
    participants = 0
    for type_name, _period, cutoff in plan:
        ids = select(_inter.c.id).where(_old(type_name, cutoff))
        participants += connection.execute(
            delete(_part).where(_part.c.interaction_id.in_(ids))
        ).rowcount
        counts[type_name] = connection.execute(
            delete(_inter).where(_old(type_name, cutoff))
        ).rowcount
    quarantine_table = tables.quarantine
    expired = select(quarantine_table.c.id).where(quarantine_table.c.expires_at <= now)
    connection.execute(
        delete(tables.quarantine_subject).where(
            tables.quarantine_subject.c.quarantine_id.in_(expired)
        )
    )
    quarantine = connection.execute(
        delete(quarantine_table).where(quarantine_table.c.expires_at <= now)
    ).rowcount
    return counts, participants, quarantine


def purge(
    plugin: PrivacyPlugin, *, dry_run: bool = True, at: datetime | str | None = None
) -> dict[str, Any]:
    """Apply the retention periods at *at* (default now); only count with *dry_run*.

    Returns ``{"dry_run", "at", "interactions": {type: {"retention", "cutoff",
    "count"}}, "participants", "quarantine", "total"}``; the counts are what
    was (or, in a dry run, would be) deleted.
    """
    now = to_storage(parse_time(at, "at") if at is not None else utcnow())
    plan = _plan(plugin, now)
    if dry_run:
        with plugin.toolkit.engine.connect() as connection:
            counts, participants, quarantine = _count(connection, plan, now)
    else:
        with write_transaction(plugin) as connection:
            counts, participants, quarantine = _delete(connection, plan, now)
            append(
                plugin,
                connection,
                action="purge",
                detail={
                    "interactions": dict(counts),
                    "participants": participants,
                    "quarantine": quarantine,
                },
            )
    return {
        "dry_run": dry_run,
        "at": now.isoformat() + "Z",
        "interactions": {
            type_name: {
                "retention": period,
                "cutoff": cutoff.isoformat() + "Z",
                "count": counts[type_name],
            }
            for type_name, period, cutoff in plan
        },
        "participants": participants,
        "quarantine": quarantine,
        "total": sum(counts.values()) + quarantine,
    }
