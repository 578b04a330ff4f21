"""Erasure (GDPR art. 17, CCPA deletion) with a completeness report.

:func:`erase` collects the subject's identifiers, then runs the core's
``Toolkit.erase_subject`` -- one transaction in which this plugin's hook
(:func:`erase_in_transaction`), every other plugin's erase hook and the core's
deletion of the party, its relationships and participations all commit
together or not at all. Inside it, this plugin:

- keeps records that the law says must be kept (interaction types with a
  retention period, such as invoices): their link to the subject moves to a
  new pseudonym party (``erased-<random>``, same kind, no name, no
  attributes) and personal fields in their payloads are masked;
- keeps relationships that other parties still need (membership of a
  household, a place in a buying committee, a department) by re-pointing them
  to the same pseudonym, so that aggregates computed on read (member counts,
  purchases per household, interactions per account) stay right;
- deletes the subject's consent ledger, quarantined records and export files,
  and scrubs the subject's identifiers from the free text of its own tables;
- keeps a keyed hash of the erased key, email and phone, so that a later
  import of the same identifier can be refused, never the identifier itself.

After the commit the SQLite file and its WAL are compacted (``VACUUM``,
``wal_checkpoint(TRUNCATE)``) so that deleted bytes do not linger, and every
text and JSON column of every table in the database -- and, on SQLite, the
bytes of the database file and its WAL -- is scanned for each identifier.
Zero residual hits is the pass mark.

The report says, per field, what happened: ``deleted``, ``anonymised`` (no
mapping or linkage can restore it) or ``pseudonymised`` (a mapping or a
linkage could: a keyed hash, a consistent token, a retained record still
linked to a pseudonym party). A pseudonym is never called anonymous. The
report never contains the identifiers themselves.
"""

from __future__ import annotations

import json
import mmap
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    String,
    Table,
    Text,
    cast,
    column,
    delete,
    exists,
    insert,
    inspect,
    or_,
    select,
    table,
    update,
)

from partygraph import Context, Party, PartyRef, ValidationError, WriteSession
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph.times import from_storage, to_storage, utcnow
from partygraph_privacy import tables
from partygraph_privacy.retention import parse_duration

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "FIXED_MASK",
    "PSEUDONYM_PREFIX",
    "BUILTIN_MASKING",
    "BUILTIN_MASKING_RESULTS",
    "Identifier",
    "erase",
    "erase_in_transaction",
    "check_masking_config",
    "check_masking_result",
    "scan_database_file",
    "scan_tables",
    "subject_identifiers",
]

MaskingStrategy = Callable[["PrivacyPlugin", Any], Any]

#: Keys of the pseudonym parties an erasure leaves in a subject's place.
PSEUDONYM_PREFIX = "erased-"
#: What the ``fixed`` strategy writes in place of a personal value.
FIXED_MASK = "[erased]"
#: Tables that hold only keyed hashes; scanned like every other (expect 0 hits).
HASH_ONLY_TABLES = ("privacy_audit", "privacy_erased", "privacy_secret")
#: Attribute values shorter than this are not searched for (too common to identify).
MIN_ATTRIBUTE_LENGTH = 4
_CHUNK = 500

# -- masking strategies (pluggable) ----------------------------------------------------------


def _canonical(value: Any) -> str:
    if isinstance(value, str):
        return value.strip().casefold()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _mask_null(plugin: PrivacyPlugin, value: Any) -> Any:
    return None


def _mask_fixed(plugin: PrivacyPlugin, value: Any) -> Any:
    return FIXED_MASK


def _mask_keyed_hash(plugin: PrivacyPlugin, value: Any) -> Any:
    # Deterministic under the database's key: the same value masks the same way in
    # every table and every erasure, so joins on masked values still work.
    return "h_" + plugin.keys.digest("mask", _canonical(value))[:32]


def _mask_random_token(plugin: PrivacyPlugin, value: Any) -> Any:
    return "t_" + secrets.token_hex(8)


