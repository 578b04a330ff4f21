"""The consent ledger: lawful bases per party, purpose and channel, through time.

``privacy_ledger`` is append-only: granting, withdrawing, objecting, opting
out, restricting and lifting a restriction each add an entry. The state for
(party, purpose, channel) at time T folds the entries with ``at <= T`` in
``(at, id)`` order:

- ``grant`` adds its basis (until ``expires_at``: an expired basis is absent);
  a consent grant also ends an earlier objection (and, for
  ``sale_or_sharing``, an opt-out): the subject opted in again;
- ``withdraw`` removes the consent basis, never a contract or another basis;
- ``object`` blocks the purpose; ``opt_out`` blocks ``sale_or_sharing``;
- ``restrict`` (purpose ``*``) blocks every purpose until ``lift_restriction``;
- ``limit_sensitive`` (purpose ``*``) limits sensitive data to the expected service.

Entries for channel ``""`` apply to every channel. Purposes marked
``implicit`` hold with their first basis without any entry (objection and
restriction still apply). A consent given by a minor for themselves does not
count; one given by a guardian with a recorded verification does
(:mod:`partygraph_privacy.minors`). Every write goes through
``toolkit.write`` so the gate and the audit see it; every read of the ledger
for many parties is one query (:class:`Ledger`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Connection, Select, and_, bindparam, or_, select

from partygraph import Context, Party, PartyKind, PartyRef, ValidationError
from partygraph.storage.tables import party_table
from partygraph.times import isoformat, parse_time, to_storage, utcnow
from partygraph.times import naive_utc as _naive
from partygraph_privacy import tables
from partygraph_privacy.lists import PerDialect, bind_list, in_list
from partygraph_privacy.minors import Guardians, age_at, consent_age, jurisdiction_of
from partygraph_privacy.settings import Purpose, Settings

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "ALL_PURPOSES",
    "SALE_OR_SHARING",
    "Decision",
    "Entry",
    "Ledger",
    "State",
    "Subject",
    "basis_for",
    "can_contact",
    "excluded_for_purpose",
    "grant",
    "history",
    "lift_restriction",
    "limit_sensitive",
    "load_subjects",
    "load_subjects_with_entries",
    "object_to",
    "opt_out",
    "resolve_parties",
    "restrict",
    "restrictions",
    "states",
    "withdraw",
]

#: The purpose of entries that concern every purpose (restriction, limiting sensitive data).
ALL_PURPOSES = "*"
#: The purpose a CCPA opt-out (and a Global Privacy Control signal) blocks.
SALE_OR_SHARING = "sale_or_sharing"
#: ``source`` of an opt-out recorded from a Global Privacy Control signal.
GPC_SOURCE = "gpc"

_CHUNK = 10_000


@attrs.frozen
class Decision:
    """May we process (or contact) this party for this purpose, on which basis, and why."""

    allowed: bool
    basis: str | None
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


@attrs.frozen
class Entry:
    """One ledger entry (times naive UTC, as stored)."""

    id: int
    party_id: int
    purpose: str
    channel: str
    action: str
    basis: str | None
    at: datetime
    expires_at: datetime | None = None
    source: str | None = None
    jurisdiction: str | None = None
    given_by_id: int | None = None
    verification: str | None = None
    note: str | None = None
    guardian_verified: bool = False

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        return cls(
            id=int(row.id),
            party_id=int(row.party_id),
            purpose=row.purpose,
            channel=row.channel or "",
            action=row.action,
            basis=row.basis,
            at=_naive(row.at),
            expires_at=_naive(row.expires_at) if row.expires_at is not None else None,
            source=row.source,
            jurisdiction=row.jurisdiction,
            given_by_id=int(row.given_by_id) if row.given_by_id is not None else None,
            verification=row.verification,
            note=row.note,
            guardian_verified=bool(row.guardian_verified),
        )


@attrs.frozen
class Subject:
    """What the ledger needs to know about a party: kind, attributes, and whether personal."""

    id: int
    key: str
    kind: str
    attributes: Mapping[str, Any]
    personal: bool


def _subjects_statement(dialect: str) -> Select[Any]:
    party = party_table
    return select(party.c.id, party.c.key, party.c.kind, party.c.attributes).where(
        in_list(party.c.id, "ids", dialect)
    )


_SUBJECTS = PerDialect(_subjects_statement)


def load_subjects(
    connection: Connection, party_ids: Collection[int], kinds: Mapping[str, PartyKind]
) -> dict[int, Subject]:
    """Key, kind and attributes of many parties, in one prebuilt query."""
    if not party_ids:
        return {}
    dialect = connection.dialect.name
    rows = _SUBJECTS(connection).rows(
        connection, {"ids": bind_list(sorted(set(party_ids)), dialect)}
    )
    found: dict[int, Subject] = {}
    for row in rows:
        kind = kinds.get(row.kind)
        found[int(row.id)] = Subject(
            int(row.id), row.key, row.kind, row.attributes or {}, bool(kind and kind.personal)
        )
    return found


def _joined_statement(dialect: str) -> Select[Any]:
    party = party_table
    ledger = tables.ledger
    entries_of = and_(
        ledger.c.party_id == party.c.id,
        in_list(ledger.c.purpose, "purposes", dialect, text=True),
        ledger.c.at <= bindparam("until", type_=ledger.c.at.type),
    )
    return (
        select(
            party.c.id.label("subject_id"),
            party.c.key.label("subject_key"),
            party.c.kind.label("subject_kind"),
            party.c.attributes.label("subject_attributes"),
            ledger,
        )
        .select_from(party.outerjoin(ledger, entries_of))
        .where(in_list(party.c.id, "ids", dialect))
        .order_by(ledger.c.at, ledger.c.id)
    )


_JOINED = PerDialect(_joined_statement)


def load_subjects_with_entries(
    connection: Connection,
    party_ids: Collection[int],
    kinds: Mapping[str, PartyKind],
    purposes: Iterable[str],
    until: datetime,
) -> tuple[dict[int, Subject], dict[int, list[Entry]]]:
    """:func:`load_subjects` and the ledger entries :meth:`Ledger.load` would read for
    them (*purposes* and ``*``, up to *until*), in one prebuilt query.

    The entries have a list for every party found, empty when it has none: pass
    them to ``Ledger.load(..., known=...)``, which then reads nothing more for them.
    """
    subjects: dict[int, Subject] = {}
    entries: dict[int, list[Entry]] = {}
    if not party_ids:
        return subjects, entries
    dialect = connection.dialect.name
    params = {
        "ids": bind_list(sorted(set(party_ids)), dialect),
        "purposes": bind_list(sorted({*purposes, ALL_PURPOSES}), dialect),
        "until": to_storage(until),
    }
    for row in _JOINED(connection).rows(connection, params):
        party_id = int(row.subject_id)
        if party_id not in subjects:
            kind = kinds.get(row.subject_kind)
            subjects[party_id] = Subject(
                party_id,
                row.subject_key,
                row.subject_kind,
                row.subject_attributes or {},
                bool(kind and kind.personal),
            )
            entries[party_id] = []
        if row.id is not None:
            entries[party_id].append(Entry.from_row(row))
    return subjects, entries


def subject_of(party: Party, kinds: Mapping[str, PartyKind]) -> Subject:
    """The :class:`Subject` of a stored party."""
    assert party.id is not None
    kind = kinds.get(party.kind)
    return Subject(party.id, party.key, party.kind, party.attributes, bool(kind and kind.personal))


@attrs.frozen(eq=False)
class State:
    """The ledger folded for one (party, purpose) at one time; ``decision(channel)`` judges."""

    party_id: int
    purpose: str
    at: datetime
    entries: tuple[Entry, ...]
    restriction: Entry | None
    sensitive_limit: Entry | None
    subject: Subject | None
    settings: Settings
    guardians: Guardians

    @property
    def config(self) -> Purpose | None:
        """The configured purpose, if any."""
        return self.settings.purpose(self.purpose)

    @property
    def restricted(self) -> bool:
        """Is processing of the party restricted at this time?"""
        return self.restriction is not None

    def decision(self, channel: str | None = None) -> Decision:
        """The decision for *channel* (None: any channel; ``""``: entries for all channels)."""
        if self.restriction is not None:
            note = f" ({self.restriction.note})" if self.restriction.note else ""
            return Decision(
                False, None, f"processing restricted since {isoformat(self.restriction.at)}{note}"
            )
        config = self.config
        if config is None:
            configured = ", ".join(sorted(self.settings.purposes)) or "none"
            return Decision(
                False,
                None,
                f"purpose {self.purpose!r} is not configured in [plugins.privacy.purposes] "
                f"(configured: {configured})",
            )
        if channel is not None:
            return self._decide(config, channel)
        channels = ["", *sorted({entry.channel for entry in self.entries} - {""})]
        decisions = [self._decide(config, name) for name in channels]
        for decision in decisions:
            if decision.allowed:
                return decision
        # Prefer the most specific refusal (a withdrawal beats "nothing recorded").
        informative = [d for d in decisions if not d.reason.startswith("no ")]
        return (informative or decisions)[0]

    # -- the fold ------------------------------------------------------------------------

    def _decide(self, config: Purpose, channel: str) -> Decision:
        at = to_storage(self.at)
        bases: dict[str, Entry] = {}
        objection: Entry | None = None
        opted_out: Entry | None = None
        lost: str | None = None
        where = f" ({channel})" if channel else ""
        for entry in self.entries:
            if entry.channel not in ("", channel):
                continue
            if entry.action == "grant" and entry.basis:
                problem = self._discount(config, entry)
                if problem is not None:
                    lost = problem
                    continue
                bases[entry.basis] = entry
                if entry.basis == "consent":
                    objection = None
                    opted_out = None
            elif entry.action == "withdraw":
                bases.pop("consent", None)
                lost = f"consent{where} withdrawn on {isoformat(entry.at)}"
            elif entry.action == "object":
                objection = entry
            elif entry.action == "opt_out":
                opted_out = entry
        if objection is not None:
            return Decision(False, None, f"objected to {self.purpose} on {isoformat(objection.at)}")
        if opted_out is not None and self.purpose == SALE_OR_SHARING:
            signal = " (Global Privacy Control signal)" if opted_out.source == GPC_SOURCE else ""
            return Decision(
                False, None, f"opted out of sale or sharing on {isoformat(opted_out.at)}{signal}"
            )
        valid: dict[str, Entry] = {}
        for basis, entry in bases.items():
            if entry.expires_at is not None and entry.expires_at <= at:
                lost = f"{basis}{where} expired on {isoformat(entry.expires_at)}"
                continue
            if basis in config.bases:
                valid[basis] = entry
        for basis in config.bases:
            if basis in valid:
                entry = valid[basis]
                by = (
                    f" by guardian #{entry.given_by_id}"
                    if entry.given_by_id is not None and entry.given_by_id != self.party_id
                    else ""
                )
                until = f" until {isoformat(entry.expires_at)}" if entry.expires_at else ""
                return Decision(
                    True, basis, f"{basis}{where} recorded on {isoformat(entry.at)}{by}{until}"
                )
        if config.implicit and not self._implicit_withheld():
            basis = config.bases[0]
            return Decision(True, basis, f"{basis} (implicit for {self.purpose})")
        return Decision(False, None, lost or f"no {' or '.join(config.bases)} recorded")

    def _discount(self, config: Purpose, entry: Entry) -> str | None:
        """Why a grant does not count (None: it counts)."""
        if entry.basis == "consent" and config.workplace:
            return "consent is not a valid basis for monitoring employees"
        if (
            config.requires_note
            and entry.basis == "legitimate_interests"
            and not (entry.note or "").strip()
        ):
            return "legitimate interests recorded without the balancing note it requires"
        if entry.basis != "consent" or self.subject is None:
            return None
        attributes = self.subject.attributes
        age = age_at(attributes, entry.at)
        jurisdiction = entry.jurisdiction or jurisdiction_of(attributes, self.settings)
        limit = consent_age(self.settings, jurisdiction)
        if age is None or age >= limit:
            return None
        if entry.guardian_verified:
            return None  # a guardian's verified consent, as established when recorded
        given_by = entry.given_by_id
        when = isoformat(entry.at)
        if given_by is None or given_by == self.party_id:
            return (
                f"consent given on {when} by the subject, aged {age}, does not count below "
                f"the digital-consent age of {limit} ({jurisdiction}); a guardian's verified "
                "consent is needed"
            )
        if not (entry.verification or "").strip():
            return (
                f"consent given on {when} by #{given_by} for a minor (aged {age}) has no "
                "recorded verification"
            )
        if not self.guardians.holds(given_by, self.party_id, entry.at):
            return (
                f"consent given on {when} by #{given_by}, who is not a guardian of the minor "
                f"(aged {age}), does not count"
            )
        return None

    def _implicit_withheld(self) -> bool:
        """CCPA: selling or sharing a minor's data needs an opt-in, never an implicit basis."""
        if self.purpose != SALE_OR_SHARING or self.subject is None:
            return False
        attributes = self.subject.attributes
        if jurisdiction_of(attributes, self.settings) != "CCPA":
            return False
        age = age_at(attributes, self.at)
        return age is not None and age < self.settings.ccpa_sale_opt_in_age


