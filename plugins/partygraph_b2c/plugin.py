"""The plugin object: hook implementations and the b2c API (``toolkit.plugin("b2c")``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import attrs
import click
from sqlalchemy import Connection, Select, Table, and_, func, select
from sqlalchemy.pool import StaticPool

from partygraph import (
    DataDeclaration,
    GraphReader,
    InteractionType,
    MigrationSource,
    NotFoundError,
    Party,
    PartyRef,
    PluginError,
    RoleAssignment,
    ValidationError,
    WriteBatch,
    WriteSession,
    hookimpl,
    once_per_read,
)
from partygraph.reading import party_from_row
from partygraph.schemas import load_schema
from partygraph.segments import SegmentMetric, SegmentPredicate
from partygraph.storage.tables import participant_table, party_table
from partygraph.times import parse_time, to_storage, utcnow
from partygraph_b2c import analytics, figures, segments, tables
from partygraph_b2c.currencies import from_minor
from partygraph_b2c.history import History, has_excluding_relationship, load_history
from partygraph_b2c.ingest import Derived, check_batch, record_batch
from partygraph_b2c.rfm_store import load_scale, store_scale
from partygraph_b2c.roles import assign_roles
from partygraph_b2c.settings import Settings
from partygraph_b2c.vocabulary import PURCHASE, interaction_types

if TYPE_CHECKING:
    from partygraph import Toolkit

__all__ = ["B2CPlugin"]

#: Purposes that are about the purchaser alone (receipts, invoices, payment).
BILLING_PURPOSES = frozenset({"billing"})
#: Purposes that are about the people the products are for (delivery, support, tips).
SERVICE_PURPOSES = frozenset({"service", "support"})

_SUBJECTS = ("customer", "child", "household_member")


def _declare(table: str, field: str, description: str) -> DataDeclaration:
    return DataDeclaration(
        table,
        field,
        "user.behavior.purchase_history",
        subjects=_SUBJECTS,
        purposes=("billing", "analytics"),
        description=description,
    )


class B2CPlugin:
    """Purchasers and consumers, the customer lifecycle, lifetime value and RFM."""

    def __init__(self) -> None:
        self.settings = Settings()
        self._toolkit: Toolkit | None = None
        self._gated = False
        self._pending: WeakKeyDictionary[WriteBatch, Derived] = WeakKeyDictionary()

    def __dir__(self) -> list[str]:
        # pluggy looks up every name dir() lists; leave out the property that raises.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (once it is open)."""
        if self._toolkit is None:
            raise PluginError("the b2c plugin is not attached to an open toolkit yet")
        return self._toolkit

    # -- configuration and vocabulary --------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/b2c")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(settings)

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return interaction_types()

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        return list(tables.metadata.sorted_tables)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("b2c", Path(__file__).parent / "migrations")

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return [
            _declare("b2c_order", "order_id", "The order's identifier in the selling system."),
            _declare("b2c_order", "occurred_at", "When the order was placed."),
            _declare("b2c_order", "currency", "The order's currency."),
            _declare("b2c_order", "total_minor", "The order's total, in minor units."),
            _declare("b2c_order_category", "category", "A category bought in the order."),
            _declare("b2c_order_category", "quantity", "Units of the category in the order."),
            _declare("b2c_order_category", "amount_minor", "Spend on the category, minor units."),
            _declare("b2c_return", "order_interaction_id", "The order a return refers to."),
            _declare("b2c_return", "occurred_at", "When goods were returned."),
            _declare("b2c_return", "amount_minor", "The amount refunded, in minor units."),
            *(
                DataDeclaration(
                    "b2c_rfm_scale",
                    field,
                    "system.operations",
                    personal=False,
                    purposes=("analytics",),
                    description="RFM boundaries of the whole population (no one's figures).",
                )
                for field in ("purpose", "cut", "population", "recency", "frequency", "monetary")
            ),
        ]

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_b2c.cli import b2c_group

        return [b2c_group]

    # Last: scoring asks the other plugins who may be counted, so they must be ready first.
    @hookimpl(trylast=True)
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit
        # Ask the plugins who may be counted only when one of them answers that question.
        self._gated = any("partygraph_permitted" in info.hooks for info in toolkit.plugins)

    # -- writing -----------------------------------------------------------------------------

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        if not batch.interactions:
            return
        derived = check_batch(self.settings, batch, session)
        if derived is not None:
            self._pending[batch] = derived

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        derived = self._pending.pop(batch, None)
        if derived is not None:
            record_batch(derived, batch, session)

    # -- reading -----------------------------------------------------------------------------

    def _history(self, graph: GraphReader, party: Party, as_of: datetime) -> History:
        assert party.id is not None
        found = once_per_read(
            graph,
            "b2c",
            ("history", party.id, as_of),
            lambda: load_history(graph.connection, self.settings, party, as_of),
        )
        return found if found.party == party else attrs.evolve(found, party=party)

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        party_id = party.id
        assert party_id is not None
        history = self._history(graph, party, as_of)
        types = self.settings.prospects.exclude_relationship_types
        return assign_roles(
            history,
            lambda: has_excluding_relationship(graph.connection, party_id, types, as_of),
        )

    def _excluded(self, graph: GraphReader, party: Party, purpose: str | None) -> str | None:
        if purpose is None or not self._gated:
            return None
        assert party.id is not None
        return graph.excluded([party], purpose).get(party.id)

    def _rfm_of(self, graph: GraphReader, history: History) -> tuple[int, int, int] | None:
        key = ("rfm", history.party.id, history.as_of)
        return once_per_read(graph, "b2c", key, lambda: self._score(graph, history))

    def _score(self, graph: GraphReader, history: History) -> tuple[int, int, int] | None:
        party = history.party
        assert party.id is not None
        if not history.is_customer(history.as_of):
            return None
        if self._excluded(graph, party, self.settings.analytics_purpose) is not None:
            return None
        scale = self._scale(graph)
        if scale is None:
            return None
        at = history.as_of
        last = history.last_kept(at)
        assert last is not None
        return scale.score(
            to_storage(last.at).date(), len(history.kept_orders(at)), history.net_minor(at)
        )

    def _scale(self, graph: GraphReader) -> analytics.RfmScale | None:
        """The stored RFM scale, once per read; scored and stored first if there is none.

        The first read on a database that never stored one pays for one population
        pass; a write's reader does not (it cannot start a transaction of its own).
        """
        return once_per_read(graph, "b2c", ("rfm_scale",), lambda: self._stored_scale(graph))

    def _stored_scale(self, graph: GraphReader) -> analytics.RfmScale | None:
        scale = load_scale(graph.connection, self.settings.analytics_purpose)
        if scale is None and graph.memo("b2c") is not None:
            # The first read of a database without a scale scores the population
            # on this read's own connection, then stores the scale for the next.
            scale = self._population_scale(graph, utcnow())
            if not _one_connection(graph.connection):
                self._store(scale)
        return scale

    def _population_scale(self, graph: GraphReader, at: datetime) -> analytics.RfmScale:
        excluded = analytics.excluded_customers(
            graph, self.settings.analytics_purpose, at, self._gated
        )
        return analytics.rfm_scale(graph.connection, self.settings, at, sorted(excluded))

    def _store(self, scale: analytics.RfmScale) -> None:
        with self.toolkit.transaction() as connection:
            store_scale(connection, scale)

    def _categories(
        self, graph: GraphReader, history: History, limit: int | None
    ) -> tuple[list[dict[str, Any]] | None, str | None]:
        """The party's top categories, or why they are withheld."""
        key = ("categories", history.party.id, history.as_of, limit)
        return once_per_read(
            graph, "b2c", key, lambda: self._work_out_categories(graph, history, limit)
        )

    def _work_out_categories(
        self, graph: GraphReader, history: History, limit: int | None
    ) -> tuple[list[dict[str, Any]] | None, str | None]:
        reason = self._excluded(graph, history.party, self.settings.preferences.purpose)
        if reason is not None:
            return None, reason
        kept = {order.interaction_id: order.factor for order in history.kept_orders(history.as_of)}
        if not kept:
            return [], None
        found = analytics.top_categories(
            graph.connection, self.settings, history.party, history.as_of, kept, limit
        )
        return found, None

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        history = self._history(graph, party, as_of)
        if history.empty:
            return None
        categories, _ = self._categories(graph, history, self.settings.preferences.top_n)
        return figures.metrics(history, self._rfm_of(graph, history), categories)

    @hookimpl
    def partygraph_segment_predicates(self) -> Iterable[SegmentPredicate]:
        return segments.predicates(lambda: self.settings)

    @hookimpl
    def partygraph_segment_metrics(self) -> Iterable[SegmentMetric]:
        return segments.metrics(lambda: self.settings)

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        history = self._history(graph, party, as_of)
        if history.empty:
            return None
        categories, withheld = self._categories(graph, history, self.settings.preferences.top_n)
        return figures.view_section(history, self._rfm_of(graph, history), categories, withheld)

    # -- data subjects -------------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> Mapping[str, Any]:
        history = self._history(graph, party, utcnow())
        currency = self.settings.currency
        at = history.as_of
        categories, withheld = self._categories(graph, history, None)
        return {
            "orders": [
                {
                    "order_id": order.order_id,
                    "interaction": order.interaction_id,
                    "at": order.at.isoformat().replace("+00:00", "Z"),
                    "currency": order.currency,
                    "total": from_minor(order.total, order.currency),
                    "refunded": from_minor(order.returned(at), order.currency),
                    "refunds": [
                        {
                            "at": when.isoformat().replace("+00:00", "Z"),
                            "amount": from_minor(amount, order.currency),
                        }
                        for when, amount in order.refunds
                    ],
                }
                for order in history.orders
            ],
            "consumer_of": [
                {"order_id": item.order.order_id, "interaction": item.order.interaction_id}
                for item in history.consumed
            ],
            "figures": figures.metrics(history, None, categories) if not history.empty else {},
            "preferences": categories if withheld is None else {"withheld": withheld},
            "currency": currency,
        }

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        # Order, category and return rows belong to interactions, not to parties: the
        # core deletes the interactions the subject alone took part in (and ours with
        # them, ON DELETE CASCADE); those kept for another participant or under a
        # pseudonym keep theirs. Nothing here names the subject; count what goes.
        assert party.id is not None
        part = participant_table
        mine = (
            select(part.c.interaction_id)
            .where(part.c.party_id == party.id, part.c.type == PURCHASE)
            .subquery()
        )
        others = participant_table.alias("others")
        alone = (
            select(func.count())
            .select_from(
                tables.order.join(mine, mine.c.interaction_id == tables.order.c.interaction_id)
            )
            .where(
                ~select(others.c.interaction_id)
                .where(
                    and_(
                        others.c.interaction_id == tables.order.c.interaction_id,
                        others.c.party_id != party.id,
                    )
                )
                .exists()
            )
        )
        deleted = int(session.connection.execute(alone).scalar() or 0)
        return {
            "orders_deleted_with_their_interactions": deleted,
            "note": "b2c rows follow their interactions; none holds an identifier of a person",
        }

    # -- the b2c API -------------------------------------------------------------------------

    @staticmethod
    def _when(as_of: datetime | str | None) -> datetime:
        return parse_time(as_of, "as_of") if as_of is not None else utcnow()

    def customers(self, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        """Every customer at *as_of* with its figures and RFM scores, in one statement.

        Each row: party_id, key, name, orders, returned_orders, gross_revenue, refunded,
        historic_clv, aov, frequency (purchases a year), predicted_clv, clv,
        first/last_purchase_at, recency_days, lapsed, rfm_r, rfm_f, rfm_m, rfm.
        Parties without a lawful basis for ``analytics_purpose`` are left out.
        """
        at = self._when(as_of)
        with self.toolkit.reader(at) as graph:
            excluded = analytics.excluded_customers(
                graph, self.settings.analytics_purpose, at, self._gated
            )
            rows, scale = analytics.scored_customers(
                graph.connection, self.settings, at, sorted(excluded)
            )
        self._store(scale)
        return rows

    def refresh_rfm(self, as_of: datetime | str | None = None) -> analytics.RfmScale:
        """Score the population at *as_of* (default now) and store the scale views use.

        A view scores one party's own, current figures against the boundaries of the
        last population scoring, whatever its date. They are stored in the database
        (every process uses the same) by this method, by every population
        computation (:meth:`customers`, :meth:`rfm`, :meth:`summary`), and by the
        first read on a database that has none; never otherwise within a read.
        """
        at = self._when(as_of)
        with self.toolkit.reader(at) as graph:
            scale = self._population_scale(graph, at)
        self._store(scale)
        return scale

    def rfm(self, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        """RFM scores (1-5 each) of every customer at *as_of*, computed in one SQL pass."""
        keep = ("party_id", "key", "recency_days", "orders", "historic_clv")
        return [
            {
                **{name: row[name] for name in keep},
                "r": row["rfm_r"],
                "f": row["rfm_f"],
                "m": row["rfm_m"],
                "score": row["rfm"],
            }
            for row in self.customers(as_of)
        ]

    def rfm_statement(self, as_of: datetime | str | None = None) -> Select[Any]:
        """The SQL of the population pass (for a benchmark's raw-SQL baseline)."""
        return analytics.customers_statement(self.settings, self._when(as_of), keys=True)

    def summary(
        self, as_of: datetime | str | None = None, *, rows: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Population totals at *as_of*: customers, lifetime value, average order value.

        *rows* are :meth:`customers` rows already computed for that time.
        """
        rows = self.customers(as_of) if rows is None else rows
        currency = self.settings.currency
        orders = sum(row["orders"] for row in rows)
        revenue = sum(row["historic_clv"] for row in rows)
        segments: dict[str, int] = {}
        for row in rows:
            segments[row["rfm"]] = segments.get(row["rfm"], 0) + 1
        return {
            "as_of": self._when(as_of).isoformat().replace("+00:00", "Z"),
            "currency": currency,
            "customers": len(rows),
            "lapsed": sum(1 for row in rows if row["lapsed"]),
            "orders": orders,
            "historic_clv": round(revenue, 2),
            "predicted_clv": round(sum(row["predicted_clv"] for row in rows), 2),
            "aov": round(revenue / orders, 2) if orders else None,
            "top_rfm_cells": dict(sorted(segments.items(), key=lambda item: -item[1])[:10]),
        }

    def top_categories(
        self, party: PartyRef, as_of: datetime | str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The party's categories, most bought first (quantity, spend, orders each)."""
        at = self._when(as_of)
        with self.toolkit.reader(at) as graph:
            found = graph.party(party)
            history = load_history(graph.connection, self.settings, found, at)
            categories, withheld = self._categories(graph, history, limit)
            if withheld is not None:
                raise ValidationError("party", f"preferences are withheld: {withheld}", party)
            return categories or []

    def audience(
        self,
        category: str,
        as_of: datetime | str | None = None,
        *,
        purpose: str | None = "marketing",
        top_n: int | None = None,
    ) -> dict[str, Any]:
        """Shoppers for whom *category* is among their top categories, for *purpose*.

        One statement over the population; with the privacy plugin, parties without
        a lawful basis for *purpose* are left out and counted, never named.
        """
        at = self._when(as_of)
        limit = top_n or self.settings.preferences.top_n
        with self.toolkit.reader(at) as graph:
            excluded = analytics.excluded_customers(graph, purpose, at, self._gated)
            if self.settings.preferences.purpose is not None and self._gated:
                excluded.update(
                    analytics.excluded_customers(
                        graph, self.settings.preferences.purpose, at, self._gated
                    )
                )
            everyone = analytics.category_audience(
                graph.connection, self.settings, category, at, limit
            )
            kept = [row for row in everyone if row["party_id"] not in excluded]
        return {
            "category": category,
            "purpose": purpose,
            "as_of": at.isoformat().replace("+00:00", "Z"),
            "parties": kept,
            "left_out": len(everyone) - len(kept),
        }

    def recipients(
        self, order_id: str, purpose: str = "billing", at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Whom to address about an order for *purpose*, from the right perspective.

        Billing (receipts, invoices) goes to the purchaser; service and support (delivery,
        product tips) to the consumers, or the purchaser when the order names none; any
        other purpose (marketing ...) considers everyone on the order. With the privacy
        plugin, each person is checked for *purpose*: a consumer's marketing opt-out does
        not silence the purchaser's receipt.
        """
        when = self._when(at)
        order = tables.order
        part = participant_table
        with self.toolkit.reader(when) as graph:
            interaction_id = graph.connection.execute(
                select(order.c.interaction_id).where(order.c.order_id == order_id)
            ).scalar()
            if interaction_id is None:
                raise NotFoundError(f"no purchase with order id {order_id!r}")
            rows = graph.connection.execute(
                select(part.c.role, party_table)
                .select_from(part.join(party_table, party_table.c.id == part.c.party_id))
                .where(part.c.interaction_id == interaction_id)
                .order_by(part.c.role.desc(), party_table.c.key)
            ).all()
            purchasers = [party_from_row(row) for row in rows if row.role == "purchaser"]
            consumers = [party_from_row(row) for row in rows if row.role == "consumer"]
            if purpose in BILLING_PURPOSES:
                perspective, chosen = "billing", purchasers
            elif purpose in SERVICE_PURPOSES:
                perspective, chosen = "service", consumers or purchasers
            else:
                perspective = "everyone"
                chosen = list({p.id: p for p in [*purchasers, *consumers]}.values())
            excluded = graph.excluded(chosen, purpose) if self._gated and chosen else {}
        return {
            "order_id": order_id,
            "purpose": purpose,
            "perspective": perspective,
            "to": [party.key for party in chosen if party.id not in excluded],
            "left_out": [
                {"party": party.key, "reason": excluded[party.id]}
                for party in chosen
                if party.id in excluded
            ],
        }


def _one_connection(connection: Connection) -> bool:
    """True when the engine has a single connection (SQLite in memory), which a read holds:
    a write cannot start until the read ends."""
    return isinstance(connection.engine.pool, StaticPool)
