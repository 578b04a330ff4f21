"""The plugin object: hook implementations and the analytics API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Table, delete, or_, select, update

from partygraph import (
    DataDeclaration,
    GraphReader,
    InteractionType,
    MigrationSource,
    Party,
    PartyKind,
    PartyRef,
    RelationshipType,
    RoleAssignment,
    Vocabulary,
    WriteBatch,
    WriteSession,
    hookimpl,
    once_per_read,
)
from partygraph.schemas import load_schema
from partygraph.times import MIN_TIME, from_storage, isoformat, to_storage
from partygraph_internal import analytics, statements, tables
from partygraph_internal import vocabulary as vocab
from partygraph_internal.settings import EMPLOYEE_USAGE_PURPOSE, Settings
from partygraph_internal.sql import Named

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph.segments import SegmentMetric, SegmentPredicate

__all__ = ["InternalPlugin"]


class InternalPlugin:
    """Internal customers and suppliers, service levels, lead hand-offs and CRM adoption.

    One instance per toolkit; reach it with ``toolkit.plugin("internal")``.
    """

    def __init__(self) -> None:
        self.settings = Settings()
        self._toolkit: Toolkit | None = None
        #: The actor of a write resolved once per write: id(session) -> (session, employee id).
        self.actor_cache: dict[int, tuple[WriteSession, int | None]] = {}
        #: Parties as stored before an actor's party batch: id(batch) -> (batch, rows).
        self.stored_parties: dict[int, tuple[WriteBatch, dict[int, tuple[str | None, Any]]]] = {}
        self._fields: dict[tuple[int, str], tuple[str, ...]] = {}

    def __dir__(self) -> list[str]:
        # pluggy looks at every attribute dir() lists; skip the one that raises before ready.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (set once it is ready)."""
        if self._toolkit is None:
            raise RuntimeError("the internal plugin is not attached to an open toolkit yet")
        return self._toolkit

    def expected_fields(self, vocabulary: Vocabulary, kind: str) -> tuple[str, ...]:
        """Required and recommended attributes of a party kind (name aside)."""
        key = (id(vocabulary), kind)
        found = self._fields.get(key)
        if found is None:
            schema = vocabulary.party_schema(kind).schema if kind in vocabulary.party_kinds else {}
            recommended = self.settings.recommended_attributes.get(kind, ())
            names = [*schema.get("required", []), *recommended]
            found = self._fields[key] = tuple(dict.fromkeys(names))
        return found

    # -- configuration and vocabulary ------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/internal")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(settings)
        self._fields.clear()

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
    def partygraph_tables(self) -> Iterable[Table]:
        return list(tables.metadata.sorted_tables)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("internal", Path(__file__).parent / "migrations")

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return vocab.data_declarations()

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_internal.cli import internal_group

        return [internal_group]

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit

    # -- writing -------------------------------------------------------------------------

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        from partygraph_internal.checks import check_batch
        from partygraph_internal.derive import note_parties

        check_batch(self, batch, session)
        if batch.parties:
            note_parties(self, batch, session)

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        from partygraph_internal.derive import derive_batch

        derive_batch(self, batch, session)

    # -- reading -------------------------------------------------------------------------

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        from partygraph_internal.roles import roles_of

        return roles_of(self, party, as_of, graph)

    def _window(self, as_of: datetime) -> analytics.Period:
        """The ``report_days`` up to *as_of*: [as_of - report_days, as_of)."""
        return analytics.Period(as_of - timedelta(days=self.settings.report_days), as_of)

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        if party.id is None:
            return None
        if party.kind == vocab.DEPARTMENT:
            return self._department_metrics(party.id, as_of, graph)
        if party.kind == "person":
            return self._person_metrics(party, as_of, graph)
        return None

    def department_figures(
        self, department: int, as_of: datetime, graph: GraphReader
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """One department's service levels, lead hand-offs and CRM adoption in the window.

        Scoped to the department (its requests, hand-offs and employees only)
        and computed once per read for its metrics and its view section.
        """

        def compute() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
            period = self._window(as_of)
            connection = graph.connection
            known = self.known_names(graph)
            return (
                analytics.service_levels(connection, period, [department], known),
                analytics.handoffs(connection, period, [department], known),
                analytics.adoption(graph, self.settings, period, [department], known),
            )

        return once_per_read(graph, "internal", ("department", department, as_of), compute)

    def known_names(self, graph: GraphReader) -> dict[int, Named]:
        """Names of parties this read already fetched (a fresh dict in a write's reader)."""
        memo = graph.memo("internal")
        if memo is None:
            return {}
        found: dict[int, Named] = memo.setdefault("names", {})
        return found

    def person_activity(self, party: Party, as_of: datetime, graph: GraphReader) -> Any:
        """A person's request activity (``active``, ``filed``, ``handled``), once per read.

        Their roles ask whether they requested or handled anything in the
        activity window, their figures how many in the report period: one
        statement answers both.
        """
        assert party.id is not None
        identity = party.id

        def read() -> Any:
            at = to_storage(as_of)
            window = self.settings.activity_window_days
            since, until = self._window(as_of).stored
            params = {
                "party": identity,
                "at": at,
                "start": at - timedelta(days=window) if window is not None else MIN_TIME,
                "since": since,
                "until": until,
            }
            return statements.person_activity().first(graph.connection, params)

        return once_per_read(graph, "internal", ("activity", identity, as_of), read)

    def _department_metrics(
        self, department: int, as_of: datetime, graph: GraphReader
    ) -> dict[str, float | int | str | None]:
        levels, handed, adoption = self.department_figures(department, as_of, graph)
        figures: dict[str, float | int | str | None] = {}
        if levels:
            level = levels[0]
            figures.update(
                requests_received=level["requests"],
                sla_met=level["sla"]["met"],
                sla_breached=level["sla"]["breached"],
                sla_attainment=level["sla"]["attainment"],
                median_resolution_hours=level["median_resolution_hours"],
                satisfaction=level["satisfaction"]["average"],
            )
        key = graph.party(department).key
        sent = [row for row in handed if row["from"] == key]
        if sent:
            accepted = sum(row["accepted"] for row in sent)
            decided = accepted + sum(row["rejected"] for row in sent)
            figures["leads_handed"] = sum(row["handed"] for row in sent)
            figures["lead_acceptance_rate"] = round(accepted / decided, 4) if decided else None
        received = [row for row in handed if row["to"] == key]
        if received:
            figures["leads_received"] = sum(row["handed"] for row in received)
        if adoption:
            entry = adoption[0]
            if entry["reported"]:
                figures.update(
                    headcount=entry["headcount"],
                    crm_active_users=entry["active_users"],
                    crm_records_per_user=entry["records_per_user"],
                    crm_completeness=entry["completeness"],
                )
            else:
                figures["crm_adoption"] = analytics.TOO_FEW
        return figures

    def _person_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> dict[str, float | int | str | None] | None:
        assert party.id is not None
        row = self.person_activity(party, as_of, graph)
        figures: dict[str, float | int | str | None] = {}
        if row.filed:
            figures["requests_filed"] = int(row.filed)
        if row.handled:
            figures["requests_handled"] = int(row.handled)
        if self.settings.per_employee.enabled and not graph.excluded(
            [party], EMPLOYEE_USAGE_PURPOSE, as_of=as_of
        ):
            since, until = self._window(as_of).stored
            used = statements.usage_of().first(
                graph.connection, {"party": party.id, "at": until, "start": since}
            )
            if used.n:
                figures["crm_records"] = int(used.records or 0)
                expected = int(used.expected or 0)
                figures["crm_completeness"] = (
                    round(int(used.filled or 0) / expected, 4) if expected else None
                )
        return figures or None

    @hookimpl
    def partygraph_segment_predicates(self) -> Iterable[SegmentPredicate]:
        from partygraph_internal import segments

        return segments.predicates(lambda: self.settings)

    @hookimpl
    def partygraph_segment_metrics(self) -> Iterable[SegmentMetric]:
        from partygraph_internal import segments

        return segments.metrics(lambda: self.settings)

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        if party.id is None:
            return None
        if party.kind == vocab.DEPARTMENT:
            levels, handed, adoption = self.department_figures(party.id, as_of, graph)
            return {
                "period": self._window(as_of).as_dict(),
                "service_levels": levels[0] if levels else None,
                "lead_handoffs": handed,
                "crm_adoption": adoption[0] if adoption else None,
            }
        if party.kind != "person":
            return None
        jobs = graph.relationships(party, type=vocab.EMPLOYED_IN, direction="outgoing", as_of=as_of)
        if not jobs:
            return None
        job = jobs[0]
        return {
            "department": job.other.key,
            "department_name": job.other.name,
            "role": job.relationship.role,
            "title": job.relationship.attributes.get("title"),
            "since": isoformat(job.relationship.valid_from),
        }

    # -- data subjects -------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(
        self, party: Party, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        assert party.id is not None
        request = tables.request
        usage = tables.usage
        requests = [
            {
                "interaction": row.interaction_id,
                "as": "requester"
                if row.requester_id == party.id
                else ("assignee" if row.assignee_id == party.id else "provider"),
                "category": row.category,
                "opened_at": isoformat(from_storage(row.opened_at)),
                "due_at": isoformat(from_storage(row.due_at)),
                "resolved_at": isoformat(from_storage(row.resolved_at)),
                "satisfaction": row.satisfaction,
            }
            for row in graph.connection.execute(
                select(request)
                .where(
                    or_(
                        request.c.requester_id == party.id,
                        request.c.assignee_id == party.id,
                        request.c.provider_id == party.id,
                    )
                )
                .order_by(request.c.opened_at, request.c.interaction_id)
            )
        ]
        used = [
            {
                "at": isoformat(from_storage(row.at)),
                "source": row.source,
                "interaction": row.interaction_id,
                "records_created": row.records_created,
                "records_updated": row.records_updated,
                "fields_filled": row.fields_filled,
                "fields_expected": row.fields_expected,
            }
            for row in graph.connection.execute(
                select(usage).where(usage.c.party_id == party.id).order_by(usage.c.at, usage.c.id)
            )
        ]
        if not requests and not used:
            return None
        return {"service_requests": requests, "crm_usage": used}

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        assert party.id is not None
        request = tables.request
        connection = session.connection
        usage_rows = connection.execute(
            delete(tables.usage).where(tables.usage.c.party_id == party.id)
        ).rowcount
        provided = connection.execute(
            delete(request).where(request.c.provider_id == party.id)
        ).rowcount
        requested = connection.execute(
            update(request).where(request.c.requester_id == party.id).values(requester_id=None)
        ).rowcount
        assigned = connection.execute(
            update(request).where(request.c.assignee_id == party.id).values(assignee_id=None)
        ).rowcount
        return {
            "usage_rows_deleted": usage_rows,
            "requests_deleted": provided,
            "requests_unlinked": requested + assigned,
        }

    # -- the analytics API ---------------------------------------------------------------

    def _period(
        self, since: datetime | str | None, until: datetime | str | None
    ) -> analytics.Period:
        return analytics.Period.of(self.settings, since, until)

    def _departments(self, graph: GraphReader, refs: Sequence[PartyRef] | None) -> list[int] | None:
        if refs is None:
            return None
        found = []
        for ref in refs:
            party = graph.party(ref)
            if party.kind != vocab.DEPARTMENT:
                from partygraph import ValidationError

                raise ValidationError(
                    "department", f"{party.key!r} is a {party.kind}, not a department", ref
                )
            assert party.id is not None
            found.append(party.id)
        return found

    def service_levels(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        departments: Sequence[PartyRef] | None = None,
    ) -> list[dict[str, Any]]:
        """Per provider department: volume by category, SLA attainment, median, satisfaction."""
        period = self._period(since, until)
        with self.toolkit.reader(period.until) as graph:
            wanted = self._departments(graph, departments)
            return analytics.service_levels(graph.connection, period, wanted)

    def handoffs(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        departments: Sequence[PartyRef] | None = None,
    ) -> list[dict[str, Any]]:
        """Lead hand-offs per (from, to) department pair, with acceptance rates."""
        period = self._period(since, until)
        with self.toolkit.reader(period.until) as graph:
            wanted = self._departments(graph, departments)
            return analytics.handoffs(graph.connection, period, wanted)

    def adoption(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        departments: Sequence[PartyRef] | None = None,
    ) -> list[dict[str, Any]]:
        """CRM adoption per department; small departments show 'too few to report'."""
        period = self._period(since, until)
        with self.toolkit.reader(period.until) as graph:
            wanted = self._departments(graph, departments)
            return analytics.adoption(graph, self.settings, period, wanted)

    def employee_usage(
        self,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        departments: Sequence[PartyRef] | None = None,
    ) -> dict[str, Any]:
        """Per-employee CRM usage: refused unless the config enables it with a lawful basis."""
        analytics.require_per_employee(self.settings)
        period = self._period(since, until)
        with self.toolkit.reader(period.until) as graph:
            wanted = self._departments(graph, departments)
            return analytics.employee_usage(graph, self.settings, period, wanted)