def _entries_statement(dialect: str) -> Select[Any]:
    ledger = tables.ledger
    return (
        select(ledger)
        .where(
            in_list(ledger.c.party_id, "ids", dialect),
            in_list(ledger.c.purpose, "purposes", dialect, text=True),
            ledger.c.at <= bindparam("until", type_=ledger.c.at.type),
        )
        .order_by(ledger.c.at, ledger.c.id)
    )


_ENTRIES = PerDialect(_entries_statement)


def _all_entries_statement(dialect: str) -> Select[Any]:
    ledger = tables.ledger
    return (
        select(ledger)
        .where(
            in_list(ledger.c.party_id, "ids", dialect),
            ledger.c.at <= bindparam("until", type_=ledger.c.at.type),
        )
        .order_by(ledger.c.at, ledger.c.id)
    )


_ALL_ENTRIES = PerDialect(_all_entries_statement)


class Ledger:
    """Ledger entries of many parties, read in one query; folded at any time up to ``until``."""

    def __init__(
        self,
        settings: Settings,
        entries: Mapping[int, Sequence[Entry]],
        subjects: Mapping[int, Subject],
        guardians: Guardians,
    ) -> None:
        self.settings = settings
        self._entries = entries
        self.subjects = subjects
        self.guardians = guardians

    @classmethod
    def load(
        cls,
        connection: Connection,
        settings: Settings,
        subjects: Mapping[int, Subject],
        purposes: Iterable[str],
        until: datetime,
        *,
        memo: dict[Any, Any] | None = None,
        known: Mapping[int, Sequence[Entry]] | None = None,
    ) -> Ledger:
        """Read the entries of *subjects* for *purposes* (and ``*``) up to *until*.

        One prebuilt query, plus one for guardianships when a minor's consent was
        given by someone else. With a reader's *memo*, every purpose's entries are
        read, once per party and horizon for the whole read: the hooks of one view
        asking about several purposes then share one query. *known* holds entries
        already read for some parties, with the same purposes and horizon
        (:func:`load_subjects_with_entries`): they are not read again.
        """
        if memo is not None:
            entries = _remembered(connection, subjects, until, memo)
        else:
            given = known or {}
            wanted = [*purposes, ALL_PURPOSES]
            entries = _entries(connection, [i for i in subjects if i not in given], wanted, until)
            entries.update((i, list(given[i])) for i in subjects if given.get(i))
        minors = {
            party_id
            for party_id, found in entries.items()
            if party_id in subjects
            for entry in found
            if entry.basis == "consent"
            and entry.given_by_id is not None
            and entry.given_by_id != party_id
            and _minor_at(subjects[party_id], entry, settings)
        }
        guardians = Guardians.load(connection, minors) if minors else Guardians({})
        return cls(settings, entries, subjects, guardians)

    def has_entries(self, party_id: int) -> bool:
        """Whether the party has any ledger entry up to this ledger's horizon."""
        return bool(self._entries.get(party_id))

    def state(self, party_id: int, purpose: str, at: datetime) -> State:
        """The folded state of (*party_id*, *purpose*) at *at*."""
        moment = to_storage(at)
        relevant: list[Entry] = []
        restriction: Entry | None = None
        sensitive: Entry | None = None
        for entry in self._entries.get(party_id, ()):
            if entry.at > moment:
                break
            if entry.purpose == ALL_PURPOSES:
                if entry.action == "restrict":
                    restriction = entry
                elif entry.action == "lift_restriction":
                    restriction = None
                elif entry.action == "limit_sensitive":
                    sensitive = entry
            elif entry.purpose == purpose:
                relevant.append(entry)
        return State(
            party_id,
            purpose,
            at,
            tuple(relevant),
            restriction,
            sensitive,
            self.subjects.get(party_id),
            self.settings,
            self.guardians,
        )

    def restriction(self, party_id: int, at: datetime) -> Entry | None:
        """The restriction in force for the party at *at*, if any."""
        return self.state(party_id, ALL_PURPOSES, at).restriction


