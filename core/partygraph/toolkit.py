"""The toolkit: one config, one plugin set, one database -- and no global state.

``partygraph.open()`` reads and validates the config, loads the enabled
plugins on a plugin manager of the toolkit's own, composes the vocabulary,
connects (or adopts the engine it is given) and brings the schema up to date.
Two toolkits in one process never see each other's plugins or data.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import attrs
from sqlalchemy import Connection, Engine, Table, inspect, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from partygraph._builtin import CorePlugin
from partygraph.config import (
    Config,
    RawConfig,
    enabled_plugins,
    read_config,
    resolve_config,
    toml_line,
)
from partygraph.errors import (
    ConfigError,
    ConfigViolation,
    NotFoundError,
    PluginError,
    StorageError,
    UserError,
    ValidationError,
    WriteWithheld,
)
from partygraph.hooks import Hooks
from partygraph.limits import InputLimits, cut_batches, record_problem
from partygraph.model import (
    Context,
    Interaction,
    Participant,
    Party,
    PartyRef,
    Relationship,
    RelationshipView,
    RoleAssignment,
    converter,
)
from partygraph.plugins import (
    LoadedPlugins,
    PluginInfo,
    available_plugins,
    first_party_plugins,
    load_plugins,
)
from partygraph.reading import SqlGraph, relationship_from_row
from partygraph.segments import SegmentCatalog, SegmentCompiler, SegmentResult
from partygraph.segments.evaluate import evaluate_segment
from partygraph.storage import migrations
from partygraph.storage.engine import WRITE, adopt_engine, create_engine_for, redact_text
from partygraph.storage.retry import RetryPolicy, run_with_retry
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph.times import parse_time, to_storage, utcnow
from partygraph.vocabulary import DataDeclaration, Vocabulary
from partygraph.writing import Pipeline, WriteReport

__all__ = ["PartyView", "Toolkit", "check_config", "open"]

ProgressFn = Callable[[int], None]
Numbered = tuple[int, str, Any]
_CORE_RECORDS = ("party", "relationship", "interaction")


@attrs.frozen
class PartyView:
    """The 360-degree view of a party at a point in time."""

    party: Party
    as_of: datetime
    roles: tuple[RoleAssignment, ...]
    relationships: tuple[RelationshipView, ...]
    history: tuple[RelationshipView, ...]
    interactions: tuple[Interaction, ...]
    sections: Mapping[str, Mapping[str, Any]]
    metrics: Mapping[str, Mapping[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``partygraph show --json`` prints)."""
        data: dict[str, Any] = converter.unstructure(self)
        return data


@attrs.frozen
class _Prepared:
    raw: RawConfig
    config: Config
    loaded: LoadedPlugins
    hooks: Hooks
    vocabulary: Vocabulary
    segments: SegmentCatalog


def _segment_catalog(
    raw: RawConfig, config: Config, hooks: Hooks, vocabulary: Vocabulary
) -> SegmentCatalog:
    """The config's segments, checked against what the vocabulary and plugins offer."""
    try:
        catalog = SegmentCatalog(
            config.data.get("segments", {}),
            hooks.segment_predicates(),
            hooks.segment_metrics(),
            vocabulary,
        )
    except ValidationError as error:
        raise ConfigError(raw.source, [ConfigViolation(error.field, error.reason)]) from None
    problems = catalog.problems()
    if problems:
        raise ConfigError(
            raw.source,
            [
                ConfigViolation(where, message, toml_line(raw.text, where) if raw.text else None)
                for where, message in problems
            ],
        )
    return catalog


