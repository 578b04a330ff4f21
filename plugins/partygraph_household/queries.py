"""Set-based reads: a few parameterised statements over one household or the whole population.

Everything is derived on read from the core's tables -- memberships and
holdings are relationships, purchases are other plugins' interactions -- so
an erasure, a late import or a corrected membership is reflected at once and
nothing is ever re-credited by a job. Purchase amounts and categories are read
from the payloads with JSON functions that both SQLite (``json_each``) and
PostgreSQL (``jsonb_array_elements``) provide; cut-off dates are computed in
Python and passed as parameters.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
import orjson
from sqlalchemy import (
    Connection,
    Float,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union,
)
from sqlalchemy.sql.elements import ColumnElement

from partygraph import Party
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph.times import MIN_TIME, from_storage, to_storage
from partygraph_household.settings import PurchaseSettings
from partygraph_household.vocabulary import HOLDS, HOUSEHOLD, MEMBER_OF

__all__ = [
    "HoldingRow",
    "MemberRow",
    "SpendRow",
    "Moment",
    "Scope",
    "attribute_text",
    "categories",
    "categories_statement",
    "category_rows",
    "holding_rows",
    "holdings_statements",
    "member_rows",
    "memberships_statement",
    "spend_rows",
    "holdings",
    "households",
    "influence",
    "influence_statement",
    "memberships",
    "own_purchase_conditions",
    "own_purchases",
    "spend",
    "spend_statement",
    "unhoused_with_address",
    "usage_influence",
    "usage_influence_statement",
    "without_jit",
]

_rel = relationship_table
_party = party_table
_part = participant_table
_inter = interaction_table

# Aliases are built once: building one costs more than the indexed query it serves.
_BUYER = _part.alias("buyer")
_CONSUMER = _part.alias("consumer")
_ORDER_BUYER = _part.alias("order_buyer")
_EARLIER_RETURN = _part.alias("earlier_return")
_PURCHASE = _inter.alias("purchase")
_ORDER_PLACED = _inter.alias("order_placed")
_EARLIER_REFUND = _inter.alias("earlier_refund")
_MEMBERSHIP = _rel.alias("membership")
_BUYER_MEMBERSHIP = _rel.alias("buyer_membership")
_CONSUMER_MEMBERSHIP = _rel.alias("consumer_membership")
_HOLDS = _rel.alias("holds")
_USER = _part.alias("product_user")
_USED = _inter.alias("product_use")
_USER_MEMBERSHIP = _rel.alias("user_membership")
_BOUGHT = _inter.alias("bought")
_HOLDER = _party.alias("holder")
_PERSON = _party.alias("person")


def _party_of(row: Any, prefix: str = "p_") -> Party:
    """A party from a row's prefixed columns (a SQLAlchemy row or a prepared named tuple)."""
    return Party(
        key=getattr(row, f"{prefix}key"),
        kind=getattr(row, f"{prefix}kind"),
        name=getattr(row, f"{prefix}name"),
        attributes=_json_value(getattr(row, f"{prefix}attributes", None)),
        id=int(getattr(row, f"{prefix}id")),
    )


def _party_columns(prefix: str = "p_", attributes: bool = True) -> list[Any]:
    columns = [
        _party.c.id.label(f"{prefix}id"),
        _party.c.key.label(f"{prefix}key"),
        _party.c.kind.label(f"{prefix}kind"),
        _party.c.name.label(f"{prefix}name"),
    ]
    if attributes:
        # Decoded here (orjson), not by SQLAlchemy's JSON type: population reads are
        # dominated by per-row conversions.
        columns.append(type_coerce(_party.c.attributes, Text).label(f"{prefix}attributes"))
    return columns


def _json_value(value: Any) -> dict[str, Any]:
    """A JSON object column read raw: text on SQLite, already decoded on PostgreSQL."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        loaded = orjson.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)


def _raw_time(column: Any) -> Any:
    return type_coerce(column, Text)


def _moment(value: Any) -> datetime | None:
    """A stored time read raw (SQLite text or a PostgreSQL datetime) -> aware UTC, or None
    for the unknown start."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    if moment == MIN_TIME:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def without_jit(connection: Connection) -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction.

    The population statements are large (a JSON subquery per amount); their estimated
    cost triggers PostgreSQL's JIT, whose compilation takes seconds -- far longer than
    the indexed plan it would speed up.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL jit = off")