def _entries(
    connection: Connection, party_ids: Iterable[int], purposes: Iterable[str] | None, until: Any
) -> dict[int, list[Entry]]:
    """The entries of *party_ids* up to *until* for *purposes* (None: all), in order."""
    entries: dict[int, list[Entry]] = {}
    ids = sorted(party_ids)
    if not ids:
        return entries
    dialect = connection.dialect.name
    params = {"ids": bind_list(ids, dialect), "until": to_storage(until)}
    if purposes is None:
        statement = _ALL_ENTRIES(connection)
    else:
        statement = _ENTRIES(connection)
        params["purposes"] = bind_list(sorted(set(purposes)), dialect)
    for row in statement.rows(connection, params):
        entries.setdefault(int(row.party_id), []).append(Entry.from_row(row))
    return entries


def _remembered(
    connection: Connection, party_ids: Iterable[int], until: datetime, memo: dict[Any, Any]
) -> dict[int, list[Entry]]:
    """Every purpose's entries of *party_ids* up to *until*, read once per reader."""
    known: dict[int, list[Entry]] = memo.setdefault(("ledger", to_storage(until)), {})
    missing = [party_id for party_id in party_ids if party_id not in known]
    if missing:
        found = _entries(connection, missing, None, until)
        for party_id in missing:
            known[party_id] = found.get(party_id, [])
    return {party_id: known[party_id] for party_id in party_ids if known[party_id]}