def _prepare(
    config: str | Path | Mapping[str, Any] | None, plugins: Mapping[str, object] | None
) -> _Prepared:
    raw = read_config(config)
    extra = dict(plugins or {})
    available = sorted({*available_plugins(), *extra})
    default = first_party_plugins()
    enabled, unknown = enabled_plugins(raw, available, default)
    loaded = load_plugins(enabled, extra, builtin=[("core", CorePlugin())])
    hooks = Hooks(loaded.manager)
    schemas = {name: schema for name, schema in hooks.config_schemas().items() if name != "core"}
    resolved = resolve_config(raw, enabled, schemas, unknown)
    hooks.configure(resolved.plugin_settings)
    try:
        vocabulary = Vocabulary(
            hooks.party_kinds(),
            hooks.relationship_types(),
            hooks.interaction_types(),
            hooks.record_types(),
            resolved.attributes,
        )
    except ValidationError as error:
        line = toml_line(raw.text, error.field) if raw.text else None
        raise ConfigError(raw.source, [ConfigViolation(error.field, error.reason, line)]) from None
    segments = _segment_catalog(raw, resolved, hooks, vocabulary)
    return _Prepared(raw, resolved, loaded, hooks, vocabulary, segments)


def check_config(
    config: str | Path | Mapping[str, Any] | None = None,
    plugins: Mapping[str, object] | None = None,
) -> Config:
    """Validate a config without touching a database; raise on the first problem set."""
    return _prepare(config, plugins).config


def open(
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    engine: Engine | None = None,
    plugins: Mapping[str, object] | None = None,
    migrate: bool | None = None,
) -> Toolkit:
    """Open a toolkit.

    *config* is a path to a TOML/JSON file, a dict, or None for the embedded
    default (SQLite file ``partygraph.db``, every first-party plugin enabled).
    *engine* adopts an existing SQLAlchemy engine instead of the config's URL.
    *plugins* maps names to in-process plugin objects (or classes), enabled
    when named in the config like any installed plugin. *migrate* overrides
    ``database.auto_migrate``: without migrating, a database whose schema is
    behind is refused with a message to run ``partygraph db upgrade``.
    """
    prepared = _prepare(config, plugins)
    return Toolkit(prepared, engine, migrate)


