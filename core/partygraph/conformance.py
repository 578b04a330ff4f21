"""The conformance suite: the checks every partygraph plugin must pass.

Subclass :class:`PluginConformance` in your plugin's tests; pytest collects
one test per check, so a failure names exactly what is wrong::

    from partygraph.conformance import PluginConformance


    class TestNotesConformance(PluginConformance):
        plugin = "notes"
        subject = "alice"
        subject_records = [
            {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau"}},
            {"interaction": {"type": "note", "occurred_at": "2026-01-10T09:00:00Z",
                             "participants": [{"party": "alice", "role": "author"}],
                             "payload": {"text": "Asked about the spring programme"}}},
        ]

The checks: the config schema is a valid JSON Schema (Draft 2020-12) that
follows the project's conventions and whose defaults validate; the vocabulary
is well formed; its migrations make the tables it declares; the plugin
tolerates an empty database and a subject it never saw; the access export
covers every row of the plugin's tables that refers to the subject; erasure
leaves no row that refers to the subject and none of its distinctive values;
the plugin writes nothing outside the caller's transaction; a failure inside
the plugin rolls the write back cleanly.

How the suite finds "the subject's rows" in the plugin's tables (those it
returns from ``partygraph_tables``): in a table with columns that have a
foreign key to the core's ``party.id``, the rows where one of them holds the
subject's id; in a table without, the rows with a foreign key to an
``interaction.id`` the subject takes part in, a ``relationship.id`` the
subject is an end of, or a row of another of the plugin's tables that is the
subject's. Columns that hold such references without a foreign key are named
in :attr:`PluginConformance.subject_columns`. The export check looks for the
rows' text and time values in the plugin's own section of the access export
(what its ``partygraph_export_subject`` returned, after review). The suite needs the fixtures of
:mod:`partygraph.testing`, which installing partygraph provides.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import Column, ColumnElement, Connection, MetaData, Table, false, or_, select

from partygraph.errors import NotFoundError
from partygraph.hookspecs import PROJECT, hookimpl
from partygraph.plugins import available_plugins
from partygraph.storage.tables import participant_table, relationship_table
from partygraph.testing import table_checksums
from partygraph.toolkit import Toolkit
from partygraph.writing import WriteBatch, WriteSession

__all__ = ["InjectedFailure", "PluginConformance", "rows_about", "scalars_of"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE_KINDS = ("party", "interaction", "relationship")
#: The name of the in-process plugin that makes writes fail after every other plugin ran.
FAILER = "conformance_failer"
#: A party the subject records never mention.
STRANGER = "conformance-stranger"


class InjectedFailure(RuntimeError):
    """Raised on purpose by the conformance suite to test rollbacks."""


class _FailAfterEveryPlugin:
    """An extra plugin whose ``after_write`` runs last and raises."""

    def __init__(self) -> None:
        self.batches = 0

    @hookimpl(trylast=True)
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        self.batches += 1
        raise InjectedFailure("a later plugin failed after the plugin under test ran")


# -- helpers usable on their own ------------------------------------------------------------


def scalars_of(document: Any) -> Iterator[Any]:
    """Every scalar in a JSON-like document (keys of mappings included)."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            yield key
            yield from scalars_of(value)
    elif isinstance(document, list | tuple | set | frozenset):
        for item in document:
            yield from scalars_of(item)
    else:
        yield document


def _reference_condition(column: Column[Any], kind: str, subject_id: int) -> ColumnElement[bool]:
    if kind == "party":
        return column == subject_id
    if kind == "interaction":
        mine = select(participant_table.c.interaction_id).where(
            participant_table.c.party_id == subject_id
        )
        return column.in_(mine)
    if kind == "relationship":
        ends = select(relationship_table.c.id).where(
            or_(
                relationship_table.c.source_id == subject_id,
                relationship_table.c.target_id == subject_id,
            )
        )
        return column.in_(ends)
    raise ValueError(f"unknown reference kind {kind!r}; use one of {_REFERENCE_KINDS}")


def _party_columns(table: Table, declared: Mapping[str, str]) -> list[Column[Any]]:
    return [
        column
        for column in table.columns
        if declared.get(f"{table.name}.{column.name}") == "party"
        or any(
            key.column.table.name == "party" and key.column.name == "id"
            for key in column.foreign_keys
        )
    ]