def _minor_at(subject: Subject, entry: Entry, settings: Settings) -> bool:
    age = age_at(subject.attributes, entry.at)
    if age is None:
        return False
    jurisdiction = entry.jurisdiction or jurisdiction_of(subject.attributes, settings)
    return age < consent_age(settings, jurisdiction)


def states(
    connection: Connection,
    party_ids: Collection[int],
    purposes: Iterable[str],
    at: datetime,
    settings: Settings,
    *,
    subjects: Mapping[int, Subject] | None = None,
    kinds: Mapping[str, PartyKind] | None = None,
) -> dict[tuple[int, str], State]:
    """The state of every (party, purpose) pair at *at*, reading the ledger once.

    *subjects* (kinds and attributes, for the minors' rules) are read in one
    more query when not given.
    """
    wanted = sorted(set(purposes))
    if subjects is None:
        subjects = load_subjects(connection, party_ids, kinds or {})
    known = {party_id: subjects.get(party_id) for party_id in party_ids}
    complete = {
        party_id: subject or Subject(party_id, str(party_id), "", {}, False)
        for party_id, subject in known.items()
    }
    ledger = Ledger.load(connection, settings, complete, wanted, at)
    return {
        (party_id, purpose): ledger.state(party_id, purpose, at)
        for party_id in complete
        for purpose in wanted
    }