def _one_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (...)`` with one bound parameter per value.

    The lists are short (types, roles, one household): plain parameters keep the
    statement cacheable and spare the per-execution expansion of an ``IN`` parameter.
    """
    items = list(values)
    if not items:
        return false()
    if len(items) == 1:
        return column == literal(items[0])  # type: ignore[no-any-return]
    return column.in_([literal(item) for item in items])  # type: ignore[no-any-return]


#: A time given to a statement builder: an aware datetime (bound as its value) or a bind
#: parameter (the prepared statements, see :mod:`partygraph_household.prepared`).
Moment = datetime | ColumnElement[Any]
#: Households (or persons) a statement is scoped to: a collection of ids, one bind
#: parameter, or None for all of them.
Scope = Collection[int] | ColumnElement[Any] | None


def _stored(value: Moment) -> Any:
    """*value* as a statement compares it: naive UTC, or the bind parameter itself."""
    return to_storage(value) if isinstance(value, datetime) else value


def _scoped(column: Any, ids: Scope) -> ColumnElement[bool] | None:
    """*column* restricted to *ids* (None: no restriction)."""
    if ids is None:
        return None
    if isinstance(ids, ColumnElement):
        return column == ids  # type: ignore[no-any-return]
    return _one_of(column, sorted(ids))


def _current(rel: Any, at: Any) -> ColumnElement[bool]:
    """*rel* holds at *at* (naive storage time)."""
    return and_(rel.c.valid_from <= at, or_(rel.c.valid_to.is_(None), rel.c.valid_to > at))


def _covers(rel: Any, moment: Any) -> ColumnElement[bool]:
    """*rel* holds at the time given by another column."""
    return and_(rel.c.valid_from <= moment, or_(rel.c.valid_to.is_(None), rel.c.valid_to > moment))


# -- JSON, the same on SQLite and PostgreSQL ----------------------------------------------------


def _path(key: str) -> str:
    return "$." + json.dumps(key)


class _Json:
    """JSON accessors for one dialect: SQLite's JSON1 functions or PostgreSQL's jsonb operators.

    *document* is a JSON column or the value column of a table of array elements; a
    field of the wrong JSON type reads as NULL, never as a cast error.
    """

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def _key(self, key: str) -> Any:
        return literal(key, Text)

    def kind(self, document: Any, key: str) -> ColumnElement[Any]:
        """The JSON type name of ``document[key]`` (NULL when absent)."""
        if self.postgres:
            return func.jsonb_typeof(document.op("->")(self._key(key)))
        return func.json_type(document, _path(key))

    def number(self, document: Any, key: str) -> ColumnElement[Any]:
        """``document[key]`` when it is a JSON number, else NULL."""
        if self.postgres:
            value = cast(document.op("->>")(self._key(key)), Float)
            return case((self.kind(document, key) == "number", value), else_=None)
        value = cast(func.json_extract(document, _path(key)), Float)
        return case((_one_of(self.kind(document, key), ("integer", "real")), value), else_=None)

    def text(self, document: Any, key: str) -> ColumnElement[Any]:
        """``document[key]`` when it is a JSON string, else NULL."""
        if self.postgres:
            value = document.op("->>")(self._key(key))
            return case((self.kind(document, key) == "string", value), else_=None)
        value = cast(func.json_extract(document, _path(key)), String)
        return case((self.kind(document, key) == "text", value), else_=None)

    def elements(self, document: Any, key: str, name: str) -> Any:
        """The elements of the array ``document[key]`` as a table (none if not an array)."""
        if self.postgres:
            array = document.op("->")(self._key(key))
            source = case(
                (self.kind(document, key) == "array", array),
                else_=literal_column("'[]'::jsonb"),
            )
            return func.jsonb_array_elements(source).table_valued(column("value")).alias(name)
        source = case(
            (self.kind(document, key) == "array", func.json_extract(document, _path(key))),
            else_=literal("[]"),
        )
        return func.json_each(source).table_valued(column("value")).alias(name)


def attribute_text(dialect: str, document: Any, key: str) -> ColumnElement[Any]:
    """``document[key]`` when it is a JSON string, else NULL."""
    return _Json(dialect).text(document, key)


class Payloads:
    """How amounts and categories are read from purchase payloads, for one dialect."""

    def __init__(self, dialect: str, settings: PurchaseSettings) -> None:
        self.json = _Json(dialect)
        self.settings = settings

    def _first(self, values: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
        if not values:
            return literal(None)
        return values[0] if len(values) == 1 else func.coalesce(*values)

    def lines(self, payload: Any, name: str = "line") -> Any:
        """The payload's lines as a table."""
        return self.json.elements(payload, self.settings.lines_field, name)

    def line_amount(self, line: Any) -> ColumnElement[Any]:
        """A line's amount: its amount field, else price times quantity (1 when absent)."""
        value = line.c.value
        settings = self.settings
        number = self.json.number
        price = self._first([number(value, name) for name in settings.line_price_fields])
        quantity = func.coalesce(number(value, settings.line_quantity_field), 1.0)
        explicit = [number(value, name) for name in settings.line_amount_fields]
        return func.coalesce(*explicit, price * quantity) if explicit else price * quantity

    def line_category(self, line: Any) -> ColumnElement[Any]:
        """A line's category (a string), or NULL."""
        return self.json.text(line.c.value, self.settings.category_field)

    def amount(self, payload: Any) -> ColumnElement[Any]:
        """The purchase's amount: a top-level amount field, else the sum of its lines, else 0."""
        line = self.lines(payload, "amount_line")
        summed = select(func.sum(self.line_amount(line))).select_from(line).scalar_subquery()
        fields = [self.json.number(payload, name) for name in self.settings.amount_fields]
        return func.coalesce(*fields, summed, 0.0)

    def currency(self, payload: Any) -> ColumnElement[Any]:
        """The purchase's currency, or an empty string."""
        return func.coalesce(self.json.text(payload, self.settings.currency_field), "")

    def _order(self, part: Any, inter: Any, value: Any) -> ColumnElement[Any]:
        """*value* of the purchase a return refers to (same buyer, same order id), or NULL."""
        settings = self.settings
        buyer = _ORDER_BUYER
        placed = _ORDER_PLACED
        order = self.json.text(inter.c.payload, settings.order_field)
        return (
            select(value(placed.c.payload))
            .select_from(buyer.join(placed, placed.c.id == buyer.c.interaction_id))
            .where(
                buyer.c.party_id == part.c.party_id,
                _one_of(buyer.c.type, settings.types),
                self.json.text(placed.c.payload, settings.order_field) == order,
            )
            .order_by(buyer.c.occurred_at, buyer.c.interaction_id)
            .limit(1)
            .scalar_subquery()
        )

    def refund(self, part: Any, inter: Any) -> ColumnElement[Any]:
        """What a return takes back: its amount, else what is left of the order it refers
        to (its amount less the amounts of earlier returns of the same order)."""
        settings = self.settings
        payload = inter.c.payload
        explicit = [self.json.number(payload, name) for name in settings.amount_fields]
        if not settings.order_field or not settings.types:
            return func.coalesce(*explicit, 0.0)
        earlier = _EARLIER_RETURN
        taken = _EARLIER_REFUND
        taken_amount = func.coalesce(
            *[self.json.number(taken.c.payload, name) for name in settings.amount_fields], 0.0
        )
        refunded = (
            select(func.coalesce(func.sum(taken_amount), 0.0))
            .select_from(earlier.join(taken, taken.c.id == earlier.c.interaction_id))
            .where(
                earlier.c.party_id == part.c.party_id,
                _one_of(earlier.c.type, settings.return_types),
                earlier.c.role == part.c.role,
                earlier.c.interaction_id != part.c.interaction_id,
                earlier.c.occurred_at <= part.c.occurred_at,
                self.json.text(taken.c.payload, settings.order_field)
                == self.json.text(payload, settings.order_field),
            )
            .scalar_subquery()
        )
        left = self._order(part, inter, self.amount) - refunded
        return func.coalesce(*explicit, case((left > 0, left), else_=0.0), 0.0)

    def return_currency(self, part: Any, inter: Any) -> ColumnElement[Any]:
        """A return's currency: its own, else its order's, else an empty string."""
        own = self.json.text(inter.c.payload, self.settings.currency_field)
        if not self.settings.order_field or not self.settings.types:
            return func.coalesce(own, "")
        field = self.settings.currency_field
        order = self._order(part, inter, lambda payload: self.json.text(payload, field))
        return func.coalesce(own, order, "")

    def category(self, payload: Any) -> ColumnElement[Any]:
        """A top-level category, or NULL."""
        return self.json.text(payload, self.settings.category_field)