#: The built-in masking strategies by name: ``fn(plugin, value) -> masked value``.
#: Each plugin instance starts from these; ``PrivacyPlugin.register_masking`` adds
#: more to that instance only (two toolkits never share a registry).
BUILTIN_MASKING: Mapping[str, MaskingStrategy] = MappingProxyType(
    {
        "null": _mask_null,
        "fixed": _mask_fixed,
        "keyed_hash": _mask_keyed_hash,
        "random_token": _mask_random_token,
    }
)
#: What each strategy makes of a field: ``anonymised`` only when nothing can restore it.
#: A keyed hash can be recomputed by whoever holds the key; a random token is
#: consistent within one erasure (it links the retained records to each other).
BUILTIN_MASKING_RESULTS: Mapping[str, str] = MappingProxyType(
    {
        "null": "anonymised",
        "fixed": "anonymised",
        "keyed_hash": "pseudonymised",
        "random_token": "pseudonymised",
    }
)


def check_masking_result(result: str) -> str:
    """Refuse a result label other than the two honest ones."""
    if result not in ("anonymised", "pseudonymised"):
        raise ValueError(f"result must be 'anonymised' or 'pseudonymised', got {result!r}")
    return result


def check_masking_config(plugin: PrivacyPlugin) -> None:
    """Every strategy named in ``[plugins.privacy.masking]`` must be registered."""
    for prefix, name in sorted(plugin.settings.masking.items()):
        if name not in plugin.masking_strategies:
            known = ", ".join(sorted(plugin.masking_strategies))
            raise ValidationError(
                f"/plugins/privacy/masking/{prefix}",
                f"unknown masking strategy {name!r}; registered: {known}",
                name,
            )


# -- identifiers -----------------------------------------------------------------------------


@attrs.frozen
class Identifier:
    """One identifier of the subject: its kind (``key``, ``email``, ``attribute.x``),
    its value and its data category."""

    kind: str
    value: str
    category: str


_CORE_IDENTIFIERS = (
    ("email", "user.contact.email"),
    ("phone", "user.contact.phone_number"),
)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def subject_identifiers(plugin: PrivacyPlugin, party: Party) -> list[Identifier]:
    """The identifiers to erase and search for: key, name, email, phone, and the
    string values of every attribute declared personal."""
    found = [Identifier("key", party.key, "user.unique_id")]
    if party.name and party.name.strip():
        found.append(Identifier("name", party.name, "user.name"))
    attributes = party.attributes
    for name, category in _CORE_IDENTIFIERS:
        value = attributes.get(name)
        if isinstance(value, str) and value.strip():
            found.append(Identifier(name, value, category))
    declared: dict[str, str] = {}
    for _, declaration in plugin.toolkit.data_declarations():
        if (
            declaration.table == "party"
            and declaration.personal
            and declaration.field.startswith("attributes.")
        ):
            declared.setdefault(declaration.field.removeprefix("attributes."), declaration.category)
    for name in sorted(declared):
        if name in ("email", "phone") or name not in attributes:
            continue
        for text in _strings(attributes[name]):
            if len(text.strip()) >= MIN_ATTRIBUTE_LENGTH:
                found.append(Identifier(f"attribute.{name}", text, declared[name]))
    unique: dict[str, Identifier] = {}
    for identifier in found:
        unique.setdefault(identifier.value.strip().casefold(), identifier)
    return list(unique.values())


def _variants(value: str) -> list[str]:
    """The forms an identifier takes in storage: as is, and JSON-escaped."""
    text = value.strip()
    forms = [text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(form for form in forms if form))


_WORD = "0-9A-Za-z"


def _pattern(form: str) -> str:
    """A regex for *form* as a whole token (no letter or digit glued to either end)."""
    head = f"(?<![{_WORD}])" if form[0].isalnum() else ""
    tail = f"(?![{_WORD}])" if form[-1].isalnum() else ""
    return head + re.escape(form) + tail


