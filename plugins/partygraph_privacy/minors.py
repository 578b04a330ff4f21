"""Minors: age from the birth date, digital-consent age, and who is a guardian.

A person younger than the digital-consent age of their jurisdiction cannot
consent for themselves; a consent counts only when a guardian gave it and
its verification is recorded. A guardian is named by a ``guardian_of``
relationship (guardian -> minor), or is the head of a household the minor
belongs to (``member_of`` with role ``head`` to the same household). The
relationship types are read from the core's relationship table by name:
this plugin imports no other plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

import attrs
from sqlalchemy import Connection, and_, literal, select, union_all

from partygraph import Party, RelationshipType
from partygraph.storage.tables import relationship_table
from partygraph.times import MIN_TIME, to_storage
from partygraph_privacy.settings import Settings

__all__ = [
    "GUARDIAN_OF",
    "Guardians",
    "age_at",
    "age_on",
    "consent_age",
    "is_guardian",
    "is_minor",
    "jurisdiction_of",
]

#: A guardian (parent, legal guardian) of a minor: guardian -> minor.
GUARDIAN_OF = RelationshipType(
    "guardian_of",
    label="guardian of",
    inverse_label="has guardian",
    source_kinds={"person"},
    target_kinds={"person"},
    description="A parent or legal guardian; their verified consent counts for the minor.",
)

#: The household membership a head of household is recognised through.
MEMBER_OF = "member_of"
HEAD_ROLE = "head"

_DEFAULT_CONSENT_AGE = 16


def _attributes(party: Party | Mapping[str, Any]) -> Mapping[str, Any]:
    return party.attributes if isinstance(party, Party) else party


def age_at(party: Party | Mapping[str, Any], at: datetime) -> int | None:
    """The party's age in whole years at *at*, from ``attributes.birth_date``; None if unknown.

    *party* is a :class:`Party` or its attributes.
    """
    return age_on(party, to_storage(at).date())


def age_on(party: Party | Mapping[str, Any], day: date) -> int | None:
    """The party's age in whole years on *day* (a UTC date); None if unknown."""
    value = _attributes(party).get("birth_date")
    if not isinstance(value, str):
        return None
    born = _born(value)
    if born is None:
        return None
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return max(years, 0)


@functools.lru_cache(maxsize=65_536)
def _born(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def jurisdiction_of(party: Party | Mapping[str, Any], settings: Settings) -> str:
    """The law that applies to the party: its ``jurisdiction`` attribute, else the default."""
    value = _attributes(party).get("jurisdiction")
    return value if isinstance(value, str) and value else settings.jurisdiction


def consent_age(settings: Settings, jurisdiction: str | None) -> int:
    """The digital-consent age in *jurisdiction* (the default jurisdiction's, if unlisted)."""
    ages = settings.digital_consent_age
    if jurisdiction and jurisdiction in ages:
        return int(ages[jurisdiction])
    return int(ages.get(settings.jurisdiction, _DEFAULT_CONSENT_AGE))


def is_minor(party: Party | Mapping[str, Any], at: datetime, settings: Settings) -> bool:
    """True when the party is younger than its digital-consent age at *at*."""
    age = age_at(party, at)
    return age is not None and age < consent_age(settings, jurisdiction_of(party, settings))


@attrs.frozen
class _Span:
    guardian: int
    start: datetime
    end: datetime | None

    def holds(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


class Guardians:
    """Who was a guardian of which minor, and when: loaded once for many minors."""

    def __init__(self, spans: Mapping[int, list[_Span]]) -> None:
        self._spans = spans

    @classmethod
    def load(cls, connection: Connection, minor_ids: Collection[int]) -> Guardians:
        """Read the guardianships of *minor_ids* in one query (explicit and household heads)."""
        ids = sorted(set(minor_ids))
        if not ids:
            return cls({})
        rel = relationship_table
        member = rel.alias("minor_membership")
        head = rel.alias("head_membership")
        explicit = select(
            rel.c.target_id.label("minor"),
            rel.c.source_id.label("guardian"),
            rel.c.valid_from.label("from_a"),
            rel.c.valid_to.label("to_a"),
            rel.c.valid_from.label("from_b"),
            rel.c.valid_to.label("to_b"),
        ).where(rel.c.type == GUARDIAN_OF.name, rel.c.target_id.in_(ids))
        household = (
            select(
                member.c.source_id.label("minor"),
                head.c.source_id.label("guardian"),
                member.c.valid_from,
                member.c.valid_to,
                head.c.valid_from,
                head.c.valid_to,
            )
            .select_from(
                member.join(
                    head,
                    and_(
                        head.c.target_id == member.c.target_id,
                        head.c.type == literal(MEMBER_OF),
                        head.c.role == literal(HEAD_ROLE),
                        head.c.source_id != member.c.source_id,
                    ),
                )
            )
            .where(member.c.type == MEMBER_OF, member.c.source_id.in_(ids))
        )
        spans: dict[int, list[_Span]] = {}
        for row in connection.execute(union_all(explicit, household)):
            start = max(_naive(row[2]) or MIN_TIME, _naive(row[4]) or MIN_TIME)
            ends = [end for end in (_naive(row[3]), _naive(row[5])) if end is not None]
            spans.setdefault(int(row[0]), []).append(
                _Span(int(row[1]), start, min(ends) if ends else None)
            )
        return cls(spans)

    def holds(self, guardian_id: int, minor_id: int, at: datetime) -> bool:
        """Was *guardian_id* a guardian of *minor_id* at *at*?"""
        moment = to_storage(at)
        return any(
            span.guardian == guardian_id and span.holds(moment)
            for span in self._spans.get(minor_id, ())
        )

    def of(self, minor_id: int, at: datetime) -> list[int]:
        """The guardians of *minor_id* at *at*."""
        moment = to_storage(at)
        return sorted(
            {span.guardian for span in self._spans.get(minor_id, ()) if span.holds(moment)}
        )


def _naive(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return to_storage(value)


def is_guardian(connection: Connection, guardian_id: int, minor_id: int, at: datetime) -> bool:
    """Is *guardian_id* a guardian of *minor_id* at *at* (``guardian_of``, or household head)?"""
    return Guardians.load(connection, [minor_id]).holds(guardian_id, minor_id, at)