# -- memberships and households ---------------------------------------------------------


def birth_date_of(attributes: Mapping[str, Any]) -> date | None:
    """``attributes.birth_date`` as a date, if it is a valid one."""
    value = attributes.get("birth_date")
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@attrs.frozen
class MemberRow:
    """One membership (current or past) of a person in a household."""

    relationship_id: int
    party: Party
    household_id: int
    role: str
    since: datetime | None
    until: datetime | None
    born: date | None = None

    def holds(self, at: datetime) -> bool:
        """True when the membership holds at *at* (aware)."""
        started = self.since is None or self.since <= at
        return started and (self.until is None or at < self.until)


def memberships_statement(
    at: Moment, household_ids: Scope = None, person_ids: Scope = None
) -> Select[Any]:
    """The statement behind :func:`memberships`."""
    moment = _stored(at)
    query = (
        select(
            _rel.c.id,
            _rel.c.target_id,
            _rel.c.role,
            _raw_time(_rel.c.valid_from).label("valid_from"),
            _raw_time(_rel.c.valid_to).label("valid_to"),
            *_party_columns(),
        )
        .select_from(_rel.join(_party, _party.c.id == _rel.c.source_id))
        .where(_rel.c.type == MEMBER_OF, _rel.c.valid_from <= moment)
        .order_by(_rel.c.target_id, _rel.c.valid_from, _rel.c.id)
    )
    for scoped, ids in ((_rel.c.target_id, household_ids), (_rel.c.source_id, person_ids)):
        condition = _scoped(scoped, ids)
        if condition is not None:
            query = query.where(condition)
    return query


