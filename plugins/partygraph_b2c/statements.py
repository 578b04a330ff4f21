"""Per-party statements, built once and reused with bound parameters.

Building a SQLAlchemy expression costs more than running the indexed query it
describes, so every read the role, metrics and view hooks make for one party
is constructed here once and run as a :class:`~partygraph.storage.prepared.Prepared`
statement. Each starts from the party's own participant rows
(index ``party_id, type, role, occurred_at``), so reading one party costs
the same at a thousand customers as at a million.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import NullType

from partygraph.storage.prepared import Prepared
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph_b2c import tables
from partygraph_b2c.vocabulary import PRODUCT_USAGE, PURCHASE

__all__ = [
    "categories_of_party",
    "excluding_relationship",
    "orders_of_party",
    "stored_orders",
    "usage_of_party",
]

_order = tables.order
_refund = tables.refund
_category = tables.order_category
_party = party_table

_me = participant_table.alias("me")
_buyer = participant_table.alias("buyer")
_buyer_party = party_table.alias("buyer_party")
_consumer = participant_table.alias("consumer")
_consumer_party = party_table.alias("consumer_party")
_mine = and_(
    _me.c.party_id == bindparam("party"),
    _me.c.type == PURCHASE,
    _me.c.occurred_at <= bindparam("until"),
)

#: Every purchase the party took part in (as purchaser or consumer) up to ``until``: one
#: row per refund made by then and per other consumer named (or one row without), with
#: the purchaser's and that consumer's summaries.
orders_of_party = Prepared(
    select(
        _me.c.role,
        _order.c.interaction_id,
        _order.c.order_id,
        _order.c.occurred_at,
        _order.c.currency,
        _order.c.total_minor,
        _refund.c.interaction_id.label("refund_id"),
        _refund.c.occurred_at.label("refund_at"),
        _refund.c.amount_minor.label("refund_amount"),
        _buyer.c.party_id.label("buyer_id"),
        _buyer_party.c.key.label("buyer_key"),
        _buyer_party.c.kind.label("buyer_kind"),
        _buyer_party.c.name.label("buyer_name"),
        _consumer.c.party_id.label("consumer_id"),
        _consumer_party.c.key.label("consumer_key"),
        _consumer_party.c.kind.label("consumer_kind"),
        _consumer_party.c.name.label("consumer_name"),
    )
    .select_from(
        _me.join(_order, _order.c.interaction_id == _me.c.interaction_id)
        .outerjoin(
            _refund,
            and_(
                _refund.c.order_interaction_id == _order.c.interaction_id,
                _refund.c.occurred_at <= bindparam("until"),
            ),
        )
        .outerjoin(
            _buyer,
            and_(_buyer.c.interaction_id == _me.c.interaction_id, _buyer.c.role == "purchaser"),
        )
        .outerjoin(_buyer_party, _buyer_party.c.id == _buyer.c.party_id)
        .outerjoin(
            _consumer,
            and_(
                _me.c.role == "purchaser",
                _consumer.c.interaction_id == _me.c.interaction_id,
                _consumer.c.role == "consumer",
                _consumer.c.party_id != _me.c.party_id,
            ),
        )
        .outerjoin(_consumer_party, _consumer_party.c.id == _consumer.c.party_id)
    )
    # The roles are spelt out and lead the order so that the whole index
    # (party_id, type, role, occurred_at) serves the search and the order; with only
    # the time to order by, SQLite prefers (party_id, occurred_at) and walks every
    # interaction of the party. Each role's rows stay in time order, as load_history
    # keeps them.
    .where(_mine, _me.c.role.in_([literal("purchaser"), literal("consumer")]))
    .order_by(
        _me.c.role,
        _me.c.occurred_at,
        _order.c.interaction_id,
        _refund.c.occurred_at,
        _refund.c.interaction_id,
    )
)

#: The categories of the party's own purchases up to ``until`` (one row per order and category).
categories_of_party = Prepared(
    select(
        _category.c.interaction_id,
        _category.c.category,
        # As the driver returns it: a prepared statement cannot apply SQLAlchemy's
        # PostgreSQL float conversion (top_categories makes it a float).
        type_coerce(_category.c.quantity, NullType()).label("quantity"),
        _category.c.amount_minor,
    )
    .select_from(_me.join(_category, _category.c.interaction_id == _me.c.interaction_id))
    .where(_mine, _me.c.role == "purchaser")
)

_use = participant_table.alias("use")
#: The party's latest product uses up to ``until`` (param ``limit``), each row carrying
#: the count and the first time of all of them.
usage_of_party = Prepared(
    select(
        interaction_table.c.id,
        _use.c.occurred_at,
        interaction_table.c.payload,
        func.count().over().label("uses"),
        func.min(_use.c.occurred_at).over().label("first_at"),
    )
    .select_from(_use.join(interaction_table, interaction_table.c.id == _use.c.interaction_id))
    .where(
        _use.c.party_id == bindparam("party"),
        _use.c.type == PRODUCT_USAGE,
        _use.c.role == "user",
        _use.c.occurred_at <= bindparam("until"),
    )
    .order_by(_use.c.occurred_at.desc(), _use.c.interaction_id.desc())
    .limit(bindparam("limit"))
)

_rel = relationship_table


@functools.cache
def excluding_relationship(types: tuple[str, ...]) -> Prepared:
    """A current outgoing relationship of one of *types* at ``at`` (params ``party``,
    ``at``); the types are part of the statement, one per settings."""
    return Prepared(
        select(_rel.c.type)
        .where(
            _rel.c.source_id == bindparam("party"),
            _rel.c.type.in_([literal(name) for name in types]),
            _rel.c.valid_from <= bindparam("at"),
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > bindparam("at")),
        )
        .limit(1)
    )


@functools.cache
def stored_orders(dialect: str) -> Prepared:
    """Stored orders whose order id is in the JSON array ``order_ids``, with the amount
    refunded so far (one statement per write batch, whatever its size)."""
    if dialect == "postgresql":
        ids: Any = func.jsonb_array_elements_text(
            cast(bindparam("order_ids", type_=String()), JSONB)
        ).table_valued(column("value"))
    else:
        ids = func.json_each(bindparam("order_ids")).table_valued(column("value"))
    returned = (
        select(func.sum(_refund.c.amount_minor))
        .where(_refund.c.order_interaction_id == _order.c.interaction_id)
        .scalar_subquery()
    )
    return Prepared(
        select(
            _order.c.order_id,
            _order.c.interaction_id,
            _order.c.occurred_at,
            _order.c.currency,
            _order.c.total_minor,
            returned.label("returned"),
        ).where(_order.c.order_id.in_(select(ids.c.value)))
    )
