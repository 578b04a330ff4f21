"""The audit log: append-only, hash-chained under the database's key.

Every entry of ``privacy_audit`` carries a sequence number, a time, the actor
and the subject as keyed pseudonymous references (never a name, an email or a
party key, so an erasure never has to touch the log), the action, the purpose
and a small JSON detail (counts, record types, row ids -- nothing personal).
Its hash is ``HMAC(key, prev_hash, canonical JSON of the entry)``, where the
canonical JSON includes the sequence number and the time, and ``prev_hash`` is
the previous entry's hash (``"0" * 64`` for the first). So:

- an edited entry no longer matches its hash;
- a deleted entry leaves a gap in the sequence, or (if the rows after it were
  renumbered) an entry whose ``prev_hash`` names no entry before it;
- reordered entries break both the hashes and the links;
- a truncated tail is caught against an anchor -- the head hash and the
  length, exported with :func:`anchor` and kept elsewhere.

Without the key nobody can rewrite the chain consistently; with a key stored
in the database itself (the fallback of :mod:`partygraph_privacy.keys`) whoever
can edit the database can, which is why production keeps the key elsewhere.

Writes are audited once per batch and phase inside the write's own
transaction, so the entry commits with the data or not at all, and an audit
row that cannot be written fails the write. Refused writes are audited after
the rollback, in a transaction of their own. Reads through the toolkit's API
are buffered in the toolkit and appended in batches (:mod:`partygraph_privacy.readlog`
says when), or, with ``audit.reads = "immediate"``, each in a short transaction
of its own; a read whose audit entry cannot be written fails.

On PostgreSQL appending takes a transaction-level advisory lock first, so
concurrent writers are serialised from their first audit entry until they
commit (the chain is linear); on SQLite writers are serialised already.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event, select

from partygraph import Context, NotFoundError, Party, UserError, WriteRefused
from partygraph.storage.prepared import Prepared
from partygraph.times import to_storage, utcnow
from partygraph_privacy import tables
from partygraph_privacy.readlog import PendingRead

if TYPE_CHECKING:
    from partygraph import WriteBatch, WriteSession
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "GENESIS",
    "anchor",
    "append",
    "canonical",
    "entries",
    "flush_reads",
    "log_request_step",
    "record_read",
    "record_refusal",
    "record_write",
    "verify",
    "write_transaction",
]

#: The ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: The advisory lock that serialises appends on PostgreSQL.
_LOCK = int(hashlib.sha256(b"partygraph-privacy-audit").hexdigest()[:15], 16)
#: Fields of a record-type body that name a party.
_PARTY_FIELDS = ("party", "given_by", "household")

_audit = tables.audit
#: The chain head: the last entry's sequence number and hash.
_HEAD = Prepared(select(_audit.c.seq, _audit.c.hash).order_by(_audit.c.seq.desc()).limit(1))
_INSERT = Prepared(_audit.insert())


#: JSON's spelling of a string with only ASCII characters, as ``json.dumps`` writes it.
_encode_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def canonical(value: Any) -> str:
    """The canonical JSON text of *value*: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _at_text(at: datetime) -> str:
    return to_storage(at).isoformat(sep=" ", timespec="microseconds")


def _entry_hash(
    plugin: PrivacyPlugin,
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor_ref: str | None,
    action: str,
    subject_ref: str | None,
    purpose: str | None,
    detail: Any,
) -> str:
    """An entry's hash from its stored fields, through :func:`canonical` (what
    :func:`verify` checks; appending writes the same text faster, :func:`_entry_text`)."""
    entry = {
        "seq": int(seq),
        "at": _at_text(at),
        "actor_ref": actor_ref,
        "action": action,
        "subject_ref": subject_ref,
        "purpose": purpose,
        "detail": detail,
    }
    return plugin.keys.digest(prev_hash, canonical(entry))


def _json_text(value: Any) -> str:
    """*value* (a string or None) as :func:`canonical` writes it."""
    return "null" if value is None else _encode_string(value)