def member_rows(rows: Iterable[Any]) -> list[MemberRow]:
    """:class:`MemberRow` objects from the rows of :func:`memberships_statement`."""
    found = []
    for row in rows:
        party = _party_of(row)
        found.append(
            MemberRow(
                relationship_id=int(row.id),
                party=party,
                household_id=int(row.target_id),
                role=row.role or "other",
                since=_moment(row.valid_from),
                until=_moment(row.valid_to),
                born=birth_date_of(party.attributes),
            )
        )
    return found


def memberships(
    connection: Connection,
    at: datetime,
    household_ids: Collection[int] | None = None,
    person_ids: Collection[int] | None = None,
) -> list[MemberRow]:
    """Memberships that started before *at* (ended ones too), with their people."""
    return member_rows(connection.execute(memberships_statement(at, household_ids, person_ids)))


def households(connection: Connection, household_ids: Collection[int] | None) -> dict[int, Party]:
    """The household parties (all of them, or these), without their attributes."""
    query = (
        select(*_party_columns(attributes=False))
        .where(_party.c.kind == HOUSEHOLD)
        .order_by(_party.c.key)
    )
    if household_ids is not None:
        query = query.where(_one_of(_party.c.id, sorted(household_ids)))
    return {int(row.p_id): _party_of(row) for row in connection.execute(query)}


# -- purchases credited by membership period -----------------------------------------------


@attrs.frozen
class SpendRow:
    """What one person bought while a member of one household (in one currency): all
    before the date, and in the recent window."""

    household_id: int
    party_id: int
    currency: str
    purchases: int
    amount: float
    first: datetime | None
    last: datetime | None
    recent_purchases: int
    recent_amount: float


def _credited(household_ids: Scope) -> tuple[Any, Any, Any, list[Any]]:
    part = _BUYER
    member = _MEMBERSHIP
    inter = _PURCHASE
    joined = part.join(
        member,
        and_(
            member.c.source_id == part.c.party_id,
            member.c.type == MEMBER_OF,
            _covers(member, part.c.occurred_at),
        ),
    ).join(inter, inter.c.id == part.c.interaction_id)
    condition = _scoped(member.c.target_id, household_ids)
    conditions: list[Any] = [] if condition is None else [condition]
    return part, member, inter, [joined, *conditions]