class _Matcher:
    """Finds the subject's identifiers in text."""

    def __init__(self, identifiers: Iterable[Identifier]) -> None:
        self.identifiers = list(identifiers)
        self._patterns = [
            (identifier, re.compile(_pattern(form), re.IGNORECASE))
            for identifier in self.identifiers
            for form in _variants(identifier.value)
        ]

    def find(self, text: str) -> list[Identifier]:
        """The identifiers occurring in *text* (each once)."""
        found: dict[str, Identifier] = {}
        for identifier, pattern in self._patterns:
            if identifier.kind not in found and pattern.search(text):
                found[identifier.kind] = identifier
        return list(found.values())

    def like_patterns(self) -> list[str]:
        """``LIKE`` patterns (``%`` and ``_`` escaped with ``\\``) for a first, coarse pass."""
        patterns = []
        for identifier in self.identifiers:
            for form in _variants(identifier.value):
                escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                patterns.append(f"%{escaped}%")
        return list(dict.fromkeys(patterns))


# -- masking ---------------------------------------------------------------------------------

_FIELD_CATEGORIES = (
    (re.compile(r"e_?mail"), "user.contact.email"),
    (re.compile(r"phone|mobile|(^|_)(tel|fax|msisdn)($|_)"), "user.contact.phone_number"),
    (
        re.compile(r"address|street|postcode|postal_code|(^|_)zip(_code)?($|_)"),
        "user.contact.address",
    ),
    (
        re.compile(
            r"^((full|first|last|given|family|middle|sur|nick|maiden|display|legal)_?name"
            r"|name|surname"
            r"|(customer|buyer|purchaser|billing|shipping|recipient|contact|holder|card_?holder"
            r"|account_?holder|person|user|payer|payee|sender|driver|rider|patient|member)_?name)$"
        ),
        "user.name",
    ),
)


def field_category(name: str) -> str | None:
    """The data category a payload field's name suggests (email, phone, name, address)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_")
    for pattern, category in _FIELD_CATEGORIES:
        if pattern.search(snake):
            return category
    return None


class _Masker:
    """Masks values with the strategy configured for their data category, and keeps
    the per-field report. One per erasure: a value masks the same way throughout."""

    def __init__(self, plugin: PrivacyPlugin, report: _Report) -> None:
        self.plugin = plugin
        self.report = report
        self._memo: dict[tuple[str, str], Any] = {}

    def strategy(self, category: str) -> str:
        best, length = "fixed", -1
        for prefix, name in self.plugin.settings.masking.items():
            if (category == prefix or category.startswith(prefix + ".")) and len(prefix) > length:
                best, length = name, len(prefix)
        return best

    def mask(self, value: Any, category: str, field: str) -> Any:
        name = self.strategy(category)
        strategy = self.plugin.masking_strategies[name]  # checked before the erasure
        key = (name, _canonical(value))
        if key not in self._memo:
            self._memo[key] = strategy(self.plugin, value)
        self.report.add(self.plugin.masking_results.get(name, "pseudonymised"), field)
        return self._memo[key]


def _mask_json(
    value: Any,
    path: str,
    *,
    field: str,
    matcher: _Matcher,
    masker: _Masker,
    personal_fields: bool,
    declared: Mapping[str, str],
) -> tuple[Any, bool]:
    """Mask personal fields (by declaration or name) and values holding an identifier."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            category = declared.get(child) or (
                field_category(str(key)) if personal_fields else None
            )
            if (
                category is not None
                and item not in (None, "", [], {})
                and not isinstance(item, bool)
            ):
                out[key] = masker.mask(item, category, f"{field}.{child}")
                changed = True
                continue
            out[key], touched = _mask_json(
                item, child, field=field, matcher=matcher, masker=masker,
                personal_fields=personal_fields, declared=declared,
            )  # fmt: skip
            changed = changed or touched
        return out, changed
    if isinstance(value, list):
        items = []
        changed = False
        for item in value:
            new, touched = _mask_json(
                item, path, field=field, matcher=matcher, masker=masker,
                personal_fields=personal_fields, declared=declared,
            )  # fmt: skip
            items.append(new)
            changed = changed or touched
        return items, changed
    if isinstance(value, str):
        found = matcher.find(value)
        if found:
            return masker.mask(value, found[0].category, f"{field}.{path}" if path else field), True
    return value, False


# -- the report ------------------------------------------------------------------------------


