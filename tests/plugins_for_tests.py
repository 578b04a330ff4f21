"""Plugins and helpers shared by the core tests.

Plugins here are plain classes with ``@hookimpl`` methods, enabled in a test
with ``make_toolkit(plugins={"name": PluginClass})``; the toolkit makes one
instance per toolkit (reach it through ``toolkit.plugin_objects["name"]``).
Plugins that own tables take the folder of their Alembic revisions in their
constructor and are passed as instances.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from partygraph import (
    Cardinality,
    InteractionType,
    MigrationSource,
    Party,
    PartyKind,
    RecordType,
    RelationshipType,
    RoleAssignment,
    Toolkit,
    WriteBatch,
    WriteRefused,
    WriteSession,
    hookimpl,
)
from partygraph.reading import GraphReader

PURCHASE_PAYLOAD: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
    },
    "required": ["amount"],
}


class Basics:
    """A small vocabulary and a few roles, metrics and a view section.

    Party kinds ``household`` and ``department``; relationship types
    ``member_of`` (at most one current head per household, the previous one
    ended), ``manages`` (at most one manager per department, refused beyond),
    ``works_for`` and the symmetric ``knows``; interaction types ``purchase``
    (purchaser required, payload with an amount) and ``meeting`` (anything).
    """

    @hookimpl
    def partygraph_party_kinds(self) -> list[PartyKind]:
        return [PartyKind("household", label="Household"), PartyKind("department")]

    @hookimpl
    def partygraph_relationship_types(self) -> list[RelationshipType]:
        return [
            RelationshipType(
                "member_of",
                label="member of",
                inverse_label="has member",
                source_kinds={"person"},
                target_kinds={"household"},
                roles={"head", "partner", "dependent"},
                role_required=True,
                cardinality=[
                    Cardinality(per="target", role="head", max=1, on_excess="end_previous")
                ],
            ),
            RelationshipType(
                "manages",
                label="manages",
                inverse_label="managed by",
                source_kinds={"person"},
                target_kinds={"department"},
                cardinality=[Cardinality(per="target", max=1, on_excess="fail")],
            ),
            RelationshipType(
                "works_for",
                label="works for",
                inverse_label="employs",
                source_kinds={"person"},
                target_kinds={"organization"},
                attributes={
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "since_year": {"type": "integer"}},
                },
            ),
            RelationshipType("knows", label="knows", symmetric=True),
        ]

    @hookimpl
    def partygraph_interaction_types(self) -> list[InteractionType]:
        return [
            InteractionType(
                "purchase",
                roles={"purchaser", "consumer"},
                required_roles=("purchaser",),
                payload=PURCHASE_PAYLOAD,
                purposes=("service",),
            ),
            InteractionType("meeting"),
        ]

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        roles = []
        bought = graph.count_interactions(party, type="purchase", role="purchaser", before=as_of)
        if bought:
            roles.append(
                RoleAssignment("customer", reason=f"made {bought} purchase(s)", customer=True)
            )
        used = graph.count_interactions(party, type="purchase", role="consumer", before=as_of)
        if used:
            roles.append(RoleAssignment("consumer", reason=f"received {used} purchase(s)"))
        for view in graph.relationships(party, type="member_of", direction="outgoing"):
            if view.relationship.role == "head":
                roles.append(
                    RoleAssignment(
                        "head_of_household",
                        reason=f"head of {view.other.key} (relationship #{view.relationship.id})",
                        context=view.other,
                        since=view.relationship.valid_from,
                        until=view.relationship.valid_to,
                    )
                )
        if party.kind == "household":
            for view in graph.relationships(party, type="member_of", direction="incoming"):
                if any(role.customer for role in graph.roles(view.other.id)):
                    roles.append(
                        RoleAssignment(
                            "customer_household",
                            reason=f"member {view.other.key} is a customer",
                            customer=True,
                        )
                    )
                    break
        return roles

    @hookimpl
    def partygraph_metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> dict[str, Any]:
        purchases = graph.interactions(party, type="purchase", role="purchaser", before=as_of)
        return {
            "purchases": len(purchases),
            "spent": sum(item.payload["amount"] for item in purchases),
        }

    @hookimpl
    def partygraph_view_section(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> dict[str, Any] | None:
        count = graph.count_interactions(party, type="purchase", before=as_of)
        return {"purchases": count} if count else None


class Gossip:
    """Asks every party's acquaintances for their roles: recursion through ``graph.roles``."""

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        found = []
        for view in graph.relationships(party, type="knows"):
            theirs = graph.roles(view.other.id)
            if any(role.customer for role in theirs):
                found.append(
                    RoleAssignment(
                        "influencer",
                        reason=f"knows customer {view.other.key}",
                        context=view.other,
                    )
                )
        return found


