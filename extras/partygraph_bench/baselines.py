"""What partygraph's figures are compared with, measured in the same run.

- The floor: the same interaction and participant rows written with the
  standard library's ``sqlite3`` (``executemany``, one transaction) or
  psycopg's ``COPY`` into the same tables, with the same connection settings;
  no validation, no hooks. Turning the interchange records into rows (party
  keys to ids from a dict, the time to UTC text, the payload to JSON with
  orjson) is timed with it: any writer does that much.
- The naive ORM: what a user writes without partygraph -- one SQLModel object
  per row (the core's own row classes), ``add_all`` and ``commit``; for
  single writes, ``add`` and ``commit`` per record. Ids are given by the
  caller, which spares the ORM a round trip per row: a favourable baseline.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlmodel import Session

from partygraph.storage.engine import create_engine_for
from partygraph.storage.tables import InteractionRow, ParticipantRow
from partygraph_bench.databases import sqlite_path

__all__ = ["floor_write", "naive_orm_objects", "naive_orm_single", "naive_orm_write"]

Record = Mapping[str, Any]
_INSERT_INTERACTION = (
    "INSERT INTO interaction (id, key, type, occurred_at, payload, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_PARTICIPANT = (
    "INSERT INTO participant (interaction_id, party_id, role, type, occurred_at) "
    "VALUES (?, ?, ?, ?, ?)"
)


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _rows(
    records: Sequence[Record], ids: Mapping[str, int], first_id: int, as_text: bool
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now: Any = datetime.now(UTC).replace(tzinfo=None)
    if as_text:
        now = now.isoformat(sep=" ", timespec="microseconds")
    interactions = []
    participants = []
    dumps = orjson.dumps
    for offset, record in enumerate(records):
        body = record["interaction"]
        at: Any = _utc(body["occurred_at"])
        if as_text:
            at = at.isoformat(sep=" ", timespec="microseconds")
        number = first_id + offset
        kind = body["type"]
        interactions.append((number, None, kind, at, dumps(body["payload"]).decode(), now))
        for person in body["participants"]:
            participants.append((number, ids[person["party"]], person["role"], kind, at))
    return interactions, participants


def floor_write(url: str, records: Sequence[Record], ids: Mapping[str, int]) -> None:
    """Write *records* as rows with the driver alone (sqlite3 executemany / psycopg COPY)."""
    path = sqlite_path(url)
    if path is not None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")
            first = _next_id(connection.execute("SELECT max(id) FROM interaction").fetchone())
            interactions, participants = _rows(records, ids, first, as_text=True)
            connection.execute("BEGIN")
            connection.executemany(_INSERT_INTERACTION, interactions)
            connection.executemany(_INSERT_PARTICIPANT, participants)
            connection.execute("COMMIT")
        finally:
            connection.close()
        return
    _copy_write(url, records, ids)


def _next_id(row: Any) -> int:
    return int(row[0] or 0) + 1


def _copy_write(url: str, records: Sequence[Record], ids: Mapping[str, int]) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    options = parsed.query.get("options")
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, options=str(options or "")) as connection:
        found = connection.execute("SELECT max(id) FROM interaction").fetchone()
        interactions, participants = _rows(records, ids, _next_id(found), as_text=False)
        with connection.cursor() as cursor:
            columns = "id, key, type, occurred_at, payload, created_at"
            with cursor.copy(f"COPY interaction ({columns}) FROM STDIN") as copy:
                for row in interactions:
                    copy.write_row(row)
            columns = "interaction_id, party_id, role, type, occurred_at"
            with cursor.copy(f"COPY participant ({columns}) FROM STDIN") as copy:
                for row in participants:
                    copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('interaction', 'id'), "
                "(SELECT max(id) FROM interaction))"
            )
        connection.commit()


def naive_orm_objects(
    record: Record, ids: Mapping[str, int], number: int
) -> list[InteractionRow | ParticipantRow]:
    """One interaction record as SQLModel row objects, as a user would build them."""
    body = record["interaction"]
    at = _utc(body["occurred_at"])
    now = datetime.now(UTC).replace(tzinfo=None)
    kind = body["type"]
    objects: list[InteractionRow | ParticipantRow] = [
        InteractionRow(
            id=number, type=kind, occurred_at=at, payload=body["payload"], created_at=now
        )
    ]
    for person in body["participants"]:
        objects.append(
            ParticipantRow(
                interaction_id=number,
                party_id=ids[person["party"]],
                role=person["role"],
                type=kind,
                occurred_at=at,
            )
        )
    return objects


def _first_free_id(session: Session) -> int:
    return _next_id(session.connection().exec_driver_sql("SELECT max(id) FROM interaction").first())


def naive_orm_write(url: str, records: Sequence[Record], ids: Mapping[str, int]) -> None:
    """Write *records* with one SQLModel object per row, ``add_all`` and one commit."""
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            first = _first_free_id(session)
            objects: list[InteractionRow | ParticipantRow] = []
            for offset, record in enumerate(records):
                objects.extend(naive_orm_objects(record, ids, first + offset))
            session.add_all(objects)
            session.commit()
    finally:
        engine.dispose()


def naive_orm_single(
    url: str, records: Sequence[Record], ids: Mapping[str, int], clock: Any
) -> list[float]:
    """Write each record with ``add`` and ``commit``; the seconds each one took."""
    engine = create_engine_for(url)
    times = []
    try:
        with Session(engine) as session:
            number = _first_free_id(session)
            session.commit()
            for record in records:
                started = clock()
                for item in naive_orm_objects(record, ids, number):
                    session.add(item)
                session.commit()
                times.append(clock() - started)
                number += 1
    finally:
        engine.dispose()
    return times
