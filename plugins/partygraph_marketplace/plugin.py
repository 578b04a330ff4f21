"""The plugin object: hook implementations and the marketplace's Python API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Table

from partygraph import (
    Context,
    DataDeclaration,
    GraphReader,
    InteractionType,
    MigrationSource,
    Party,
    PartyKind,
    PartyRef,
    Relationship,
    RelationshipType,
    RoleAssignment,
    ValidationError,
    WriteBatch,
    WriteSession,
    hookimpl,
)
from partygraph.schemas import load_schema
from partygraph.times import parse_time, utcnow
from partygraph_marketplace import activity, analytics, checks, parties, tables, vocab
from partygraph_marketplace.periods import period_of, upto
from partygraph_marketplace.settings import Settings, Side

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph.segments import SegmentMetric, SegmentPredicate

__all__ = ["MarketplacePlugin"]


def _time(value: datetime | str | None, field: str) -> datetime:
    if value is None:
        return utcnow()
    try:
        return parse_time(value, field)
    except ValueError as error:
        raise ValidationError(field, str(error), value) from None


class MarketplacePlugin:
    """Two-sided platforms: one customer role per side, figures scoped by side.

    One instance per toolkit; reach it with ``toolkit.plugin("marketplace")``.
    """

    def __init__(self) -> None:
        self.settings = Settings()
        self._toolkit: Toolkit | None = None

    def __dir__(self) -> list[str]:
        # pluggy looks up every name dir() lists; leave out the property that raises early.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (once it is open)."""
        if self._toolkit is None:
            raise RuntimeError("the marketplace plugin is not attached to an open toolkit yet")
        return self._toolkit

    # -- configuration and vocabulary ------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/marketplace")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(settings)

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return vocab.party_kinds()

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return vocab.relationship_types(self.settings)

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return vocab.interaction_types(self.settings)

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return vocab.data_declarations(self.settings)

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        return list(tables.metadata.sorted_tables)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("marketplace", Path(__file__).parent / "migrations")

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_marketplace.cli import marketplace_group

        return [marketplace_group]

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit

    # -- writing -----------------------------------------------------------------------------

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        if batch.interactions:
            checks.check_interactions(self.settings, batch, session)

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        if batch.interactions:
            activity.record(self.settings, batch.interactions, session.connection)
        members = {int(rel.source) for rel in batch.relationships if rel.type == vocab.SIDE_OF}
        if members:
            checks.forget_memberships(session, members, self.settings.side_names)

    # -- reading -----------------------------------------------------------------------------

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        return parties.roles(self.settings, party, as_of, graph)

    @hookimpl
    def partygraph_segment_predicates(self) -> Iterable[SegmentPredicate]:
        from partygraph_marketplace import segments

        return segments.predicates(lambda: self.settings)

    @hookimpl
    def partygraph_segment_metrics(self) -> Iterable[SegmentMetric]:
        from partygraph_marketplace import segments

        return segments.metrics(lambda: self.settings)

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        return parties.view_section(self.settings, party, as_of, graph)

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        return parties.metrics(self.settings, party, as_of, graph)

    # -- data subjects ---------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> Mapping[str, Any]:
        return {"activity": activity.export(party, graph.connection)}

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        return activity.erase(party, session.connection)

    # -- the API: sides and memberships --------------------------------------------------------

    def sides(self) -> list[dict[str, Any]]:
        """The configured sides: name, label, position, when their role starts."""
        return [
            {
                "name": side.name,
                "label": side.label,
                "position": side.position,
                "role_since": side.role_since,
                "description": side.description,
                "programs": [program.name for program in self.settings.programs_of(side.name)],
            }
            for side in self.settings.sides
        ]

    def _side(self, name: str | None, position: str = "supply") -> Side:
        if name is None:
            return self.settings.default_side("supply" if position == "supply" else "demand")
        return self.settings.side(name)

    def set_status(
        self,
        party: PartyRef,
        side: str,
        status: str,
        at: datetime | str,
        *,
        platform: PartyRef,
        reason: str | None = None,
        context: Context | None = None,
    ) -> Relationship:
        """Record a new stage of a membership (``applied`` ... ``churned``) from *at*.

        The previous stage ends at *at*; the history is kept.
        """
        self.settings.side(side)
        if status not in vocab.STATUSES:
            raise ValidationError(
                "status",
                f"unknown status {status!r}; statuses: {', '.join(vocab.STATUSES)}",
                status,
            )
        attributes: dict[str, Any] = {"status": status}
        if reason:
            attributes["reason"] = reason
        return self.toolkit.relate(
            party,
            platform,
            vocab.SIDE_OF,
            role=side,
            attributes=attributes,
            valid_from=_time(at, "at"),
            context=context,
        )

    # -- the API: earnings and incentives ----------------------------------------------------------

    def earnings(
        self,
        party: PartyRef | None = None,
        *,
        side: str | None = None,
        period: str = "week",
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        context: Context | None = None,
    ) -> list[dict[str, Any]]:
        """Earnings statements per week (or month): gross, platform fee, tips, incentives, net.

        For one party (its statement) or every member of the side (*party* None),
        from *since* (default: the first transaction) to *until* (exclusive,
        default now); periods without activity are left out.
        """
        if period not in ("week", "month"):
            raise ValidationError("period", f"expected week or month, got {period!r}", period)
        chosen = self._side(side)
        end = _time(until, "until")
        start = _time(since, "since") if since is not None else None
        with self.toolkit.reader(end) as graph:
            ids = None
            if party is not None:
                found = graph.party(party)
                assert found.id is not None
                ids = [found.id]
                self.toolkit.hooks.after_read(found, "marketplace.earnings", context or Context())
            return analytics.earnings(
                self.settings, graph, chosen, period, since=start, until=end, party_ids=ids
            )

    def incentives(
        self,
        at: datetime | str | None = None,
        *,
        program: str | None = None,
        party: PartyRef | None = None,
    ) -> list[dict[str, Any]]:
        """Every incentive program for the period containing *at* (default now): per member
        with activity in it (or one *party*), its trips, average rating, met or missed."""
        moment = _time(at, "at")
        programs = self._programs(program)
        with self.toolkit.reader(moment) as graph:
            ids = None
            if party is not None:
                found = graph.party(party)
                assert found.id is not None
                ids = [found.id]
            return analytics.evaluate_programs(self.settings, graph, moment, programs, ids)

    def _programs(self, name: str | None) -> tuple[Any, ...]:
        programs = self.settings.programs
        if name is None:
            return programs
        chosen = tuple(program for program in programs if program.name == name)
        if not chosen:
            known = ", ".join(program.name for program in programs) or "none configured"
            raise ValidationError("program", f"no incentive program {name!r}; known: {known}", name)
        return chosen

    def pay_incentives(
        self,
        at: datetime | str | None = None,
        *,
        program: str | None = None,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """Record an ``incentive_payout`` for every member who met a program in the period
        containing *at*, credited at the period's last second, once the period is over.
        Paying twice pays once (each payout has a key of its program, period and member)."""
        moment = _time(at, "at")
        now = utcnow()
        periods = [
            period_of(moment, chosen.period, self.settings.tz) for chosen in self._programs(program)
        ]
        running = sorted({period.label for period in periods if period.end > now})
        if running:
            raise ValidationError(
                "at",
                f"the period {', '.join(running)} is not over yet: a member who met a program "
                "today may miss it by its end (an average rating can still fall); pay once "
                "it is over",
                at,
            )
        met = [row for row in self.incentives(moment, program=program) if row["met"]]
        records = []
        for row in met:
            end = _time(row["end"], "end") - timedelta(seconds=1)
            records.append(
                {
                    "interaction": {
                        "type": vocab.INCENTIVE_PAYOUT,
                        "key": f"marketplace:{row['program']}:{row['period']}:{row['party']}",
                        "occurred_at": end.isoformat(),
                        "participants": [{"party": row["party"], "role": row["side"]}],
                        "payload": {
                            "amount": row["bonus"],
                            "currency": self.settings.currency,
                            "program": row["program"],
                            "period": row["period"],
                            "note": row["reason"],
                        },
                    }
                }
            )
        report = self.toolkit.write(records, context=context or Context(source="marketplace"))
        return {
            "met": len(met),
            "paid": report.created.get("interaction", 0),
            "already_paid": report.unchanged.get("interaction", 0),
            "total": float(sum(row["bonus"] for row in met)),
            "currency": self.settings.currency,
        }

    # -- the API: suggestions and health -------------------------------------------------------

    def suggestions(
        self,
        party: PartyRef,
        as_of: datetime | str | None = None,
        *,
        side: str | None = None,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """A demand-side member's frequent routes (pickup -> drop-off zone) by time of day."""
        chosen = self._side(side, "demand")
        moment = _time(as_of, "as_of")
        with self.toolkit.reader(moment) as graph:
            found = graph.party(party)
            result = parties.suggestions(self.settings, found, chosen, moment, graph)
            self.toolkit.hooks.after_read(found, "marketplace.suggestions", context or Context())
            return {"party": found.key, **result}

    def supply_demand(
        self, since: datetime | str | None = None, until: datetime | str | None = None
    ) -> list[dict[str, Any]]:
        """Per zone and hour of day: transactions requested vs supply-side members active
        (default: the 28 days before *until*, default now)."""
        end = _time(until, "until")
        start = _time(since, "since") if since is not None else end - timedelta(days=28)
        with self.toolkit.reader(end) as graph:
            return analytics.supply_demand(self.settings, graph, start, end)

    def churn_risk(
        self, as_of: datetime | str | None = None, *, side: str | None = None
    ) -> dict[str, Any]:
        """Active supply-side members whose weekly completed transactions are falling."""
        moment = _time(as_of, "as_of")
        with self.toolkit.reader(moment) as graph:
            return analytics.churn_risk(self.settings, graph, self._side(side), moment)

    def retention(
        self, as_of: datetime | str | None = None, *, side: str | None = None, months: int = 6
    ) -> dict[str, Any]:
        """Monthly cohorts of a side (default: the demand side) and how many stay active."""
        if months < 1:
            raise ValidationError("months", f"must be at least 1, got {months}", months)
        moment = _time(as_of, "as_of")
        with self.toolkit.reader(moment) as graph:
            return analytics.retention(
                self.settings, graph, self._side(side, "demand"), moment, months
            )

    def rebuild(self) -> dict[str, int]:
        """Recompute ``marketplace_activity`` from the interactions (one transaction)."""
        with self.toolkit.transaction() as connection:
            return {"rows": activity.rebuild(self.settings, connection)}

    def health(self, as_of: datetime | str | None = None, *, days: int = 28) -> dict[str, Any]:
        """Supply vs demand per zone and hour, churn risk, retention: the marketplace's health."""
        moment = _time(as_of, "as_of")
        return {
            "as_of": checks.iso(moment),
            "supply_demand": self.supply_demand(moment - timedelta(days=days), upto(moment)),
            "churn_risk": self.churn_risk(moment),
            "retention": self.retention(moment),
        }