def spend_statement(
    dialect: str,
    settings: PurchaseSettings,
    at: Moment,
    since: Moment,
    household_ids: Scope = None,
) -> Select[Any] | None:
    """The statement behind :func:`spend` (None when no purchase type is configured).

    Columns: household, party, currency, purchases, amount, first, last,
    recent_purchases, recent_amount. Every value is bound, so segments embed it.
    """
    kinds = (*settings.types, *settings.return_types)
    if not kinds or not settings.buyer_roles:
        return None
    payloads = Payloads(dialect, settings)
    part, member, inter, (joined, *conditions) = _credited(household_ids)
    is_return = _one_of(part.c.type, settings.return_types or ("",))
    is_purchase = _one_of(part.c.type, settings.types or ("",))
    recent = part.c.occurred_at >= _stored(since)
    amount = case(
        (is_return, -payloads.refund(part, inter)), else_=payloads.amount(inter.c.payload)
    )
    currency = case(
        (is_return, payloads.return_currency(part, inter)),
        else_=payloads.currency(inter.c.payload),
    ).label("currency")
    counted = case((is_purchase, part.c.interaction_id), else_=None)
    values = (
        select(
            member.c.target_id.label("household"),
            part.c.party_id.label("party"),
            part.c.interaction_id.label("interaction"),
            part.c.occurred_at.label("at"),
            currency,
            amount.label("amount"),
            counted.label("counted"),
            recent.label("recent"),
        )
        .select_from(joined)
        .where(
            _one_of(part.c.type, kinds),
            _one_of(part.c.role, settings.buyer_roles),
            part.c.occurred_at < _stored(at),
            *conditions,
        )
        # OFFSET 0 keeps SQLite and PostgreSQL from flattening this subquery into the
        # aggregate, which would compute each amount (a JSON subquery) once per use.
        .offset(0)
        .subquery("credited")
    )
    query = select(
        values.c.household,
        values.c.party,
        values.c.currency,
        func.count(func.distinct(values.c.counted)).label("purchases"),
        func.sum(values.c.amount).label("amount"),
        func.min(values.c.at).label("first"),
        func.max(values.c.at).label("last"),
        func.count(func.distinct(case((values.c.recent, values.c.counted), else_=None))).label(
            "recent_purchases"
        ),
        func.sum(case((values.c.recent, values.c.amount), else_=0.0)).label("recent_amount"),
    ).group_by(values.c.household, values.c.party, values.c.currency)
    return query


def spend(
    connection: Connection,
    settings: PurchaseSettings,
    at: datetime,
    since: datetime,
    household_ids: Collection[int] | None = None,
) -> list[SpendRow]:
    """Purchases (net of returns) credited to the household the buyer belonged to on the
    purchase date, per household, buyer and currency: before *at*, and from *since*."""
    query = spend_statement(connection.dialect.name, settings, at, since, household_ids)
    if query is None:
        return []
    return spend_rows(connection.execute(query))


def spend_rows(rows: Iterable[Any]) -> list[SpendRow]:
    """:class:`SpendRow` objects from the rows of :func:`spend_statement`."""
    return [
        SpendRow(
            household_id=int(row.household),
            party_id=int(row.party),
            currency=row.currency or "",
            purchases=int(row.purchases or 0),
            amount=float(row.amount or 0.0),
            first=from_storage(row.first),
            last=from_storage(row.last),
            recent_purchases=int(row.recent_purchases or 0),
            recent_amount=float(row.recent_amount or 0.0),
        )
        for row in rows
    ]


