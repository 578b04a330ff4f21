"""Checking and recording purchases and returns, once per batch.

``check_batch`` (from ``partygraph_before_write``) applies the rules a JSON
Schema cannot express: exactly one purchaser, an ISO 4217 currency the
reporting currency can be computed from, order ids that are unique, returns
that refer to a known order, come after it and do not refund more than is
left of it. It reads the database a constant number of times per batch
(order ids in chunks), never once per row, and works out what each valid
purchase and return comes to (integer minor units). ``record_batch`` (from
``partygraph_after_write``) writes those rows for the items the core kept,
with one ``executemany`` per table.

A bad item is refused with a message that names the field
(``payload/currency: ...``): in a batch of several records through
``batch.refuse`` (the import reports it on its line; nothing is written
unless ``skip_invalid``), a single record by raising
:class:`partygraph.ValidationError` with that ``field``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import orjson
from sqlalchemy import Connection, select

from partygraph import Interaction, ValidationError, WriteBatch, WriteSession
from partygraph.storage import copy_rows, execute_many
from partygraph.times import from_storage, to_storage
from partygraph_b2c import statements, tables
from partygraph_b2c.currencies import MINOR_UNITS, from_minor, is_currency, to_minor
from partygraph_b2c.settings import Settings
from partygraph_b2c.vocabulary import PURCHASE, RETURN

__all__ = ["Derived", "check_batch", "record_batch"]

_CHUNK = 500


@attrs.define
class _Order:
    """An order as the checks need it: stored already, or earlier in this batch."""

    interaction_id: int
    occurred_at: datetime
    currency: str
    total: int
    returned: int


#: (interaction_id, order_id, occurred_at, currency, total_minor)
OrderRow = tuple[int, str, datetime, str, int]
#: (interaction_id, category, quantity, amount_minor)
CategoryRow = tuple[int, str, float, int]
#: (interaction_id, order_interaction_id, occurred_at, amount_minor)
ReturnRow = tuple[int, int, datetime, int]


@attrs.define
class Derived:
    """The rows a batch's valid purchases and returns come to, by interaction id."""

    orders: dict[int, OrderRow] = attrs.field(factory=dict)
    categories: dict[int, list[CategoryRow]] = attrs.field(factory=dict)
    returns: dict[int, ReturnRow] = attrs.field(factory=dict)


class _Problems:
    """Refused items.

    In a batch of several records each bad one is refused on its own (the core
    reports it on its line: with ``skip_invalid`` the rest is written, otherwise
    the whole write fails listing every bad line). A single record is refused by
    raising :class:`ValidationError`, whose ``field`` names what is wrong.
    """

    def __init__(self, batch: WriteBatch, session: WriteSession) -> None:
        self.batch = batch
        self.one_by_one = session.skip_invalid or len(batch) > 1
        self.found: list[tuple[Interaction, str, str, Any]] = []

    def add(self, item: Interaction, field: str, reason: str, value: Any = None) -> None:
        self.found.append((item, field, reason, value))
        if self.one_by_one:
            self.batch.refuse(item, f"{field}: {reason}")

    def settle(self) -> None:
        if self.one_by_one or not self.found:
            return
        _, field, reason, value = self.found[0]
        raise ValidationError(field, reason, value)


def _amount(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):.{MINOR_UNITS[currency]}f} {currency}"


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _stored_orders(connection: Connection, order_ids: Sequence[str]) -> dict[str, _Order]:
    """Orders already stored, by order id, with what has been refunded so far.

    One statement per batch: the order ids go in as one JSON array parameter
    (``json_each`` on SQLite, ``jsonb_array_elements_text`` on PostgreSQL), so
    the statement is built once and no list of parameters is expanded.
    """
    wanted = sorted(set(order_ids))
    if not wanted:
        return {}
    statement = statements.stored_orders(connection.dialect.name)
    found: dict[str, _Order] = {}
    for row in statement.rows(connection, {"order_ids": orjson.dumps(wanted).decode()}):
        occurred = from_storage(row.occurred_at)
        assert occurred is not None
        found[row.order_id] = _Order(
            int(row.interaction_id),
            occurred,
            row.currency,
            int(row.total_minor),
            int(row.returned or 0),
        )
    return found