def _entry_text(
    *,
    seq: int,
    at_text: str,
    actor_ref: str | None,
    action: str,
    subject_ref: str | None,
    purpose: str | None,
    detail_text: str,
) -> str:
    """The canonical JSON text of an entry, given its detail's canonical text.

    Written out in :func:`canonical`'s key order and spelling: hashing thousands
    of read entries a second, encoding the entry's dict again (and its detail
    inside it) is most of the cost of an append. Any field that is not text
    goes through :func:`canonical` itself.
    """
    texts = (actor_ref, subject_ref, purpose)
    if type(action) is not str or not all(t is None or type(t) is str for t in texts):
        return canonical(
            {
                "seq": int(seq),
                "at": at_text,
                "actor_ref": actor_ref,
                "action": action,
                "subject_ref": subject_ref,
                "purpose": purpose,
                "detail": json.loads(detail_text),
            }
        )
    return (
        f'{{"action":{_encode_string(action)},"actor_ref":{_json_text(actor_ref)},'
        f'"at":{_encode_string(at_text)},"detail":{detail_text},'
        f'"purpose":{_json_text(purpose)},"seq":{int(seq)},'
        f'"subject_ref":{_json_text(subject_ref)}}}'
    )


def _stored_detail(detail: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The detail as stored (what a JSON column gives back) and its canonical text."""
    if detail is None:
        return None, "null"
    stored = json.loads(canonical(dict(detail)))
    return stored, canonical(stored)


@functools.lru_cache(maxsize=1024)
def _shared_detail(items: tuple[tuple[str, Any], ...]) -> tuple[Any, str]:
    """:func:`_stored_detail` of a detail many entries share (a read's kind and source)."""
    return _stored_detail(dict(items))


def _detail_of(detail: Mapping[str, Any] | None) -> tuple[Any, str]:
    """:func:`_stored_detail`, remembered for flat details of text (every read's)."""
    if detail is not None and all(value is None or type(value) is str for value in detail.values()):
        stored, text = _shared_detail(tuple(detail.items()))
        return dict(stored), text  # each row gets its own dict
    return _stored_detail(detail)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")


def _row(
    plugin: PrivacyPlugin,
    seq: int,
    prev_hash: str,
    *,
    at: datetime,
    actor_ref: str | None,
    action: str,
    subject_ref: str | None,
    purpose: str | None,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The stored row of one entry, hashed onto *prev_hash*."""
    when = to_storage(at)
    # What is stored is what was hashed: JSON columns may reorder keys, never values.
    stored_detail, detail_text = _detail_of(detail)
    text = _entry_text(
        seq=seq,
        at_text=_at_text(when),
        actor_ref=actor_ref,
        action=action,
        subject_ref=subject_ref,
        purpose=purpose,
        detail_text=detail_text,
    )
    return {
        "seq": seq,
        "at": when,
        "actor_ref": actor_ref,
        "action": action,
        "subject_ref": subject_ref,
        "purpose": purpose,
        "detail": stored_detail,
        "prev_hash": prev_hash,
        "hash": plugin.keys.digest(prev_hash, text),
    }


def _take_pending(plugin: PrivacyPlugin, connection: Connection) -> list[PendingRead]:
    """The buffered read entries, handed to *connection*'s transaction.

    Should that transaction roll back (a refused write, a lost race), they go
    back to the buffer for the next append.
    """
    taken = plugin.reads.take()
    if not taken:
        return taken
    settled = False

    def committed(_: Connection) -> None:
        nonlocal settled
        settled = True

    def rolled_back(_: Connection) -> None:
        nonlocal settled
        if not settled:
            settled = True
            plugin.reads.restore(taken)

    event.listen(connection, "commit", committed, once=True)
    event.listen(connection, "rollback", rolled_back, once=True)
    return taken


def _append_rows(
    plugin: PrivacyPlugin, connection: Connection, new: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Append the buffered reads, then *new* (if any), in *connection*'s transaction."""
    _lock(connection)
    last = _HEAD.first(connection)
    pending: Sequence[PendingRead] = _take_pending(plugin, connection)
    seq = int(last.seq) + 1 if last is not None else 1
    prev_hash = str(last.hash) if last is not None else GENESIS
    rows = []
    ref = plugin.keys.ref
    for read in pending:
        row = _row(
            plugin,
            seq,
            prev_hash,
            at=read.at,
            actor_ref=ref("actor", read.actor) if read.actor is not None else None,
            action=read.action,
            subject_ref=ref("party", read.subject_id) if read.subject_id is not None else None,
            purpose=read.purpose,
            detail=read.detail,
        )
        rows.append(row)
        seq, prev_hash = seq + 1, row["hash"]
    if new is not None:
        rows.append(_row(plugin, seq, prev_hash, **new))
    if len(rows) == 1:
        _INSERT.execute(connection, rows[0])
    elif rows:
        connection.execute(_audit.insert(), rows)
    return rows[-1] if new is not None else None


def append(
    plugin: PrivacyPlugin,
    connection: Connection,
    *,
    action: str,
    actor: str | None = None,
    subject_id: int | None = None,
    subject_ref: str | None = None,
    purpose: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Append one entry inside *connection*'s transaction and return it.

    The reads buffered so far are appended first, in the same transaction.
    *actor* and *subject_id* are stored only as keyed pseudonymous references
    (give *subject_ref* instead when only the reference is known, after an
    erasure). *detail* must hold nothing personal: counts, record types, row
    ids. Errors propagate: an audit entry that cannot be written must fail the
    action it records.
    """
    actor_ref = plugin.keys.ref("actor", actor) if actor is not None else None
    if subject_ref is None and subject_id is not None:
        subject_ref = plugin.keys.ref("party", subject_id)
    new = {
        "at": at or utcnow(),
        "actor_ref": actor_ref,
        "action": action,
        "subject_ref": subject_ref,
        "purpose": purpose,
        "detail": detail,
    }
    row = _append_rows(plugin, connection, new)
    assert row is not None
    return row


def flush_reads(plugin: PrivacyPlugin) -> None:
    """Append the buffered read entries now, in a transaction of their own."""
    if not len(plugin.reads):
        return
    with write_transaction(plugin) as connection:
        _append_rows(plugin, connection, None)


def write_transaction(plugin: PrivacyPlugin) -> contextlib.AbstractContextManager[Connection]:
    """A connection in a write transaction of its own (``BEGIN IMMEDIATE`` on SQLite)."""
    return plugin.toolkit.transaction()


# -- hook functions ------------------------------------------------------------------------


def _batch_subjects(batch: WriteBatch, session: WriteSession) -> set[int]:
    found: set[int] = set()
    for party in batch.parties:
        if party.id is not None:
            found.add(int(party.id))
    for relationship in batch.relationships:
        for end in (relationship.source, relationship.target):
            if isinstance(end, int) and not isinstance(end, bool):
                found.add(end)
    for interaction in batch.interactions:
        for participant in interaction.participants:
            if isinstance(participant.party, int) and not isinstance(participant.party, bool):
                found.add(participant.party)
    for record in batch.records:
        for field in _PARTY_FIELDS:
            ref = record.get(field)
            if isinstance(ref, str | int) and not isinstance(ref, bool):
                try:
                    found.add(session.resolve(ref))
                except NotFoundError:
                    continue
    return found


def record_write(plugin: PrivacyPlugin, batch: WriteBatch, session: WriteSession) -> None:
    """``partygraph_after_write``: one entry per batch and phase, in the write's transaction.

    Batches whose items were all refused or withheld write nothing here.
    """
    count = len(batch)
    if count == 0:
        return
    subjects = sorted(
        plugin.keys.ref("party", party_id) for party_id in _batch_subjects(batch, session)
    )
    detail: dict[str, Any] = {"count": count, "subjects": subjects}
    context = session.context
    append(
        plugin,
        session.connection,
        action=f"write:{batch.phase}",
        actor=context.actor,
        purpose=context.purpose,
        detail=detail,
    )


def _category(error: BaseException) -> str:
    if isinstance(error, WriteRefused):
        return "refused"
    if isinstance(error, UserError):
        return "invalid"
    return "failure"


def record_refusal(plugin: PrivacyPlugin, error: BaseException, context: Context) -> None:
    """``partygraph_write_failed``: audit a rolled-back write in a transaction of its own.

    Only the error's class and a generic category are kept -- error messages
    name parties by key. Never raises: the original error matters more.
    """
    detail: dict[str, Any] = {"error": type(error).__name__, "category": _category(error)}
    if isinstance(error, WriteRefused) and error.plugin:
        detail["plugin"] = error.plugin
    report = getattr(error, "report", None)
    rejected = getattr(report, "rejected", None)
    if isinstance(rejected, list):
        detail["rejected"] = len(rejected)
    try:
        with write_transaction(plugin) as connection:
            append(
                plugin,
                connection,
                action="write_refused",
                actor=context.actor,
                purpose=context.purpose,
                detail=detail,
            )
    except Exception:  # the hook must not raise: the original error matters more
        return


def record_read(plugin: PrivacyPlugin, party: Party, action: str, context: Context) -> None:
    """``partygraph_after_read``: audit a read; errors fail the read.

    Buffered (the default): the entry is kept and appended with others
    (:mod:`partygraph_privacy.readlog`). Immediate: appended in a short
    transaction of its own before the read returns.
    """
    detail: dict[str, Any] = {"kind": party.kind, "source": context.source}
    if context.viewer_role is not None:
        detail["viewer_role"] = context.viewer_role
    read = PendingRead(utcnow(), context.actor, f"read:{action}", party.id, context.purpose, detail)
    if plugin.settings.audit_reads == "immediate":
        # The read fails with its entry: nothing was shown, nothing is kept.
        keys = plugin.keys
        with write_transaction(plugin) as connection:
            _append_rows(
                plugin,
                connection,
                {
                    "at": read.at,
                    "actor_ref": keys.ref("actor", read.actor) if read.actor is not None else None,
                    "action": read.action,
                    "subject_ref": keys.ref("party", read.subject_id)
                    if read.subject_id is not None
                    else None,
                    "purpose": read.purpose,
                    "detail": read.detail,
                },
            )
    elif plugin.reads.add(read):
        flush_reads(plugin)


def log_request_step(
    plugin: PrivacyPlugin,
    connection: Connection,
    request_id: int,
    step: str,
    subject_id: int | None,
    actor: str | None = None,
    *,
    subject_ref: str | None = None,
    purpose: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Audit one step of a data-subject request (received, verified, approved, exported,
    erased ...) inside *connection*'s transaction: action ``request:<step>``.

    The subject is referred to by ``keys.ref("party", subject_id)``, or by
    *subject_ref* when the party is gone. *detail* must hold nothing personal.
    """
    return append(
        plugin,
        connection,
        action=f"request:{step}",
        actor=actor,
        subject_id=subject_id,
        subject_ref=subject_ref,
        purpose=purpose,
        detail={"request": int(request_id), **dict(detail or {})},
    )


# -- reading and verifying -----------------------------------------------------------------


def entries(plugin: PrivacyPlugin, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest entries (all with ``limit=None``), oldest first, JSON-ready."""
    flush_reads(plugin)
    statement = select(_audit).order_by(_audit.c.seq.desc())
    if limit is not None:
        statement = statement.limit(limit)
    with plugin.toolkit.engine.connect() as connection:
        rows = list(connection.execute(statement))
    found = []
    for row in reversed(rows):
        item = dict(row._mapping)
        item["at"] = _at_text(item["at"])
        found.append(item)
    return found


def anchor(plugin: PrivacyPlugin) -> dict[str, Any]:
    """The chain's head hash and length, to keep elsewhere and verify against later."""
    flush_reads(plugin)
    with plugin.toolkit.engine.connect() as connection:
        last = connection.execute(
            select(_audit.c.seq, _audit.c.hash).order_by(_audit.c.seq.desc()).limit(1)
        ).first()
    if last is None:
        return {"head": GENESIS, "length": 0}
    return {"head": str(last.hash), "length": int(last.seq)}


def verify(plugin: PrivacyPlugin, anchor: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Recompute the chain in one pass; name the first entry that does not hold.

    Returns ``{"ok", "entries", "first_bad_seq", "problem", "kind", "head"}``:
    *kind* is ``edited``, ``deleted``, ``reordered``, ``truncated`` or None.
    With an *anchor* (``{"head", "length"}`` from :func:`anchor`), a chain
    shorter than the anchor, or one whose entry at the anchored length is not
    the anchored head, fails too.
    """
    count = 0
    expected_seq = 1
    prev_hash = GENESIS
    first_bad: int | None = None
    problem: str | None = None
    kind: str | None = None
    unlinked: str | None = None  # the prev_hash of the first entry that breaks the links
    anchored_length = int(anchor["length"]) if anchor is not None else None
    anchored_head = str(anchor["head"]) if anchor is not None else None
    hash_at_anchor: str | None = None

    def fail(seq: int, what: str, message: str) -> None:
        nonlocal first_bad, problem, kind
        if first_bad is None:
            first_bad, kind, problem = seq, what, message

    flush_reads(plugin)
    with plugin.toolkit.engine.connect() as connection:
        rows: Iterable[Any] = connection.execution_options(yield_per=2000).execute(
            select(_audit).order_by(_audit.c.seq)
        )
        for row in rows:
            count += 1
            seq = int(row.seq)
            if first_bad is None:
                if seq != expected_seq:
                    missing = (
                        f"entry {expected_seq}"
                        if seq == expected_seq + 1
                        else f"entries {expected_seq} to {seq - 1}"
                    )
                    fail(expected_seq, "deleted", f"{missing} missing: deleted from the log")
                elif row.prev_hash != prev_hash:
                    unlinked = str(row.prev_hash)
                    fail(seq, "reordered", "")  # refined below, once the pass is over
                elif row.hash != _entry_hash(
                    plugin,
                    prev_hash,
                    seq=seq,
                    at=row.at,
                    actor_ref=row.actor_ref,
                    action=row.action,
                    subject_ref=row.subject_ref,
                    purpose=row.purpose,
                    detail=row.detail,
                ):
                    fail(seq, "edited", f"entry {seq} was edited: its hash does not match")
            if seq == anchored_length:
                hash_at_anchor = str(row.hash)
            expected_seq = seq + 1
            prev_hash = str(row.hash)
        if unlinked is not None and first_bad is not None:
            # Which entry did the misplaced one follow when it was written?
            found = connection.execute(
                select(_audit.c.seq).where(_audit.c.hash == unlinked)
            ).first()
            claimed = int(found.seq) if found is not None else None
            if claimed is None:
                kind = "deleted"
                problem = (
                    f"entry {first_bad} does not follow entry {first_bad - 1}: the entry it "
                    "followed when written is gone (deleted, and the log renumbered)"
                )
            else:
                problem = (
                    f"entry {first_bad} does not follow entry {first_bad - 1}: it followed "
                    f"entry {claimed} when written (entries reordered or removed)"
                )
    if first_bad is None and anchored_length is not None and anchored_length > 0:
        if expected_seq - 1 < anchored_length:
            fail(
                expected_seq,
                "truncated",
                f"the log ends at entry {expected_seq - 1}, but the anchor records "
                f"{anchored_length} entries: entries {expected_seq} to {anchored_length} "
                "were removed",
            )
        elif hash_at_anchor != anchored_head:
            fail(
                anchored_length,
                "truncated",
                f"entry {anchored_length} is not the anchored head: the log was cut "
                "short and appended to since, or rewritten",
            )
    return {
        "ok": first_bad is None,
        "entries": count,
        "first_bad_seq": first_bad,
        "problem": problem,
        "kind": kind,
        "head": prev_hash,
    }
