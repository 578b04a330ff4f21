"""The conformance suite passes a sound plugin and catches each kind of flaw.

The sound plugin is the one ``partygraph new-plugin`` writes; each flawed
variant derives from it and breaks one rule, and the matching check must
fail (or, for a plugin without tables, report a skip rather than pass).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import Index, MetaData, Table, select

from partygraph import (
    InteractionType,
    Party,
    PartyKind,
    RelationshipType,
    Toolkit,
    WriteBatch,
    WriteSession,
    hookimpl,
)
from partygraph.conformance import PluginConformance, rows_about, scalars_of
from partygraph.kit import PluginBase
from partygraph.scaffold import scaffold

NAME = "suite_visits"
PACKAGE = f"partygraph_{NAME}"
MakeToolkit = Callable[..., Toolkit]
FAILED = (AssertionError, pytest.fail.Exception)


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[Any]]:
    """The scaffolded plugin class, importable for this module's tests."""
    folder = tmp_path_factory.mktemp("scaffold") / "plugin"
    scaffold(NAME, folder, version="0.1.0")
    sys.path.insert(0, str(folder / "src"))
    try:
        yield __import__(PACKAGE).SuiteVisitsPlugin
    finally:
        sys.path.remove(str(folder / "src"))
        for module in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[module]


def visit(at: str, *visitors: str, **payload: Any) -> dict[str, Any]:
    return {
        "interaction": {
            "type": f"{NAME}_visit",
            "occurred_at": at,
            "participants": [{"party": key, "role": "visitor"} for key in visitors],
            "payload": payload,
        }
    }


RECORDS = (
    {"party": {"key": "alice", "kind": "person", "name": "Alice Martin"}},
    {"party": {"key": "bruno", "kind": "person", "name": "Bruno Keller"}},
    visit("2026-01-10T09:00:00Z", "alice", "bruno", topic="open day"),
    visit("2026-02-01T09:00:00Z", "alice", topic="follow-up", note="asked for a brochure"),
)


def suite(plugin: object) -> PluginConformance:
    class Suite(PluginConformance):
        subject = "alice"
        subject_records = RECORDS

    Suite.plugin = NAME
    Suite.plugin_object = plugin
    return Suite()


CHECKS = [name for name in dir(PluginConformance) if name.startswith("test_")]


@pytest.mark.parametrize("check", CHECKS)
def test_the_scaffolded_plugin_passes_every_check(
    check: str, sound: type[Any], request: pytest.FixtureRequest
) -> None:
    method = getattr(suite(sound), check)
    wanted = [name for name in inspect.signature(method).parameters if name != "self"]
    method(*(request.getfixturevalue(name) for name in wanted))


def test_rows_about_follows_references(sound: type[Any], make_toolkit: MakeToolkit) -> None:
    toolkit = make_toolkit(plugins={NAME: sound})
    toolkit.write(RECORDS)
    (table,) = [table for owner, table in toolkit.tables() if owner == NAME]
    alice, bruno = toolkit.party("alice").id, toolkit.party("bruno").id
    assert alice is not None
    assert bruno is not None
    with toolkit.engine.connect() as connection:
        found = rows_about(connection, [table], alice)[table.name]
        # The table names its party: Bruno's row of the shared visit is his, not Alice's.
        assert sorted(row["topic"] for row in found) == ["follow-up", "open day"]
        assert {row["party_id"] for row in found} == {alice}
        assert [row["topic"] for row in rows_about(connection, [table], bruno)[table.name]] == [
            "open day"
        ]


def test_scalars_of_walks_nested_documents() -> None:
    assert sorted(map(str, scalars_of({"a": [1, {"b": "x"}], "c": None}))) == sorted(
        ["a", "1", "b", "x", "c", "None"]
    )


def test_an_export_that_leaves_rows_out_fails(sound: type[Any], make_toolkit: MakeToolkit) -> None:
    class ForgetfulExport(sound):  # type: ignore[misc, valid-type]
        @hookimpl
        def partygraph_export_subject(self, party: Party, graph: Any) -> Mapping[str, Any]:
            return {"visits": len(self._visits(party, graph, None))}

    with pytest.raises(FAILED, match="leaves out values"):
        suite(ForgetfulExport).test_export_covers_stored_rows(make_toolkit)


def test_a_copy_of_the_subject_left_behind_fails(
    sound: type[Any], make_toolkit: MakeToolkit
) -> None:
    class CopiesNames(sound):  # type: ignore[misc, valid-type]
        """Notes who else came, by name, on each visitor's row: erasure misses them."""

        @hookimpl
        def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
            super().partygraph_after_write(batch, session)
            for item in batch.interactions:
                names = [session.graph.party(p.party).name for p in item.participants]
                session.connection.execute(
                    self.metadata.tables[f"{NAME}_visit"]
                    .update()
                    .where(self.metadata.tables[f"{NAME}_visit"].c.interaction_id == item.id)
                    .values(note=" and ".join(str(name) for name in names))
                )

    with pytest.raises(FAILED, match="still holds 'Alice Martin'"):
        suite(CopiesNames).test_erase_leaves_no_trace(make_toolkit)


