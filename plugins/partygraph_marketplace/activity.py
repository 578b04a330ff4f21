"""Filling ``marketplace_activity``: per batch after a write, on erasure, on a rebuild.

A transaction gives one row per side that took part in it (the rider's and
the driver's), each with the figures that side's reports add up: the amount,
the platform fee (at the rate in force when it was written, or one minus the
transaction's own revenue share), the tip, the incentive, the rating the side
*received* (the one its counterpart gave) and the zones. An incentive payout
gives one row for the member it pays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from partygraph import Interaction, Participant, Party
from partygraph.storage.prepared import copy_rows, execute_many
from partygraph.storage.tables import interaction_table, participant_table
from partygraph.times import from_storage, to_storage
from partygraph_marketplace.periods import stamp
from partygraph_marketplace.settings import Settings
from partygraph_marketplace.tables import KIND_PAYOUT, KIND_TRANSACTION, activity
from partygraph_marketplace.vocab import INCENTIVE_PAYOUT

__all__ = ["COLUMNS", "erase", "export", "rebuild", "record", "rows_for"]

_CHUNK = 500
_REBUILD_CHUNK = 2000


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


#: The table's columns, in the order of the rows :func:`rows_for` builds.
COLUMNS = (
    "interaction_id", "party_id", "side", "kind", "occurred_at", "status", "completed",
    "amount", "fee", "tip", "incentive", "rating", "pickup_zone", "dropoff_zone",
)  # fmt: skip


def _stored(item: Interaction, sqlite: bool) -> Any:
    """The interaction's time as the table stores it (SQLite: the text SQLAlchemy writes)."""
    at = to_storage(item.occurred_at)
    return at.isoformat(sep=" ", timespec="microseconds") if sqlite else at


def rows_for(
    settings: Settings, items: Iterable[Interaction], *, sqlite: bool = False
) -> list[tuple[Any, ...]]:
    """The activity rows of a batch of (written) interactions, as tuples in
    :data:`COLUMNS` order, ready for the driver (*sqlite*: times as text).

    One pass over the batch with the settings looked up once: a ride-sharing
    import writes two rows per trip, so nothing here is built per row that
    could be built per batch.
    """
    spec = settings.transaction
    positions = {side.name: side.position for side in settings.sides}
    amount_field, share_field, tip_field = spec.amount, spec.share, spec.tip
    zones, with_incentive, fee_rate = spec.zones, spec.incentive, settings.fee_rate
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for item in items:
        if item.type == spec.name:
            sides = [p for p in item.participants if p.role in positions]
            if not sides:
                continue
            payload = item.payload
            status = str(payload.get("status") or "completed")
            amount = _number(payload.get(amount_field))
            share = _number(payload.get(share_field)) if share_field else None
            rate = (1.0 - share) if share is not None else fee_rate
            fee = (amount or 0.0) * rate
            tip = (_number(payload.get(tip_field)) or 0.0) if tip_field else 0.0
            incentive = payload.get("incentive") if with_incentive else None
            bonus = (
                (_number(incentive.get("amount")) or 0.0) if isinstance(incentive, dict) else 0.0
            )
            pickup = payload.get("pickup_zone") if zones else None
            dropoff = payload.get("dropoff_zone") if zones else None
            ratings = payload.get("ratings") or {}
            at = _stored(item, sqlite)
            completed = status == "completed"
            for participant in sides:
                position = positions[participant.role]
                received = next(
                    (
                        _number(ratings.get(other.role))
                        for other in sides
                        if positions[other.role] != position and other.role in ratings
                    ),
                    None,
                )
                append(
                    (
                        item.id, int(str(participant.party)), participant.role,
                        KIND_TRANSACTION, at, status, completed, amount, fee, tip, bonus,
                        received, pickup, dropoff,
                    )
                )  # fmt: skip
        elif item.type == INCENTIVE_PAYOUT:
            amount = _number(item.payload.get("amount")) or 0.0
            at = _stored(item, sqlite)
            for participant in item.participants:
                if participant.role in positions:
                    append(
                        (
                            item.id, int(str(participant.party)), participant.role, KIND_PAYOUT,
                            at, "paid", False, amount, 0.0, 0.0, 0.0, None, None, None,
                        )
                    )  # fmt: skip
    return rows