def _conditions(
    table: Table,
    subject_id: int,
    own: Mapping[str, Table],
    declared: Mapping[str, str],
    direct_only: bool,
    seen: frozenset[str] = frozenset(),
) -> list[ColumnElement[bool]]:
    """How rows of *table* refer to the subject.

    A table with columns naming parties says whose each row is: only those
    columns count. Otherwise rows are the subject's through the interaction,
    relationship or parent row they refer to.
    """
    named_parties = _party_columns(table, declared)
    if named_parties or direct_only:
        return [column == subject_id for column in named_parties]
    found: list[ColumnElement[bool]] = []
    for column in table.columns:
        named = declared.get(f"{table.name}.{column.name}")
        if named is not None:
            found.append(_reference_condition(column, named, subject_id))
        for key in column.foreign_keys:
            target = key.column
            if target.table.name in _REFERENCE_KINDS and target.name == "id":
                found.append(_reference_condition(column, target.table.name, subject_id))
            elif target.table.name in own and target.table.name not in seen | {table.name}:
                parent = own[target.table.name]
                inner = _conditions(
                    parent, subject_id, own, declared, direct_only, seen | {table.name}
                )
                if inner:
                    found.append(column.in_(select(parent.c[target.name]).where(or_(*inner))))
    return found


def rows_about(
    connection: Connection,
    tables: Sequence[Table],
    subject_id: int,
    subject_columns: Mapping[str, str] | None = None,
    *,
    direct_only: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """The rows of *tables* that refer to the party *subject_id*, by table name.

    In a table with columns naming parties (a foreign key to ``party.id``),
    a row is the subject's when one of them holds the subject's id. In a table
    without, a row is the subject's through a foreign key to ``interaction.id``
    (an interaction the subject takes part in), ``relationship.id`` (a
    relationship the subject is an end of), or a row of another of *tables*
    that is the subject's. *subject_columns* (``{"table.column": "party" |
    "interaction" | "relationship"}``) names references without a foreign key.
    *direct_only* keeps only columns naming the party itself.
    """
    own = {table.name: table for table in tables}
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        conditions = _conditions(table, subject_id, own, subject_columns or {}, direct_only)
        if not conditions:
            continue
        rows = connection.execute(select(table).where(or_(false(), *conditions))).mappings()
        listed = [dict(row) for row in rows]
        if listed:
            found[table.name] = listed
    return found


def _time_texts(value: datetime | date) -> tuple[str, ...]:
    if isinstance(value, datetime):
        text = value.replace(tzinfo=None).isoformat()
        return (text, text.replace("T", " "))
    return (value.isoformat(),)


def _content(table: Table, row: Mapping[str, Any], skip: set[str]) -> list[tuple[str, Any]]:
    """The text and time values of a row, leaving out references and ids."""
    found: list[tuple[str, Any]] = []
    for column in table.columns:
        if column.name in skip or column.foreign_keys:
            continue
        value = row[column.name]
        if value is None or isinstance(value, bool | int | float):
            continue
        if isinstance(value, str | datetime | date):
            found.append((column.name, value))
        else:
            for item in scalars_of(value):
                if isinstance(item, str) and item:
                    found.append((column.name, item))
    return found


def _appears(value: Any, texts: set[str], all_text: str) -> bool:
    if isinstance(value, datetime | date):
        return any(prefix in all_text for prefix in _time_texts(value))
    return str(value) in texts


# -- the suite -------------------------------------------------------------------------------


class PluginConformance:
    """Subclass in your tests and fill in the class attributes; pytest runs every check.

    The class name must start with ``Test`` for pytest to collect it.
    """

    #: The plugin's name, as it is enabled in a config.
    plugin: ClassVar[str] = ""
    #: The plugin's class or object, to test it in-process without installing it
    #: (None: the installed ``partygraph.plugins`` entry point of that name).
    plugin_object: ClassVar[object | None] = None
    #: Other installed plugins enabled beside it (ones it declares it runs after ...).
    also_enabled: ClassVar[Sequence[str]] = ()
    #: In-process plugins enabled beside it (``{"name": class or object}``), such as a
    #: stand-in for a plugin it cooperates with through hooks.
    extra_plugins: ClassVar[Mapping[str, object]] = {}
    #: Settings per plugin name (``{"mine": {...}}``); defaults fill in the rest.
    settings: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: Config keys besides ``database`` and ``plugins`` (``attributes`` ...).
    config: ClassVar[Mapping[str, Any]] = {}
    #: The key of the party whose data the checks export and erase.
    subject: ClassVar[str] = ""
    #: Interchange records that make the plugin store data about the subject (and,
    #: better, about others too, so the checks see that only the subject's goes).
    subject_records: ClassVar[Sequence[Mapping[str, Any]]] = ()
    #: Values that must not remain in the plugin's tables after erasure (default:
    #: the subject's key, name and text attributes from ``subject_records``).
    distinctive_values: ClassVar[Sequence[str] | None] = None
    #: References to the subject without a foreign key: ``{"table.column": kind}``
    #: with kind ``party``, ``interaction`` or ``relationship``.
    subject_columns: ClassVar[Mapping[str, str]] = {}
    #: Columns the export may present transformed (``{"table.column": why}``),
    #: e.g. an amount in minor units exported in major units, or a status
    #: the export states differently.
    derived_columns: ClassVar[Mapping[str, str]] = {}
    #: Tables written on purpose from ``partygraph_write_failed``, in a transaction
    #: of their own (an audit of refused writes): ``{"table": why}``.
    failure_log_tables: ClassVar[Mapping[str, str]] = {}

    # -- opening toolkits -----------------------------------------------------------------

    def plugin_class(self) -> object:
        """The plugin's class or object, from ``plugin_object`` or its entry point."""
        if self.plugin_object is not None:
            return self.plugin_object
        entry: EntryPoint | None = available_plugins().get(self.plugin)
        if entry is None:
            pytest.fail(
                f"no installed plugin {self.plugin!r} (entry point group partygraph.plugins); "
                "install the package or set plugin_object"
            )
        return entry.load()

    def open_toolkit(
        self,
        make_toolkit: Callable[..., Toolkit],
        *,
        replace: object | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> Toolkit:
        """A toolkit on the test database with the plugin (or *replace* in its stead)."""
        plugins: dict[str, object] = {}
        chosen = replace if replace is not None else self.plugin_object
        if chosen is not None:
            plugins[self.plugin] = chosen
        added = {**self.extra_plugins, **(extra or {})}
        plugins.update(added)
        enabled = [self.plugin, *self.also_enabled, *added]
        return make_toolkit(
            plugins or None, enabled=enabled, settings=self.settings, config=self.config
        )

    def _own_tables(self, toolkit: Toolkit) -> list[Table]:
        return [table for owner, table in toolkit.tables() if owner == self.plugin]

    def _subject_id(self, toolkit: Toolkit) -> int:
        party = toolkit.party(self.subject)
        assert party.id is not None
        return party.id

    def _write_subject(self, toolkit: Toolkit) -> None:
        if not self.subject or not self.subject_records:
            pytest.fail("set subject and subject_records: the checks need data about a subject")
        toolkit.write(self.subject_records)

    def _distinctive(self) -> list[str]:
        if self.distinctive_values is not None:
            return list(self.distinctive_values)
        found: list[str] = []
        for record in self.subject_records:
            party = record.get("party")
            if isinstance(party, Mapping) and party.get("key") == self.subject:
                found.append(str(party["key"]))
                if party.get("name"):
                    found.append(str(party["name"]))
                attributes = party.get("attributes") or {}
                found += [text for text in scalars_of(attributes) if isinstance(text, str)]
        return [value for value in found if len(value) >= 4]

    def _needs_tables(self, toolkit: Toolkit) -> list[Table]:
        tables = self._own_tables(toolkit)
        if not tables:
            pytest.skip(f"plugin {self.plugin!r} stores nothing in tables of its own")
        return tables

    # -- 1. configuration -------------------------------------------------------------------

    def _schema(self) -> Mapping[str, Any]:
        """The plugin's config schema, asked of a fresh instance (no toolkit needed)."""
        found = self.plugin_class()
        plugin = found() if inspect.isclass(found) else found
        hook = getattr(plugin, "partygraph_config_schema", None)
        schema: Mapping[str, Any] | None = hook() if _is_hook(hook) and callable(hook) else None
        if schema is None:
            pytest.skip(f"plugin {self.plugin!r} takes no settings (no config schema)")
        return schema

    def test_config_schema_is_valid_json_schema(self) -> None:
        """The schema passes Draft 2020-12's own meta-schema."""
        schema = self._schema()
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            path = "/" + "/".join(str(part) for part in error.path)
            pytest.fail(f"the config schema is not a valid JSON Schema at {path}: {error.message}")

    def test_config_schema_follows_conventions(self) -> None:
        """Title, a description ending with a period, closed object, defaults."""
        schema = self._schema()
        problems = []
        if not schema.get("title"):
            problems.append("no title")
        if not str(schema.get("description", "")).endswith("."):
            problems.append("the description is missing or does not end with a period")
        if schema.get("type") != "object":
            problems.append('type is not "object"')
        if schema.get("additionalProperties") is not False:
            problems.append("additionalProperties is not false (typos would pass unnoticed)")
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            if name not in required and "default" not in prop:
                problems.append(f"optional property {name!r} has no default")
        assert not problems, f"config schema of {self.plugin!r}: " + "; ".join(problems)

    def test_config_defaults_validate(self) -> None:
        """Every default satisfies its own property's schema, and the defaults together."""
        schema = self._schema()
        validator = Draft202012Validator(schema)
        problems = []
        for name, prop in schema.get("properties", {}).items():
            if "default" not in prop:
                continue
            wrapped = {**schema, "properties": {name: prop}, "required": []}
            wrapped.pop("additionalProperties", None)
            for error in Draft202012Validator(wrapped).iter_errors({name: prop["default"]}):
                problems.append(f"/{name}: default {prop['default']!r}: {error.message}")
        defaults = {
            name: prop["default"]
            for name, prop in schema.get("properties", {}).items()
            if "default" in prop
        }
        if not set(schema.get("required", ())) - set(defaults):
            problems += [f"defaults together: {e.message}" for e in validator.iter_errors(defaults)]
        assert not problems, "; ".join(problems)

    # -- 2. vocabulary ----------------------------------------------------------------------

    def test_vocabulary_is_valid(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """Names, schemas, roles and referenced kinds of everything the plugin registers."""
        toolkit = self.open_toolkit(make_toolkit)
        hooks = toolkit.hooks
        kinds = set(toolkit.vocabulary.party_kinds)
        problems: list[str] = []

        def check_schema(what: str, schema: Mapping[str, Any]) -> None:
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                problems.append(f"{what}: invalid JSON Schema: {error.message}")

        def check_name(what: str, name: str) -> None:
            if not _NAME.match(name):
                problems.append(f"{what}: name {name!r} is not lowercase snake_case")

        for owner, kind in hooks.party_kinds():
            if owner == self.plugin:
                check_name(f"party kind {kind.name!r}", kind.name)
                check_schema(f"party kind {kind.name!r} attributes", kind.attributes)
        for owner, rtype in hooks.relationship_types():
            if owner != self.plugin:
                continue
            what = f"relationship type {rtype.name!r}"
            check_name(what, rtype.name)
            check_schema(f"{what} attributes", rtype.attributes)
            for end, named in (("source", rtype.source_kinds), ("target", rtype.target_kinds)):
                for missing in sorted((named or set()) - kinds):
                    problems.append(f"{what}: {end} kind {missing!r} is not registered")
            for rule in rtype.cardinality:
                if (
                    rule.role is not None
                    and rtype.roles is not None
                    and rule.role not in rtype.roles
                ):
                    problems.append(f"{what}: cardinality names unknown role {rule.role!r}")
        for owner, itype in hooks.interaction_types():
            if owner != self.plugin:
                continue
            what = f"interaction type {itype.name!r}"
            check_name(what, itype.name)
            check_schema(f"{what} payload", itype.payload)
            if itype.roles is not None:
                for role in itype.required_roles:
                    if role not in itype.roles:
                        problems.append(f"{what}: required role {role!r} is not among its roles")
        for owner, record in hooks.record_types():
            if owner != self.plugin:
                continue
            what = f"record type {record.name!r}"
            check_name(what, record.name)
            check_schema(f"{what} schema", record.schema)
            if not callable(record.apply):
                problems.append(f"{what}: apply is not callable")
        columns = {table.name: set(table.columns.keys()) for _, table in toolkit.tables()}
        for owner, declaration in hooks.data_declarations():
            if owner != self.plugin:
                continue
            column = declaration.field.split(".", 1)[0]
            if declaration.table not in columns:
                problems.append(f"data declaration names unknown table {declaration.table!r}")
            elif column not in columns[declaration.table]:
                problems.append(
                    f"data declaration names unknown column {declaration.table}.{column}"
                )
        for table in self._own_tables(toolkit):
            if not table.name.startswith(self.plugin):
                problems.append(f"table {table.name!r} is not prefixed with {self.plugin!r}")
        assert not problems, "; ".join(problems)

    def test_migrations_make_its_tables(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """What its migrations made is what ``partygraph_tables`` declares.

        Columns, types, nullability, indexes and foreign keys of the plugin's
        own tables, as Alembic's autogenerate compares them: a revision that
        forgot an index, or a table edited without a revision, shows here.
        """
        toolkit = self.open_toolkit(make_toolkit)
        names = {table.name for table in self._needs_tables(toolkit)}
        metadata = MetaData()
        for _owner, table in toolkit.tables():  # every table, so foreign keys resolve
            table.to_metadata(metadata)

        def own(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
            table = obj if type_ == "table" else getattr(obj, "table", None)
            return (table.name if table is not None else name) in names

        with toolkit.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": own, "compare_type": True}
            )
            differences = compare_metadata(context, metadata)
        assert not differences, (
            f"plugin {self.plugin!r}: its migrations and its tables differ: {differences}"
        )

    # -- 3. an empty database -----------------------------------------------------------------

    def test_tolerates_empty_database(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """Reads, export and erasure of a party the plugin never saw, on an empty database."""
        toolkit = self.open_toolkit(make_toolkit)
        toolkit.upsert_party(STRANGER, "person", "Conformance Stranger")
        toolkit.roles(STRANGER)
        toolkit.metrics(STRANGER)
        toolkit.view(STRANGER)
        document = toolkit.export_subject(STRANGER)
        assert document["party"]["key"] == STRANGER
        toolkit.erase_subject(STRANGER)
        with pytest.raises(NotFoundError):
            toolkit.party(STRANGER)

    def test_tolerates_a_subject_it_never_saw(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """With the subject's data written, a stranger still reads, exports and erases."""
        toolkit = self.open_toolkit(make_toolkit)
        self._write_subject(toolkit)
        toolkit.upsert_party(STRANGER, "person", "Conformance Stranger")
        toolkit.roles(STRANGER)
        toolkit.metrics(STRANGER)
        toolkit.view(STRANGER)
        toolkit.export_subject(STRANGER)
        before = self._rows(toolkit)
        toolkit.erase_subject(STRANGER)
        assert self._rows(toolkit) == before, "erasing a stranger changed the subject's rows"

    # -- 4. export ------------------------------------------------------------------------------

    def _rows(
        self, toolkit: Toolkit, *, direct_only: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        tables = self._own_tables(toolkit)
        subject_id = self._subject_id(toolkit)
        with toolkit.engine.connect() as connection:
            return rows_about(
                connection, tables, subject_id, self.subject_columns, direct_only=direct_only
            )

    def test_export_covers_stored_rows(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """Every text and time value of every row about the subject is in the plugin's export."""
        toolkit = self.open_toolkit(make_toolkit)
        tables = {table.name: table for table in self._needs_tables(toolkit)}
        self._write_subject(toolkit)
        found = self._rows(toolkit)
        assert found, (
            f"the subject records made plugin {self.plugin!r} store no row about "
            f"{self.subject!r} in its tables ({', '.join(tables)}); write records it stores, "
            "or name references without a foreign key in subject_columns"
        )
        document = toolkit.export_subject(self.subject).get("plugins", {}).get(self.plugin)
        texts = {str(item) for item in scalars_of(document) if item is not None}
        all_text = "\n".join(texts)
        missing: list[str] = []
        for name, rows in found.items():
            table = tables[name]
            skip = {
                key.split(".", 1)[1] for key in self.derived_columns if key.split(".", 1)[0] == name
            }
            for row in rows:
                for column, value in _content(table, row, skip):
                    if not _appears(value, texts, all_text):
                        missing.append(f"{name}.{column} = {value!r}")
        assert not missing, (
            "the access export leaves out values stored about the subject: "
            + "; ".join(sorted(set(missing))[:20])
            + " (export them, or list a transformed column in derived_columns)"
        )

    # -- 5. erasure -------------------------------------------------------------------------------

    def test_erase_leaves_no_trace(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """After erasure no row refers to the subject and none of its values remain."""
        toolkit = self.open_toolkit(make_toolkit)
        tables = self._needs_tables(toolkit)
        self._write_subject(toolkit)
        subject_id = self._subject_id(toolkit)
        toolkit.erase_subject(self.subject)
        distinctive = self._distinctive()
        problems: list[str] = []
        with toolkit.engine.connect() as connection:
            left = rows_about(
                connection, tables, subject_id, self.subject_columns, direct_only=True
            )
            for name, rows in left.items():
                problems.append(f"{len(rows)} row(s) of {name} still refer to party {subject_id}")
            for table in tables:
                for row in connection.execute(select(table)).mappings():
                    for column, value in _content(table, dict(row), set()):
                        text = str(value)
                        for value_of_subject in distinctive:
                            if value_of_subject in text:
                                problems.append(
                                    f"{table.name}.{column} still holds {value_of_subject!r}"
                                )
        assert not problems, "; ".join(sorted(set(problems)))

    # -- 6. transactions --------------------------------------------------------------------------

    def _checksums(self, toolkit: Toolkit) -> dict[str, str]:
        sums = table_checksums(toolkit.engine)
        for name in self.failure_log_tables:
            sums.pop(name, None)
        return sums

    def test_writes_nothing_outside_the_transaction(
        self, make_toolkit: Callable[..., Toolkit]
    ) -> None:
        """A write that fails after the plugin ran leaves every table as it was."""
        failer = _FailAfterEveryPlugin()
        toolkit = self.open_toolkit(make_toolkit, extra={FAILER: failer})
        before = self._checksums(toolkit)
        with pytest.raises(InjectedFailure):
            self._write_subject(toolkit)
        assert failer.batches >= 1
        after = self._checksums(toolkit)
        changed = _changed(before, after)
        assert not changed, f"tables changed by a write that was rolled back: {', '.join(changed)}"

    def test_failure_inside_plugin_rolls_back(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """The plugin failing in a write hook (after doing its work) leaves nothing behind."""
        original = self.plugin_class()
        if not inspect.isclass(original):
            pytest.skip("the plugin is a module or an object, not a class to derive from")
        hooks = [
            name
            for name in ("partygraph_after_write", "partygraph_before_write")
            if _is_hook(getattr(original, name, None))
        ]
        if not hooks:
            pytest.skip(f"plugin {self.plugin!r} implements no write hook")
        failing = _failing_subclass(original, hooks[0])
        toolkit = self.open_toolkit(make_toolkit, replace=failing)
        before = self._checksums(toolkit)
        with pytest.raises(InjectedFailure):
            self._write_subject(toolkit)
        after = self._checksums(toolkit)
        changed = _changed(before, after)
        assert not changed, f"tables changed by a write that failed in {hooks[0]}: {changed}"
        # The database is usable afterwards: the same records now write cleanly.
        self._write_subject(self.open_toolkit(make_toolkit))

    def test_failure_while_erasing_rolls_back(self, make_toolkit: Callable[..., Toolkit]) -> None:
        """The plugin failing in its erase hook leaves the subject's data whole."""
        original = self.plugin_class()
        if not inspect.isclass(original):
            pytest.skip("the plugin is a module or an object, not a class to derive from")
        if not _is_hook(getattr(original, "partygraph_erase_subject", None)):
            pytest.skip(f"plugin {self.plugin!r} implements no erase hook")
        self._write_subject(self.open_toolkit(make_toolkit))
        toolkit = self.open_toolkit(
            make_toolkit, replace=_failing_subclass(original, "partygraph_erase_subject")
        )
        before = self._checksums(toolkit)
        with pytest.raises(InjectedFailure):
            toolkit.erase_subject(self.subject)
        after = self._checksums(toolkit)
        changed = _changed(before, after)
        assert not changed, f"tables changed by an erasure that failed: {changed}"


def _is_hook(function: object) -> bool:
    return function is not None and hasattr(function, f"{PROJECT}_impl")


def _failing_subclass(original: type[Any], hook: str) -> type[Any]:
    """A subclass whose *hook* does the original's work, then raises."""
    method = getattr(original, hook)
    options = dict(getattr(method, f"{PROJECT}_impl"))

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def failing_wrapper(*args: Any, **kwargs: Any) -> Any:
            yield from method(*args, **kwargs)
            raise InjectedFailure(f"{hook} failed after doing its work")

        replacement: Callable[..., Any] = failing_wrapper
    else:

        @functools.wraps(method)
        def failing(*args: Any, **kwargs: Any) -> Any:
            method(*args, **kwargs)
            raise InjectedFailure(f"{hook} failed after doing its work")

        replacement = failing
    marked = hookimpl(**options)(replacement)
    return type(f"Failing{original.__name__}", (original,), {hook: marked})


def _changed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
