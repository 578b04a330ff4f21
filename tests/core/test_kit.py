"""PluginBase: the registration hooks from class attributes, one instance per toolkit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from partygraph import DataDeclaration, PluginBase, PluginError, Toolkit, ValidationError

MakeToolkit = Callable[..., Toolkit]
SCHEMA = {
    "title": "club",
    "description": "Settings of the club plugin.",
    "type": "object",
    "additionalProperties": False,
    "properties": {"limit": {"type": "integer", "minimum": 1, "default": 3}},
}


class Club(PluginBase):
    """Settings from a schema file (written by the fixture below); no tables."""

    name = "club"

    def __init__(self) -> None:
        super().__init__()
        self.readied: list[Toolkit] = []

    def configure(self, settings: Mapping[str, Any]) -> None:
        if settings["limit"] > 10:
            raise ValidationError("/plugins/club/limit", "at most 10", settings["limit"])

    def ready(self, toolkit: Toolkit) -> None:
        self.readied.append(toolkit)

    def declarations(self) -> Iterable[DataDeclaration]:
        return [DataDeclaration("party", "attributes.club_number", "user.unique_id")]


@pytest.fixture(autouse=True)
def schema_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The schema in a file; an absolute ``schema_file`` is used as it is."""
    path = tmp_path / "club.schema.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    monkeypatch.setattr(Club, "schema_file", str(path))
    return path


def test_settings_schema_and_declarations_come_from_class_attributes(
    make_toolkit: MakeToolkit,
) -> None:
    toolkit = make_toolkit(plugins={"club": Club})
    club = toolkit.plugin("club")
    assert club.settings == {"limit": 3}
    assert club.toolkit is toolkit
    assert club.readied == [toolkit]
    assert toolkit.hooks.config_schemas()["club"] == SCHEMA
    assert ("club", DataDeclaration("party", "attributes.club_number", "user.unique_id")) in (
        toolkit.data_declarations()
    )
    assert [table for owner, table in toolkit.tables() if owner == "club"] == []


def test_two_toolkits_never_share_an_instance(
    make_toolkit: MakeToolkit, second_database_url: str
) -> None:
    first = make_toolkit(plugins={"club": Club}, settings={"club": {"limit": 2}})
    second = make_toolkit(
        plugins={"club": Club}, settings={"club": {"limit": 5}}, database_url=second_database_url
    )
    assert first.plugin("club") is not second.plugin("club")
    assert (first.plugin("club").settings["limit"], second.plugin("club").settings["limit"]) == (
        2,
        5,
    )


def test_configure_may_refuse_settings(make_toolkit: MakeToolkit) -> None:
    with pytest.raises(ValidationError, match="at most 10"):
        make_toolkit(plugins={"club": Club}, settings={"club": {"limit": 11}})


def test_the_toolkit_is_unknown_until_ready() -> None:
    with pytest.raises(PluginError, match="not open yet"):
        _ = Club().toolkit
    assert "toolkit" not in dir(Club())


def test_a_missing_schema_file_is_named(make_toolkit: MakeToolkit) -> None:
    class Misplaced(Club):
        schema_file = "nowhere.schema.json"

    with pytest.raises(PluginError, match="cannot read its config schema"):
        make_toolkit(plugins={"club": Misplaced})


def test_migrations_need_a_name() -> None:
    class Nameless(PluginBase):
        migrations_folder = "migrations"

    with pytest.raises(PluginError, match="has migrations but no name"):
        Nameless().partygraph_migrations()


@pytest.mark.partygraph(plugins={"club": Club}, settings={"club": {"limit": 4}})
def test_the_marker_opens_the_partygraph_toolkit(partygraph_toolkit: Toolkit) -> None:
    assert [info.name for info in partygraph_toolkit.plugins] == ["club"]
    assert partygraph_toolkit.plugin("club").settings == {"limit": 4}


def test_without_a_marker_the_toolkit_has_the_core_alone(partygraph_toolkit: Toolkit) -> None:
    assert partygraph_toolkit.plugins == ()
    assert partygraph_toolkit.upsert_party("carol", "person").key == "carol"