def restrictions(
    connection: Connection, party_ids: Collection[int], at: datetime, settings: Settings
) -> dict[int, Entry]:
    """The parties among *party_ids* whose processing is restricted at *at* (one query)."""
    subjects = {party_id: Subject(party_id, str(party_id), "", {}, True) for party_id in party_ids}
    ledger = Ledger.load(connection, settings, subjects, (), at)
    found: dict[int, Entry] = {}
    for party_id in subjects:
        entry = ledger.restriction(party_id, at)
        if entry is not None:
            found[party_id] = entry
    return found


# -- the hook: who may not be processed for a purpose -----------------------------------------


def excluded_for_purpose(
    plugin: PrivacyPlugin,
    parties: Sequence[Party],
    purpose: str,
    as_of: datetime,
    connection: Connection,
    memo: dict[Any, Any] | None = None,
) -> dict[int, str]:
    """Persons without a basis for *purpose* at *as_of* (objected, opted out, restricted ...).

    *memo* is the reader's (``graph.memo``): the ledger entries read for one
    purpose then serve the other purposes asked about in the same read.

    Parties of kinds that are not natural persons are never excluded, and neither
    are the pseudonyms an erasure leaves behind: they identify nobody, and the
    records retained under them must still count in aggregates.
    """
    from partygraph_privacy.erasure import PSEUDONYM_PREFIX

    kinds = plugin.toolkit.vocabulary.party_kinds
    # In one read, a party's answer for a purpose is worked out once, whoever asks.
    answers: dict[int, str | None] = (
        memo.setdefault(("excluded", purpose, to_storage(as_of)), {}) if memo is not None else {}
    )
    persons: list[int] = []
    missing: dict[int, Party] = {}
    for party in parties:
        party_id = party.id
        if (
            party_id is None
            or (kind := kinds.get(party.kind)) is None
            or not kind.personal
            or party.key.startswith(PSEUDONYM_PREFIX)
        ):
            continue
        persons.append(party_id)
        if party_id not in answers:
            missing[party_id] = party
    if missing:
        _work_out(plugin, missing, purpose, as_of, connection, memo, answers)
    return {party_id: reason for party_id in persons if (reason := answers[party_id]) is not None}