class Recorder:
    """Records every write hook call: phase, size, ids and the write context."""

    def __init__(self) -> None:
        self.before: list[dict[str, Any]] = []
        self.after: list[dict[str, Any]] = []

    @staticmethod
    def _entry(batch: WriteBatch, session: WriteSession) -> dict[str, Any]:
        return {
            "phase": batch.phase,
            "size": len(batch),
            "ids": [getattr(item, "id", None) for item in batch.items()],
            "actor": session.context.actor,
            "purpose": session.context.purpose,
            "source": session.context.source,
            "at": session.context.at,
        }

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        self.before.append(self._entry(batch, session))

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        self.after.append(self._entry(batch, session))

    def calls(self, phase: str, which: str = "before") -> list[dict[str, Any]]:
        return [call for call in getattr(self, which) if call["phase"] == phase]


class Gatekeeper:
    """Refuses, withholds, or refuses whole writes, by simple visible rules.

    Parties whose key starts with ``refuse-`` are refused, ``hold-`` withheld;
    interactions with ``payload["action"]`` ``"refuse"`` / ``"hold"`` likewise;
    a write whose context purpose is ``"forbidden"`` is refused as a whole.
    """

    def __init__(self) -> None:
        self.held: list[Any] = []

    @hookimpl
    def partygraph_before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        if session.context.purpose == "forbidden":
            raise WriteRefused("no lawful basis for purpose 'forbidden'", plugin="gatekeeper")
        for party in batch.parties:
            if party.key.startswith("refuse-"):
                batch.refuse(party, f"party {party.key!r} is on the refusal list")
            elif party.key.startswith("hold-"):
                self.held.append(party)
                batch.withhold(party, f"party {party.key!r} quarantined")
        for interaction in batch.interactions:
            action = interaction.payload.get("action")
            if action == "refuse":
                batch.refuse(interaction, "interaction refused by the gatekeeper")
            elif action == "hold":
                self.held.append(interaction)
                batch.withhold(interaction, "interaction quarantined")


class Exploder:
    """Raises from ``partygraph_after_write`` once the core (and the audit plugin) wrote."""

    run_after = ("audit",)

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch) -> None:
        if batch.phase == "interaction":
            raise RuntimeError("exploder: derived write failed")


# -- plugins that own tables (created by their own Alembic revisions) ---------------------

REVISION_TEMPLATE = '''\
"""{message}

Revision ID: {revision}
Revises: {down_revision}
"""

import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = {branch_labels!r}
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    raise NotImplementedError
'''


