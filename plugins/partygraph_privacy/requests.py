"""Data-subject requests: access, erasure, rectification, restriction, objection, opt-out.

Each request is a row of ``privacy_request`` with its legal deadlines:

- GDPR (art. 12(3)): answer within one month of receipt (calendar months: a
  request received on 31 January is due on the last day of February),
  extendable by up to two further months -- only if the extension notice was
  given within the first month;
- CCPA/CPRA (1798.130): confirm receipt within 10 business days, answer within
  45 days, extendable to 90 days with notice given within the 45.

The subject is named by a keyed, pseudonymous reference (and by party id
while the party exists), so the request outlives an erasure: the record of
having answered it is itself evidence of compliance. Data is released only
once the request is verified; an unverified request waits, and its deadline
still runs. Every step is written to the audit log.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, or_, select, update

from partygraph import Context, NotFoundError, Party, PartyRef, ValidationError, WriteRefused
from partygraph.times import from_storage, isoformat, parse_time, to_storage, utcnow
from partygraph_privacy import tables
from partygraph_privacy.ledger import entries as ledger_entries

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "JURISDICTIONS",
    "KINDS",
    "add_business_days",
    "add_months",
    "confirm",
    "export_document",
    "extend",
    "fulfil",
    "listing",
    "receive",
    "rectify",
    "refuse",
    "subject_export",
    "verify",
]

#: The kinds of request a data subject can make.
KINDS = (
    "access",
    "erasure",
    "rectification",
    "restriction",
    "objection",
    "opt_out",
    "portability",
)
#: The laws whose deadlines apply.
JURISDICTIONS = ("GDPR", "CCPA")
_ALIASES = {"CPRA": "CCPA"}
OPEN = ("received", "verified", "extended")
_req = tables.request


# -- calendar arithmetic -------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """*moment* plus calendar months; a day the target month lacks becomes its last day.

    31 January + 1 month is 28 February (29 in a leap year).
    """
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_business_days(moment: datetime, days: int) -> datetime:
    """*moment* plus *days* business days (Saturdays and Sundays skipped)."""
    current = moment
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


# -- helpers -------------------------------------------------------------------------------


def _writing(plugin: PrivacyPlugin) -> contextlib.AbstractContextManager[Connection]:
    """One write transaction, like the core's own writes."""
    return plugin.toolkit.transaction()


def _time(value: datetime | str | None, field: str) -> datetime:
    if value is None:
        return utcnow()
    try:
        return parse_time(value, field)
    except ValueError as error:
        raise ValidationError(field, str(error), value) from None


def _party(plugin: PrivacyPlugin, ref: PartyRef | Party) -> Party:
    """The party, looked up without announcing a read (this is bookkeeping, not a read)."""
    with plugin.toolkit.reader() as graph:
        return graph.party(ref)


def _jurisdiction(plugin: PrivacyPlugin, party: Party, given: str | None) -> str:
    value = given or party.attributes.get("jurisdiction") or plugin.settings.jurisdiction
    name = str(value).strip().upper()
    name = _ALIASES.get(name, name)
    if name not in JURISDICTIONS:
        raise ValidationError(
            "jurisdiction", f"unknown jurisdiction {value!r}; known: GDPR, CCPA", value
        )
    return name


def _deadline(
    plugin: PrivacyPlugin, jurisdiction: str, received: datetime, extended: bool
) -> datetime:
    deadlines = plugin.settings.deadlines
    if jurisdiction == "GDPR":
        months = deadlines.gdpr_months + (deadlines.gdpr_extension_months if extended else 0)
        return add_months(received, months)
    days = deadlines.ccpa_max_days if extended else deadlines.ccpa_days
    return received + timedelta(days=days)


