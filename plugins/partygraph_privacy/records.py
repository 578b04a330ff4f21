"""The privacy plugin's interchange record types: the ledger and devices as JSON Lines.

::

    {"consent": {"party": "alice", "purpose": "marketing", "granted_at": "..."}}
    {"consent": {"party": "alice", "purpose": "marketing", "withdrawn_at": "..."}}
    {"objection": {"party": "alice", "purpose": "marketing", "at": "..."}}
    {"opt_out": {"party": "alice", "gpc": true, "at": "..."}}
    {"restriction": {"party": "alice", "at": "...", "reason": "accuracy contested"}}
    {"restriction": {"party": "alice", "lifted_at": "...", "notice": "told on 2026-04-01 by email"}}
    {"limit_sensitive": {"party": "alice", "at": "..."}}
    {"device": {"key": "tablet-1", "household": "moreau", "shared": true}}

A ``consent`` record grants (``granted_at`` and/or ``basis``, or nothing but
party and purpose: a consent from now) or withdraws (``withdrawn_at``);
with both times it records a grant and its later withdrawal. Times default
to the write's time. These records are the lawful-basis bookkeeping itself,
so they declare no purpose and the gate lets them through; the rules (a
minor's own consent does not count) apply when the ledger is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from partygraph import PartyRef, RecordType, ValidationError, WriteSession
from partygraph.times import parse_time, to_storage
from partygraph_privacy import tables
from partygraph_privacy.ledger import ALL_PURPOSES, GPC_SOURCE, SALE_OR_SHARING, resolve_parties
from partygraph_privacy.minors import Guardians
from partygraph_privacy.settings import LAWFUL_BASES, Settings

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = ["LEDGER_RECORD_TYPES", "OWN_RECORD_TYPES", "record_types", "validate"]

#: Record types that write the consent ledger.
LEDGER_RECORD_TYPES = ("consent", "objection", "opt_out", "restriction", "limit_sensitive")
#: Every record type of this plugin (the gate lets them through once valid).
OWN_RECORD_TYPES = (*LEDGER_RECORD_TYPES, "device")

_PARTY = {
    "description": "The party's key (or numeric id).",
    "type": ["string", "integer"],
    "minLength": 1,
    "maxLength": 512,
}
_TIME = {
    "description": "ISO-8601 date or date-time (UTC unless an offset is given).",
    "type": "string",
    "minLength": 10,
    "maxLength": 40,
}
_OPTIONAL_TIME = {**_TIME, "type": ["string", "null"]}


def _text(description: str, max_length: int = 2000) -> dict[str, Any]:
    return {"description": description, "type": ["string", "null"], "maxLength": max_length}


_PURPOSE = {
    "description": "A purpose configured under [plugins.privacy.purposes].",
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
}
_CHANNEL = {
    "description": "email, phone, post, push, in-app ...; empty or absent: every channel.",
    "type": ["string", "null"],
    "maxLength": 64,
}
_SOURCE = _text("Where the record comes from (web form, call centre, gpc ...).", 256)
_EVIDENCE = _text("Evidence kept (form id, recording, signed document ...).")


def _schema(
    title: str, description: str, properties: Mapping[str, Any], required: Sequence[str]
) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": dict(properties),
    }


CONSENT_SCHEMA = _schema(
    "consent record",
    "A lawful basis granted for a purpose (granted_at, basis), or a consent withdrawn "
    "(withdrawn_at); both times record a grant and its withdrawal.",
    {
        "party": _PARTY,
        "purpose": _PURPOSE,
        "basis": {
            "description": "The lawful basis granted (default consent).",
            "enum": [*LAWFUL_BASES, None],
        },
        "channel": _CHANNEL,
        "granted_at": _OPTIONAL_TIME,
        "withdrawn_at": _OPTIONAL_TIME,
        "expires_at": {**_OPTIONAL_TIME, "description": "When the basis lapses (absent after)."},
        "source": _SOURCE,
        "evidence": _EVIDENCE,
        "jurisdiction": _text("The law the consent was collected under (GDPR, CCPA).", 32),
        "given_by": {
            "description": "The guardian who gave the consent for a minor (key or id).",
            "type": ["string", "integer", "null"],
            "minLength": 1,
            "maxLength": 512,
        },
        "verification": _text("How the guardian's identity and authority were verified."),
        "note": _text("A note; the balancing test for legitimate interests."),
    },
    ["party", "purpose"],
)
OBJECTION_SCHEMA = _schema(
    "objection record",
    "An objection to a purpose (direct marketing, profiling); effective at once.",
    {
        "party": _PARTY,
        "purpose": _PURPOSE,
        "channel": _CHANNEL,
        "at": _OPTIONAL_TIME,
        "source": _SOURCE,
        "evidence": _EVIDENCE,
        "note": _text("A note."),
    },
    ["party", "purpose"],
)
OPT_OUT_SCHEMA = _schema(
    "opt-out record",
    "A CCPA opt-out of the sale or sharing of personal data; gpc marks a Global Privacy "
    "Control signal.",
    {
        "party": _PARTY,
        "gpc": {"description": "Recorded from a Global Privacy Control signal.", "type": "boolean"},
        "at": _OPTIONAL_TIME,
        "source": _SOURCE,
        "evidence": _EVIDENCE,
    },
    ["party"],
)
RESTRICTION_SCHEMA = {
    **_schema(
        "restriction record",
        "A restriction of processing (at, reason), or its lifting (lifted_at, with the notice "
        "given to the subject first).",
        {
            "party": _PARTY,
            "at": _OPTIONAL_TIME,
            "reason": _text("Why processing is restricted (accuracy contested ...)."),
            "lifted_at": _OPTIONAL_TIME,
            "notice": _text("How and when the subject was told the restriction is lifted."),
            "source": _SOURCE,
            "evidence": _EVIDENCE,
        },
        ["party"],
    ),
    # Lifting needs the notice given to the subject first.
    "if": {"required": ["lifted_at"]},
    "then": {"required": ["notice"]},
}
LIMIT_SENSITIVE_SCHEMA = _schema(
    "limit-sensitive record",
    "A CCPA request to limit the use of sensitive personal data to the expected service.",
    {
        "party": _PARTY,
        "at": _OPTIONAL_TIME,
        "source": _SOURCE,
        "evidence": _EVIDENCE,
        "note": _text("A note."),
    },
    ["party"],
)
DEVICE_SCHEMA = _schema(
    "device record",
    "A device, the household it belongs to, and whether the household shares it; the same "
    "key again updates it.",
    {
        "key": {
            "description": "The device's identifier.",
            "type": "string",
            "minLength": 1,
            "maxLength": 512,
        },
        "household": {
            "description": "The household (key or id) the device belongs to.",
            "type": ["string", "integer", "null"],
            "minLength": 1,
            "maxLength": 512,
        },
        "shared": {
            "description": "Shared by the household's members (default: true when a household "
            "is named).",
            "type": ["boolean", "null"],
        },
    },
    ["key"],
)

_DESCRIPTIONS = {
    "consent": "Grant or withdraw a lawful basis (consent ...) for a purpose.",
    "objection": "Object to a purpose (direct marketing, profiling).",
    "opt_out": "Opt out of the sale or sharing of personal data (CCPA, GPC).",
    "restriction": "Restrict processing to storage, or lift a restriction with a notice.",
    "limit_sensitive": "Limit the use of sensitive data to the expected service (CCPA).",
    "device": "Register a device and the household sharing it.",
}
_SCHEMAS: Mapping[str, Mapping[str, Any]] = {
    "consent": CONSENT_SCHEMA,
    "objection": OBJECTION_SCHEMA,
    "opt_out": OPT_OUT_SCHEMA,
    "restriction": RESTRICTION_SCHEMA,
    "limit_sensitive": LIMIT_SENSITIVE_SCHEMA,
    "device": DEVICE_SCHEMA,
}


def record_types(plugin: PrivacyPlugin) -> list[RecordType]:
    """The privacy plugin's record types, bound to *plugin* (its settings)."""

    def applier(name: str) -> Callable[[Sequence[Mapping[str, Any]], WriteSession], None]:
        def apply(records: Sequence[Mapping[str, Any]], session: WriteSession) -> None:
            if name == "device":
                _apply_devices(records, session)
            else:
                _apply_ledger(plugin.settings, name, records, session)

        return apply

    return [
        RecordType(
            name, schema=_SCHEMAS[name], apply=applier(name), description=_DESCRIPTIONS[name]
        )
        for name in OWN_RECORD_TYPES
    ]