def categories_statement(
    dialect: str,
    settings: PurchaseSettings,
    at: Moment,
    since: Moment | None,
    household_ids: Scope = None,
) -> Any:
    """The statement behind :func:`categories` (None when no purchase type is configured)."""
    if not settings.types or not settings.buyer_roles:
        return None
    payloads = Payloads(dialect, settings)
    queries = []
    for from_lines in (True, False):
        part, member, inter, (joined, *conditions) = _credited(household_ids)
        if from_lines:
            line = payloads.lines(inter.c.payload, "category_line")
            source = joined.join(line, true())
            category = payloads.line_category(line)
        else:
            source = joined
            category = payloads.category(inter.c.payload)
        query = (
            select(
                member.c.target_id.label("household"),
                part.c.party_id.label("party"),
                category.label("category"),
            )
            .select_from(source)
            .where(
                _one_of(part.c.type, settings.types),
                _one_of(part.c.role, settings.buyer_roles),
                part.c.occurred_at < _stored(at),
                category.is_not(None),
                *conditions,
            )
        )
        if since is not None:
            query = query.where(part.c.occurred_at >= _stored(since))
        queries.append(query)
    return union(*queries)


def categories(
    connection: Connection,
    settings: PurchaseSettings,
    at: datetime,
    since: datetime | None,
    household_ids: Collection[int] | None = None,
) -> list[tuple[int, int, str]]:
    """``(household, buyer, category)`` for every category bought while a member, from the
    lines and from a top-level category, between *since* and *at*."""
    statement = categories_statement(connection.dialect.name, settings, at, since, household_ids)
    if statement is None:
        return []
    return category_rows(connection.execute(statement))


def category_rows(rows: Iterable[Any]) -> list[tuple[int, int, str]]:
    """``(household, buyer, category)`` from the rows of :func:`categories_statement`."""
    return [(int(row.household), int(row.party), str(row.category)) for row in rows]


# -- holdings ----------------------------------------------------------------------------


@attrs.frozen
class HoldingRow:
    """A holding held at the date by a current member (or by the household itself)."""

    household_id: int
    holder_id: int
    relationship_id: int
    holding: Party
    share: float | None
    by_household: bool


def holdings_statements(at: Moment, household_ids: Scope = None) -> tuple[Any, Any]:
    """The two statements behind :func:`holdings`: held by current members, held by the
    households themselves."""
    moment = _stored(at)
    holds = _HOLDS
    member = _MEMBERSHIP
    holder = _HOLDER
    columns = [holds.c.id, holds.c.source_id, holds.c.attributes.label("rel_attributes")]
    by_members = (
        select(member.c.target_id.label("household"), literal(False).label("direct"), *columns)
        .add_columns(*_party_columns())
        .select_from(
            holds.join(
                member,
                and_(
                    member.c.source_id == holds.c.source_id,
                    member.c.type == MEMBER_OF,
                    _current(member, moment),
                ),
            ).join(_party, _party.c.id == holds.c.target_id)
        )
        .where(holds.c.type == HOLDS, _current(holds, moment))
    )
    direct = (
        select(holds.c.source_id.label("household"), literal(True).label("direct"), *columns)
        .add_columns(*_party_columns())
        .select_from(
            holds.join(holder, holder.c.id == holds.c.source_id).join(
                _party, _party.c.id == holds.c.target_id
            )
        )
        .where(holds.c.type == HOLDS, _current(holds, moment), holder.c.kind == HOUSEHOLD)
    )
    scoped_members = _scoped(member.c.target_id, household_ids)
    if scoped_members is not None:
        by_members = by_members.where(scoped_members)
    scoped_direct = _scoped(holds.c.source_id, household_ids)
    if scoped_direct is not None:
        direct = direct.where(scoped_direct)
    return by_members, direct


def holdings(
    connection: Connection, at: datetime, household_ids: Collection[int] | None = None
) -> list[HoldingRow]:
    """Holdings current at *at* of the households' current members and of the households."""
    found = []
    for query in holdings_statements(at, household_ids):
        found.extend(holding_rows(connection.execute(query)))
    return found


def holding_rows(rows: Iterable[Any]) -> list[HoldingRow]:
    """:class:`HoldingRow` objects from the rows of :func:`holdings_statements`."""
    found = []
    for row in rows:
        share = (row.rel_attributes or {}).get("share")
        found.append(
            HoldingRow(
                household_id=int(row.household),
                holder_id=int(row.source_id),
                relationship_id=int(row.id),
                holding=_party_of(row),
                share=float(share) if isinstance(share, int | float) else None,
                by_household=bool(row.direct),
            )
        )
    return found


# -- influence -----------------------------------------------------------------------------