class Toolkit:
    """Parties, relationships and interactions, with the roles plugins compute from them."""

    def __init__(
        self, prepared: _Prepared, engine: Engine | None, migrate: bool | None = None
    ) -> None:
        self.config = prepared.config
        self._loaded = prepared.loaded
        self.hooks = prepared.hooks
        self.vocabulary = prepared.vocabulary
        #: The config's segments with the predicates and metrics plugins give for them.
        self.segments = prepared.segments
        #: Bounds on input (``import.*`` in the config).
        self.limits = InputLimits(
            max_record_bytes=self.config.max_record_bytes,
            max_depth=self.config.max_depth,
            max_batch_size=self.config.max_batch_size,
            max_batch_bytes=self.config.max_batch_bytes,
        )
        #: How a write transaction that lost a race with a concurrent writer is retried.
        self.retry_policy = RetryPolicy()
        self._own_engine = engine is None
        self._closed = False
        self.engine = (
            adopt_engine(engine)
            if engine is not None
            else create_engine_for(self.config.database_url, echo=self.config.echo)
        )
        #: Migrations applied when this toolkit opened.
        self.applied_migrations: list[str] = []
        try:
            if self.config.auto_migrate if migrate is None else migrate:
                self.applied_migrations = self.upgrade()
            else:
                self._require_current_schema()
            self.hooks.toolkit_ready(self)
        except BaseException:
            self.close()
            raise

    # -- life cycle ----------------------------------------------------------------------

    def __enter__(self) -> Toolkit:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Let plugins write out what they buffered, then release the database connections
        (an adopted engine is left open). Closing twice does nothing more."""
        if self._closed:
            return
        self._closed = True
        try:
            self.hooks.toolkit_closing(self)
        finally:
            if self._own_engine:
                self.engine.dispose()

    @property
    def plugins(self) -> tuple[PluginInfo, ...]:
        """The enabled plugins, in hook order."""
        return self._loaded.infos

    @property
    def plugin_objects(self) -> Mapping[str, object]:
        """The enabled plugins' objects by name (one instance per toolkit)."""
        return self._loaded.objects

    def plugin(self, name: str) -> Any:
        """The enabled plugin *name*'s object (its Python API, where it has one)."""
        try:
            return self._loaded.objects[name]
        except KeyError:
            enabled = ", ".join(self._loaded.order) or "none"
            raise PluginError(f"plugin {name!r} is not enabled (enabled: {enabled})") from None

    def migration_sources(self) -> list[migrations.MigrationSource]:
        """The core's and every enabled plugin's migration folders, core first."""
        return [source for _, source in self.hooks.migrations()]

    def upgrade(self) -> list[str]:
        """Create or upgrade the tables of the core and every enabled plugin."""
        sources = self.migration_sources()
        with self._guard():
            with self.engine.connect() as connection:
                if not migrations.pending(connection, sources):
                    self._check_tables(connection)
                    return []
            with self._transaction() as connection:
                if connection.dialect.name == "postgresql":
                    lock = int(hashlib.sha256(b"partygraph-migrations").hexdigest()[:15], 16)
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock})")
                applied = migrations.upgrade(connection, sources)
                self._check_tables(connection)
                return applied

    def data_declarations(self) -> list[tuple[str, DataDeclaration]]:
        """What every enabled plugin (and the core) stores about people, with owners."""
        return self.hooks.data_declarations()

    def _require_current_schema(self) -> None:
        with self._guard(), self.engine.connect() as connection:
            behind = migrations.pending(connection, self.migration_sources())
        if behind:
            raise StorageError(
                "the database schema is behind for "
                + ", ".join(behind)
                + "; run 'partygraph db upgrade' (or enable database.auto_migrate)"
            )

    def tables(self) -> list[tuple[str, Table]]:
        """Every table of the core and the enabled plugins, with its owner's name."""
        return self.hooks.tables()

    def _check_tables(self, connection: Connection) -> None:
        """Every declared table must exist once the migrations have run."""
        existing = set(inspect(connection).get_table_names())
        for owner, table in self.tables():
            if table.name not in existing:
                raise StorageError(
                    f"plugin {owner!r} declares the table {table.name!r}, but its migrations "
                    "did not create it; add a revision that does"
                )

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn driver errors into messages that never show a password."""
        try:
            yield
        except OperationalError as error:
            message = redact_text(str(error.orig or error).strip(), self.config.database_url)
            raise StorageError(f"database error: {message.splitlines()[0]}") from None

    def transaction(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection in a write transaction of its own, as the core's writes use.

        For a plugin's own bookkeeping outside the write pipeline (an audit entry
        after a rollback, a request's deadline): on SQLite it starts with
        ``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing.
        """
        return self._transaction()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield connection

    def _graph(
        self, connection: Connection, as_of: datetime | None, *, memo: bool = False
    ) -> SqlGraph:
        return SqlGraph(
            connection,
            self.vocabulary,
            as_of or utcnow(),
            roles_fn=self.hooks.roles,
            metrics_fn=self.hooks.metrics,
            excluded_fn=self.hooks.excluded,
            memo=memo,
        )

    @contextlib.contextmanager
    def reader(self, as_of: datetime | str | None = None) -> Iterator[SqlGraph]:
        """A graph reader on one connection, for several reads in a row."""
        at = parse_time(as_of, "as_of") if as_of is not None else None
        with self._guard(), self.engine.connect() as connection:
            yield self._graph(connection, at, memo=True)

    # -- writing -------------------------------------------------------------------------

    def write(
        self,
        records: Iterable[Any],
        *,
        skip_invalid: bool = False,
        context: Context | None = None,
        progress: ProgressFn | None = None,
        batch_size: int | None = None,
    ) -> WriteReport:
        """Write many records in one transaction, in batches (the bulk path).

        Records are interchange dicts (``{"party": {...}}``), model objects
        (:class:`Party`, :class:`Relationship`, :class:`Interaction`) or
        ``(record type, body)`` pairs. All-or-nothing unless *skip_invalid*:
        then invalid records are reported in the result and the rest written.
        """
        size = self.limits.check_batch_size(batch_size) if batch_size is not None else None
        if isinstance(records, list | tuple):
            listed = records
            source = _Source(lambda: self._bounded(_numbered(listed)), replayable=True)
        else:
            source = _Source(lambda: self._bounded(_numbered(records)), replayable=False)
        return self._run(source, skip_invalid, context, progress, size)[0]

    def _bounded(self, records: Iterable[Numbered]) -> Iterator[Numbered]:
        """In-memory records, those nested too deeply replaced by their rejection."""
        from partygraph.interchange import Unreadable

        limits = self.limits
        for line, kind, body in records:
            value = body if isinstance(body, Mapping) else _free_form(body)
            problem = record_problem(kind, value, limits) if value is not None else None
            if problem is None:
                yield line, kind, body
            else:
                yield line, "<unreadable>", Unreadable(problem)

    def _refresh_statistics(self) -> None:
        """Let SQLite's planner see the data's shape after a large write.

        SQLite keeps no statistics unless asked, and without them it can pick the
        wrong index (all the links of a type through the identity index instead of
        one party's through its own). ``ANALYZE`` with ``analysis_limit`` samples
        each index instead of reading it whole: milliseconds, even on gigabytes.
        PostgreSQL's autovacuum does this by itself.
        """
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA analysis_limit=1000")
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
        except SQLAlchemyError:
            pass  # the write itself is committed; statistics only help the planner

    def _run(
        self,
        source: _Source,
        skip_invalid: bool,
        context: Context | None,
        progress: ProgressFn | None,
        batch_size: int | None,
        raise_first: bool = False,
    ) -> tuple[WriteReport, list[Any]]:
        context = context or Context()
        if context.at is None:
            context = attrs.evolve(context, at=utcnow())
        try:
            with self._guard():
                done = run_with_retry(
                    lambda: self._run_in_transaction(
                        source, skip_invalid, context, progress, batch_size, raise_first
                    ),
                    self.retry_policy,
                    can_retry=source.can_replay,
                )
                if done[0].written >= ANALYZE_AFTER_ROWS:
                    self._refresh_statistics()
                return done
        except Exception as error:
            self.hooks.write_failed(error, context)
            raise

    def _run_in_transaction(
        self,
        source: _Source,
        skip_invalid: bool,
        context: Context,
        progress: ProgressFn | None,
        batch_size: int | None,
        raise_first: bool,
    ) -> tuple[WriteReport, list[Any]]:
        with self._transaction() as connection:
            graph = self._graph(connection, context.at)
            pipeline = Pipeline(
                connection,
                self.vocabulary,
                self.hooks,
                graph,
                context,
                skip_invalid=skip_invalid,
                raise_first=raise_first,
            )
            done = 0
            size = batch_size or self.config.batch_size
            for batch in cut_batches(
                source.records(), size, self.limits.max_batch_bytes, source.weigh
            ):
                pipeline.run_batch(batch)
                done += len(batch)
                if progress is not None:
                    progress(done)
            pipeline.report.rejected.sort(key=lambda item: item.line)
            if pipeline.report.rejected and not skip_invalid:
                raise RecordsRejected(pipeline.report)
            return pipeline.report, pipeline.created_objects

    def _single(self, kind: str, body: Any, context: Context | None) -> list[Any]:
        """Write one record through the same pipeline; raise its first error as is."""
        one = _Source(lambda: self._bounded([(1, kind, body)]), replayable=True)
        report, written = self._run(one, False, context, None, 1, True)
        if report.withheld:
            raise WriteWithheld(report.withheld[0].reason)
        return written

    def upsert_party(
        self,
        key: str,
        kind: str,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
    ) -> Party:
        """Create the party with this key, or update it (attributes are merged)."""
        written = self._single("party", Party(key, kind, name, attributes or {}), context)
        if written:
            party: Party = written[-1]
            return party
        return self.party(key)

    def relate(
        self,
        source: PartyRef,
        target: PartyRef,
        type: str,
        *,
        role: str | None = None,
        primary: bool = False,
        attributes: Mapping[str, Any] | None = None,
        valid_from: datetime | str | None = None,
        valid_to: datetime | str | None = None,
        context: Context | None = None,
    ) -> Relationship:
        """Add a relationship (the same one again updates its attributes or end)."""
        rel = Relationship(
            type,
            source,
            target,
            role,
            primary,
            attributes or {},
            parse_time(valid_from, "valid_from") if valid_from is not None else None,
            parse_time(valid_to, "valid_to") if valid_to is not None else None,
        )
        written = self._single("relationship", rel, context)
        if written:
            last: Relationship = written[-1]
            return last
        return self._find_relationship(rel)

    def _find_relationship(self, rel: Relationship) -> Relationship:
        with self.reader() as graph:
            for view in graph.relationships(rel.source, type=rel.type, history=True):
                found = view.relationship
                if (
                    view.direction == "outgoing"
                    and found.role == rel.role
                    and (found.valid_from == rel.valid_from)
                ):
                    return found
        raise NotFoundError("relationship not found after writing it")

    def end_relationship(
        self,
        relationship_id: int,
        valid_to: datetime | str | None = None,
        *,
        context: Context | None = None,
    ) -> Relationship:
        """End a relationship on *valid_to* (default: now); its history is kept."""
        table = relationship_table
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == relationship_id)).first()
        if row is None:
            raise NotFoundError(f"no relationship with id {relationship_id}")
        current = relationship_from_row(row)
        end = parse_time(valid_to, "valid_to") if valid_to is not None else utcnow()
        written = self._single(
            "relationship", attrs.evolve(current, valid_to=end, id=None), context
        )
        if written:
            ended: Relationship = written[-1]
            return ended
        return current

    def record_interaction(
        self,
        type: str,
        occurred_at: datetime | str,
        participants: Iterable[Participant | tuple[PartyRef, str] | Mapping[str, Any]],
        payload: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        context: Context | None = None,
    ) -> Interaction:
        """Record one interaction; returns it with its id and resolved participants."""
        interaction = Interaction(
            type, parse_time(occurred_at, "occurred_at"), participants, payload or {}, key
        )
        written = self._single("interaction", interaction, context)
        if written:
            recorded: Interaction = written[-1]
            return recorded
        # An interaction with this key exists already: return the stored one.
        table = interaction_table
        with self.reader() as graph:
            found = graph.connection.execute(select(table.c.id).where(table.c.key == key)).scalar()
            return graph.interactions_by_id([int(found or 0)])[0]

    def record_interactions(
        self,
        interactions: Iterable[Interaction | Mapping[str, Any]],
        *,
        skip_invalid: bool = False,
        context: Context | None = None,
        progress: ProgressFn | None = None,
    ) -> WriteReport:
        """Record a batch of interactions (hooks are called per batch, not per row)."""
        if isinstance(interactions, list | tuple):
            listed = interactions
            source = _Source(lambda: self._bounded(_as_interactions(listed)), replayable=True)
        else:
            source = _Source(lambda: self._bounded(_as_interactions(interactions)), False)
        return self._run(source, skip_invalid, context, progress, None)[0]

    def import_jsonl(
        self,
        source: str | Path | IO[bytes],
        *,
        skip_invalid: bool = False,
        context: Context | None = None,
        progress: ProgressFn | None = None,
    ) -> WriteReport:
        """Import a JSON Lines file (see the interchange format) in one transaction.

        *progress* receives the number of bytes read so far.
        """
        from partygraph.interchange import JsonlReader, read_jsonl

        context = context or Context(source="import")
        limits = self.limits
        start = None if isinstance(source, str | Path) else _tell(source)
        # The first reader opens the file now: a missing file is an error before any write.
        readers: list[JsonlReader] = [read_jsonl(source, limits.max_record_bytes, limits.max_depth)]
        opened = [0]

        def open_reader() -> Iterator[Numbered]:
            opened[0] += 1
            if opened[0] > 1:  # a retry reads the input again from where it began
                if start is not None and not isinstance(source, str | Path):
                    source.seek(start)
                readers.append(read_jsonl(source, limits.max_record_bytes, limits.max_depth))
            return readers[-1].records()

        def _progress(_records: int) -> None:
            if progress is not None:
                progress(readers[-1].bytes_read)

        replayable = isinstance(source, str | Path) or start is not None
        records = _Source(open_reader, replayable, lambda: readers[-1].last_record_bytes)
        return self._run(records, skip_invalid, context, _progress, None)[0]

    def import_csv(
        self,
        path: str | Path,
        kind: str,
        *,
        skip_invalid: bool = False,
        context: Context | None = None,
    ) -> WriteReport:
        """Import a CSV file of parties of *kind* (a ``key`` column, ``name``, attributes).

        Rejections carry the CSV line numbers; rows are bounded like JSON lines.
        """
        from partygraph.interchange import read_csv_parties

        limits = self.limits
        rows = _Source(
            lambda: self._bounded(read_csv_parties(path, kind, limits.max_record_bytes)), True
        )
        return self._run(rows, skip_invalid, context or Context(source="import"), None, None)[0]

    # -- reading -------------------------------------------------------------------------
    #
    # Every read of a party's data through these methods is announced to the
    # plugins (``partygraph_after_read``) with the reader's context, so an audit
    # plugin sees who read what, in which capacity and why. The announcement comes
    # once the read has given its connection back: a plugin may write then (an
    # in-memory SQLite database has a single connection for reads and writes).

    def _read(self, party: Party, action: str, context: Context | None) -> None:
        self.hooks.after_read(party, action, context or Context())

    def party(self, ref: PartyRef, *, context: Context | None = None) -> Party:
        """The party with this key (str) or id (int)."""
        with self.reader() as graph:
            party = graph.party(ref)
        self._read(party, "party", context)
        return party

    def resolve(self, ref: str) -> Party:
        """A command-line REF: a key, or failing that a numeric id."""
        with self.reader() as graph:
            found = graph.find_party(ref)
            if found is None and ref.isdigit():
                found = graph.find_party(int(ref))
            if found is None:
                raise NotFoundError(f"no party with key or id {ref!r}")
            return found

    def roles(
        self,
        ref: PartyRef,
        as_of: datetime | str | None = None,
        *,
        context: Context | None = None,
    ) -> list[RoleAssignment]:
        """Every role the party plays at *as_of* (default now), each with its reason."""
        with self.reader(as_of) as graph:
            party = graph.party(ref)
            roles = graph.roles(party)
        self._read(party, "roles", context)
        return roles

    def metrics(
        self,
        ref: PartyRef,
        as_of: datetime | str | None = None,
        *,
        context: Context | None = None,
    ) -> dict[str, Mapping[str, Any]]:
        """Every enabled plugin's figures for the party, by plugin."""
        with self.reader(as_of) as graph:
            party = graph.party(ref)
            figures = graph.metrics(party)
        self._read(party, "metrics", context)
        return figures

    def relationships(
        self,
        ref: PartyRef,
        as_of: datetime | str | None = None,
        *,
        history: bool = False,
        context: Context | None = None,
    ) -> list[RelationshipView]:
        """The party's relationships current at *as_of*, or all of them with *history*."""
        with self.reader(as_of) as graph:
            party = graph.party(ref)
            found = graph.relationships(party, history=history)
        self._read(party, "relationships", context)
        return found

    def interactions(
        self,
        ref: PartyRef,
        *,
        type: str | None = None,
        limit: int | None = 20,
        context: Context | None = None,
    ) -> list[Interaction]:
        """The party's interactions, newest first."""
        with self.reader() as graph:
            party = graph.party(ref)
            found = graph.interactions(party, type=type, limit=limit)
        self._read(party, "interactions", context)
        return found

    def excluded(
        self, refs: Iterable[PartyRef], purpose: str, as_of: datetime | str | None = None
    ) -> dict[int, str]:
        """Which of these parties may not be processed for *purpose*, and why."""
        with self.reader(as_of) as graph:
            return graph.excluded([graph.party(ref) for ref in refs], purpose)

    def segment(
        self,
        segment: str | Mapping[str, Any],
        as_of: datetime | str | None = None,
        *,
        export: bool = False,
        purposes: Iterable[str] = (),
    ) -> SegmentResult:
        """The members of a segment at *as_of* (now by default), after the privacy check.

        *segment* is the name of a segment in the config, or a definition
        (``{"purpose": ..., "where": {...}}``) checked like one. With *export*,
        the segment's export purposes are checked too; *purposes* adds more.
        """
        definition = (
            self.segments.definition(segment)
            if isinstance(segment, str)
            else self.segments.adhoc(segment)
        )
        at = parse_time(as_of, "as_of") if as_of is not None else utcnow()
        compiler = SegmentCompiler(self.segments, self.engine.dialect.name, to_storage(at))
        with self.reader(at) as graph:
            return evaluate_segment(
                compiler, definition, graph, at, export=export, purposes=purposes
            )

    def view(
        self,
        ref: PartyRef,
        as_of: datetime | str | None = None,
        *,
        context: Context | None = None,
    ) -> PartyView:
        """The 360-degree view: the party, its roles, relationships, interactions, sections.

        Plugins may redact it for the reader (``context.viewer_role``).
        """
        context = context or Context()
        with self.reader(as_of) as graph:
            party = graph.party(ref)
            at = graph.as_of
            everything = graph.relationships(party, history=True)
            current = tuple(view for view in everything if view.current)
            history = tuple(view for view in everything if not view.current)
            view = PartyView(
                party=party,
                as_of=at,
                roles=tuple(graph.roles(party)),
                relationships=current,
                history=history,
                # As of a past date, nothing that happened after it; by default, everything
                # (scheduled, future-dated interactions included).
                interactions=tuple(
                    graph.interactions(party, before=at if as_of is not None else None, limit=20)
                ),
                sections=self.hooks.view_sections(party, at, graph),
                metrics=graph.metrics(party),
            )
            view = self.hooks.review_view(view, context)
        self._read(party, "view", context)
        return view

    # -- data subjects -------------------------------------------------------------------

    def export_subject(self, ref: PartyRef, *, context: Context | None = None) -> dict[str, Any]:
        """Everything stored about a party, by the core and by each plugin (JSON-ready)."""
        context = context or Context(purpose="access_request")
        with self.reader() as graph:
            party = graph.party(ref)
            interactions = graph.interactions(party, limit=None)
            document: Mapping[str, Any] = {
                "party": converter.unstructure(party),
                "relationships": converter.unstructure(graph.relationships(party, history=True)),
                "interactions": converter.unstructure(interactions),
                "roles": converter.unstructure(graph.roles(party)),
                "plugins": self.hooks.export_subject(party, graph),
            }
            document = self.hooks.review_export(document, party, context)
        self._read(party, "export_subject", context)
        return dict(document)

    def erase_subject(self, ref: PartyRef, *, context: Context | None = None) -> dict[str, Any]:
        """Delete a party and what refers to it; each plugin erases its own data first.

        Interactions the party shared with others stay, without this party;
        interactions left with no participant are deleted.
        """
        context = context or Context(source="erasure")

        def erase() -> dict[str, Any]:
            with self._transaction() as connection:
                graph = self._graph(connection, context.at)
                party = graph.party(ref)
                assert party.id is not None
                pipeline = Pipeline(connection, self.vocabulary, self.hooks, graph, context)
                reports = self.hooks.erase_subject(party, pipeline.session)
                counts = _erase_core_rows(connection, party.id)
                return {"party": party.key, "core": counts, "plugins": reports}

        with self._guard():
            return run_with_retry(erase, self.retry_policy)