# -- semantic validation -------------------------------------------------------------------


def _time(body: Mapping[str, Any], field: str) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_time(value, field)
    except ValueError as error:
        raise ValidationError(field, str(error), value) from None


def _purpose(settings: Settings, body: Mapping[str, Any]) -> None:
    name = body.get("purpose")
    if settings.purpose(str(name)) is None:
        configured = ", ".join(sorted(settings.purposes)) or "none"
        raise ValidationError(
            "purpose",
            f"unknown purpose {name!r}; configured in [plugins.privacy.purposes]: {configured}",
            name,
        )


def validate(settings: Settings, record_type: str, body: Mapping[str, Any]) -> None:
    """Check what a schema cannot: purposes, bases, notes, notices and times.

    Raises :class:`ValidationError` naming the field.
    """
    for field in ("at", "granted_at", "withdrawn_at", "expires_at", "lifted_at"):
        _time(body, field)
    if record_type in ("consent", "objection"):
        _purpose(settings, body)
    if record_type == "consent":
        _validate_consent(settings, body)
    elif record_type == "restriction":
        if "lifted_at" in body and not str(body.get("notice") or "").strip():
            raise ValidationError(
                "notice",
                "lifting a restriction needs the notice given to the subject first "
                "(how and when they were told)",
            )
        if body.get("notice") and "lifted_at" not in body:
            raise ValidationError("lifted_at", "a notice is recorded when lifting: give lifted_at")
        start, lifted = _time(body, "at"), _time(body, "lifted_at")
        if start is not None and lifted is not None and lifted < start:
            raise ValidationError("lifted_at", "must not be before at", body.get("lifted_at"))