def write_revision(
    folder: Path,
    revision: str,
    body: str,
    *,
    down_revision: str | None = None,
    message: str = "test revision",
) -> Path:
    """Write one Alembic revision script into *folder* (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{revision}.py"
    path.write_text(
        REVISION_TEMPLATE.format(
            message=message,
            revision=revision,
            down_revision=down_revision,
            branch_labels=None if down_revision else (revision.split("_")[0],),
            body=textwrap.indent(textwrap.dedent(body).strip(), "    "),
        ),
        encoding="utf-8",
    )
    return path


AUDIT_METADATA = sa.MetaData()
audit_log = sa.Table(
    "audit_log",
    AUDIT_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(64), nullable=True),
)

AUDIT_REVISION = """
op.create_table(
    "audit_log",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(64), nullable=True),
)
"""


class Audit:
    """Writes one row per written batch into its own table, in the write's transaction."""

    def __init__(self, migrations: Path) -> None:
        self.folder = migrations

    @hookimpl
    def partygraph_tables(self) -> list[sa.Table]:
        return [audit_log]

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("audit", self.folder)

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        session.connection.execute(
            audit_log.insert(),
            [{"phase": batch.phase, "size": len(batch), "actor": session.context.actor}],
        )


def audit_plugin(folder: Path) -> Audit:
    """An :class:`Audit` plugin with its revision written into *folder*."""
    write_revision(folder, "audit_0001", AUDIT_REVISION, message="audit log")
    return Audit(folder)


NOTES_METADATA = sa.MetaData()
notes = sa.Table(
    "notes_note",
    NOTES_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("party_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("text", sa.String, nullable=False),
)

NOTES_REVISION = """
op.create_table(
    "notes_note",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("party_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("text", sa.String, nullable=False),
)
"""

NOTE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["party", "text"],
    "properties": {
        "party": {"type": "string", "minLength": 1},
        "text": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}


class Notes:
    """Free-text notes about parties: a record type, a table, export and erasure."""

    def __init__(self, migrations: Path, fail_erase: bool = False) -> None:
        self.folder = migrations
        self.fail_erase = fail_erase
        self.applied: list[int] = []
        self.erase_saw_party: list[bool] = []

    @hookimpl
    def partygraph_tables(self) -> list[sa.Table]:
        return [notes]

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        return MigrationSource("notes", self.folder)

    @hookimpl
    def partygraph_record_types(self) -> list[RecordType]:
        return [RecordType("note", schema=NOTE_SCHEMA, apply=self.apply)]

    def apply(self, bodies: Sequence[Mapping[str, Any]], session: WriteSession) -> None:
        self.applied.append(len(bodies))
        session.connection.execute(
            notes.insert(),
            [{"party_id": session.resolve(body["party"]), "text": body["text"]} for body in bodies],
        )

    @hookimpl
    def partygraph_export_subject(self, party: Party, graph: GraphReader) -> dict[str, Any]:
        rows = graph.connection.execute(
            sa.select(notes.c.text).where(notes.c.party_id == party.id).order_by(notes.c.id)
        )
        return {"notes": [row.text for row in rows]}

    @hookimpl
    def partygraph_erase_subject(self, party: Party, session: WriteSession) -> dict[str, Any]:
        self.erase_saw_party.append(session.graph.find_party(party.key) is not None)
        result = session.connection.execute(notes.delete().where(notes.c.party_id == party.id))
        if self.fail_erase:
            raise RuntimeError("notes: erasure failed")
        return {"notes_deleted": result.rowcount}


def notes_plugin(folder: Path, *, fail_erase: bool = False) -> Notes:
    """A :class:`Notes` plugin with its revision written into *folder*."""
    write_revision(folder, "notes_0001", NOTES_REVISION, message="notes")
    return Notes(folder, fail_erase=fail_erase)


# -- helpers ------------------------------------------------------------------------------


def count_rows(toolkit: Toolkit, table: str | sa.Table) -> int:
    """How many rows a table holds (by name or table object)."""
    name = table if isinstance(table, str) else table.name
    with toolkit.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())


def core_counts(toolkit: Toolkit) -> dict[str, int]:
    """Row counts of the core's four tables."""
    return {
        name: count_rows(toolkit, name)
        for name in ("party", "relationship", "interaction", "participant")
    }


EMPTY = {"party": 0, "relationship": 0, "interaction": 0, "participant": 0}
