"""Deals: the ``deal`` record type, its checks, its history, and reading it as of a date.

A deal record is a state of one deal (key) of one account from a moment on
(``at``, default: the time of the write); fields left out keep their previous
value. Each record adds a row to ``b2b_deal_state`` (the same ``at`` again
corrects that state), and ``b2b_deal`` keeps the latest one, so reads as of
any date see the stage and status the deal had then.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Float,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)

from partygraph import Party, PartyRef, WriteBatch, WriteSession
from partygraph.storage.prepared import IdShape as Shape
from partygraph.storage.prepared import Prepared, bind_ids, ids_in
from partygraph.storage.tables import participant_table, party_table
from partygraph.times import from_storage, isoformat, parse_time, to_storage
from partygraph.times import naive_utc as _naive
from partygraph_b2b import tables
from partygraph_b2b.settings import Settings
from partygraph_b2b.vocabulary import ACCOUNT_ROLE

__all__ = [
    "DealState",
    "apply_deals",
    "check_deals",
    "deal_history",
    "deals_as_of",
    "erase_deals",
    "resolve_parties",
    "status_as_of",
]

_deal = tables.deal
_state = tables.deal_state
_FIELDS = ("name", "stage", "status", "amount", "currency", "expected_close")


@attrs.frozen
class DealState:
    """A deal as it stood at some moment."""

    id: int
    key: str
    account_id: int
    name: str | None
    stage: str | None
    status: str
    amount: float | None
    currency: str
    expected_close: date | None
    since: datetime  # when this state began
    opened_at: datetime  # the deal's first state
    won_at: datetime | None  # the first state with status won, if any yet

    @property
    def is_open(self) -> bool:
        """Still in progress."""
        return self.status == "open"

    def label(self) -> str:
        """``deal erp-2026 'ERP rollout'``."""
        name = f" {self.name!r}" if self.name else ""
        return f"deal {self.key}{name}"

    def money(self) -> str:
        """``EUR 250,000`` (or an empty string)."""
        if self.amount is None:
            return ""
        amount = f"{self.amount:,.2f}".removesuffix(".00")
        return f"{self.currency} {amount}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "key": self.key,
            "name": self.name,
            "stage": self.stage,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "expected_close": self.expected_close.isoformat() if self.expected_close else None,
            "since": isoformat(self.since),
            "opened_at": isoformat(self.opened_at),
            "won_at": isoformat(self.won_at) if self.won_at else None,
        }


def resolve_parties(connection: Connection, refs: Iterable[PartyRef]) -> dict[PartyRef, Party]:
    """Parties by key or id, with one query per kind of reference (never one per ref)."""
    wanted = list(dict.fromkeys(refs))
    keys = sorted({ref for ref in wanted if isinstance(ref, str)})
    ids = sorted({ref for ref in wanted if isinstance(ref, int) and not isinstance(ref, bool)})
    found: dict[PartyRef, Party] = {}
    columns = (party_table.c.id, party_table.c.key, party_table.c.kind, party_table.c.name)
    for column, values in ((party_table.c.key, keys), (party_table.c.id, ids)):
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            for row in connection.execute(select(*columns).where(column.in_(chunk))):
                party = Party(row.key, row.kind, row.name, id=int(row.id))
                found[row.key] = party
                found[int(row.id)] = party
    return found


# -- writing ---------------------------------------------------------------------------------


def _problem(body: Mapping[str, Any], parties: Mapping[PartyRef, Party]) -> str:
    """Why a (schema-valid) deal record cannot be written, or an empty string."""
    account = parties.get(body["account"])
    if account is None:
        what = "id" if isinstance(body["account"], int) else "key"
        return f"account: no party with {what} {body['account']!r}"
    if account.kind != "organization":
        return f"account: a deal belongs to an organization; {account.key!r} is a {account.kind}"
    if "at" in body:
        try:
            parse_time(body["at"], "at")
        except ValueError as error:
            return f"at: {error}"
    return ""


def check_deals(batch: WriteBatch, session: WriteSession) -> list[tuple[Any, str]]:
    """Deal records whose account is unknown or not an organisation, whose time is
    unreadable, or that would move a deal to another account, with the reason."""
    connection = session.connection
    parties = resolve_parties(connection, [body["account"] for body in batch.records])
    keys = sorted({body["key"] for body in batch.records})
    stored = {
        row.key: int(row.account_id)
        for row in connection.execute(
            select(_deal.c.key, _deal.c.account_id).where(_deal.c.key.in_(keys))
        )
    }
    problems: list[tuple[Any, str]] = []
    for body in batch.records:
        reason = _problem(body, parties)
        if not reason:
            account = parties[body["account"]]
            owner = stored.setdefault(body["key"], int(account.id or 0))
            if owner != account.id:
                reason = (
                    f"account: deal {body['key']!r} belongs to another account; "
                    "a deal cannot move to another account"
                )
        if reason:
            problems.append((body, reason))
    return problems


def apply_deals(
    settings: Settings, bodies: Sequence[Mapping[str, Any]], session: WriteSession
) -> None:
    """Write a batch of checked deal records: upsert deals, add or correct states.

    A record's fields left out keep the value the deal had at the record's
    ``at`` (the latest earlier state). A constant number of statements per
    batch: the deals and states already stored are read with one query each
    (per 500 keys), new deals are inserted with one executemany, states and
    updated deals with one each.
    """
    connection = session.connection
    now = session.context.at
    assert now is not None
    recorded = to_storage(now)
    parties = resolve_parties(connection, [body["account"] for body in bodies])
    keys = list(dict.fromkeys(body["key"] for body in bodies))
    deals: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for stored in connection.execute(select(_deal).where(_deal.c.key.in_(chunk))):
            deals[stored.key] = dict(stored._mapping)
    fresh = [key for key in keys if key not in deals]
    if fresh:
        first: dict[str, Mapping[str, Any]] = {}
        for body in bodies:
            first.setdefault(body["key"], body)
        rows = [
            {
                "key": key,
                "account_id": parties[first[key]["account"]].id,
                "status": "open",
                "currency": settings.currency,
                "opened_at": recorded,
                "updated_at": recorded,
            }
            for key in fresh
        ]
        statement = _deal.insert().returning(_deal.c.id, sort_by_parameter_order=True)
        ids = connection.execute(statement, rows).scalars().all()
        for fresh_row, deal_id in zip(rows, ids, strict=True):
            deals[fresh_row["key"]] = {**fresh_row, "id": int(deal_id)}
    # Every stored state of these deals: {deal id: {at: (state id, values)}}.
    history: dict[int, dict[datetime, tuple[int | None, dict[str, Any]]]] = {}
    deal_ids = sorted({int(deals[key]["id"]) for key in keys})
    for start in range(0, len(deal_ids), 500):
        chunk_ids = deal_ids[start : start + 500]
        query = select(_state).where(_state.c.deal_id.in_(chunk_ids))
        for state in connection.execute(query):
            values = {name: getattr(state, name) for name in _FIELDS}
            history.setdefault(int(state.deal_id), {})[_naive(state.at)] = (int(state.id), values)
    written: dict[tuple[int, datetime], dict[str, Any]] = {}
    for body in bodies:
        at = to_storage(parse_time(body["at"], "at")) if "at" in body else recorded
        deal_id = int(deals[body["key"]]["id"])
        states = history.setdefault(deal_id, {})
        earlier = [moment for moment in states if moment <= at]
        if earlier:
            values = dict(states[max(earlier)][1])
        else:
            values = dict.fromkeys(_FIELDS)
            values.update(status="open", currency=settings.currency)
        for name in _FIELDS:
            if name in body:
                values[name] = body[name]
        if isinstance(values["expected_close"], str):
            values["expected_close"] = date.fromisoformat(values["expected_close"])
        stored_id, stored_values = states.get(at, (None, None))
        states[at] = (stored_id, values)
        if values != stored_values:
            written[(deal_id, at)] = values
    inserts = []
    corrections = []
    for (deal_id, at), values in written.items():
        stored_id = history[deal_id][at][0]
        if stored_id is None:
            inserts.append({**values, "deal_id": deal_id, "at": at, "recorded_at": recorded})
        else:
            corrections.append(
                {
                    **{f"b_{name}": value for name, value in values.items()},
                    "b_recorded_at": recorded,
                    "b_id": stored_id,
                }
            )
    if inserts:
        connection.execute(_state.insert(), inserts)
    if corrections:
        connection.execute(
            update(_state)
            .where(_state.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in (*_FIELDS, "recorded_at")}),
            corrections,
        )
    # Each deal row keeps its latest state, and when it was first seen.
    changes = []
    for key in keys:
        deal = deals[key]
        states = history[int(deal["id"])]
        latest = max(states)
        row = {
            **states[latest][1],
            "opened_at": min(states),
            "updated_at": latest,
        }
        if any(deal.get(name) != value for name, value in row.items()):
            changes.append(
                {"b_id": deal["id"], **{f"b_{name}": value for name, value in row.items()}}
            )
    if changes:
        connection.execute(
            update(_deal)
            .where(_deal.c.id == bindparam("b_id"))
            .values(
                {name: bindparam(f"b_{name}") for name in (*_FIELDS, "opened_at", "updated_at")}
            ),
            changes,
        )


# -- reading ---------------------------------------------------------------------------------


def _deal_rows(accounts: Shape) -> Select[Any]:
    """Each deal's state at ``:at``, first and first won time (of ``accounts``, or all).

    Scoped to accounts, every part reads only their deals' states (the deal
    state table's unique index leads with the deal id), so a party's read
    costs the same whatever the number of deals stored.
    """
    mine: list[Any] = []
    if accounts is not None:
        mine.append(
            _state.c.deal_id.in_(
                select(_deal.c.id).where(ids_in(_deal.c.account_id, "accounts", accounts))
            )
        )
    ranked = select(
        _state.c.deal_id,
        _state.c.at,
        _state.c.name,
        _state.c.stage,
        _state.c.status,
        _state.c.amount,
        _state.c.currency,
        _state.c.expected_close,
        func.row_number()
        .over(partition_by=_state.c.deal_id, order_by=(_state.c.at.desc(), _state.c.id.desc()))
        .label("rank"),
    ).where(_state.c.at <= bindparam("at"), *mine)
    latest = ranked.subquery()
    won = (
        select(_state.c.deal_id, func.min(_state.c.at).label("won_at"))
        .where(_state.c.status == "won", _state.c.at <= bindparam("at"), *mine)
        .group_by(_state.c.deal_id)
        .subquery()
    )
    opened = (
        select(_state.c.deal_id, func.min(_state.c.at).label("opened_at"))
        .where(*mine)
        .group_by(_state.c.deal_id)
        .subquery()
    )
    return select(
        literal("deal").label("source"),
        _deal.c.id,
        _deal.c.key,
        _deal.c.account_id,
        latest.c.at,
        latest.c.name,
        latest.c.stage,
        latest.c.status,
        latest.c.amount,
        latest.c.currency,
        latest.c.expected_close,
        won.c.won_at,
        opened.c.opened_at,
    ).select_from(
        _deal.join(latest, and_(latest.c.deal_id == _deal.c.id, latest.c.rank == 1))
        .join(opened, opened.c.deal_id == _deal.c.id)
        .outerjoin(won, won.c.deal_id == _deal.c.id)
    )


@functools.cache
def _deals_statement(accounts: Shape) -> Prepared:
    rows = _deal_rows(accounts).subquery()
    return Prepared(select(rows).order_by(rows.c.account_id, rows.c.at, rows.c.key))


@functools.cache
def _status_statement(accounts: int) -> Prepared:
    """The deals of ``accounts`` (as :func:`_deal_rows`) and their signed contracts.

    Contracts (``contract_signed`` naming the account, before ``:at``) come as
    rows of ``source`` ``contract``: ``id`` the interaction, ``at`` its time.
    One statement for all an account's status rests on.
    """
    part = participant_table
    contracts = select(
        literal("contract").label("source"),
        part.c.interaction_id,
        cast(null(), String),
        part.c.party_id,
        part.c.occurred_at,
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
        cast(null(), Float),
        cast(null(), String),
        cast(null(), Date),
        cast(null(), DateTime),
        cast(null(), DateTime),
    ).where(
        part.c.type == "contract_signed",
        part.c.role == ACCOUNT_ROLE,
        part.c.occurred_at < bindparam("at"),
        ids_in(part.c.party_id, "accounts", accounts),
    )
    both = union_all(_deal_rows(accounts), contracts).subquery()
    return Prepared(
        select(both).order_by(both.c.source, both.c.account_id, both.c.at, both.c.key, both.c.id)
    )


def _deal_state(row: Any) -> DealState:
    since = from_storage(row.at)
    opened_at = from_storage(row.opened_at)
    assert since is not None
    assert opened_at is not None
    return DealState(
        id=int(row.id),
        key=row.key,
        account_id=int(row.account_id),
        name=row.name,
        stage=row.stage,
        status=row.status,
        amount=float(row.amount) if row.amount is not None else None,
        currency=row.currency,
        expected_close=row.expected_close,
        since=since,
        opened_at=opened_at,
        won_at=from_storage(row.won_at),
    )


def deals_as_of(
    connection: Connection, at: datetime, accounts: Sequence[int] | None = None
) -> dict[int, list[DealState]]:
    """Each account's deals as they stood at *at* (deals not yet opened are left out).

    One statement for the whole population (or the given accounts): the latest
    state of each deal at *at*, and each deal's first and first won time.
    """
    params: dict[str, Any] = {"at": to_storage(at)}
    shape = bind_ids(params, "accounts", sorted(accounts)) if accounts is not None else None
    found: dict[int, list[DealState]] = {}
    for row in _deals_statement(shape).rows(connection, params):
        found.setdefault(int(row.account_id), []).append(_deal_state(row))
    return found


def status_as_of(
    connection: Connection, at: datetime, accounts: Sequence[int]
) -> tuple[dict[int, list[DealState]], dict[int, list[tuple[int, datetime]]]]:
    """The accounts' deals as of *at* and contracts signed before it, in one statement.

    Deals as :func:`deals_as_of` gives them; contracts as ``(interaction id,
    time)`` in time order.
    """
    params: dict[str, Any] = {"at": to_storage(at)}
    shape = bind_ids(params, "accounts", sorted(accounts))
    deals: dict[int, list[DealState]] = {}
    contracts: dict[int, list[tuple[int, datetime]]] = {}
    for row in _status_statement(shape).rows(connection, params):
        account = int(row.account_id)
        if row.source == "deal":
            deals.setdefault(account, []).append(_deal_state(row))
            continue
        occurred = from_storage(row.at)
        assert occurred is not None
        contracts.setdefault(account, []).append((int(row.id), occurred))
    return deals, contracts


def deal_history(connection: Connection, account_id: int) -> list[dict[str, Any]]:
    """Every deal of an account with every state it went through (for an access export)."""
    query = (
        select(_deal.c.key, _state)
        .select_from(_deal.join(_state, _state.c.deal_id == _deal.c.id))
        .where(_deal.c.account_id == account_id)
        .order_by(_deal.c.key, _state.c.at, _state.c.id)
    )
    found: dict[str, dict[str, Any]] = {}
    for row in connection.execute(query):
        entry = found.setdefault(row.key, {"key": row.key, "states": []})
        at = from_storage(row.at)
        recorded = from_storage(row.recorded_at)
        assert at is not None
        assert recorded is not None
        entry["states"].append(
            {
                "at": isoformat(at),
                "name": row.name,
                "stage": row.stage,
                "status": row.status,
                "amount": row.amount,
                "currency": row.currency,
                "expected_close": row.expected_close.isoformat() if row.expected_close else None,
                "recorded_at": isoformat(recorded),
            }
        )
    return list(found.values())


def erase_deals(connection: Connection, account_id: int) -> dict[str, int]:
    """Delete an account's deals and their states."""
    ids = select(_deal.c.id).where(_deal.c.account_id == account_id)
    states = connection.execute(delete(_state).where(_state.c.deal_id.in_(ids))).rowcount
    deals = connection.execute(delete(_deal).where(_deal.c.account_id == account_id)).rowcount
    return {"deals": deals, "deal_states": states}