def _validate_consent(settings: Settings, body: Mapping[str, Any]) -> None:
    purpose = settings.purposes[str(body["purpose"])]
    granted, withdrawn = _time(body, "granted_at"), _time(body, "withdrawn_at")
    expires = _time(body, "expires_at")
    grants = withdrawn is None or granted is not None or "basis" in body
    if granted is not None and withdrawn is not None and withdrawn < granted:
        raise ValidationError("withdrawn_at", "must not be before granted_at", body["withdrawn_at"])
    if not grants:
        return
    basis = body.get("basis") or "consent"
    if withdrawn is not None and granted is None and basis != "consent":
        raise ValidationError(
            "basis",
            f"only consent can be withdrawn, not {basis}; record an objection instead",
            basis,
        )
    if purpose.workplace and basis == "consent":
        raise ValidationError(
            "basis",
            "consent is not a valid basis for monitoring employees; record "
            "legitimate_interests with a balancing note",
            basis,
        )
    if basis not in purpose.bases:
        raise ValidationError(
            "basis",
            f"{basis!r} is not a lawful basis for {purpose.name}; allowed: "
            + ", ".join(purpose.bases),
            basis,
        )
    if purpose.requires_note and not str(body.get("note") or "").strip():
        raise ValidationError(
            "note",
            f"purpose {purpose.name} requires a note: record the balancing test of "
            "legitimate interests against the subject's rights",
        )
    start = granted or withdrawn
    if expires is not None and start is not None and expires <= start:
        raise ValidationError("expires_at", "must be after granted_at", body["expires_at"])


# -- writing -----------------------------------------------------------------------------


def _resolve(session: WriteSession, refs: Iterable[PartyRef | None]) -> dict[PartyRef, int]:
    wanted = {ref for ref in refs if ref is not None}
    found = resolve_parties(session.connection, wanted)
    for ref in wanted - set(found):
        found[ref] = session.resolve(ref)  # raises NotFoundError naming the party
    return found


def _stored(value: datetime | None) -> datetime | None:
    return to_storage(value) if value is not None else None