def influence_statement(
    settings: PurchaseSettings, person: Any, household: Any, since: Moment, at: Moment
) -> Select[Any] | None:
    """The statement behind :func:`influence`; *person* and *household* are ids or columns
    (a segment correlates them to its memberships). None when nothing can match."""
    if not settings.consumer_roles or not settings.types or not settings.buyer_roles:
        return None
    consumer = _CONSUMER
    buyer = _BUYER
    consumer_member = _CONSUMER_MEMBERSHIP
    buyer_member = _BUYER_MEMBERSHIP
    return (
        select(consumer.c.interaction_id, consumer.c.occurred_at)
        .select_from(
            consumer.join(
                buyer,
                and_(
                    buyer.c.interaction_id == consumer.c.interaction_id,
                    _one_of(buyer.c.role, settings.buyer_roles),
                    buyer.c.party_id != consumer.c.party_id,
                ),
            )
            .join(
                consumer_member,
                and_(
                    consumer_member.c.source_id == consumer.c.party_id,
                    consumer_member.c.type == MEMBER_OF,
                    consumer_member.c.target_id == household,
                    _covers(consumer_member, consumer.c.occurred_at),
                ),
            )
            .join(
                buyer_member,
                and_(
                    buyer_member.c.source_id == buyer.c.party_id,
                    buyer_member.c.type == MEMBER_OF,
                    buyer_member.c.target_id == household,
                    _covers(buyer_member, buyer.c.occurred_at),
                ),
            )
        )
        .where(
            consumer.c.party_id == person,
            _one_of(consumer.c.type, settings.types),
            _one_of(consumer.c.role, settings.consumer_roles),
            consumer.c.occurred_at >= _stored(since),
            consumer.c.occurred_at < _stored(at),
        )
        .distinct()
    )


def influence(
    connection: Connection,
    settings: PurchaseSettings,
    person_id: int,
    household_id: int,
    since: datetime,
    at: datetime,
) -> list[tuple[int, datetime]]:
    """Purchases between *since* and *at* made by another member of the household for this
    person (a consumer role), both being members on the purchase date: ``(id, when)``."""
    statement = influence_statement(settings, person_id, household_id, since, at)
    if statement is None:
        return []
    consumer = _CONSUMER
    query = statement.order_by(consumer.c.occurred_at, consumer.c.interaction_id)
    found = []
    for row in connection.execute(query):
        when = from_storage(row.occurred_at)
        assert when is not None
        found.append((int(row.interaction_id), when))
    return found


def usage_influence_statement(
    dialect: str,
    settings: PurchaseSettings,
    person: Any,
    household: Any,
    since: Moment,
    at: Moment,
) -> Select[Any] | None:
    """The statement behind :func:`usage_influence`; *person* and *household* are ids or
    columns. None when nothing can match."""
    if not (settings.usage_types and settings.usage_roles and settings.order_field):
        return None
    if not settings.types or not settings.buyer_roles:
        return None
    json_ = _Json(dialect)
    user, used, user_member = _USER, _USED, _USER_MEMBERSHIP
    buyer, buyer_member, bought = _BUYER, _BUYER_MEMBERSHIP, _BOUGHT
    return (
        select(user.c.interaction_id, user.c.occurred_at, buyer.c.interaction_id.label("bought"))
        .select_from(
            user.join(used, used.c.id == user.c.interaction_id)
            .join(
                user_member,
                and_(
                    user_member.c.source_id == user.c.party_id,
                    user_member.c.type == MEMBER_OF,
                    user_member.c.target_id == household,
                    _covers(user_member, user.c.occurred_at),
                ),
            )
            .join(
                buyer_member,
                and_(
                    buyer_member.c.target_id == household,
                    buyer_member.c.type == MEMBER_OF,
                    buyer_member.c.source_id != user.c.party_id,
                ),
            )
            .join(
                buyer,
                and_(
                    buyer.c.party_id == buyer_member.c.source_id,
                    _one_of(buyer.c.type, settings.types),
                    _one_of(buyer.c.role, settings.buyer_roles),
                    buyer.c.occurred_at <= user.c.occurred_at,
                    _covers(buyer_member, buyer.c.occurred_at),
                ),
            )
            .join(
                bought,
                and_(
                    bought.c.id == buyer.c.interaction_id,
                    json_.text(bought.c.payload, settings.order_field)
                    == json_.text(used.c.payload, settings.order_field),
                ),
            )
        )
        .where(
            user.c.party_id == person,
            _one_of(user.c.type, settings.usage_types),
            _one_of(user.c.role, settings.usage_roles),
            user.c.occurred_at >= _stored(since),
            user.c.occurred_at < _stored(at),
        )
        .distinct()
    )