class _Report:
    """Per field: deleted, pseudonymised or anonymised, with counts.

    A field reported both ways (some values hashed, some fixed) is pseudonymised:
    the weaker guarantee is the one that holds.
    """

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter[str]] = {
            "deleted": Counter(),
            "pseudonymised": Counter(),
            "anonymised": Counter(),
        }

    def add(self, outcome: str, field: str, count: int = 1) -> None:
        if count:
            self.outcomes[outcome][field] += count

    def as_dict(self) -> dict[str, dict[str, int]]:
        pseudonymised = self.outcomes["pseudonymised"]
        anonymised = {
            field: count
            for field, count in self.outcomes["anonymised"].items()
            if field not in pseudonymised
        }
        for field, count in self.outcomes["anonymised"].items():
            if field in pseudonymised:
                pseudonymised[field] += count
        return {
            "deleted": dict(sorted(self.outcomes["deleted"].items())),
            "pseudonymised": dict(sorted(pseudonymised.items())),
            "anonymised": dict(sorted(anonymised.items())),
        }


# -- inside the erasure's transaction --------------------------------------------------------


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class _Pseudonym:
    """The party retained records and needed relationships are re-linked to (made once)."""

    def __init__(self, connection: Connection, kind: str, now: Any) -> None:
        self.connection = connection
        self.kind = kind
        self.now = now
        self.id: int | None = None
        self.key: str | None = None

    def get(self) -> int:
        if self.id is None:
            self.key = PSEUDONYM_PREFIX + secrets.token_hex(8)
            result = self.connection.execute(
                insert(party_table).values(
                    key=self.key,
                    kind=self.kind,
                    name=None,
                    attributes={},
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            self.id = int(inserted[0])
        return self.id


def _declared_payload_fields(plugin: PrivacyPlugin) -> dict[str, str]:
    declared = {}
    for _, declaration in plugin.toolkit.data_declarations():
        if (
            declaration.table == "interaction"
            and declaration.personal
            and declaration.field.startswith("payload.")
        ):
            declared[declaration.field.removeprefix("payload.")] = declaration.category
    return declared


def _mask_payloads(
    connection: Connection,
    ids: list[int],
    *,
    matcher: _Matcher,
    masker: _Masker,
    personal_fields: bool,
    declared: Mapping[str, str],
) -> int:
    inter = interaction_table
    changed = 0
    for chunk in _chunks(ids):
        rows = connection.execute(select(inter.c.id, inter.c.payload).where(inter.c.id.in_(chunk)))
        for row in rows.all():
            payload, touched = _mask_json(
                row.payload or {}, "", field="interaction.payload", matcher=matcher,
                masker=masker, personal_fields=personal_fields, declared=declared,
            )  # fmt: skip
            if touched:
                connection.execute(
                    update(inter).where(inter.c.id == row.id).values(payload=payload)
                )
                changed += 1
    return changed


def _moment(value: Any) -> datetime:
    moment = from_storage(value)
    assert moment is not None
    return moment


def _interactions(
    plugin: PrivacyPlugin,
    connection: Connection,
    now: datetime,
    subject: int,
    pseudonym: _Pseudonym,
    matcher: _Matcher,
    masker: _Masker,
    report: _Report,
) -> dict[str, int]:
    part = participant_table
    rows = connection.execute(
        select(part.c.interaction_id, part.c.type, part.c.occurred_at).where(
            part.c.party_id == subject
        )
    ).all()
    # Kept only while the law still requires it: past its period a record goes like any other.
    cutoffs = {
        type_name: to_storage(parse_duration(period).before(now))
        for type_name, period in plugin.settings.retention.items()
    }
    kept = {
        (row.interaction_id, row.type)
        for row in rows
        if row.type in cutoffs and to_storage(_moment(row.occurred_at)) >= cutoffs[row.type]
    }
    retained = sorted({interaction_id for interaction_id, _ in kept})
    by_type = Counter(type_name for _, type_name in kept)
    others = sorted({row.interaction_id for row in rows} - set(retained))
    declared = _declared_payload_fields(plugin)
    if retained:
        target = pseudonym.get()
        moved = 0
        for chunk in _chunks(retained):
            moved += connection.execute(
                update(part)
                .where(part.c.party_id == subject, part.c.interaction_id.in_(chunk))
                .values(party_id=target)
            ).rowcount
        report.add("pseudonymised", "participant.party_id", moved)
        _mask_payloads(
            connection, retained, matcher=matcher, masker=masker,
            personal_fields=True, declared=declared,
        )  # fmt: skip
    # Interactions shared with others stay (without the subject): mask what names the subject.
    shared: list[int] = []
    for chunk in _chunks(others):
        shared.extend(
            connection.execute(
                select(part.c.interaction_id)
                .where(part.c.interaction_id.in_(chunk), part.c.party_id != subject)
                .distinct()
            ).scalars()
        )
    # Shared with a group (an account, a household, a department): the group still
    # needs the touchpoint in its figures, so it keeps it with the pseudonym.
    groups = sorted(
        name for name, kind in plugin.toolkit.vocabulary.party_kinds.items() if not kind.personal
    )
    with_groups: list[int] = []
    for chunk in _chunks(sorted(set(shared))):
        with_groups.extend(
            connection.execute(
                select(part.c.interaction_id)
                .join(party_table, party_table.c.id == part.c.party_id)
                .where(
                    part.c.interaction_id.in_(chunk),
                    part.c.party_id != subject,
                    party_table.c.kind.in_(groups),
                )
                .distinct()
            ).scalars()
        )
    if with_groups:
        target = pseudonym.get()
        moved = 0
        for chunk in _chunks(sorted(set(with_groups))):
            moved += connection.execute(
                update(part)
                .where(part.c.party_id == subject, part.c.interaction_id.in_(chunk))
                .values(party_id=target)
            ).rowcount
        report.add("pseudonymised", "participant.party_id", moved)
        _mask_payloads(
            connection, sorted(set(with_groups)), matcher=matcher, masker=masker,
            personal_fields=True, declared=declared,
        )  # fmt: skip
    rest = sorted(set(shared) - set(with_groups))
    if rest:
        _mask_payloads(
            connection, rest, matcher=matcher, masker=masker,
            personal_fields=False, declared=declared,
        )  # fmt: skip
    return {f"retained_{name}": count for name, count in sorted(by_type.items())}


def _relationships(
    plugin: PrivacyPlugin,
    connection: Connection,
    subject: int,
    pseudonym: _Pseudonym,
    matcher: _Matcher,
    masker: _Masker,
    report: _Report,
) -> None:
    """Re-point relationships to groups (household, organisation, department ...) to the
    pseudonym; relationships between people are left to the core, which deletes them."""
    rel = relationship_table
    rows = connection.execute(
        select(rel).where(or_(rel.c.source_id == subject, rel.c.target_id == subject))
    ).all()
    others = {row.target_id if row.source_id == subject else row.source_id for row in rows}
    others.discard(subject)
    kinds = dict(
        connection.execute(
            select(party_table.c.id, party_table.c.kind).where(party_table.c.id.in_(sorted(others)))
        ).all()
    ) if others else {}  # fmt: skip
    party_kinds = plugin.toolkit.vocabulary.party_kinds
    for row in rows:
        outgoing = row.source_id == subject
        other = row.target_id if outgoing else row.source_id
        if other == subject:
            continue
        kind = party_kinds.get(kinds.get(other, ""))
        if kind is None or kind.personal:
            continue
        end = "source_id" if outgoing else "target_id"
        values: dict[str, Any] = {end: pseudonym.get()}
        attributes, touched = _mask_json(
            row.attributes or {}, "", field="relationship.attributes", matcher=matcher,
            masker=masker, personal_fields=True, declared={},
        )  # fmt: skip
        if touched:
            values["attributes"] = attributes
        connection.execute(update(rel).where(rel.c.id == row.id).values(**values))
        report.add("pseudonymised", f"relationship.{end}")


def _text_columns(target: Table) -> list[str]:
    return [
        name
        for name, col in target.c.items()
        if isinstance(col.type, String | JSON) and not col.primary_key
    ]


def _scrub(
    connection: Connection,
    target: Table,
    matcher: _Matcher,
    masker: _Masker,
    skip: Iterable[str] = (),
) -> None:
    """Mask the values of *target*'s text and JSON columns that hold an identifier."""
    columns = [name for name in _text_columns(target) if name not in set(skip)]
    patterns = matcher.like_patterns()
    if not columns or not patterns:
        return
    (key,) = [col for col in target.primary_key.columns]
    conditions = [
        cast(target.c[name], Text).ilike(pattern, escape="\\")
        for name in columns
        for pattern in patterns
    ]
    rows = connection.execute(
        select(key, *[target.c[name] for name in columns]).where(or_(*conditions))
    )
    for row in rows.all():
        values: dict[str, Any] = {}
        for name in columns:
            value = row._mapping[name]
            field = f"{target.name}.{name}"
            if isinstance(value, str):
                found = matcher.find(value)
                if found:
                    values[name] = masker.mask(value, found[0].category, field)
            elif value is not None:
                masked, touched = _mask_json(
                    value, "", field=field, matcher=matcher, masker=masker,
                    personal_fields=False, declared={},
                )  # fmt: skip
                if touched:
                    values[name] = masked
        if values:
            connection.execute(update(target).where(key == row[0]).values(**values))


def _privacy_tables(
    plugin: PrivacyPlugin,
    connection: Connection,
    subject: int,
    matcher: _Matcher,
    masker: _Masker,
    report: _Report,
) -> None:
    ledger = tables.ledger
    report.add(
        "deleted",
        "privacy_ledger",
        connection.execute(delete(ledger).where(ledger.c.party_id == subject)).rowcount,
    )
    quarantine, about = tables.quarantine, tables.quarantine_subject
    held = list(
        connection.execute(
            select(about.c.quarantine_id).where(about.c.party_id == subject)
        ).scalars()
    )
    connection.execute(delete(about).where(about.c.party_id == subject))
    for chunk in _chunks(held):
        report.add(
            "deleted",
            "privacy_quarantine",
            connection.execute(
                delete(quarantine).where(
                    quarantine.c.id.in_(chunk),
                    ~exists().where(about.c.quarantine_id == quarantine.c.id),
                )
            ).rowcount,
        )
    files = tables.export_file
    removed = 0
    for row in connection.execute(
        select(files.c.id, files.c.path).where(files.c.party_id == subject)
    ).all():
        path = Path(row.path)
        if path.exists():
            path.unlink()
            removed += 1
        connection.execute(delete(files).where(files.c.id == row.id))
    report.add("deleted", "privacy_export_file", removed)
    # What stays (requests, others' ledger entries and quarantined records) must not
    # name the subject: requests keep only the pseudonymous reference.
    _scrub(connection, ledger, matcher, masker)
    _scrub(connection, tables.request, matcher, masker, skip=("subject_ref",))
    _scrub(connection, quarantine, matcher, masker)
    _scrub(connection, files, matcher, masker)


def _remember_erased(
    plugin: PrivacyPlugin, connection: Connection, identifiers: list[Identifier], now: Any
) -> int:
    hashes = sorted(
        {
            plugin.keys.identifier(identifier.value)
            for identifier in identifiers
            if identifier.kind in ("key", "email", "phone")
        }
    )
    erased = tables.erased
    known = set(
        connection.execute(
            select(erased.c.identifier_hash).where(erased.c.identifier_hash.in_(hashes))
        ).scalars()
    )
    fresh = [value for value in hashes if value not in known]
    if fresh:
        connection.execute(
            insert(erased), [{"identifier_hash": value, "erased_at": now} for value in fresh]
        )
    return len(hashes)


def erase_in_transaction(
    plugin: PrivacyPlugin, party: Party, session: WriteSession
) -> dict[str, Any]:
    """The erase hook: runs inside the core's erasure transaction, before the core
    deletes the party's own rows."""
    assert party.id is not None
    connection = session.connection
    subject = party.id
    at = session.context.at or utcnow()
    now = to_storage(at)
    identifiers = subject_identifiers(plugin, party)
    matcher = _Matcher(identifiers)
    report = _Report()
    masker = _Masker(plugin, report)
    pseudonym = _Pseudonym(connection, party.kind, now)
    retained = _interactions(plugin, connection, at, subject, pseudonym, matcher, masker, report)
    _relationships(plugin, connection, subject, pseudonym, matcher, masker, report)
    _privacy_tables(plugin, connection, subject, matcher, masker, report)
    hashed = _remember_erased(plugin, connection, identifiers, now)
    return {
        **report.as_dict(),
        "retained": retained,
        "pseudonym": {"id": pseudonym.id, "key": pseudonym.key} if pseudonym.id else None,
        "erased_identifier_hashes": hashed,
    }


# -- after the commit: compaction and the completeness scan ----------------------------------


def _compact(engine: Engine, touched: list[str]) -> dict[str, Any]:
    """Compact after the commit; a failure is reported, never raised (the erasure is done)."""
    try:
        return _compact_now(engine, touched)
    except Exception as error:  # the erasure has committed: report, do not lose the report
        return {
            "method": None,
            "complete": False,
            "note": f"compaction failed ({type(error).__name__}); run VACUUM when the "
            "database is idle and scan again",
        }


def _compact_now(engine: Engine, touched: list[str]) -> dict[str, Any]:
    """Make deleted bytes go away: VACUUM and truncate the WAL (SQLite); VACUUM (PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            cursor.execute("VACUUM")
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        complete = busy is None or not busy[0]
        return {
            "method": "VACUUM, wal_checkpoint(TRUNCATE)",
            "complete": complete,
            "note": None if complete else "another connection kept the WAL from being truncated",
        }
    if engine.dialect.name == "postgresql":
        preparer = engine.dialect.identifier_preparer
        names = ", ".join(preparer.quote(name) for name in touched)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM {names}")
        return {
            "method": "VACUUM",
            "complete": True,
            "note": "dead row versions are reclaimed for reuse; PostgreSQL does not zero them "
            "on disk until overwritten (VACUUM FULL rewrites the tables)",
        }
    return {"method": None, "complete": False, "note": f"no compaction for {engine.dialect.name}"}


def _is_text(sql_type: Any) -> bool:
    return isinstance(sql_type, String | JSON) or type(sql_type).__name__.upper() in {
        "JSONB",
        "JSON",
        "CITEXT",
    }


def scan_tables(engine: Engine, identifiers: list[Identifier]) -> list[dict[str, Any]]:
    """Every text and JSON column of every table in the database, searched for each
    identifier: ``[{table, column, identifier_kind, rows}]``, never the identifier."""
    matcher = _Matcher(identifiers)
    patterns = matcher.like_patterns()
    if not patterns:
        return []
    inspector = inspect(engine)
    hits: Counter[tuple[str, str, str]] = Counter()
    with engine.connect() as connection:
        for name in sorted(inspector.get_table_names()):
            columns = [
                info["name"] for info in inspector.get_columns(name) if _is_text(info["type"])
            ]
            if not columns:
                continue
            target = table(name, *[column(col) for col in columns])
            texts = [cast(target.c[col], Text) for col in columns]
            conditions = [
                text.ilike(pattern, escape="\\") for text in texts for pattern in patterns
            ]
            for row in connection.execute(select(*texts).where(or_(*conditions))):
                for col, value in zip(columns, row, strict=True):
                    if isinstance(value, str):
                        for identifier in matcher.find(value):
                            hits[(name, col, identifier.kind)] += 1
    return [
        {"table": name, "column": col, "identifier_kind": kind, "rows": count}
        for (name, col, kind), count in sorted(hits.items())
    ]


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _inside_hash(data: Any, start: int, end: int) -> bool:
    """Is bytes[start:end] part of a longer run of hex digits (a keyed hash, a token)?"""
    left, right = start, end
    while left > 0 and data[left - 1] in _HEX:
        left -= 1
    while right < len(data) and data[right] in _HEX:
        right += 1
    return (right - left) >= 16 and (right - left) > (end - start)


def scan_database_file(engine: Engine, identifiers: list[Identifier]) -> int | None:
    """Occurrences of the identifiers in the bytes of the SQLite file and its WAL.

    None when it does not apply (PostgreSQL, an in-memory database).
    """
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    patterns = []
    for identifier in identifiers:
        hexlike = all(ch in "0123456789abcdefABCDEF" for ch in identifier.value.strip())
        for form in _variants(identifier.value):
            patterns.append((re.compile(re.escape(form.encode()), re.IGNORECASE), hexlike))
    total = 0
    for path in (Path(database), Path(database + "-wal")):
        if not path.is_file() or path.stat().st_size == 0:
            continue
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            for pattern, hexlike in patterns:
                for match in pattern.finditer(data):
                    if hexlike and _inside_hash(data, match.start(), match.end()):
                        continue
                    total += 1
    return total


def _resolve(plugin: PrivacyPlugin, ref: PartyRef | Party) -> Party:
    with plugin.toolkit.reader() as graph:
        return graph.party(ref)


def erase(
    plugin: PrivacyPlugin, party: PartyRef | Party, *, context: Context | None = None
) -> dict[str, Any]:
    """Erase the subject everywhere, compact the database, and scan it for what is left.

    Returns the completeness report: ``party`` (a pseudonymous reference, not the
    key), ``deleted`` / ``pseudonymised`` / ``anonymised`` (per field, with counts),
    ``plugins`` (each other plugin's own report), ``residual_hits`` (table, column,
    identifier kind), ``file_residual_hits`` (None where it does not apply) and
    timings.
    """
    check_masking_config(plugin)
    subject = _resolve(plugin, party)
    assert subject.id is not None
    identifiers = subject_identifiers(plugin, subject)  # before anything is deleted
    reference = plugin.keys.ref("party", subject.id)
    toolkit = plugin.toolkit
    started = time.perf_counter()
    result = toolkit.erase_subject(
        subject.id, context=context or Context(purpose="erasure", source="privacy")
    )
    erase_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    compaction = _compact(toolkit.engine, sorted({t.name for _, t in toolkit.tables()}))
    compact_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    residual = scan_tables(toolkit.engine, identifiers)
    file_hits = scan_database_file(toolkit.engine, identifiers)
    scan_ms = (time.perf_counter() - started) * 1000

    plugins = dict(result.get("plugins") or {})
    own: Mapping[str, Any] = plugins.pop("privacy", None) or {}
    deleted: Counter[str] = Counter(own.get("deleted", {}))
    core = dict(result.get("core") or {})
    deleted["party"] += core.get("parties", 0)
    if core.get("parties"):
        deleted["party.key"] += 1
        if subject.name:
            deleted["party.name"] += 1
        for name in subject.attributes:
            deleted[f"party.attributes.{name}"] += 1
    deleted["participant.party_id"] += core.get("participations", 0)
    deleted["interaction"] += core.get("interactions", 0)
    deleted["relationship"] += core.get("relationships", 0)
    kinds = sorted({identifier.kind for identifier in identifiers})
    return {
        "party": reference,
        "deleted": {field: count for field, count in sorted(deleted.items()) if count},
        "pseudonymised": dict(own.get("pseudonymised", {})),
        "anonymised": dict(own.get("anonymised", {})),
        "retained": dict(own.get("retained", {})),
        "pseudonym": own.get("pseudonym"),
        "erased_identifier_hashes": own.get("erased_identifier_hashes", 0),
        "plugins": plugins,
        "identifier_kinds": kinds,
        "residual_hits": residual,
        "file_residual_hits": file_hits,
        "file_scan": (
            "database file and WAL scanned"
            if file_hits is not None
            else f"not applicable ({toolkit.engine.dialect.name}"
            + (": in-memory database)" if toolkit.engine.dialect.name == "sqlite" else ")")
        ),
        "compaction": compaction,
        "passed": not residual and not file_hits,
        "erase_ms": round(erase_ms, 1),
        "compact_ms": round(compact_ms, 1),
        "verify_scan_ms": round(scan_ms, 1),
    }