def _apply_ledger(
    settings: Settings,
    record_type: str,
    records: Sequence[Mapping[str, Any]],
    session: WriteSession,
) -> None:
    for body in records:
        validate(settings, record_type, body)
    ids = _resolve(
        session, [ref for body in records for ref in (body["party"], body.get("given_by"))]
    )
    now = session.context.at
    assert now is not None, "the toolkit stamps every write's context with its time"
    recorded = to_storage(now)
    rows: list[dict[str, Any]] = []
    for body in records:
        for entry in _entries(record_type, body):
            row: dict[str, Any] = {
                "party_id": ids[body["party"]],
                "purpose": str(body.get("purpose") or ALL_PURPOSES),
                "channel": str(body.get("channel") or ""),
                "basis": None,
                "expires_at": None,
                "source": body.get("source"),
                "evidence": body.get("evidence"),
                "jurisdiction": body.get("jurisdiction"),
                "given_by_id": None,
                "verification": None,
                "note": body.get("note"),
                "recorded_at": recorded,
            }
            row.update(entry)
            row["at"] = to_storage(row["at"] or now)
            rows.append(row)
    for row in rows:
        given_by = row.pop("given_by", None)
        row["given_by_id"] = ids[given_by] if given_by is not None else None
        row["guardian_verified"] = False
    # Whether a consent given on someone's behalf came from their guardian, with a
    # recorded verification, is settled now: later erasures must not rewrite history.
    on_behalf = [
        row
        for row in rows
        if row["given_by_id"] is not None
        and row["given_by_id"] != row["party_id"]
        and (row.get("verification") or "").strip()
    ]
    if on_behalf:
        guardians = Guardians.load(session.connection, {row["party_id"] for row in on_behalf})
        for row in on_behalf:
            row["guardian_verified"] = guardians.holds(
                row["given_by_id"], row["party_id"], row["at"]
            )
    if rows:
        session.connection.execute(tables.ledger.insert(), rows)


def _entries(record_type: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ledger entries one record stands for (field overrides of the common row)."""
    at = _time(body, "at")
    if record_type == "consent":
        granted, withdrawn = _time(body, "granted_at"), _time(body, "withdrawn_at")
        found: list[dict[str, Any]] = []
        if withdrawn is None or granted is not None or "basis" in body:
            found.append(
                {
                    "action": "grant",
                    "basis": body.get("basis") or "consent",
                    "at": granted,
                    "expires_at": _stored(_time(body, "expires_at")),
                    "given_by": body.get("given_by"),
                    "verification": body.get("verification"),
                }
            )
        if withdrawn is not None:
            found.append({"action": "withdraw", "basis": "consent", "at": withdrawn})
        return found
    if record_type == "objection":
        return [{"action": "object", "at": at}]
    if record_type == "opt_out":
        entry: dict[str, Any] = {"action": "opt_out", "purpose": SALE_OR_SHARING, "at": at}
        if body.get("gpc"):
            via = f" via {body['source']}" if body.get("source") else ""
            entry["source"] = GPC_SOURCE
            entry["evidence"] = body.get("evidence") or f"Global Privacy Control signal{via}"
        return [entry]
    if record_type == "restriction":
        found = []
        if at is not None or "lifted_at" not in body:
            found.append({"action": "restrict", "at": at, "note": body.get("reason")})
        if "lifted_at" in body:
            found.append(
                {
                    "action": "lift_restriction",
                    "at": _time(body, "lifted_at"),
                    "note": body.get("notice"),
                }
            )
        return found
    if record_type == "limit_sensitive":
        return [{"action": "limit_sensitive", "at": at}]
    raise ValueError(f"not a ledger record type: {record_type!r}")


def _apply_devices(records: Sequence[Mapping[str, Any]], session: WriteSession) -> None:
    """Upsert devices by key (the last record of a key wins)."""
    latest = {str(body["key"]): body for body in records}
    households = _resolve(session, [body.get("household") for body in latest.values()])
    rows = []
    for key, body in latest.items():
        household = body.get("household")
        shared = body.get("shared")
        rows.append(
            {
                "b_key": key,
                "b_household": households[household] if household is not None else None,
                "b_shared": bool(shared) if shared is not None else household is not None,
            }
        )
    device = tables.device
    connection: Connection = session.connection
    existing = set(
        connection.execute(select(device.c.key).where(device.c.key.in_(sorted(latest)))).scalars()
    )
    inserts = [
        {"key": row["b_key"], "household_id": row["b_household"], "shared": row["b_shared"]}
        for row in rows
        if row["b_key"] not in existing
    ]
    updates = [row for row in rows if row["b_key"] in existing]
    if inserts:
        connection.execute(device.insert(), inserts)
    if updates:
        connection.execute(
            update(device)
            .where(device.c.key == bindparam("b_key"))
            .values(household_id=bindparam("b_household"), shared=bindparam("b_shared")),
            updates,
        )