def _erase_core_rows(connection: Connection, party_id: int) -> dict[str, int]:
    from sqlalchemy import delete, exists

    part = participant_table
    inter = interaction_table
    rel = relationship_table
    party = party_table
    touched = [
        row[0]
        for row in connection.execute(
            select(part.c.interaction_id).where(part.c.party_id == party_id).distinct()
        )
    ]
    participants = connection.execute(delete(part).where(part.c.party_id == party_id)).rowcount
    orphans = 0
    for start in range(0, len(touched), 500):
        chunk = touched[start : start + 500]
        orphans += connection.execute(
            delete(inter).where(
                inter.c.id.in_(chunk),
                ~exists().where(part.c.interaction_id == inter.c.id),
            )
        ).rowcount
    relationships = connection.execute(
        delete(rel).where((rel.c.source_id == party_id) | (rel.c.target_id == party_id))
    ).rowcount
    parties = connection.execute(delete(party).where(party.c.id == party_id)).rowcount
    return {
        "participations": participants,
        "interactions": orphans,
        "relationships": relationships,
        "parties": parties,
    }


class RecordsRejected(UserError):
    """An all-or-nothing write found invalid records; nothing was written."""

    def __init__(self, report: WriteReport) -> None:
        self.report = report
        shown = report.rejected[:20]
        lines = [f"line {item.line}: {item.reason}" for item in shown]
        more = len(report.rejected) - len(shown)
        if more > 0:
            lines.append(f"... and {more} more")
        head = f"{len(report.rejected)} invalid record(s); nothing was written"
        super().__init__(head + ":\n" + "\n".join(lines))