def _index_order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """(party, side, kind, time): the per-party index's order."""
    return row[1], row[2], row[3], row[4]


def record(settings: Settings, items: Sequence[Interaction], connection: Connection) -> int:
    """Insert the activity rows of a written batch (one executemany, or COPY on PostgreSQL).

    The rows go to the driver as tuples, as the core's own bulk inserts do: the
    per-row type processing of a Core insert costs more than the database's work
    on a ride-sharing import. SQLite gets the time as the text SQLAlchemy stores.

    They go in by party (then side, kind, time), the order of the per-party index:
    its insertions then touch neighbouring pages instead of one page per row, which
    makes the insert about a quarter cheaper. The sort is stable, so rows equal in
    that order keep the batch's order.
    """
    sqlite = connection.dialect.name == "sqlite"
    rows = rows_for(settings, items, sqlite=sqlite)
    if not rows:
        return 0
    rows.sort(key=_index_order)
    if copy_rows(connection, activity.name, COLUMNS, rows):
        return len(rows)
    marker = "?" if sqlite else "%s"
    execute_many(
        connection,
        f"INSERT INTO {activity.name} ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join([marker] * len(COLUMNS))})",
        rows,
    )
    return len(rows)


def erase(party: Party, connection: Connection) -> dict[str, int]:
    """Delete the party's rows; clear the zones of the transactions it shared with others
    (the privacy plugin masks the same zones in their payloads)."""
    assert party.id is not None
    shared = [
        int(row[0])
        for row in connection.execute(
            select(participant_table.c.interaction_id).where(
                participant_table.c.party_id == party.id
            )
        )
    ]
    deleted = connection.execute(delete(activity).where(activity.c.party_id == party.id)).rowcount
    masked = 0
    for start in range(0, len(shared), _CHUNK):
        chunk = shared[start : start + _CHUNK]
        masked += connection.execute(
            update(activity)
            .where(
                activity.c.interaction_id.in_(chunk),
                (activity.c.pickup_zone.is_not(None)) | (activity.c.dropoff_zone.is_not(None)),
            )
            .values(pickup_zone=None, dropoff_zone=None)
        ).rowcount
    return {"activity_rows_deleted": int(deleted), "zones_cleared": int(masked)}


def export(party: Party, connection: Connection) -> list[dict[str, Any]]:
    """The party's rows, JSON-ready (for an access request)."""
    assert party.id is not None
    query = (
        select(activity)
        .where(activity.c.party_id == party.id)
        .order_by(activity.c.occurred_at, activity.c.interaction_id, activity.c.side)
    )
    out = []
    for row in connection.execute(query):
        data = dict(row._mapping)
        data.pop("party_id")
        moment = from_storage(data["occurred_at"])
        data["occurred_at"] = stamp(moment) if moment is not None else None
        out.append(data)
    return out


def rebuild(settings: Settings, connection: Connection) -> int:
    """Recompute every row from the interactions (after restoring a backup, say).

    Reads the marketplace's interactions in chunks of ids, in the caller's
    transaction, and writes their rows with the same code as a write.
    """
    types = [settings.transaction.name, INCENTIVE_PAYOUT]
    connection.execute(delete(activity))
    inter = interaction_table
    last = 0
    written = 0
    while True:
        rows = connection.execute(
            select(inter.c.id, inter.c.type, inter.c.occurred_at, inter.c.payload)
            .where(inter.c.type.in_(types), inter.c.id > last)
            .order_by(inter.c.id)
            .limit(_REBUILD_CHUNK)
        ).all()
        if not rows:
            return written
        ids = [int(row.id) for row in rows]
        participants: dict[int, list[Participant]] = {}
        for part in connection.execute(
            select(
                participant_table.c.interaction_id,
                participant_table.c.party_id,
                participant_table.c.role,
            ).where(participant_table.c.interaction_id.in_(ids))
        ):
            participants.setdefault(int(part.interaction_id), []).append(
                Participant(int(part.party_id), part.role)
            )
        items = []
        for row in rows:
            moment = from_storage(row.occurred_at)
            assert moment is not None
            items.append(
                Interaction(
                    row.type,
                    moment,
                    participants.get(int(row.id), ()),
                    row.payload or {},
                    id=int(row.id),
                )
            )
        written += record(settings, items, connection)
        last = ids[-1]