def test_writing_outside_the_transaction_fails(sound: type[Any], make_toolkit: MakeToolkit) -> None:
    class CountsOnTheSide(sound):  # type: ignore[misc, valid-type]
        """Keeps a tally in a transaction of its own, so it survives a rollback."""

        @hookimpl
        def partygraph_write_failed(self, error: BaseException) -> None:
            table = self.metadata.tables[f"{NAME}_visit"]
            with self.toolkit.transaction() as connection:
                connection.execute(table.delete())
                connection.execute(self.toolkit.tables()[0][1].update().values(name="touched"))

    make_toolkit(plugins={NAME: sound}).write(RECORDS[:2])
    with pytest.raises(FAILED, match="tables changed"):
        suite(CountsOnTheSide).test_writes_nothing_outside_the_transaction(make_toolkit)


def test_a_plugin_that_breaks_on_an_empty_database_fails(
    sound: type[Any], make_toolkit: MakeToolkit
) -> None:
    class AssumesVisits(sound):  # type: ignore[misc, valid-type]
        @hookimpl
        def partygraph_metrics(self, party: Party, as_of: Any, graph: Any) -> Mapping[str, Any]:
            return {"last": self._visits(party, graph, as_of)[-1].topic}

    with pytest.raises(IndexError):
        suite(AssumesVisits).test_tolerates_empty_database(make_toolkit)


class _BadSchema(PluginBase):
    name = NAME

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any]:
        return {
            "title": NAME,
            "description": "No period at the end",
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "minimum": 5, "default": 1},
                "mode": {"type": "strnig"},
            },
        }


def test_a_bad_config_schema_fails_each_schema_check() -> None:
    checks = suite(_BadSchema)
    with pytest.raises(FAILED, match="not a valid JSON Schema at /properties/mode/type"):
        checks.test_config_schema_is_valid_json_schema()


def test_schema_conventions_and_defaults_are_checked() -> None:
    class Unconventional(_BadSchema):
        @hookimpl
        def partygraph_config_schema(self) -> Mapping[str, Any]:
            schema = dict(super().partygraph_config_schema())
            schema["properties"] = {"limit": schema["properties"]["limit"], "mode": {}}
            return schema

    checks = suite(Unconventional)
    with pytest.raises(FAILED) as conventions:
        checks.test_config_schema_follows_conventions()
    message = str(conventions.value)
    assert "does not end with a period" in message
    assert "additionalProperties is not false" in message
    assert "optional property 'mode' has no default" in message
    with pytest.raises(FAILED, match="/limit: default 1"):
        checks.test_config_defaults_validate()


class _BadVocabulary(PluginBase):
    name = NAME

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return [PartyKind("Club-Member")]

    @hookimpl
    def partygraph_relationship_types(self) -> Iterable[RelationshipType]:
        return [RelationshipType("belongs_to", "belongs to", target_kinds={"club"})]

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return [InteractionType("checkin", roles={"member"}, required_roles=("guest",))]


def test_a_malformed_vocabulary_fails(make_toolkit: MakeToolkit) -> None:
    class Checks(PluginConformance):
        plugin = NAME
        plugin_object = _BadVocabulary

    with pytest.raises(FAILED) as failure:
        Checks().test_vocabulary_is_valid(make_toolkit)
    message = str(failure.value)
    assert "'Club-Member' is not lowercase snake_case" in message
    assert "target kind 'club' is not registered" in message
    assert "required role 'guest' is not among its roles" in message


def test_a_table_its_migrations_did_not_make_fails(
    sound: type[Any], make_toolkit: MakeToolkit
) -> None:
    class Drifted(sound):  # type: ignore[misc, valid-type]
        """Declares an index on its table that no revision creates."""

        @hookimpl
        def partygraph_tables(self) -> list[Table]:
            (table,) = super().partygraph_tables()
            copy = table.to_metadata(MetaData())
            Index(f"ix_{table.name}_topic", copy.c.topic)
            return [copy]

    with pytest.raises(FAILED, match=r"its migrations and its tables differ.*add_index"):
        suite(Drifted).test_migrations_make_its_tables(make_toolkit)


def test_a_plugin_without_tables_skips_the_table_checks(make_toolkit: MakeToolkit) -> None:
    class Bare(PluginBase):
        name = NAME

    with pytest.raises(pytest.skip.Exception, match="stores nothing"):
        suite(Bare).test_export_covers_stored_rows(make_toolkit)


def test_table_checksums_see_every_change(sound: type[Any], make_toolkit: MakeToolkit) -> None:
    from partygraph.testing import table_checksums

    toolkit = make_toolkit(plugins={NAME: sound})
    before = table_checksums(toolkit.engine)
    toolkit.write(RECORDS[:1])
    after = table_checksums(toolkit.engine)
    assert {name for name in before if before[name] != after[name]} == {"party"}
    with toolkit.engine.connect() as connection:
        assert connection.execute(select(toolkit.tables()[0][1])).first() is not None
