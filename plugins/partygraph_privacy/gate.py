"""The gate: every batch of every write is checked before the core writes it.

Called by the plugin's ``partygraph_before_write`` wrapper once per batch and
phase, inside the write's transaction, with a constant number of queries per
batch (never one per row):

- interactions: each purpose of the type (``purpose_overrides`` first) must be
  configured, and every participant who is a natural person needs a valid
  basis for each purpose at ``occurred_at`` (the ledger is read once for the
  whole batch); a party restricted at the time of the event or of the write
  is refused. Minors' own consents do not count; an event naming a shared
  device (``payload.device``) attributed to a minor needs a guardian's
  verified consent for its purposes.
- records of other plugins' types that declare purposes and name a ``party``:
  checked like interactions, at the record's ``occurred_at``/``at`` (else now).
- parties: re-importing an erased identifier (keyed hash of the key, of
  ``attributes.email`` and of ``attributes.phone``) is refused unless
  ``Context(purpose="erasure_override")``; a restricted party's data is frozen.
- relationships: refused when either end is restricted.
- the plugin's own records (the ledger, devices): validated; an invalid one is
  refused with its line, the rest pass.

In mode ``refuse`` a refusal raises :class:`WriteRefused` naming the party,
the purpose and the missing basis; the core rolls the whole write back. In
mode ``quarantine`` the interactions and records without a basis are stored
in ``privacy_quarantine`` (with their subjects) and withheld from the core's
tables; parties and relationships are always refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from sqlalchemy import Connection, select

from partygraph import (
    Interaction,
    Party,
    PartyRef,
    Relationship,
    UserError,
    WriteBatch,
    WriteRefused,
    WriteSession,
)
from partygraph.storage.tables import party_table
from partygraph.times import isoformat, parse_time, to_storage
from partygraph.times import naive_utc as _naive
from partygraph_privacy import tables
from partygraph_privacy.ledger import (
    Entry,
    Ledger,
    Subject,
    load_subjects,
    load_subjects_with_entries,
    resolve_parties,
    restrictions,
)
from partygraph_privacy.minors import age_at, age_on, consent_age, is_minor, jurisdiction_of
from partygraph_privacy.records import OWN_RECORD_TYPES, validate
from partygraph_privacy.settings import Settings

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = ["ERASURE_OVERRIDE", "IDENTIFYING_ATTRIBUTES", "check_batch"]

#: The context purpose under which an erased identifier may be imported again.
ERASURE_OVERRIDE = "erasure_override"
#: Body fields a plugin record's time is read from, in order.
_TIME_FIELDS = ("occurred_at", "at")
_PLUGIN = "privacy"
#: Attributes whose keyed hash is kept on erasure (with the key), checked on every import.
IDENTIFYING_ATTRIBUTES = ("email", "phone")


@attrs.frozen
class _Problem:
    """An item without a lawful basis: why, and whom it concerns."""

    item: Any
    reasons: tuple[str, ...]
    subjects: tuple[int, ...]


_SUBJECTS = "privacy.subjects"
_SUBJECT_CACHE_LIMIT = 200_000

#: The purpose of a correction requested by the subject; allowed while restricted.
RECTIFICATION = "rectification"


def check_batch(plugin: PrivacyPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """Check one batch (one phase); refuse, quarantine, or let it pass."""
    if batch.parties:
        # These parties' kinds and attributes are changing: forget what was cached.
        cached: dict[int, Subject] = session.cache.get(_SUBJECTS, {})
        for party in batch.parties:
            if party.id is not None:
                cached.pop(party.id, None)
        _check_parties(plugin, batch.parties, session)
    elif batch.relationships:
        _check_relationships(plugin, batch.relationships, session)
    elif batch.interactions:
        _settle(plugin, batch, session, "interaction", _check_interactions(plugin, batch, session))
    elif batch.records and batch.record_type is not None:
        if batch.record_type in OWN_RECORD_TYPES:
            _check_own_records(plugin, batch, session)
        else:
            problems = _check_records(plugin, batch, session)
            _settle(plugin, batch, session, batch.record_type, problems)


# -- helpers -----------------------------------------------------------------------------


def _now(session: WriteSession) -> datetime:
    at = session.context.at
    assert at is not None, "the toolkit stamps every write's context with its time"
    return at


def _refuse(messages: Sequence[str]) -> None:
    if not messages:
        return
    more = len(messages) - 1
    tail = f" (and {more} more refusal(s) in this write)" if more else ""
    raise WriteRefused(messages[0] + tail, plugin=_PLUGIN)


def _purposes(
    settings: Settings, type_name: str, declared: Sequence[str], what: str
) -> tuple[str, ...]:
    chosen = tuple(settings.purpose_overrides.get(type_name) or declared)
    if not chosen:
        raise WriteRefused(
            f"{what} {type_name!r} declares no purpose; declare one, or set "
            f"[plugins.privacy.purpose_overrides] {type_name}",
            plugin=_PLUGIN,
        )
    for purpose in chosen:
        if settings.purpose(purpose) is None:
            configured = ", ".join(sorted(settings.purposes)) or "none"
            raise WriteRefused(
                f"{what} {type_name!r} is processed for purpose {purpose!r}, which "
                f"[plugins.privacy.purposes] does not configure (configured: {configured})",
                plugin=_PLUGIN,
            )
    return chosen


def _restriction_reason(entry: Entry) -> str:
    note = f" ({entry.note})" if entry.note else ""
    return f"processing restricted since {isoformat(entry.at)}{note}"


def _judge(
    plugin: PrivacyPlugin,
    ledger: Ledger,
    subject: Subject,
    purpose: str,
    at: datetime,
    now: datetime,
    channel: str | None,
    device: str | None,
) -> str | None:
    """Why *subject* may not be processed for *purpose* at *at* (None: they may)."""
    settings = plugin.settings
    restricted = ledger.restriction(subject.id, now)
    if restricted is not None:
        return _restriction_reason(restricted)
    decision = ledger.state(subject.id, purpose, at).decision(channel)
    config = settings.purpose(purpose)
    shared = (
        device is not None
        and config is not None
        and not config.implicit
        and is_minor(subject.attributes, at, settings)
    )
    if shared and decision.basis != "consent":
        age = age_at(subject.attributes, at)
        found = f"; {decision.reason}" if not decision.allowed else ""
        return (
            f"the event comes from shared device {device!r} and is attributed to a minor "
            f"(aged {age}), which needs a guardian's verified consent{found}"
        )
    return None if decision.allowed else decision.reason


def _adult_throughout(subject: Subject, earliest: date, settings: Settings) -> bool:
    """True when no age rule can apply to the subject from *earliest* on (age only grows)."""
    age = age_on(subject.attributes, earliest)
    if age is None:
        return True
    jurisdiction = jurisdiction_of(subject.attributes, settings)
    return age >= max(consent_age(settings, jurisdiction), settings.ccpa_sale_opt_in_age)


def _message(subject: Subject, purpose: str, at: datetime, reason: str) -> str:
    return f"{subject.key}: no lawful basis for {purpose} at {isoformat(at)}: {reason}"


# -- interactions --------------------------------------------------------------------------


def _shared_devices(connection: Connection, names: Collection[str]) -> set[str]:
    if not names:
        return set()
    device = tables.device
    query = select(device.c.key).where(device.c.key.in_(sorted(names)), device.c.shared.is_(True))
    return set(connection.execute(query).scalars())


def _device_of(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("device")
    return value if isinstance(value, str) and value else None


def _channel_of(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("channel")
    return value if isinstance(value, str) else None


def _subjects(
    session: WriteSession, party_ids: Collection[int], purposes: Iterable[str], until: datetime
) -> tuple[dict[int, Subject], dict[int, list[Entry]]]:
    """Subjects of a batch, remembered for the rest of the write (a bulk import's
    batches meet the same people again); parties written in this write are re-read.

    Those not remembered are read together with their ledger entries for
    *purposes* up to *until* (returned for ``Ledger.load(known=...)``): a single
    write reads its participants and their ledger in one statement.
    """
    known: dict[int, Subject] = session.cache.setdefault(_SUBJECTS, {})
    missing = [party_id for party_id in party_ids if party_id not in known]
    entries: dict[int, list[Entry]] = {}
    if missing:
        if len(known) > _SUBJECT_CACHE_LIMIT:
            known.clear()
        found, entries = load_subjects_with_entries(
            session.connection, missing, session.vocabulary.party_kinds, purposes, until
        )
        known.update(found)
    subjects = {party_id: known[party_id] for party_id in party_ids if party_id in known}
    return subjects, entries


def _check_interactions(
    plugin: PrivacyPlugin, batch: WriteBatch, session: WriteSession
) -> list[_Problem]:
    settings = plugin.settings
    types = session.vocabulary.interaction_types
    items: list[Interaction] = batch.interactions
    purposes_of = {
        name: _purposes(
            settings, name, types[name].purposes if name in types else (), "interaction type"
        )
        for name in sorted({item.type for item in items})
    }
    party_ids = {int(p.party) for item in items for p in item.participants}
    connection = session.connection
    now = _now(session)
    until = max(to_storage(max(item.occurred_at for item in items)), to_storage(now))
    wanted = {purpose for found in purposes_of.values() for purpose in found}
    subjects, known = _subjects(session, party_ids, wanted, until)
    persons = {party_id: subject for party_id, subject in subjects.items() if subject.personal}
    if not persons:
        return []
    ledger = Ledger.load(connection, settings, persons, wanted, until, known=known)
    shared = _shared_devices(connection, {d for item in items if (d := _device_of(item.payload))})
    # Most people have no ledger entry and are adults throughout the batch: their
    # answer depends only on the purpose and the channel, so judge it once.
    earliest = min(item.occurred_at for item in items)
    earliest_day = to_storage(earliest).date()
    steady = {
        party_id
        for party_id, subject in persons.items()
        if not ledger.has_entries(party_id) and _adult_throughout(subject, earliest_day, settings)
    }
    # A steady person's answer is the same for everyone: keyed by purpose and channel.
    memo: dict[tuple[str, str | None], str | None] = {}
    problems: list[_Problem] = []
    for item in items:
        device = _device_of(item.payload) if shared else None
        device = device if device in shared else None
        channel = _channel_of(item.payload)
        reasons: list[str] = []
        concerned: list[int] = []
        for participant in item.participants:
            subject = persons.get(int(participant.party))
            if subject is None:
                continue
            concerned.append(subject.id)
            is_steady = subject.id in steady
            for purpose in purposes_of[item.type]:
                key = (purpose, channel)
                if is_steady and key in memo:
                    reason = memo[key]
                else:
                    reason = _judge(
                        plugin, ledger, subject, purpose, item.occurred_at, now, channel, device
                    )
                    if is_steady:
                        memo[key] = reason
                if reason is not None:
                    reasons.append(_message(subject, purpose, item.occurred_at, reason))
        if reasons:
            problems.append(_Problem(item, tuple(reasons), tuple(dict.fromkeys(concerned))))
    return problems


# -- records of other plugins ----------------------------------------------------------------


def _record_time(body: Mapping[str, Any], default: datetime) -> datetime:
    for field in _TIME_FIELDS:
        value = body.get(field)
        if value is not None:
            try:
                return parse_time(value, field)
            except ValueError:
                return default
    return default


def _check_records(
    plugin: PrivacyPlugin, batch: WriteBatch, session: WriteSession
) -> list[_Problem]:
    name = batch.record_type
    assert name is not None
    rtype = session.vocabulary.record_types.get(name)
    declared = rtype.purposes if rtype is not None else ()
    if not declared and name not in plugin.settings.purpose_overrides:
        return []
    purposes = _purposes(plugin.settings, name, declared, "record type")
    named = [body for body in batch.records if body.get("party") is not None]
    if not named:
        return []
    connection = session.connection
    ids = resolve_parties(connection, [body["party"] for body in named])
    subjects = load_subjects(connection, set(ids.values()), session.vocabulary.party_kinds)
    persons = {party_id: subject for party_id, subject in subjects.items() if subject.personal}
    if not persons:
        return []
    now = _now(session)
    times = {id(body): _record_time(body, now) for body in named}
    until = max([to_storage(at) for at in times.values()] + [to_storage(now)])
    ledger = Ledger.load(connection, plugin.settings, persons, purposes, until)
    problems: list[_Problem] = []
    for body in named:
        party_id = ids.get(body["party"])
        subject = persons.get(party_id) if party_id is not None else None
        if subject is None:
            continue  # not a person, or unknown (the record type reports that)
        at = times[id(body)]
        reasons = []
        for purpose in purposes:
            reason = _judge(plugin, ledger, subject, purpose, at, now, None, None)
            if reason is not None:
                reasons.append(_message(subject, purpose, at, reason))
        if reasons:
            problems.append(_Problem(body, tuple(reasons), (subject.id,)))
    return problems


def _check_own_records(plugin: PrivacyPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """Validate the ledger's and devices' records; refuse the invalid ones, with their line."""
    name = batch.record_type
    assert name is not None
    refs: list[PartyRef] = []
    for body in batch.records:
        for field in ("party", "given_by", "household"):
            if body.get(field) is not None:
                refs.append(body[field])
    known = resolve_parties(session.connection, refs)
    for body in batch.records:
        try:
            validate(plugin.settings, name, body)
        except UserError as error:
            batch.refuse(body, str(error))
            continue
        for field in ("party", "given_by", "household"):
            ref = body.get(field)
            if ref is not None and ref not in known:
                what = "id" if isinstance(ref, int) else "key"
                batch.refuse(body, f"{field}: no party with {what} {ref!r}")
                break


# -- quarantine or refusal -------------------------------------------------------------------


def _record_of(item: Any) -> dict[str, Any]:
    if isinstance(item, Interaction):
        record: dict[str, Any] = {
            "type": item.type,
            "key": item.key,
            "occurred_at": isoformat(item.occurred_at),
            "participants": [{"party": p.party, "role": p.role} for p in item.participants],
            "payload": dict(item.payload),
        }
    else:
        record = dict(item)
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(record, default=str))
    return loaded


def _settle(
    plugin: PrivacyPlugin,
    batch: WriteBatch,
    session: WriteSession,
    record_type: str,
    problems: Sequence[_Problem],
) -> None:
    if not problems:
        return
    if plugin.settings.mode != "quarantine":
        if session.skip_invalid:
            # Write the lawful records and report each unlawful one on its line.
            for problem in problems:
                batch.refuse(problem.item, "; ".join(problem.reasons))
            return
        _refuse([reason for problem in problems for reason in problem.reasons])
        return
    now = _now(session)
    quarantined_at = to_storage(now)
    expires_at = to_storage(now + timedelta(days=plugin.settings.quarantine_days))
    rows = [
        {
            "record_type": record_type,
            "record": _record_of(problem.item),
            "reason": "; ".join(problem.reasons),
            "quarantined_at": quarantined_at,
            "expires_at": expires_at,
        }
        for problem in problems
    ]
    quarantine = tables.quarantine
    statement = quarantine.insert().returning(quarantine.c.id, sort_by_parameter_order=True)
    ids = list(session.connection.execute(statement, rows).scalars())
    subjects = [
        {"quarantine_id": quarantine_id, "party_id": party_id}
        for quarantine_id, problem in zip(ids, problems, strict=True)
        for party_id in problem.subjects
    ]
    if subjects:
        session.connection.execute(tables.quarantine_subject.insert(), subjects)
    for problem in problems:
        batch.withhold(problem.item, "quarantined: " + "; ".join(problem.reasons))


# -- parties and relationships -----------------------------------------------------------------


def _identifiers(plugin: PrivacyPlugin, party: Party) -> list[str]:
    values = [party.key]
    for name in IDENTIFYING_ATTRIBUTES:
        value = party.attributes.get(name)
        if isinstance(value, str) and value.strip():
            values.append(value)
    return [plugin.keys.identifier(value) for value in values]


def _check_parties(plugin: PrivacyPlugin, parties: Sequence[Party], session: WriteSession) -> None:
    connection = session.connection
    messages: list[str] = []
    if session.context.purpose != ERASURE_OVERRIDE:
        hashes = {party.key: _identifiers(plugin, party) for party in parties}
        wanted = sorted({value for values in hashes.values() for value in values})
        erased = tables.erased
        found = {
            row.identifier_hash: row.erased_at
            for row in connection.execute(
                select(erased.c.identifier_hash, erased.c.erased_at).where(
                    erased.c.identifier_hash.in_(wanted)
                )
            )
        }
        for party in parties:
            hits = [found[value] for value in hashes[party.key] if value in found]
            if hits:
                messages.append(
                    f"{party.key}: an identifier of this party (key, email or phone) belongs to a "
                    f"subject erased on {isoformat(_naive(hits[0]))}; importing it again needs "
                    f"Context(purpose={ERASURE_OVERRIDE!r})"
                )
    ids = [party.id for party in parties if party.id is not None]
    restricted = restrictions(connection, ids, _now(session), plugin.settings)
    if restricted:
        stored = {
            int(row.id): row
            for row in connection.execute(
                select(party_table.c.id, party_table.c.name, party_table.c.attributes).where(
                    party_table.c.id.in_(sorted(restricted))
                )
            )
        }
        for party in parties:
            row = stored.get(party.id) if party.id is not None else None
            if row is None:
                continue
            if row.name == party.name and (row.attributes or {}) == dict(party.attributes):
                continue  # unchanged: storing what is stored is allowed
            if session.context.purpose == RECTIFICATION:
                continue  # GDPR art. 18(1)(a): correcting contested data stays possible
            assert party.id is not None
            messages.append(
                f"{party.key}: its data is frozen: {_restriction_reason(restricted[party.id])}"
            )
    _refuse(messages)


def _check_relationships(
    plugin: PrivacyPlugin, relationships: Sequence[Relationship], session: WriteSession
) -> None:
    ends = {int(ref) for rel in relationships for ref in (rel.source, rel.target)}
    restricted = restrictions(session.connection, ends, _now(session), plugin.settings)
    if not restricted:
        return
    keys = _keys(session.connection, restricted)
    messages = []
    for rel in relationships:
        for ref in (rel.source, rel.target):
            entry = restricted.get(int(ref))
            if entry is not None:
                messages.append(
                    f"{keys.get(int(ref), ref)}: its data is frozen, no {rel.type} relationship "
                    f"may be written: {_restriction_reason(entry)}"
                )
                break
    _refuse(messages)


def _keys(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    query = select(party_table.c.id, party_table.c.key).where(party_table.c.id.in_(sorted(ids)))
    return {int(row.id): row.key for row in connection.execute(query)}