def _work_out(
    plugin: PrivacyPlugin,
    parties: Mapping[int, Party],
    purpose: str,
    as_of: datetime,
    connection: Connection,
    memo: dict[Any, Any] | None,
    answers: dict[int, str | None],
) -> None:
    """Fill *answers* for *parties*: one read of their ledger entries, then the fold.

    Most parties have no entry at all: their answer depends on the purpose alone
    (:func:`_without_entries`), so only those with entries are folded.
    """
    if memo is not None:
        entries = _remembered(connection, parties, as_of, memo)
    else:
        entries = _entries(connection, parties, [purpose, ALL_PURPOSES], as_of)
        for party_id in parties:  # known to have none: Ledger.load reads nothing more
            entries.setdefault(party_id, [])
    plain = _without_entries(plugin, purpose)
    folded: dict[int, Subject] = {}
    kinds = plugin.toolkit.vocabulary.party_kinds
    for party_id, party in parties.items():
        if plain is not None and not entries.get(party_id):
            answers[party_id] = plain[0]
        else:
            folded[party_id] = subject_of(party, kinds)
    if not folded:
        return
    ledger = Ledger.load(
        connection, plugin.settings, folded, [purpose], as_of, memo=memo, known=entries
    )
    for party_id in folded:
        decision = ledger.state(party_id, purpose, as_of).decision()
        answers[party_id] = (
            None if decision.allowed else f"no lawful basis for {purpose}: {decision.reason}"
        )


def _without_entries(plugin: PrivacyPlugin, purpose: str) -> tuple[str | None] | None:
    """The answer for *purpose* of any person without a ledger entry, or None when it
    depends on the person (selling or sharing a minor's data under the CCPA).

    Folding no entries gives a reason that names only the purpose and its
    configuration, so it is worked out once per toolkit, by the fold itself.
    """
    if purpose == SALE_OR_SHARING:
        return None
    found = plugin.plain_answers.get(purpose)
    if found is None:
        nobody = Subject(0, "", "", {}, True)
        state = State(0, purpose, utcnow(), (), None, None, nobody, plugin.settings, Guardians({}))
        decision = state.decision()
        reason = None if decision.allowed else f"no lawful basis for {purpose}: {decision.reason}"
        found = plugin.plain_answers[purpose] = (reason,)
    return found


# -- questions ---------------------------------------------------------------------------------


def _when(at: datetime | str | None) -> datetime:
    return parse_time(at, "at") if at is not None else utcnow()


