"""The plugin object: hook implementations and the account-based analytics API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
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
    PartyRef,
    RecordType,
    RelationshipType,
    RelationshipView,
    RoleAssignment,
    ValidationError,
    WriteBatch,
    WriteReport,
    WriteSession,
    hookimpl,
    once_per_read,
)
from partygraph.schemas import load_schema
from partygraph_b2b import tables
from partygraph_b2b.settings import Settings

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph.segments import SegmentMetric, SegmentPredicate
    from partygraph_b2b.analytics import Snapshot

__all__ = ["B2BPlugin"]

_SUBJECTS = ("b2b_contact", "employee", "consultant")


def _business(table: str, field: str, description: str) -> DataDeclaration:
    return DataDeclaration(
        table,
        field,
        "system.operations",
        personal=False,
        purposes=("sales",),
        description=description,
    )


class B2BPlugin:
    """The b2b plugin; one instance per toolkit."""

    def __init__(self) -> None:
        self.settings = Settings.from_config({})
        self._toolkit: Toolkit | None = None
        self._gated = True

    def __dir__(self) -> list[str]:
        # pluggy looks up every name dir() lists; leave out the property that raises.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (set once it is ready)."""
        if self._toolkit is None:
            raise RuntimeError("the b2b plugin is not attached to an open toolkit yet")
        return self._toolkit

    # -- configuration and vocabulary ------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/b2b")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(settings)

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit
        # Does any enabled plugin say who may not be processed for a purpose?
        self._gated = any("partygraph_permitted" in info.hooks for info in toolkit.plugins)

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        from partygraph_b2b.vocabulary import relationship_types

        return relationship_types(self.settings)

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        from partygraph_b2b.vocabulary import interaction_types

        return interaction_types()

    @hookimpl
    def partygraph_record_types(self) -> Iterable[RecordType]:
        from partygraph_b2b.deals import apply_deals
        from partygraph_b2b.vocabulary import PURPOSES, deal_schema

        settings = self.settings
        return [
            RecordType(
                "deal",
                schema=deal_schema(settings),
                apply=lambda bodies, session: apply_deals(settings, bodies, session),
                description="A state of a deal (opportunity) of an account, from 'at' on.",
                purposes=PURPOSES,
            )
        ]

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        return list(tables.metadata.sorted_tables)

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("b2b", Path(__file__).parent / "migrations")

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        found = [
            _business(
                table.name,
                column.name,
                f"{table.name}.{column.name}: deal data of an "
                "organisation (an account), not about a person.",
            )
            for table in tables.metadata.sorted_tables
            for column in table.columns
            if column.name != "id"
        ]
        found += [
            _business("party", f"attributes.{name}", f"Business data of an organisation: {name}.")
            for name in ("industry", "employees", "annual_revenue")
        ]
        found += [
            DataDeclaration(
                "relationship",
                "attributes.title",
                "user.job_title",
                subjects=_SUBJECTS,
                purposes=("sales",),
                description="A person's job title at an organisation (works_at).",
            ),
            DataDeclaration(
                "relationship",
                "attributes.department",
                "user.workplace",
                subjects=_SUBJECTS,
                purposes=("sales",),
                description="A person's department at an organisation (works_at).",
            ),
            DataDeclaration(
                "relationship",
                "role",
                "user.job_title",
                subjects=_SUBJECTS,
                purposes=("sales",),
                description="A person's role in an account's buying committee (stakeholder_of).",
            ),
            DataDeclaration(
                "relationship",
                "attributes.influence",
                "user.behavior",
                subjects=_SUBJECTS,
                purposes=("sales",),
                description="How much a stakeholder sways the decision (stakeholder_of).",
            ),
            DataDeclaration(
                "relationship",
                "attributes.note",
                "user.behavior",
                subjects=_SUBJECTS,
                purposes=("sales",),
                description="A salesperson's note about a stakeholder (stakeholder_of).",
            ),
            DataDeclaration(
                "relationship",
                "attributes.track",
                "user.behavior",
                subjects=_SUBJECTS,
                purposes=("sales", "marketing"),
                description="The messaging track chosen for a stakeholder (stakeholder_of).",
            ),
        ]
        return found

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_b2b.cli import b2b_group

        return [b2b_group]

    # -- writing -------------------------------------------------------------------------

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        from partygraph_b2b import checks
        from partygraph_b2b.deals import check_deals

        if batch.parties:
            checks.check_organizations(batch, session)
        elif batch.relationships:
            checks.check_relationships(batch, session)
        elif batch.interactions:
            checks.check_interactions(batch, session)
        elif batch.record_type == "deal" and batch.records:
            checks.settle(batch, session, "deal record", check_deals(batch, session))

    # -- reading -------------------------------------------------------------------------

    def _party_snapshot(self, party: Party, as_of: datetime, graph: GraphReader) -> Snapshot | None:
        """The party's snapshot, read once per reader for its roles, metrics and section."""
        from partygraph_b2b.analytics import load, stakes_from_views

        assert party.id is not None
        if party.kind not in ("organization", "person"):
            return None
        memo = graph.memo("b2b")
        identity = party.id

        def read() -> Snapshot:
            if party.kind == "organization":
                return load(
                    graph, self.settings, as_of, accounts=[identity], gated=self._gated, memo=memo
                )
            # A read-only reader fetches the party's relationships once for every
            # plugin: the person's committee roles come from there (most people sit
            # on no committee and cost nothing more).
            held = (
                stakes_from_views(identity, self.stake_views(party, as_of, graph))
                if memo is not None
                else None
            )
            return load(
                graph,
                self.settings,
                as_of,
                persons=[identity],
                with_touches=True,
                gated=self._gated,
                stakes=held,
            )

        return once_per_read(graph, "b2b", ("snapshot", identity, as_of), read)

    def stake_views(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RelationshipView]:
        """The person's ``stakeholder_of`` links, ended ones included, once per read."""
        return once_per_read(
            graph,
            "b2b",
            ("stakes", party.id, as_of),
            lambda: graph.relationships(
                party, type="stakeholder_of", direction="outgoing", as_of=as_of, history=True
            ),
        )

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment] | None:
        from partygraph_b2b import roles

        if party.kind == "organization":
            # An account's roles are its status: its deals and contracts, nothing more.
            from partygraph_b2b.analytics import account_status

            memo = graph.memo("b2b")
            full = memo.get(("snapshot", party.id, as_of)) if memo is not None else None
            status = (
                full if full is not None else account_status(graph, self.settings, as_of, party)
            )
            return roles.account_roles(status, party)
        snapshot = self._party_snapshot(party, as_of, graph)
        if snapshot is None:
            return None
        return roles.person_roles(snapshot, party)

    @hookimpl
    def partygraph_segment_predicates(self) -> Iterable[SegmentPredicate]:
        from partygraph_b2b import segments

        return segments.predicates(lambda: self.settings)

    @hookimpl
    def partygraph_segment_metrics(self) -> Iterable[SegmentMetric]:
        from partygraph_b2b import segments

        return segments.metrics(lambda: self.settings)

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        from partygraph_b2b import roles

        snapshot = self._party_snapshot(party, as_of, graph)
        if snapshot is None:
            return None
        if party.kind == "organization":
            return roles.account_section(snapshot, party, graph)
        return roles.person_section(snapshot, party, self.stake_views(party, as_of, graph))

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        from partygraph_b2b import roles

        snapshot = self._party_snapshot(party, as_of, graph)
        if snapshot is None:
            return None
        if party.kind == "organization":
            return roles.account_metrics(snapshot, party)
        return roles.person_metrics(snapshot, party)

    # -- data subjects -------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(
        self, party: Party, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        from partygraph_b2b.deals import deal_history

        assert party.id is not None
        deals = deal_history(graph.connection, party.id)
        return {"deals": deals} if deals else None

    @hookimpl
    def partygraph_erase_subject(
        self, party: Party, session: WriteSession
    ) -> Mapping[str, Any] | None:
        from partygraph_b2b.deals import erase_deals

        assert party.id is not None
        counts = erase_deals(session.connection, party.id)
        return counts if any(counts.values()) else None

    # -- the b2b API ---------------------------------------------------------------------

    @contextmanager
    def _population(
        self, as_of: datetime | str | None, account: PartyRef | None, *, detail: bool = False
    ) -> Iterator[tuple[GraphReader, Snapshot, list[int]]]:
        """A snapshot of everyone, or of one account and its subsidiaries, and the accounts."""
        from partygraph_b2b.analytics import load

        with self.toolkit.reader(as_of) as graph:
            if account is None:
                snapshot = load(graph, self.settings, graph.as_of, detail=detail, gated=self._gated)
                yield graph, snapshot, snapshot.accounts()
                return
            found = graph.party(account)
            if found.kind != "organization":
                raise ValidationError(
                    "account", f"{found.key!r} is a {found.kind}, not an organization", account
                )
            assert found.id is not None
            snapshot = load(
                graph,
                self.settings,
                graph.as_of,
                accounts=[found.id],
                detail=detail,
                gated=self._gated,
            )
            known = set(snapshot.accounts())
            below = [child for child in snapshot.descendants(found.id) if child in known]
            yield graph, snapshot, [found.id, *below]

    def coverage(
        self, as_of: datetime | str | None = None, *, account: PartyRef | None = None
    ) -> list[dict[str, Any]]:
        """Buying-committee coverage of every account (or one and its subsidiaries).

        For each: the required roles engaged in the window, the missing ones, the
        roles named but silent, who engaged, and the single-threaded flag.
        """
        with self._population(as_of, account) as (_, snapshot, accounts):
            return [snapshot.coverage(found) for found in accounts]

    def single_threaded(
        self, as_of: datetime | str | None = None, *, account: PartyRef | None = None
    ) -> list[dict[str, Any]]:
        """Accounts where only one stakeholder engaged in the window, with the missing roles."""
        return [
            entry for entry in self.coverage(as_of, account=account) if entry["single_threaded"]
        ]

    def scores(
        self, as_of: datetime | str | None = None, *, account: PartyRef | None = None
    ) -> list[dict[str, Any]]:
        """Engagement score of every account, own and rolled up through the hierarchy,
        highest rolled-up score first."""
        with self._population(as_of, account) as (_, snapshot, accounts):
            scores = snapshot.scores()
            wanted = set(accounts)
            if account is None:
                wanted |= set(scores)
            entries = [snapshot.score_entry(found, scores) for found in wanted]
        return sorted(
            entries, key=lambda e: (-e["rolled_up_score"], -e["score"], e["account"]["key"] or "")
        )

    def messaging(
        self, as_of: datetime | str | None = None, *, account: PartyRef | None = None
    ) -> dict[str, Any]:
        """The messaging track of every current stakeholder, for a marketing system.

        Stakeholders a privacy plugin excludes for ``messaging_purpose`` are listed
        under ``excluded`` with the reason, without contact data.
        """
        from partygraph_b2b.analytics import excluded

        with self._population(as_of, account, detail=True) as (graph, snapshot, accounts):
            wanted = set(accounts)
            pairs = sorted(
                {pair for pair in snapshot.roles if pair[0] in wanted},
                key=lambda pair: (snapshot.name(pair[0]).lower(), snapshot.name(pair[1]).lower()),
            )
            people = sorted({person for _, person in pairs})
            purpose = self.settings.messaging_purpose
            barred = excluded(graph, snapshot, people, purpose) if self._gated else {}
            entries = []
            left_out = []
            for account_id, person_id in pairs:
                if person_id in barred:
                    left_out.append(
                        {
                            "person": snapshot.summary(person_id)["key"],
                            "account": snapshot.summary(account_id)["key"],
                            "reason": barred[person_id],
                        }
                    )
                    continue
                entry = snapshot.stakeholder_entry(person_id, account_id)
                entry["email"] = snapshot.emails.get(person_id)
                entries.append(entry)
            return {
                "as_of": snapshot.at.isoformat().replace("+00:00", "Z"),
                "purpose": purpose,
                "stakeholders": entries,
                "excluded": left_out,
                "tracks": {name: track.as_dict() for name, track in self.settings.tracks.items()},
            }

    def deals(
        self, as_of: datetime | str | None = None, *, account: PartyRef | None = None
    ) -> list[dict[str, Any]]:
        """Deals as they stood at *as_of* (default now), with their account."""
        with self._population(as_of, account) as (_, snapshot, accounts):
            return [
                {"account": snapshot.summary(found.account_id), **found.as_dict()}
                for account_id in accounts
                for found in snapshot.deals.get(account_id, [])
            ]

    def record_deal(
        self, key: str, account: PartyRef, *, context: Context | None = None, **fields: Any
    ) -> WriteReport:
        """Write one state of a deal (``stage``, ``status``, ``amount``, ``at`` ...).

        A bad field raises :class:`partygraph.ValidationError` naming it; nothing is written.
        """
        from partygraph import RecordsRejected

        try:
            return self.toolkit.write(
                [{"deal": {"key": key, "account": account, **fields}}], context=context
            )
        except RecordsRejected as error:
            field, _, reason = error.report.rejected[0].reason.partition(": ")
            raise ValidationError(field.lstrip("/"), reason) from None