def check_batch(settings: Settings, batch: WriteBatch, session: WriteSession) -> Derived | None:
    """Check a batch's purchases and returns; what they come to, or None if it has none."""
    purchases = [item for item in batch.interactions if item.type == PURCHASE]
    returns = [item for item in batch.interactions if item.type == RETURN]
    if not purchases and not returns:
        return None
    problems = _Problems(batch, session)
    derived = Derived()
    wanted = [str(item.payload.get("order_id")) for item in [*purchases, *returns]]
    stored = _stored_orders(session.connection, wanted)
    known: dict[str, _Order] = dict(stored)
    for item in purchases:
        _check_purchase(settings, item, known, stored, derived, problems)
    for item in sorted(returns, key=lambda found: found.occurred_at):
        _check_return(item, known, derived, problems)
    problems.settle()
    return derived


def _check_purchase(
    settings: Settings,
    item: Interaction,
    known: dict[str, _Order],
    stored: dict[str, _Order],
    derived: Derived,
    problems: _Problems,
) -> None:
    payload = item.payload
    purchasers = [p for p in item.participants if p.role == "purchaser"]
    if len(purchasers) != 1:
        problems.add(
            item,
            "participants",
            f"a purchase has exactly one purchaser (the billing customer), got {len(purchasers)}",
            len(purchasers),
        )
        return
    currency = str(payload.get("currency") or settings.currency)
    if not is_currency(currency):
        problems.add(
            item, "payload/currency", f"{currency!r} is not an ISO 4217 currency code", currency
        )
        return
    if not settings.accepts(currency):
        problems.add(
            item,
            "payload/currency",
            f"no exchange rate from {currency} to the reporting currency {settings.currency} "
            f"is configured; add one under [plugins.b2c.exchange_rates]",
            currency,
        )
        return
    order_id = str(payload["order_id"])
    if order_id in known:
        earlier = known[order_id]
        where = "is already recorded" if order_id in stored else "appears twice in this write"
        problems.add(
            item,
            "payload/order_id",
            f"order {order_id!r} {where} (interaction #{earlier.interaction_id}); give the "
            "purchase an interaction key to make re-imports idempotent",
            order_id,
        )
        return
    assert item.id is not None, "the core allocates interaction ids before the hooks run"
    total = 0
    by_category: dict[str, list[Any]] = {}
    scale = _SCALES[currency]
    for line in payload["lines"]:
        quantity = line["quantity"]
        amount = _line_minor(quantity, line["unit_price"], scale, currency)
        total += amount
        entry = by_category.get(line["category"])
        if entry is None:
            by_category[line["category"]] = [float(quantity), amount]
        else:
            entry[0] += quantity
            entry[1] += amount
    known[order_id] = _Order(item.id, item.occurred_at, currency, total, 0)
    derived.orders[item.id] = (item.id, order_id, item.occurred_at, currency, total)
    derived.categories[item.id] = [
        (item.id, name, float(qty), amount) for name, (qty, amount) in by_category.items()
    ]


_SCALES = {code: 10**digits for code, digits in MINOR_UNITS.items()}


def _line_minor(quantity: Any, price: Any, scale: int, currency: str) -> int:
    """quantity x unit price in minor units, exactly (half-even rounding of the product).

    Whole quantities of prices with no more digits than the currency has (the usual
    case) are computed with integers; anything else goes through Decimal.
    """
    if type(quantity) is int:
        scaled = price * scale
        whole = round(scaled)
        if abs(scaled - whole) < 1e-6:
            return int(quantity * whole)
    return to_minor(_decimal(quantity) * _decimal(price), currency)