def _decide(
    plugin: PrivacyPlugin, party: PartyRef, purpose: str, channel: str | None, at: datetime
) -> Decision:
    if plugin.settings.purpose(purpose) is None:
        configured = ", ".join(sorted(plugin.settings.purposes)) or "none"
        raise ValidationError(
            "purpose", f"unknown purpose {purpose!r}; configured: {configured}", purpose
        )
    toolkit = plugin.toolkit
    kinds = toolkit.vocabulary.party_kinds
    with toolkit.reader(at) as graph:
        found = graph.party(party)
        subject = subject_of(found, kinds)
        if not subject.personal:
            return Decision(
                True, None, f"{found.kind} {found.key!r} is not a natural person; no basis needed"
            )
        ledger = Ledger.load(
            graph.connection, plugin.settings, {subject.id: subject}, [purpose], at
        )
        return ledger.state(subject.id, purpose, at).decision(channel)


def can_contact(
    plugin: PrivacyPlugin,
    party: PartyRef,
    channel: str,
    purpose: str,
    at: datetime | str | None = None,
) -> Decision:
    """May we contact *party* on *channel* for *purpose* at *at* (default now)?

    The decision names the basis relied on: a withdrawn marketing email consent
    does not stop a billing email under the contract.
    """
    return _decide(plugin, party, purpose, channel or "", _when(at))


def basis_for(
    plugin: PrivacyPlugin, party: PartyRef, purpose: str, at: datetime | str | None = None
) -> Decision:
    """The lawful basis for processing *party*'s data for *purpose* at *at* (any channel)."""
    return _decide(plugin, party, purpose, None, _when(at))


def entries(connection: Connection, party_id: int) -> list[dict[str, Any]]:
    """Every ledger entry of one party, oldest first (JSON-ready)."""
    ledger = tables.ledger
    giver = party_table.alias("given_by")
    query = (
        select(ledger, giver.c.key.label("given_by_key"))
        .select_from(ledger.outerjoin(giver, giver.c.id == ledger.c.given_by_id))
        .where(ledger.c.party_id == party_id)
        .order_by(ledger.c.at, ledger.c.id)
    )
    return [
        {
            "id": int(row.id),
            "action": row.action,
            "purpose": row.purpose,
            "channel": row.channel or "",
            "basis": row.basis,
            "at": isoformat(_naive(row.at)),
            "expires_at": isoformat(_naive(row.expires_at)) if row.expires_at is not None else None,
            "source": row.source,
            "evidence": row.evidence,
            "jurisdiction": row.jurisdiction,
            "given_by": row.given_by_key,
            "verification": row.verification,
            "note": row.note,
            "recorded_at": isoformat(_naive(row.recorded_at)),
        }
        for row in connection.execute(query)
    ]


def history(plugin: PrivacyPlugin, party: PartyRef) -> list[dict[str, Any]]:
    """Every ledger entry of the party, oldest first (JSON-ready)."""
    with plugin.toolkit.reader() as graph:
        found = graph.party(party)
        assert found.id is not None
        return entries(graph.connection, found.id)


# -- writes: one record each, through the toolkit's write pipeline ------------------------------


