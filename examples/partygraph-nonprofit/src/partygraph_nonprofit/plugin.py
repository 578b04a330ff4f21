"""The nonprofit plugin: who is served (the customers), who gives, who helps.

:class:`partygraph.PluginBase` implements the registration hooks from the
class attributes; the hooks here are the plugin's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from partygraph import (
    DataDeclaration,
    GraphReader,
    InteractionType,
    Party,
    PartyKind,
    PluginBase,
    RelationshipType,
    RoleAssignment,
    WriteBatch,
    WriteSession,
    hookimpl,
)
from sqlalchemy import delete, select

from partygraph_nonprofit import tables, vocabulary
from partygraph_nonprofit.vocabulary import DONATION, ENROLLED_IN, SERVICE_DELIVERY, VOLUNTEERS_FOR

__all__ = ["NonprofitPlugin"]

_YEAR = timedelta(days=365)


def _naive_utc(moment: datetime) -> datetime:
    """Stored times are naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _iso(moment: datetime) -> str:
    return _naive_utc(moment).isoformat() + "Z"


class NonprofitPlugin(PluginBase):
    """The people served are the customers; donors and volunteers are supporters."""

    name = "nonprofit"
    schema_file = "schema.json"
    metadata = tables.metadata
    migrations_folder = "migrations"

    def declarations(self) -> Iterable[DataDeclaration]:
        return vocabulary.data_declarations()

    @property
    def served_within(self) -> timedelta:
        """How recently someone must have been served to be a current beneficiary."""
        return timedelta(days=int(self.settings.get("served_within_days", 365)))

    # -- vocabulary ----------------------------------------------------------------------

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return vocabulary.party_kinds()

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return vocabulary.relationship_types()

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return vocabulary.interaction_types()

    # -- writing: one insert per batch, in the caller's transaction ----------------------

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        default_currency = str(self.settings.get("currency", "EUR"))
        rows = [
            {
                "interaction_id": item.id,
                "donor_id": session.resolve(participant.party),
                "received_at": _naive_utc(item.occurred_at),
                "amount": float(item.payload["amount"]),
                "currency": item.payload.get("currency", default_currency),
                "campaign": item.payload.get("campaign"),
                "gift_aid": bool(item.payload.get("gift_aid", False)),
            }
            for item in batch.interactions
            if item.type == DONATION
            for participant in item.participants
            if participant.role == "donor"
        ]
        if rows:
            session.connection.execute(tables.gift.insert(), rows)

    # -- reading -------------------------------------------------------------------------

    def _gifts(self, party: Party, graph: GraphReader, as_of: datetime | None) -> list[Any]:
        query = select(tables.gift).where(tables.gift.c.donor_id == party.id)
        if as_of is not None:
            query = query.where(tables.gift.c.received_at <= _naive_utc(as_of))
        return list(graph.connection.execute(query.order_by(tables.gift.c.received_at)))

    def _giving(self, gifts: list[Any], as_of: datetime) -> dict[str, Any]:
        currency = str(self.settings.get("currency", "EUR"))
        year_ago = _naive_utc(as_of) - _YEAR
        counted = [row for row in gifts if row.currency == currency]
        return {
            "gifts": len(gifts),
            "given": round(sum(row.amount for row in counted), 2),
            "given_last_year": round(
                sum(row.amount for row in counted if row.received_at > year_ago), 2
            ),
            "currency": currency,
        }

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Iterable[RoleAssignment]:
        found: list[RoleAssignment] = []
        found += self._served_roles(party, as_of, graph)
        found += self._supporter_roles(party, as_of, graph)
        return found

    def _served_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        roles: list[RoleAssignment] = []
        served = graph.interactions(
            party, type=SERVICE_DELIVERY, role="served", since=as_of - self.served_within,
            before=as_of,
        )  # fmt: skip
        if served:
            programs = {
                participant.party
                for item in served
                for participant in item.participants
                if participant.role == "program"
            }
            names = sorted({graph.party(ref).name or graph.party(ref).key for ref in programs})
            roles.append(
                RoleAssignment(
                    "beneficiary",
                    reason=f"served {len(served)} time(s) by {', '.join(names)} between "
                    f"{_day(served[-1].occurred_at)} and {_day(served[0].occurred_at)}: "
                    "the people a non-profit serves are its customers",
                    customer=True,
                    since=served[-1].occurred_at,
                    evidence=tuple(f"interaction #{item.id}" for item in served),
                )
            )
        for view in graph.relationships(party, type=ENROLLED_IN, direction="outgoing", as_of=as_of):
            begun = view.relationship.valid_from
            roles.append(
                RoleAssignment(
                    "enrolled",
                    reason=f"enrolled in {view.other.name or view.other.key}"
                    + (f" since {_day(begun)}" if begun else ""),
                    context=view.other,
                    customer=True,
                    since=begun,
                    until=view.relationship.valid_to,
                )
            )
        return roles

    def _supporter_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        roles: list[RoleAssignment] = []
        gifts = self._gifts(party, graph, as_of)
        if gifts:
            giving = self._giving(gifts, as_of)
            first = gifts[0].received_at.replace(tzinfo=UTC)
            roles.append(
                RoleAssignment(
                    "donor",
                    reason=f"{giving['gifts']} gift(s) since {_day(first)}, "
                    f"{giving['given']} {giving['currency']} in all; a supporter, not a customer",
                    since=first,
                    evidence=tuple(f"interaction #{row.interaction_id}" for row in gifts),
                )
            )
            threshold = float(self.settings.get("major_donor_amount", 1000))
            if giving["given_last_year"] >= threshold:
                roles.append(
                    RoleAssignment(
                        "major_donor",
                        reason=f"gave {giving['given_last_year']} {giving['currency']} in the "
                        f"year to {_day(as_of)} (at least {threshold:g})",
                    )
                )
        for view in graph.relationships(
            party, type=VOLUNTEERS_FOR, direction="outgoing", as_of=as_of
        ):
            begun = view.relationship.valid_from
            roles.append(
                RoleAssignment(
                    "volunteer",
                    reason=f"volunteers for {view.other.name or view.other.key}"
                    + (f" since {_day(begun)}" if begun else "")
                    + (f" as {view.relationship.role}" if view.relationship.role else ""),
                    context=view.other,
                    kind="internal",
                    since=begun,
                    until=view.relationship.valid_to,
                )
            )
        return roles

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, float | int | str | None] | None:
        figures: dict[str, float | int | str | None] = {}
        services = graph.count_interactions(
            party, type=SERVICE_DELIVERY, role="served", before=as_of
        )
        if services:
            figures["services_received"] = services
        gifts = self._gifts(party, graph, as_of)
        if gifts:
            figures.update(self._giving(gifts, as_of))
        return figures or None

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> Mapping[str, Any] | None:
        return self.partygraph_metrics(party, as_of, graph)

    # -- data subjects -------------------------------------------------------------------

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> Mapping[str, Any]:
        return {
            "gifts": [
                {
                    "interaction": row.interaction_id,
                    "received_at": _iso(row.received_at),
                    "amount": row.amount,
                    "currency": row.currency,
                    "campaign": row.campaign,
                    "gift_aid": row.gift_aid,
                }
                for row in self._gifts(party, graph, None)
            ]
        }

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> Mapping[str, Any]:
        statement = delete(tables.gift).where(tables.gift.c.donor_id == party.id)
        return {"gifts_deleted": session.connection.execute(statement).rowcount}
