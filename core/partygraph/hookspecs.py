"""The hook specification: everything a plugin can do, grouped by lifecycle.

A plugin is an object (a module, or an instance of a class named by its entry
point) with functions named like the hooks below and marked with
:data:`partygraph.hookimpl`. Implementations take only the parameters they
need. New parameters may be added to a hook; none is ever removed.

Most hooks are called once for each plugin that implements them, in the
deterministic plugin order, so the toolkit can tell whose answer is whose
(the owner of a party kind, the ``plugin`` field of a role assignment, a
plugin's section of the 360-degree view); wrappers do not apply to them. The
write hooks, ``partygraph_before_write`` and ``partygraph_after_write``, are
ordinary pluggy calls and may be wrapped with ``@hookimpl(wrapper=True)``
(a privacy gate is such a wrapper).

Bulk paths call hooks once per batch, never once per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from sqlalchemy import Table

    from partygraph.model import Context, Party, RoleAssignment
    from partygraph.reading import GraphReader
    from partygraph.segments import SegmentMetric, SegmentPredicate
    from partygraph.storage.migrations import MigrationSource
    from partygraph.toolkit import PartyView, Toolkit
    from partygraph.vocabulary import (
        DataDeclaration,
        InteractionType,
        PartyKind,
        RecordType,
        RelationshipType,
    )
    from partygraph.writing import WriteBatch, WriteSession

__all__ = ["WRAPPABLE_HOOKS", "hookimpl", "hookspec"]

PROJECT = "partygraph"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a plugin's hook implementations.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Hooks called as ordinary pluggy calls (wrappers apply); every other hook is
#: called once per implementing plugin, so that answers carry their plugin's name.
WRAPPABLE_HOOKS = frozenset(
    {
        "partygraph_toolkit_ready",
        "partygraph_before_write",
        "partygraph_after_write",
        "partygraph_after_read",
    }
)

# -- 1. Configuration --------------------------------------------------------------------


@hookspec
def partygraph_config_schema() -> Mapping[str, Any] | None:
    """Return the JSON Schema of this plugin's settings (``[plugins.<name>]``).

    Per plugin; called once when a toolkit opens, before any other hook but
    registration. The schema is composed into the config schema under
    ``/properties/plugins/properties/<name>``; give every optional property a
    ``default`` (the toolkit fills them in) and ``additionalProperties: false``.
    List keys removed by a newer version under ``x-removed`` (key -> hint) so
    old configs warn instead of failing. Must not raise.

    Example::

        @hookimpl
        def partygraph_config_schema():
            return {
                "title": "b2c",
                "description": "Settings of the b2c plugin.",
                "type": "object",
                "additionalProperties": False,
                "properties": {"currency": {"type": "string", "default": "EUR"}},
            }
    """


@hookspec
def partygraph_configure(settings: Mapping[str, Any]) -> None:
    """Receive this plugin's validated settings, defaults filled in.

    Per plugin; called once when a toolkit opens (and when a config is only
    checked), after the config is valid and before the vocabulary is
    collected, so registrations may depend on settings. Keep the settings on
    ``self`` (plugins that hold settings are classes: the toolkit makes one
    instance per toolkit, so two toolkits never share state). May raise
    :class:`partygraph.errors.ValidationError` for a combination of settings a
    schema cannot express. Use :func:`partygraph_toolkit_ready` to reach the
    toolkit itself.

    Example::

        @hookimpl
        def partygraph_configure(self, settings):
            self.currency = settings["currency"]
    """


@hookspec
def partygraph_toolkit_ready(toolkit: Toolkit) -> None:
    """The toolkit is open: vocabulary composed, tables migrated, plugins configured.

    Called once, last when a toolkit opens. Check what needs the whole picture
    (a privacy plugin refuses to run beside a plugin that stores personal data
    without declaring it) by raising :class:`partygraph.errors.PluginError`;
    the toolkit then closes and the error reaches the caller.

    Example::

        @hookimpl
        def partygraph_toolkit_ready(toolkit):
            missing = [t.name for _, t in toolkit.tables() if t.name not in declared]
            if missing:
                raise PluginError(f"undeclared personal data in {missing}")
    """


@hookspec
def partygraph_toolkit_closing(toolkit: Toolkit) -> None:
    """The toolkit is closing: write out what the plugin kept in memory.

    Called once by :meth:`Toolkit.close`, before the toolkit releases its
    connections, for a plugin that buffers work between calls (an audit log
    appending read entries in batches). Errors propagate to the caller of
    ``close``: data that could not be written should not vanish silently.
    A toolkit that failed to open calls it too, before any
    ``partygraph_toolkit_ready``.

    Example::

        @hookimpl
        def partygraph_toolkit_closing(toolkit):
            self.buffer.flush()
    """


# -- 2. Vocabulary and storage ------------------------------------------------------------


@hookspec
def partygraph_party_kinds() -> Iterable[PartyKind]:
    """Return the party kinds this plugin registers.

    Called once when a toolkit opens. A name registered by two plugins stops
    the toolkit with an error naming both. Must not write.

    Example::

        @hookimpl
        def partygraph_party_kinds():
            return [PartyKind("household", label="Household")]
    """


@hookspec
def partygraph_relationship_types() -> Iterable[RelationshipType]:
    """Return the relationship types this plugin registers.

    Called once when a toolkit opens. Each type gives a label per direction,
    allowed source and target kinds, allowed roles and cardinality rules.

    Example::

        @hookimpl
        def partygraph_relationship_types():
            return [
                RelationshipType(
                    "member_of", label="member of", inverse_label="has member",
                    source_kinds={"person"}, target_kinds={"household"},
                    roles={"head", "partner", "dependent", "other"},
                    cardinality=[Cardinality(per="target", role="head", max=1,
                                             on_excess="end_previous")],
                )
            ]
    """


@hookspec
def partygraph_interaction_types() -> Iterable[InteractionType]:
    """Return the interaction types this plugin registers.

    Called once when a toolkit opens. Each type names its participant roles,
    its payload's JSON Schema and the purposes it is processed for.

    Example::

        @hookimpl
        def partygraph_interaction_types():
            return [
                InteractionType(
                    "trip", roles={"rider", "driver"}, required_roles=("rider", "driver"),
                    payload={"type": "object", "properties": {"fare": {"type": "number"}}},
                    purposes=("service",),
                )
            ]
    """


@hookspec
def partygraph_record_types() -> Iterable[RecordType]:
    """Return further interchange record types (beyond party, relationship, interaction).

    Called once when a toolkit opens. Lines of a JSON Lines file whose only key
    is the record type's name are validated with its schema and handed to its
    ``apply`` in batches, inside the import's transaction.

    Example::

        @hookimpl
        def partygraph_record_types(self):
            return [RecordType("consent", schema=CONSENT_SCHEMA, apply=self.apply_consents)]
    """


@hookspec
def partygraph_tables() -> Iterable[Table]:
    """Return the SQLAlchemy tables this plugin stores its own data in.

    Called once when a toolkit opens. Tables are created and upgraded by the
    plugin's migrations (:func:`partygraph_migrations`); after upgrading, the
    toolkit checks that every table listed here exists (a missing one stops
    it, naming the plugin), and ``Toolkit.tables()`` lists them for tools
    that scan every table (a privacy plugin's erasure check). Prefix table
    names with the plugin's name.

    Example::

        @hookimpl
        def partygraph_tables():
            return [ConsentRow.__table__]
    """


@hookspec
def partygraph_migrations() -> MigrationSource | None:
    """Return the folder of this plugin's Alembic revision scripts.

    Called when a toolkit opens (and by ``partygraph db upgrade``). Each plugin
    has its own version table, so enabling a plugin later adds its tables and
    disabling it leaves them alone.

    Example::

        @hookimpl
        def partygraph_migrations():
            return MigrationSource("b2c", Path(__file__).parent / "migrations")
    """


@hookspec
def partygraph_data_declarations() -> Iterable[DataDeclaration]:
    """Declare what each stored field holds about people, and under which rules.

    Called once when a toolkit opens. Declare every column (or key of a JSON
    column) of your tables, and every party attribute you add, that holds
    personal data: its data category, data subjects, purposes and retention.
    A privacy plugin refuses to run beside a plugin that stores personal data
    without declaring it. The core declares its own tables.

    Example::

        @hookimpl
        def partygraph_data_declarations():
            return [
                DataDeclaration(
                    "b2c_preference", "category", "user.behavior.purchase_history",
                    subjects=("customer",), purposes=("personalisation",),
                )
            ]
    """


@hookspec
def partygraph_cli_commands() -> Iterable[click.Command]:
    """Return click commands (or groups) to add to the ``partygraph`` command line.

    Called when the command line starts, only for enabled plugins. A command
    receives the open toolkit with ``partygraph.cli.pass_toolkit``.

    Example::

        @hookimpl
        def partygraph_cli_commands():
            return [segment_group]
    """


# -- 3. Writing ---------------------------------------------------------------------------


@hookspec
def partygraph_before_write(batch: WriteBatch, session: WriteSession) -> None:
    """Check a batch before the core writes it; refuse it or some of its items.

    Called inside the write's transaction once per batch and per phase (a
    batch holds parties, or relationships, or records of one plugin type, or
    interactions), after the core's own validation. Raise
    :class:`partygraph.errors.WriteRefused` to refuse the whole write (nothing
    is written); call ``batch.refuse(item, reason)`` to refuse one item
    (an error in all-or-nothing mode, a rejected line with ``--skip-invalid``);
    call ``batch.withhold(item, reason)`` after storing an item elsewhere
    (a quarantine) so the core does not write it. ``session.skip_invalid``
    says whether the caller wants the valid records written and the rest
    reported; a gate then prefers ``batch.refuse`` to raising. ``session.context`` says who
    writes and why. A privacy gate is best written as a wrapper.

    Example::

        @hookimpl
        def partygraph_before_write(batch, session):
            for interaction in batch.interactions:
                if interaction.type == "purchase" and not interaction.payload.get("lines"):
                    batch.refuse(interaction, "a purchase needs at least one line")
    """


@hookspec
def partygraph_after_write(batch: WriteBatch, session: WriteSession) -> None:
    """React to a batch the core has just written: derived writes, counters, audit.

    Called inside the same transaction, once per batch and phase; the batch's
    items now carry their ids. Raising rolls back everything, the core's rows
    and every plugin's derived writes included.

    Example::

        @hookimpl
        def partygraph_after_write(batch, session):
            if batch.interactions:
                session.connection.execute(
                    usage.insert(), [{"actor": session.context.actor, "n": len(batch)}]
                )
    """


@hookspec
def partygraph_write_failed(error: BaseException, context: Context) -> None:
    """Be told that a write was refused or failed and has been rolled back.

    Per plugin; called after the write's transaction is rolled back, outside
    it, so a plugin may record the refusal in a transaction of its own (an
    audit log must show refused writes too). Should not raise: an error here
    is ignored, so the original error reaches the caller and the other
    plugins are still told.

    Example::

        @hookimpl
        def partygraph_write_failed(error, context):
            audit.append("write refused", actor=context.actor, reason=str(error))
    """


# -- 4. Reading ---------------------------------------------------------------------------


@hookspec
def partygraph_roles(
    party: Party, as_of: datetime, graph: GraphReader
) -> Iterable[RoleAssignment] | None:
    """Say which roles *party* plays at *as_of*, each with its reason.

    Per plugin; called by ``Toolkit.roles``, ``Toolkit.view`` and
    ``partygraph explain``. The toolkit fills in each assignment's ``plugin``.
    Ask other plugins' opinions through ``graph.roles(other_party)``, never by
    importing them. May return nothing. Must not write.

    Example::

        @hookimpl
        def partygraph_roles(party, as_of, graph):
            if graph.count_interactions(party, type="purchase", role="purchaser", before=as_of):
                yield RoleAssignment("customer", reason="made a purchase", customer=True)
    """


@hookspec
def partygraph_view_section(
    party: Party, as_of: datetime, graph: GraphReader
) -> Mapping[str, Any] | None:
    """Return this plugin's section of the party's 360-degree view (JSON-ready).

    Per plugin; called by ``Toolkit.view`` and ``partygraph show``. Return None
    when the plugin has nothing to say about this party. Must not write.

    Example::

        @hookimpl
        def partygraph_view_section(party, as_of, graph):
            trips = graph.count_interactions(party, type="trip", before=as_of)
            return {"trips": trips} if trips else None
    """


@hookspec
def partygraph_metrics(
    party: Party, as_of: datetime, graph: GraphReader
) -> Mapping[str, float | int | str | None] | None:
    """Return named figures for *party* at *as_of* (lifetime value, engagement ...).

    Per plugin; called by ``Toolkit.metrics`` and other plugins through
    ``graph.metrics(party)`` (a household rolls up its members' figures this
    way). Names are plain; the toolkit files them under the plugin's name.

    Example::

        @hookimpl
        def partygraph_metrics(party, as_of, graph):
            return {"purchases": graph.count_interactions(party, type="purchase")}
    """


@hookspec
def partygraph_after_read(party: Party, action: str, context: Context) -> None:
    """Be told that *party*'s data was read through the toolkit's API.

    Called after ``Toolkit.view``, ``roles``, ``party``, ``relationships``,
    ``interactions``, ``metrics`` and ``export_subject`` (``action`` is the
    method's name), with the reader's context (actor, purpose, viewer role),
    once the read has given its connection back, so the hook may write (on
    SQLite in memory the read's connection is the only one). An ordinary
    pluggy call: an audit plugin records the read; raising makes the read
    fail (an audit that cannot be written must stop the action).

    Example::

        @hookimpl
        def partygraph_after_read(party, action, context):
            audit_log.append((context.actor, action, party.id))
    """


@hookspec
def partygraph_review_view(view: PartyView, context: Context) -> PartyView | None:
    """Return a redacted copy of a 360-degree view for this reader, or None to keep it.

    Per plugin, in plugin order, each receiving the previous plugin's result;
    called by ``Toolkit.view`` before the view is returned. A privacy plugin
    removes what the reader's ``context.viewer_role`` may not see.

    Example::

        @hookimpl
        def partygraph_review_view(view, context):
            if context.viewer_role == "analyst":
                return attrs.evolve(view, party=attrs.evolve(view.party, attributes={}))
    """


@hookspec
def partygraph_permitted(
    parties: Sequence[Party], purpose: str, as_of: datetime, graph: GraphReader
) -> Mapping[int, str] | None:
    """Say which of *parties* may not be processed for *purpose* at *as_of*, and why.

    Per plugin; called by ``graph.excluded(parties, purpose)``, which derived
    computations (a household roll-up, a segment) use before counting anyone.
    Return ``{party id: reason}`` for each party to leave out, or None. Batch
    aware: one call for the whole population of a computation.

    Example::

        @hookimpl
        def partygraph_permitted(parties, purpose, as_of, graph):
            return {p.id: "objected to profiling" for p in parties if p.id in objectors}
    """


@hookspec
def partygraph_segment_predicates() -> Iterable[SegmentPredicate]:
    """Return the conditions this plugin can express in SQL for segments.

    Per plugin; called once when a toolkit opens. A predicate is named
    ``<plugin>.<name>`` in the config (``{predicate = "b2b.single_threaded"}``).
    Its ``build(params, scope)`` returns a ``SELECT`` of party ids valid at
    ``scope.as_of``; use parameters only as bound values, never in SQL text.
    A predicate that lists ``roles`` also answers ``{role = "..."}``
    conditions, with the role's context (``of``) as a nested condition to
    compile with ``scope.members``.

    Example::

        @hookimpl
        def partygraph_segment_predicates():
            def build(params, scope):
                member = scope.tables["relationship"]
                chosen = select(member.c.source_id).where(
                    member.c.type == "member_of",
                    member.c.role == params["role"],
                    member.c.valid_from <= scope.as_of,
                    or_(member.c.valid_to.is_(None), member.c.valid_to > scope.as_of),
                )
                if "of" in params:
                    chosen = chosen.where(member.c.target_id.in_(scope.members(params["of"])))
                return chosen

            return [SegmentPredicate("member", build, roles={"head", "dependent"})]
    """


@hookspec
def partygraph_segment_metrics() -> Iterable[SegmentMetric]:
    """Return the per-party figures this plugin can compute in SQL for segments.

    Per plugin; called once when a toolkit opens. A metric is named
    ``<plugin>.<name>`` in the config (``{metric = "b2c.clv", op = ">", value =
    500}``). Its ``build(scope)`` returns a ``SELECT`` of two columns labelled
    ``party_id`` and ``value``, computed set-based for every party at
    ``scope.as_of``.

    Example::

        @hookimpl
        def partygraph_segment_metrics():
            def build(scope):
                taking_part = scope.tables["participant"]
                return (
                    select(taking_part.c.party_id, func.count().label("value"))
                    .where(taking_part.c.type == "purchase",
                           taking_part.c.occurred_at < scope.as_of)
                    .group_by(taking_part.c.party_id)
                )

            return [SegmentMetric("purchases", build, unit="purchases")]
    """


# -- 5. Data subjects ---------------------------------------------------------------------


@hookspec
def partygraph_export_subject(party: Party, graph: GraphReader) -> Mapping[str, Any] | None:
    """Return everything this plugin stores about *party*, JSON-ready.

    Per plugin; called by ``Toolkit.export_subject`` (data-subject access and
    portability). Each plugin exports its own tables; the core exports the
    party, its relationships and its interactions.

    Example::

        @hookimpl
        def partygraph_export_subject(party, graph):
            rows = graph.connection.execute(select(Note).where(Note.party_id == party.id))
            return {"notes": [row.text for row in rows]}
    """


@hookspec
def partygraph_review_export(
    document: Mapping[str, Any], party: Party, context: Context
) -> Mapping[str, Any] | None:
    """Return a revised access export of *party*, or None to keep it.

    Per plugin, in plugin order, each receiving the previous result; called by
    ``Toolkit.export_subject`` last. A privacy plugin adds the consent ledger
    and the subject's requests, or filters by the reader's viewer role.

    Example::

        @hookimpl
        def partygraph_review_export(document, party, context):
            return {**document, "consents": ledger.history(party.id)}
    """


@hookspec
def partygraph_erase_subject(party: Party, session: WriteSession) -> Mapping[str, Any] | None:
    """Erase what this plugin stores about *party*; return a short report.

    Per plugin; called by ``Toolkit.erase_subject`` inside its transaction,
    before the core deletes the party's own rows. Raising rolls the whole
    erasure back.

    Example::

        @hookimpl
        def partygraph_erase_subject(party, session):
            result = session.connection.execute(delete(Note).where(Note.party_id == party.id))
            return {"notes_deleted": result.rowcount}
    """
