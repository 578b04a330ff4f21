"""The plugin object: hook implementations and the household API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from partygraph import (
    Context,
    DataDeclaration,
    GraphReader,
    NotFoundError,
    Party,
    PartyKind,
    PartyRef,
    RelationshipType,
    RoleAssignment,
    ValidationError,
    WriteBatch,
    WriteSession,
    hookimpl,
    once_per_read,
)
from partygraph.schemas import load_schema
from partygraph_household import vocabulary
from partygraph_household.settings import Settings
from partygraph_household.vocabulary import HOUSEHOLD, MEMBER_OF

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph.segments import SegmentMetric, SegmentPredicate

__all__ = ["HouseholdPlugin"]


class HouseholdPlugin:
    """Households as one economic unit; one instance per toolkit."""

    def __init__(self) -> None:
        self.settings = Settings()
        self._toolkit: Toolkit | None = None

    def __dir__(self) -> list[str]:
        # pluggy looks up every name dir() lists; leave out the property that raises early.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves (set once it is ready)."""
        if self._toolkit is None:
            raise RuntimeError("the household plugin is not attached to an open toolkit yet")
        return self._toolkit

    # -- configuration and vocabulary ------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return load_schema("plugins/household")

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        seen: dict[str, int] = {}
        for index, offer in enumerate(settings.get("offers", ())):
            name = offer.get("name")
            if name in seen:
                raise ValidationError(
                    f"/plugins/household/offers/{index}/name",
                    f"offer {name!r} is already defined at /plugins/household/offers/"
                    f"{seen[name]}; offer names must be unique",
                    name,
                )
            seen[name] = index
        self.settings = Settings.from_config(settings)

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return vocabulary.party_kinds()

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return vocabulary.relationship_types(self.settings)

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return vocabulary.data_declarations(self.settings)

    @hookimpl
    def partygraph_cli_commands(self) -> Iterable[click.Command]:
        from partygraph_household.cli import household_group

        return [household_group]

    # -- writing -------------------------------------------------------------------------

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        if not batch.relationships:
            return
        from partygraph_household.membership import arrange_memberships, check_shares

        check_shares(batch, session)
        arrange_memberships(batch, session, self.settings)

    # -- reading -------------------------------------------------------------------------

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment] | None:
        from partygraph_household.roles import household_roles, person_roles
        from partygraph_household.snapshot import asking_for_customers

        if party.kind == HOUSEHOLD:
            return list(household_roles(party, as_of, graph, self.settings))
        if party.kind == "person":
            if asking_for_customers(graph):
                return None  # a household asks which members are customers: ours never are
            return list(person_roles(party, as_of, graph, self.settings))
        return None

    @hookimpl
    def partygraph_segment_predicates(self) -> Iterable[SegmentPredicate]:
        from partygraph_household import segments

        return segments.predicates(lambda: self.settings)

    @hookimpl
    def partygraph_segment_metrics(self) -> Iterable[SegmentMetric]:
        from partygraph_household import segments

        return segments.metrics(lambda: self.settings)

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        if party.kind == HOUSEHOLD:
            return self._summary(party, as_of, graph)
        if party.kind == "person":
            return self._memberships(party, as_of, graph)
        return None

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        if party.kind != HOUSEHOLD:
            return None
        summary = self._summary(party, as_of, graph)
        rollup = summary["rollup"]
        facts = summary["facts"]
        return {
            "members": facts["members"],
            "left_out": rollup["left_out"],
            "dependents": facts["dependents"],
            "purchases": rollup["spend"]["purchases"],
            "spend": rollup["spend"]["amount"],
            "recent_spend": rollup["recent_spend"]["amount"],
            "products": facts["products"],
            "total_value": facts.get("total_value"),
        }

    def _summary(self, household: Party, at: datetime, graph: GraphReader) -> dict[str, Any]:
        """The household's summary, computed once per reader for its metrics and section."""
        from partygraph_household.rollup import summary_of
        from partygraph_household.snapshot import snapshot_of

        assert household.id is not None
        identity = household.id

        def summarise() -> dict[str, Any]:
            snapshot = snapshot_of(graph, self.settings, household, at)
            return summary_of(snapshot, identity, deep=True)

        return once_per_read(graph, "household", ("summary", identity, at), summarise)

    def _memberships(
        self, person: Party, at: datetime, graph: GraphReader
    ) -> dict[str, Any] | None:
        from partygraph_household.roles import memberships_of
        from partygraph_household.rollup import iso

        found = [
            {
                "household": {"key": view.other.key, "name": view.other.name},
                "role": view.relationship.role,
                "since": iso(view.relationship.valid_from),
                "until": iso(view.relationship.valid_to),
                "current": view.current,
            }
            for view in memberships_of(graph, person, at)
            if view.relationship.valid_from is None or view.relationship.valid_from <= at
        ]
        if not found:
            return None
        return {
            "households": [item for item in found if item["current"]],
            "former_households": [item for item in found if not item["current"]],
        }

    # -- the household API ---------------------------------------------------------------

    def household_of(self, ref: PartyRef, as_of: datetime | str | None = None) -> Party:
        """The household *ref* is (a household), or belongs to at *as_of* (a person)."""
        with self.toolkit.reader(as_of) as graph:
            party = graph.party(ref)
            if party.kind == HOUSEHOLD:
                return party
            views = graph.relationships(party, type=MEMBER_OF, direction="outgoing")
            current = [view for view in views if view.current]
            if not current:
                raise NotFoundError(
                    f"{party.key!r} belongs to no household on {graph.as_of.date().isoformat()}"
                )
            return graph.party(current[0].other.id)

    def view(
        self,
        ref: PartyRef,
        as_of: datetime | str | None = None,
        *,
        context: Context | None = None,
    ) -> dict[str, Any]:
        """The household view (roll-ups, facts, offers) of a household, or of a person's."""
        household = self.household_of(ref, as_of)
        with self.toolkit.reader(as_of) as graph:
            summary = self._summary(household, graph.as_of, graph)
        self.toolkit.hooks.after_read(household, "household_view", context or Context())
        return summary

    def rollups(self, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        """Every household's roll-up at *as_of*, in a few set-based statements.

        Figures that ask other plugins about each member (customer, total value)
        are left out unless an offer rule needs them.
        """
        from partygraph_household.rollup import Census, summary_of

        with self.toolkit.reader(as_of) as graph:
            census = Census(graph, self.settings, graph.as_of, None)
            found = []
            for household_id in census.households:
                summary = summary_of(census, household_id, deep=False)
                rollup = summary["rollup"]
                found.append(
                    {
                        "household": summary["household"]["key"],
                        "name": summary["household"]["name"],
                        "status": summary["status"],
                        "members": len(summary["members"]),
                        "members_counted": rollup["members_counted"],
                        "left_out": rollup["left_out"],
                        "dependents": summary["facts"]["dependents"],
                        "purchases": rollup["spend"]["purchases"],
                        "spend": rollup["spend"]["amount"],
                        "recent_spend": rollup["recent_spend"]["amount"],
                        "products": summary["facts"]["products"],
                        "offers": [offer["offer"] for offer in summary["offers"]],
                    }
                )
            return found

    def offers(self, as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        """Households eligible for at least one offer at *as_of*, with the facts that made them."""
        from partygraph_household.rollup import Census, summary_of

        with self.toolkit.reader(as_of) as graph:
            census = Census(graph, self.settings, graph.as_of, None)
            found = []
            for household_id in census.households:
                summary = summary_of(census, household_id, deep=False)
                if summary["offers"]:
                    found.append(
                        {"household": summary["household"]["key"], "offers": summary["offers"]}
                    )
            return found

    def suggestions(self, as_of: datetime | str | None = None) -> dict[str, Any]:
        """Candidate households from shared postal addresses (proposals; nothing is written)."""
        from partygraph_household.suggestions import suggestions

        with self.toolkit.reader(as_of) as graph:
            return suggestions(graph, self.settings, graph.as_of)