def usage_influence(
    connection: Connection,
    settings: PurchaseSettings,
    person_id: int,
    household_id: int,
    since: datetime,
    at: datetime,
) -> list[tuple[int, datetime, int]]:
    """Uses between *since* and *at*, by this person, of products another member of the
    household bought (the use names the purchase's order), both being members at the
    time: ``(use id, when, purchase id)``."""
    dialect = connection.dialect.name
    statement = usage_influence_statement(dialect, settings, person_id, household_id, since, at)
    if statement is None:
        return []
    user = _USER
    query = statement.order_by(user.c.occurred_at, user.c.interaction_id)
    found = []
    for row in connection.execute(query):
        when = from_storage(row.occurred_at)
        assert when is not None
        found.append((int(row.interaction_id), when, int(row.bought)))
    return found


def own_purchases(
    connection: Connection,
    settings: PurchaseSettings,
    person_id: int,
    since: datetime,
    at: datetime,
) -> int:
    """How many purchases the person made as a buyer between *since* and *at*."""
    if not settings.types or not settings.buyer_roles:
        return 0
    query = select(func.count(func.distinct(_part.c.interaction_id))).where(
        *own_purchase_conditions(settings, _part, person_id, since, at)
    )
    return int(connection.execute(query).scalar_one())


def own_purchase_conditions(
    settings: PurchaseSettings, part: Any, person: Any, since: Moment, at: Moment
) -> list[ColumnElement[bool]]:
    """*part* (a participant table) is *person* buying between *since* and *at*."""
    return [
        part.c.party_id == person,
        _one_of(part.c.type, settings.types),
        _one_of(part.c.role, settings.buyer_roles),
        part.c.occurred_at >= _stored(since),
        part.c.occurred_at < _stored(at),
    ]


# -- address suggestions -----------------------------------------------------------------------


def _has_key(connection: Connection, document: Any, key: str) -> ColumnElement[bool]:
    kind = _Json(connection.dialect.name).kind(document, key)
    return and_(kind.is_not(None), kind != "null")


def unhoused_with_address(
    connection: Connection, attribute: str, at: datetime
) -> list[tuple[Party, Any]]:
    """Persons with an address attribute who belong to no household at *at*."""
    moment = to_storage(at)
    member = _MEMBERSHIP
    housed = (
        select(member.c.id)
        .where(
            member.c.source_id == _party.c.id,
            member.c.type == MEMBER_OF,
            _current(member, moment),
        )
        .exists()
    )
    query = (
        select(*_party_columns())
        .where(
            _party.c.kind == "person",
            _has_key(connection, _party.c.attributes, attribute),
            ~housed,
        )
        .order_by(_party.c.key)
    )
    found = []
    for row in connection.execute(query):
        party = _party_of(row)
        found.append((party, party.attributes.get(attribute)))
    return found


def housed_addresses(connection: Connection, attribute: str, at: datetime) -> list[tuple[int, Any]]:
    """``(household id, address)`` of households with an address and of their current members."""
    moment = to_storage(at)
    member = _MEMBERSHIP
    person = _PERSON
    own = select(_party.c.id.label("household"), _party.c.attributes).where(
        _party.c.kind == HOUSEHOLD, _has_key(connection, _party.c.attributes, attribute)
    )
    members = (
        select(member.c.target_id.label("household"), person.c.attributes)
        .select_from(member.join(person, person.c.id == member.c.source_id))
        .where(
            member.c.type == MEMBER_OF,
            _current(member, moment),
            _has_key(connection, person.c.attributes, attribute),
        )
    )
    found = []
    for query in (own, members):
        for row in connection.execute(query):
            found.append((int(row.household), (row.attributes or {}).get(attribute)))
    return found
