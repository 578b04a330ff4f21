"""Hooks around reading: audit of reads, redaction of views and exports, purpose checks,
and declarations of the personal data each plugin stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from partygraph import (
    Context,
    DataDeclaration,
    GraphReader,
    Party,
    PartyView,
    RoleAssignment,
    hookimpl,
)


class Auditor:
    """Records every read and hides contact data from analysts."""

    def __init__(self) -> None:
        self.reads: list[tuple[str | None, str, str, str | None]] = []

    @hookimpl
    def partygraph_after_read(self, party: Party, action: str, context: Context) -> None:
        self.reads.append((context.actor, action, party.key, context.purpose))

    @hookimpl
    def partygraph_review_view(self, view: PartyView, context: Context) -> PartyView | None:
        if context.viewer_role != "analyst":
            return None
        attributes = {k: v for k, v in view.party.attributes.items() if k != "email"}
        return attrs.evolve(view, party=attrs.evolve(view.party, attributes=attributes))

    @hookimpl
    def partygraph_review_export(
        self, document: Mapping[str, Any], party: Party, context: Context
    ) -> Mapping[str, Any]:
        return {**document, "requested_by": context.actor}

    @hookimpl
    def partygraph_data_declarations(self) -> list[DataDeclaration]:
        return [
            DataDeclaration(
                "audit_log",
                "actor",
                "user.unique_id",
                subjects=("employee",),
                purposes=("security",),
                retention="P1Y",
            )
        ]


class Objections:
    """Leaves out parties who objected to profiling."""

    @hookimpl
    def partygraph_permitted(
        self, parties: Sequence[Party], purpose: str, as_of: datetime, graph: GraphReader
    ) -> dict[int, str] | None:
        if purpose != "profiling":
            return None
        return {
            p.id: "objected to profiling"
            for p in parties
            if p.id is not None and p.attributes.get("objects")
        }

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        if party.kind != "organization":
            return []
        staff = [view.other.id for view in graph.relationships(party)]
        kept = [i for i in staff if i not in graph.excluded(staff, "profiling")]
        return [RoleAssignment("profiled_org", reason=f"{len(kept)} profiled member(s)")]


def test_every_read_is_announced_with_its_context(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"audit": Auditor})
    toolkit.upsert_party("alice", "person", "Alice", {"email": "a@example.org"})
    who = Context(actor="agent-7", purpose="support")
    toolkit.view("alice", context=who)
    toolkit.roles("alice", context=who)
    toolkit.party("alice", context=who)
    toolkit.interactions("alice", context=who)
    toolkit.relationships("alice", context=who)
    toolkit.metrics("alice", context=who)
    auditor = toolkit.plugin_objects["audit"]
    assert auditor.reads == [
        ("agent-7", action, "alice", "support")
        for action in ("view", "roles", "party", "interactions", "relationships", "metrics")
    ]


def test_a_view_is_redacted_for_the_viewer_role(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"audit": Auditor})
    toolkit.upsert_party("alice", "person", "Alice", {"email": "a@example.org", "phone": "1"})
    full = toolkit.view("alice", context=Context(viewer_role="support"))
    redacted = toolkit.view("alice", context=Context(viewer_role="analyst"))
    assert full.party.attributes == {"email": "a@example.org", "phone": "1"}
    assert redacted.party.attributes == {"phone": "1"}


def test_the_export_is_revised_by_plugins(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"audit": Auditor})
    toolkit.upsert_party("alice", "person", "Alice")
    document = toolkit.export_subject("alice", context=Context(actor="dpo"))
    assert document["requested_by"] == "dpo"
    assert document["party"]["key"] == "alice"
    auditor = toolkit.plugin_objects["audit"]
    assert auditor.reads[-1][:3] == ("dpo", "export_subject", "alice")


def test_derived_computations_leave_out_parties_without_a_purpose(make_toolkit: Any) -> None:
    from partygraph import RelationshipType

    class Staff:
        @hookimpl
        def partygraph_relationship_types(self) -> list[RelationshipType]:
            return [RelationshipType("staff_of", label="staff of", inverse_label="employs")]

    toolkit = make_toolkit(plugins={"staff": Staff, "objections": Objections})
    toolkit.upsert_party("acme", "organization", "Acme")
    toolkit.upsert_party("ann", "person", "Ann")
    toolkit.upsert_party("bo", "person", "Bo", {"objects": True})
    toolkit.relate("ann", "acme", "staff_of")
    toolkit.relate("bo", "acme", "staff_of")
    excluded = toolkit.excluded(["ann", "bo"], "profiling")
    bo = toolkit.party("bo")
    assert excluded == {bo.id: "objected to profiling (objections)"}
    assert toolkit.excluded(["ann", "bo"], "billing") == {}
    (role,) = toolkit.roles("acme")
    assert role.reason == "1 profiled member(s)"


def test_data_declarations_cover_the_core_and_plugins(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"audit": Auditor})
    declared = {(owner, d.table, d.field): d for owner, d in toolkit.data_declarations()}
    assert declared[("core", "party", "attributes.email")].category == "user.contact.email"
    assert declared[("core", "party", "name")].personal is True
    assert declared[("audit", "audit_log", "actor")].retention == "P1Y"
    core_tables = {table.name for owner, table in toolkit.tables() if owner == "core"}
    assert {d.table for (owner, _, _), d in declared.items() if owner == "core"} <= core_tables