class _Source:
    """The records of one write, readable again when a retry runs it from the start.

    A list or a file can be read again; a one-shot iterator only as long as
    none of its records has been taken.
    """

    def __init__(
        self,
        open_records: Callable[[], Iterable[Numbered]],
        replayable: bool,
        weigh: Callable[[], int] | None = None,
    ) -> None:
        self._open = open_records
        self._replayable = replayable
        self._taken = False
        self.weigh = weigh

    def records(self) -> Iterator[Numbered]:
        """The records, from the first."""
        for record in self._open():
            self._taken = True
            yield record

    def can_replay(self) -> bool:
        """Whether a retry would see the same records."""
        return self._replayable or not self._taken


#: A write of at least this many records refreshes SQLite's planner statistics.
ANALYZE_AFTER_ROWS = 10_000


def _free_form(item: object) -> Any:
    """The free-form part of a model object (attributes or payload), which may nest."""
    if isinstance(item, Party | Relationship):
        return item.attributes
    if isinstance(item, Interaction):
        return item.payload
    return None


def _tell(stream: IO[bytes]) -> int | None:
    """Where a seekable stream stands (to read it again on a retry), else None."""
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _as_interactions(items: Iterable[Any]) -> Iterator[Numbered]:
    for index, item in enumerate(items, start=1):
        yield index, "interaction", item


def _numbered(records: Iterable[Any]) -> Iterator[tuple[int, str, Any]]:
    for index, record in enumerate(records, start=1):
        if isinstance(record, Party):
            yield index, "party", record
        elif isinstance(record, Relationship):
            yield index, "relationship", record
        elif isinstance(record, Interaction):
            yield index, "interaction", record
        elif isinstance(record, tuple) and len(record) == 2:
            yield index, str(record[0]), record[1]
        elif isinstance(record, Mapping) and len(record) == 1:
            ((kind, body),) = record.items()
            yield index, str(kind), body
        else:
            yield index, "<invalid>", record