def _text(value: datetime | str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return isoformat(parse_time(value, field))
    except ValueError as error:
        raise ValidationError(field, str(error), value) from None


def _write(
    plugin: PrivacyPlugin, record_type: str, body: Mapping[str, Any], context: Context | None
) -> None:
    from partygraph_privacy.records import validate

    clean = {name: value for name, value in body.items() if value is not None}
    validate(plugin.settings, record_type, clean)
    with plugin.toolkit.reader() as graph:
        graph.party(clean["party"])  # NotFoundError naming the party, before writing
    plugin.toolkit.write([{record_type: clean}], context=context or Context(source="privacy"))


def grant(
    plugin: PrivacyPlugin,
    party: PartyRef,
    purpose: str,
    *,
    basis: str = "consent",
    channel: str | None = None,
    at: datetime | str | None = None,
    expires_at: datetime | str | None = None,
    source: str | None = None,
    evidence: str | None = None,
    jurisdiction: str | None = None,
    given_by: PartyRef | None = None,
    verification: str | None = None,
    note: str | None = None,
    context: Context | None = None,
) -> None:
    """Record a lawful basis (consent by default) for *purpose*, from *at* (default now)."""
    body = {
        "party": party,
        "purpose": purpose,
        "basis": basis,
        "channel": channel,
        "granted_at": _text(at, "at"),
        "expires_at": _text(expires_at, "expires_at"),
        "source": source,
        "evidence": evidence,
        "jurisdiction": jurisdiction,
        "given_by": given_by,
        "verification": verification,
        "note": note,
    }
    _write(plugin, "consent", body, context)


def withdraw(
    plugin: PrivacyPlugin,
    party: PartyRef,
    purpose: str,
    *,
    channel: str | None = None,
    at: datetime | str | None = None,
    source: str | None = None,
    context: Context | None = None,
) -> None:
    """Withdraw consent for *purpose* (on *channel*, or on every channel): one call."""
    body = {
        "party": party,
        "purpose": purpose,
        "channel": channel,
        "withdrawn_at": _text(at, "at") or _text(_context_time(context), "at"),
        "source": source,
    }
    _write(plugin, "consent", body, context)


def _context_time(context: Context | None) -> datetime:
    return context.at if context is not None and context.at is not None else utcnow()


def object_to(
    plugin: PrivacyPlugin,
    party: PartyRef,
    purpose: str,
    *,
    channel: str | None = None,
    at: datetime | str | None = None,
    source: str | None = None,
    note: str | None = None,
    context: Context | None = None,
) -> None:
    """Record an objection to *purpose* (direct marketing, profiling): effective at once."""
    body = {
        "party": party,
        "purpose": purpose,
        "channel": channel,
        "at": _text(at, "at"),
        "source": source,
        "note": note,
    }
    _write(plugin, "objection", body, context)


def opt_out(
    plugin: PrivacyPlugin,
    party: PartyRef,
    *,
    gpc: bool = False,
    at: datetime | str | None = None,
    source: str | None = None,
    context: Context | None = None,
) -> None:
    """Record a CCPA opt-out of sale/sharing (``gpc=True``: a Global Privacy Control signal)."""
    body = {"party": party, "gpc": gpc, "at": _text(at, "at"), "source": source}
    _write(plugin, "opt_out", body, context)


def restrict(
    plugin: PrivacyPlugin,
    party: PartyRef,
    *,
    at: datetime | str | None = None,
    reason: str | None = None,
    context: Context | None = None,
) -> None:
    """Restrict processing of the party's data to storage, from *at* (default now)."""
    body = {"party": party, "at": _text(at, "at"), "reason": reason}
    _write(plugin, "restriction", body, context)


def lift_restriction(
    plugin: PrivacyPlugin,
    party: PartyRef,
    notice: str,
    *,
    at: datetime | str | None = None,
    context: Context | None = None,
) -> None:
    """Lift a restriction; *notice* records how the subject was told first (required)."""
    body = {
        "party": party,
        "lifted_at": _text(at, "at") or _text(_context_time(context), "at"),
        "notice": notice,
    }
    _write(plugin, "restriction", body, context)


def limit_sensitive(
    plugin: PrivacyPlugin,
    party: PartyRef,
    *,
    at: datetime | str | None = None,
    source: str | None = None,
    context: Context | None = None,
) -> None:
    """CCPA: limit the use of the party's sensitive data to the expected service."""
    body = {"party": party, "at": _text(at, "at"), "source": source}
    _write(plugin, "limit_sensitive", body, context)


def resolve_parties(connection: Connection, refs: Iterable[PartyRef]) -> dict[PartyRef, int]:
    """Resolve many party keys and ids in one query; unknown ones are left out."""
    keys = sorted({ref for ref in refs if isinstance(ref, str)})
    ids = sorted({ref for ref in refs if isinstance(ref, int) and not isinstance(ref, bool)})
    found: dict[PartyRef, int] = {}
    party = party_table
    for start in range(0, max(len(keys), len(ids)), _CHUNK):
        key_chunk = keys[start : start + _CHUNK]
        id_chunk = ids[start : start + _CHUNK]
        query = select(party.c.id, party.c.key).where(
            or_(party.c.key.in_(key_chunk), party.c.id.in_(id_chunk))
        )
        for row in connection.execute(query):
            found[row.key] = int(row.id)
            found[int(row.id)] = int(row.id)
    return found