def _as_dict(row: Any, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    due = from_storage(row.due_at)
    confirm_by = from_storage(row.confirm_by)
    is_open = row.status in OPEN
    return {
        "id": row.id,
        "subject_ref": row.subject_ref,
        "party_id": row.party_id,
        "kind": row.kind,
        "jurisdiction": row.jurisdiction,
        "status": row.status,
        "received_at": isoformat(row.received_at),
        "due_at": isoformat(row.due_at),
        "confirm_by": isoformat(row.confirm_by),
        "confirmed_at": isoformat(row.confirmed_at),
        "verified": row.verified_at is not None,
        "verified_at": isoformat(row.verified_at),
        "verification": row.verification,
        "extension_notice_at": isoformat(row.extension_notice_at),
        "outcome": row.outcome,
        "closed_at": isoformat(row.closed_at),
        "overdue": bool(is_open and due is not None and now > due),
        "confirmation_overdue": bool(
            is_open and confirm_by is not None and row.confirmed_at is None and now > confirm_by
        ),
    }


def _load(connection: Connection, request_id: int) -> Any:
    row = connection.execute(select(_req).where(_req.c.id == request_id)).first()
    if row is None:
        raise NotFoundError(f"no data-subject request with id {request_id}")
    return row


def _require_open(row: Any) -> None:
    if row.status not in OPEN:
        raise ValidationError(
            "request", f"request {row.id} is already {row.status}; it cannot change now", row.id
        )


def _log(
    plugin: PrivacyPlugin,
    connection: Connection,
    request_id: int,
    step: str,
    subject_id: int | None,
    actor: str | None = None,
) -> None:
    from partygraph_privacy.audit import log_request_step

    log_request_step(plugin, connection, request_id, step, subject_id, actor=actor)


def _actor(context: Context | None) -> str | None:
    return context.actor if context is not None else None


def _change(
    plugin: PrivacyPlugin,
    request_id: int,
    step: str,
    values: Mapping[str, Any],
    *,
    check: Any = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Update an open request, log the step, and return the request as it now is."""
    with _writing(plugin) as connection:
        row = _load(connection, request_id)
        _require_open(row)
        if check is not None:
            values = {**values, **check(row)}
        connection.execute(update(_req).where(_req.c.id == request_id).values(**values))
        _log(plugin, connection, request_id, step, row.party_id, actor=actor)
        return _as_dict(_load(connection, request_id))


# -- the request life cycle ----------------------------------------------------------------


def receive(
    plugin: PrivacyPlugin,
    party: PartyRef | Party,
    kind: str,
    *,
    received_at: datetime | str | None = None,
    jurisdiction: str | None = None,
    context: Context | None = None,
) -> dict[str, Any]:
    """Log a request with its deadline (and, under CCPA, its confirm-by date)."""
    if kind not in KINDS:
        raise ValidationError("kind", f"unknown request kind {kind!r}; known: {', '.join(KINDS)}")
    subject = _party(plugin, party)
    assert subject.id is not None
    law = _jurisdiction(plugin, subject, jurisdiction)
    received = _time(received_at, "received_at")
    confirm_by = (
        add_business_days(received, plugin.settings.deadlines.ccpa_confirm_business_days)
        if law == "CCPA"
        else None
    )
    with _writing(plugin) as connection:
        inserted = connection.execute(
            insert(_req).values(
                subject_ref=plugin.keys.ref("party", subject.id),
                party_id=subject.id,
                kind=kind,
                jurisdiction=law,
                received_at=to_storage(received),
                due_at=to_storage(_deadline(plugin, law, received, extended=False)),
                confirm_by=to_storage(confirm_by) if confirm_by is not None else None,
                status="received",
            )
        ).inserted_primary_key
        assert inserted is not None
        request_id = int(inserted[0])
        _log(plugin, connection, request_id, "received", subject.id, actor=_actor(context))
        return _as_dict(_load(connection, request_id))


def confirm(
    plugin: PrivacyPlugin, request_id: int, at: datetime | str | None = None
) -> dict[str, Any]:
    """Record that receipt was confirmed to the subject."""
    when = _time(at, "at")
    return _change(plugin, request_id, "confirmed", {"confirmed_at": to_storage(when)})


def verify(
    plugin: PrivacyPlugin, request_id: int, evidence: str, at: datetime | str | None = None
) -> dict[str, Any]:
    """Record how the requester's identity was verified; data may be released after this."""
    if not evidence or not evidence.strip():
        raise ValidationError("evidence", "say how the requester's identity was verified")
    when = _time(at, "at")
    return _change(
        plugin,
        request_id,
        "verified",
        {"verified_at": to_storage(when), "verification": evidence.strip(), "status": "verified"},
    )


def extend(
    plugin: PrivacyPlugin, request_id: int, notice_at: datetime | str | None = None
) -> dict[str, Any]:
    """Extend the deadline: only once, and only if the notice is given in time.

    GDPR: to three months from receipt, the notice within the first month.
    CCPA: to 90 days from receipt, the notice within the first 45 days.
    """
    notice = _time(notice_at, "notice_at")

    def check(row: Any) -> dict[str, Any]:
        received = from_storage(row.received_at)
        assert received is not None
        if row.extension_notice_at is not None:
            raise ValidationError("request", f"request {row.id} was extended already", row.id)
        if row.jurisdiction == "GDPR" and plugin.settings.deadlines.gdpr_extension_months == 0:
            raise ValidationError("request", "the configuration allows no GDPR extension")
        if notice < received:
            raise ValidationError("notice_at", "the extension notice predates the request")
        first = _deadline(plugin, row.jurisdiction, received, extended=False)
        if notice > first:
            raise ValidationError(
                "notice_at",
                f"an extension needs notice within the original period (by "
                f"{first.isoformat().replace('+00:00', 'Z')}); notice given "
                f"{notice.isoformat().replace('+00:00', 'Z')} is too late",
                isoformat(to_storage(notice)),
            )
        return {
            "due_at": to_storage(_deadline(plugin, row.jurisdiction, received, extended=True)),
            "status": "extended" if row.verified_at is None else row.status,
        }

    return _change(
        plugin, request_id, "extended", {"extension_notice_at": to_storage(notice)}, check=check
    )


def refuse(plugin: PrivacyPlugin, request_id: int, reason: str) -> dict[str, Any]:
    """Refuse a request, with the reason given to the subject (it stays on record)."""
    if not reason or not reason.strip():
        raise ValidationError("reason", "a refusal needs the reason given to the subject")
    return _change(
        plugin,
        request_id,
        "refused",
        {"status": "refused", "outcome": reason.strip(), "closed_at": to_storage(utcnow())},
    )


def fulfil(plugin: PrivacyPlugin, request_id: int, **fields: Any) -> dict[str, Any]:
    """Carry out a verified request; returns ``{"request": ..., "result": ...}``.

    access/portability: the export document (``path=`` writes it to a file too);
    erasure: the completeness report; restriction: ``reason=``; objection:
    ``purpose=`` (default marketing); opt_out: ``gpc=``; rectification:
    ``name=`` and/or ``attributes=``. ``context=`` says who acts.
    """
    context: Context | None = fields.pop("context", None)
    actor = _actor(context)
    with plugin.toolkit.engine.connect() as connection:
        row = _load(connection, request_id)
    _require_open(row)
    if row.verified_at is None:
        with _writing(plugin) as connection:
            _log(plugin, connection, request_id, "release_refused_unverified", row.party_id, actor)
        raise WriteRefused(
            f"request {request_id} is not verified; data is released only after verification",
            plugin="privacy",
        )
    if row.party_id is None:
        raise NotFoundError(f"the subject of request {request_id} no longer exists")
    with _writing(plugin) as connection:
        _log(plugin, connection, request_id, "approved", row.party_id, actor)
    subject = row.party_id
    result: Any
    step: str
    if row.kind in ("access", "portability"):
        result = export_document(
            plugin,
            subject,
            context=Context(
                actor=actor,
                purpose="access_request",
                source="privacy",
                viewer_role=context.viewer_role if context else None,
            ),
            path=fields.get("path"),
        )
        step, outcome = (
            "exported",
            "export delivered" + (" to a file" if fields.get("path") else ""),
        )
    elif row.kind == "erasure":
        from partygraph_privacy import erasure

        result = erasure.erase(
            plugin, subject, context=Context(actor=actor, purpose="erasure", source="privacy")
        )
        hits = len(result["residual_hits"])
        step = "erased"
        outcome = f"erased; {hits} residual hit(s) in tables" + (
            f", {result['file_residual_hits']} in the database file"
            if result.get("file_residual_hits") is not None
            else ""
        )
    elif row.kind == "restriction":
        plugin.restrict(
            subject, reason=fields.get("reason") or f"data-subject request {request_id}"
        )
        result, step, outcome = None, "restricted", "processing restricted to storage"
    elif row.kind == "objection":
        purpose = fields.get("purpose") or "marketing"
        plugin.object(subject, purpose)
        result, step, outcome = None, "objected", f"objection to {purpose} recorded"
    elif row.kind == "opt_out":
        plugin.opt_out(subject, gpc=bool(fields.get("gpc", False)))
        result, step, outcome = None, "opted_out", "opted out of sale and sharing"
    else:  # rectification
        party = rectify(
            plugin,
            subject,
            name=fields.get("name"),
            attributes=fields.get("attributes"),
            context=Context(actor=actor, purpose="rectification", source="privacy"),
        )
        result, step, outcome = party, "rectified", "data rectified"
    with _writing(plugin) as connection:
        connection.execute(
            update(_req)
            .where(_req.c.id == request_id)
            .values(status="completed", outcome=outcome, closed_at=to_storage(utcnow()))
        )
        _log(plugin, connection, request_id, step, subject, actor)
        done = _as_dict(_load(connection, request_id))
    return {"request": done, "result": result}


def listing(plugin: PrivacyPlugin, party: PartyRef | Party | None = None) -> list[dict[str, Any]]:
    """Requests, oldest first, each with ``overdue`` computed against now."""
    statement = select(_req).order_by(_req.c.id)
    if party is not None:
        subject = _party(plugin, party)
        assert subject.id is not None
        statement = statement.where(
            or_(
                _req.c.subject_ref == plugin.keys.ref("party", subject.id),
                _req.c.party_id == subject.id,
            )
        )
    now = utcnow()
    with plugin.toolkit.engine.connect() as connection:
        return [_as_dict(row, now) for row in connection.execute(statement)]


# -- access, portability and rectification -------------------------------------------------


def export_document(
    plugin: PrivacyPlugin,
    party: PartyRef | Party,
    *,
    context: Context | None = None,
    path: str | Path | None = None,
) -> dict[str, Any]:
    """The access/portability document: everything about the subject, JSON-ready.

    The core gathers the party, its relationships, interactions and roles
    (with their reasons) and every enabled plugin's export; this plugin adds
    the consent ledger, the subject's requests and quarantined records. With
    *path*, the document is written there too and the file is remembered, so
    that an erasure removes it.
    """
    subject = _party(plugin, party)
    assert subject.id is not None
    document = plugin.toolkit.export_subject(
        subject.id, context=context or Context(purpose="access_request", source="privacy")
    )
    if path is not None:
        target = Path(path).expanduser().resolve()
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        # Registered and written together: a file that could not be written is not
        # registered, and a registered file is one that erasure will find.
        with _writing(plugin) as connection:
            connection.execute(
                insert(tables.export_file).values(
                    party_id=subject.id, path=str(target), written_at=to_storage(utcnow())
                )
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(target.name + ".tmp")
            try:
                temporary.write_text(text + "\n", encoding="utf-8")
                os.replace(temporary, target)
            except BaseException:
                temporary.unlink(missing_ok=True)  # no stray copy of personal data
                raise
    return document


def subject_export(plugin: PrivacyPlugin, party: Party, connection: Connection) -> dict[str, Any]:
    """This plugin's section of the access export (its export hook)."""
    assert party.id is not None
    requests = connection.execute(
        select(_req)
        .where(
            or_(
                _req.c.subject_ref == plugin.keys.ref("party", party.id),
                _req.c.party_id == party.id,
            )
        )
        .order_by(_req.c.id)
    )
    quarantine, subject = tables.quarantine, tables.quarantine_subject
    held = connection.execute(
        select(quarantine)
        .join(subject, subject.c.quarantine_id == quarantine.c.id)
        .where(subject.c.party_id == party.id)
        .order_by(quarantine.c.id)
    )
    files = tables.export_file
    exports = connection.execute(
        select(files.c.written_at).where(files.c.party_id == party.id).order_by(files.c.id)
    )
    now = utcnow()
    return {
        "ledger": ledger_entries(connection, party.id),
        "requests": [_as_dict(row, now) for row in requests],
        "quarantined": [
            {
                "id": row.id,
                "record_type": row.record_type,
                "record": row.record,
                "reason": row.reason,
                "quarantined_at": isoformat(row.quarantined_at),
                "expires_at": isoformat(row.expires_at),
            }
            for row in held
        ],
        "export_files": [{"written_at": isoformat(row.written_at)} for row in exports],
    }


def rectify(
    plugin: PrivacyPlugin,
    party: PartyRef | Party,
    *,
    name: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    context: Context | None = None,
) -> Party:
    """Correct the subject's name and/or attributes (merged), as an audited write."""
    if name is None and not attributes:
        raise ValidationError("rectification", "give a corrected name or attributes")
    subject = _party(plugin, party)
    acting = Context(
        actor=_actor(context),
        purpose="rectification",
        source=context.source if context is not None else "privacy",
        at=context.at if context is not None else None,
    )
    return plugin.toolkit.upsert_party(
        subject.key, subject.kind, name, dict(attributes or {}), context=acting
    )