def _check_return(
    item: Interaction, known: dict[str, _Order], derived: Derived, problems: _Problems
) -> None:
    payload = item.payload
    order_id = str(payload["order_id"])
    found = known.get(order_id)
    if found is None:
        problems.add(item, "payload/order_id", f"no purchase with order id {order_id!r}", order_id)
        return
    if item.occurred_at < found.occurred_at:
        problems.add(
            item,
            "occurred_at",
            f"a return cannot precede its order: order {order_id!r} was placed on "
            f"{found.occurred_at.isoformat()}",
            item.occurred_at.isoformat(),
        )
        return
    currency = payload.get("currency")
    if currency is not None and currency != found.currency:
        problems.add(
            item,
            "payload/currency",
            f"order {order_id!r} was paid in {found.currency}, not {currency}",
            currency,
        )
        return
    left = found.total - found.returned
    if left <= 0:
        problems.add(
            item, "payload/order_id", f"order {order_id!r} was already returned in full", order_id
        )
        return
    if "amount" in payload:
        amount = to_minor(_decimal(payload["amount"]), found.currency)
        if amount > left:
            problems.add(
                item,
                "payload/amount",
                f"{payload['amount']} {found.currency} is more than is left of order "
                f"{order_id!r} ({_amount(left, found.currency)})",
                payload["amount"],
            )
            return
        if amount <= 0:
            problems.add(
                item, "payload/amount", "rounds to nothing in the order's currency", amount
            )
            return
    else:
        amount = left
    assert item.id is not None
    found.returned += amount
    derived.returns[item.id] = (item.id, found.interaction_id, item.occurred_at, amount)


_ORDER_COLUMNS = ("interaction_id", "order_id", "occurred_at", "currency", "total_minor")
_CATEGORY_COLUMNS = ("interaction_id", "category", "quantity", "amount_minor")
_RETURN_COLUMNS = ("interaction_id", "order_interaction_id", "occurred_at", "amount_minor")


def _marker(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _write(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Plain rows: PostgreSQL's COPY for a large batch, else one executemany on the driver."""
    if not rows or copy_rows(connection, table, columns, rows):
        return
    markers = ", ".join([_marker(connection)] * len(columns))
    execute_many(connection, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({markers})", rows)


def _with_stored_time(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Rows whose third column is their interaction's time, as the core stored it.

    PostgreSQL takes the time from the row (COPY, for a large batch); elsewhere
    the insert reads it from ``interaction`` itself, so no value is converted
    per row here.
    """
    if not rows:
        return
    if copy_rows(
        connection,
        table,
        columns,
        [(row[0], row[1], to_storage(row[2]), *row[3:]) for row in rows],
    ):
        return
    marker = _marker(connection)
    picked = ", ".join([marker, marker, "occurred_at", *([marker] * (len(columns) - 3))])
    execute_many(
        connection,
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM interaction"
        f" WHERE id = {marker}",
        [(*row[:2], *row[3:], row[0]) for row in rows],
    )


def _write_orders(connection: Connection, rows: Sequence[OrderRow]) -> None:
    _with_stored_time(connection, "b2c_order", _ORDER_COLUMNS, rows)


def _write_returns(connection: Connection, rows: Sequence[ReturnRow]) -> None:
    _with_stored_time(connection, "b2c_return", _RETURN_COLUMNS, rows)


def record_batch(derived: Derived, batch: WriteBatch, session: WriteSession) -> bool:
    """Write the rows of the items the core kept; True when anything was written.

    One ``executemany`` per table, with plain tuples (no per-row statement objects). The
    time of an order or a return is the one the core stored for its interaction, read
    by the insert itself (no conversion per row here).
    """
    kept = {item.id for item in batch.interactions}
    connection = session.connection
    orders = [row for key, row in derived.orders.items() if key in kept]
    written = {row[0] for row in orders}
    categories = [row for key in written for row in derived.categories[key]]
    # A return whose order was not written (kept out by another plugin) has nothing to refer to.
    wanted = sorted(
        {row[1] for key, row in derived.returns.items() if key in kept and row[1] not in written}
    )
    stored: set[int] = set()
    order = tables.order
    for chunk in _chunks(wanted):
        stored.update(
            connection.execute(
                select(order.c.interaction_id).where(order.c.interaction_id.in_(chunk))
            ).scalars()
        )
    present = written | stored
    returns = [row for key, row in derived.returns.items() if key in kept and row[1] in present]
    _write_orders(connection, orders)
    _write(connection, "b2c_order_category", _CATEGORY_COLUMNS, categories)
    _write_returns(connection, returns)
    return bool(orders or returns)
