"""The config: TOML, JSON or a dict, validated against the composed schema."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

import partygraph
from partygraph import ConfigError, ConfigWarning, check_config, hookimpl
from partygraph.config import compose_schema


class Settings:
    """A plugin with settings: defaults, an enum, and a key a newer version removed."""

    def __init__(self) -> None:
        self.settings: dict[str, Any] | None = None

    @hookimpl
    def partygraph_config_schema(self) -> dict[str, Any]:
        return {
            "title": "settings",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "currency": {"type": "string", "minLength": 3, "maxLength": 3, "default": "EUR"},
                "mode": {"enum": ["fast", "safe"], "default": "safe"},
                "limits": {
                    "type": "object",
                    "additionalProperties": False,
                    "default": {},
                    "properties": {"daily": {"type": "integer", "default": 10}},
                },
            },
            "x-removed": {"old_mode": "use 'mode' instead"},
        }

    @hookimpl
    def partygraph_configure(self, settings: dict[str, Any]) -> None:
        self.settings = dict(settings)


class Other:
    """A second plugin without settings of its own."""

    @hookimpl
    def partygraph_party_kinds(self) -> list[partygraph.PartyKind]:
        return [partygraph.PartyKind("robot")]


PLUGINS = {"settings": Settings, "other": Other}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def violations(error: pytest.ExceptionInfo[ConfigError]) -> list[tuple[str, str, int | None]]:
    return [(v.pointer, v.message, v.line) for v in error.value.violations]


# -- valid configs, defaults ------------------------------------------------------------


def test_defaults_are_filled_in(tmp_path: Path) -> None:
    config = check_config(
        {"database": {"url": f"sqlite:///{tmp_path / 'x.db'}"}, "plugins": {"enabled": []}}
    )
    assert config.echo is False
    assert config.auto_migrate is True
    assert config.batch_size == 5000
    assert config.max_record_bytes == 1 << 20
    assert config.enabled == ()
    assert config.attributes == {"parties": {}, "relationships": {}, "interactions": {}}


def test_plugin_defaults_are_filled_in_and_reach_configure(make_toolkit: Any) -> None:
    toolkit = make_toolkit(
        plugins={"settings": Settings}, settings={"settings": {"limits": {}, "mode": "fast"}}
    )
    expected = {"currency": "EUR", "mode": "fast", "limits": {"daily": 10}}
    assert toolkit.config.plugin_settings["settings"] == expected
    assert toolkit.plugin_objects["settings"].settings == expected


def test_plugin_section_is_optional(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"settings": Settings})
    assert toolkit.plugin_objects["settings"].settings == {
        "currency": "EUR",
        "mode": "safe",
        "limits": {"daily": 10},
    }


def test_toml_json_and_dict_configs_agree(tmp_path: Path) -> None:
    data = {
        "database": {"url": "sqlite:////tmp/abs.db", "echo": True},
        "import": {"batch_size": 250},
        "plugins": {"enabled": ["settings"], "settings": {"currency": "USD"}},
    }
    toml = write(
        tmp_path / "pg.toml",
        """
        [database]
        url = "sqlite:////tmp/abs.db"
        echo = true

        [import]
        batch_size = 250

        [plugins]
        enabled = ["settings"]

        [plugins.settings]
        currency = "USD"
        """,
    )
    as_json = write(tmp_path / "pg.json", json.dumps(data))
    results = [check_config(source, plugins=PLUGINS) for source in (toml, as_json, data)]
    for config in results:
        assert config.database_url == "sqlite:////tmp/abs.db"
        assert config.echo is True
        assert config.batch_size == 250
        assert config.plugin_settings == {
            "settings": {"currency": "USD", "mode": "safe", "limits": {"daily": 10}}
        }
    assert [config.source for config in results] == [str(toml), str(as_json), "<dict config>"]


def test_dict_config_is_not_modified(tmp_path: Path) -> None:
    data: dict[str, Any] = {"plugins": {"enabled": ["settings"]}}
    check_config(data, plugins=PLUGINS)
    assert data == {"plugins": {"enabled": ["settings"]}}


# -- every violation, sorted, with its line ----------------------------------------------


def test_every_violation_is_reported_sorted_with_values_and_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "partygraph.toml",
        """
        [database]
        url = "sqlite:///data/pg.db"
        ecko = true

        [import]
        batch_size = 0
        max_record_bytes = "big"

        [plugins]
        enabled = ["settings"]

        [plugins.settings]
        curency = "USD"
        mode = "fsat"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        check_config(path, plugins=PLUGINS)
    assert violations(caught) == [
        ("/database/ecko", "unknown key 'ecko'; did you mean 'echo'?", 3),
        ("/import/batch_size", "must be at least 1, got 0", 6),
        ("/import/max_record_bytes", "must be an integer, got 'big'", 7),
        ("/plugins/settings/curency", "unknown key 'curency'; did you mean 'currency'?", 13),
        (
            "/plugins/settings/mode",
            "must be one of 'fast', 'safe', got 'fsat'. Did you mean 'fast'?",
            14,
        ),
    ]
    message = str(caught.value).splitlines()
    assert message[0] == (
        f"Invalid config in {path}:3: /database/ecko: unknown key 'ecko'; did you mean 'echo'?"
    )
    assert len(message) == 5
    assert caught.value.source == str(path)


def test_unknown_top_level_key_lists_allowed_keys_when_nothing_is_close() -> None:
    with pytest.raises(ConfigError) as caught:
        check_config({"plugins": {"enabled": []}, "zzzz": 1})
    ((pointer, message, line),) = violations(caught)
    assert pointer == "/zzzz"
    assert "allowed keys: attributes, database, import, plugins" in message
    assert line is None


def test_type_errors_name_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        check_config({"plugins": {"enabled": []}, "database": {"echo": "yes", "url": ""}})
    found = dict((pointer, message) for pointer, message, _ in violations(caught))
    assert found["/database/echo"] == "must be true or false, got 'yes'"
    assert "/database/url" in found


def test_json_config_violations_have_pointers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pg.json", json.dumps({"plugins": {"enabled": []}, "import": {"batch_size": -5}})
    )
    with pytest.raises(ConfigError) as caught:
        check_config(path)
    assert violations(caught) == [("/import/batch_size", "must be at least 1, got -5", None)]


def test_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pg.toml", '[database]\nurl = "sqlite:///x.db"\necho = \n')
    with pytest.raises(ConfigError) as caught:
        check_config(path)
    ((pointer, message, line),) = violations(caught)
    assert pointer == ""
    assert message.startswith("not valid TOML")
    assert line == 3


def test_json_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path / "pg.json", '{\n  "database": {\n    "echo": tru\n  }\n}\n')
    with pytest.raises(ConfigError) as caught:
        check_config(path)
    ((_, message, line),) = violations(caught)
    assert message.startswith("not valid JSON")
    assert line == 3


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        check_config(tmp_path / "nope.toml")


def test_config_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pg.json", "[1, 2]")
    with pytest.raises(ConfigError, match="must be a table/object"):
        check_config(path)


# -- plugins in the config ---------------------------------------------------------------


def test_unknown_plugin_with_did_you_mean_and_available_list(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pg.toml",
        """
        [plugins]
        enabled = ["setings", "zzz"]
        """,
    )
    with pytest.raises(ConfigError) as caught:
        check_config(path, plugins=PLUGINS)
    found = violations(caught)
    assert [pointer for pointer, _, _ in found] == ["/plugins/enabled/0", "/plugins/enabled/1"]
    assert found[0][1].startswith("unknown plugin 'setings'. Did you mean 'settings'? Available: ")
    assert "Did you mean" not in found[1][1]
    for _, message, line in found:
        assert "other" in message.split("Available: ")[1]
        assert "settings" in message.split("Available: ")[1]
        assert line == 2


def test_unknown_plugin_is_reported_with_every_other_violation() -> None:
    with pytest.raises(ConfigError) as caught:
        check_config(
            {
                "plugins": {"enabled": ["settings", "setings"], "setings": {"currency": "USD"}},
                "import": {"batch_size": 0},
            },
            plugins=PLUGINS,
        )
    assert [pointer for pointer, _, _ in violations(caught)] == [
        "/import/batch_size",
        "/plugins/enabled/1",
    ]


def test_settings_for_a_plugin_that_is_not_enabled(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pg.toml",
        """
        [plugins]
        enabled = ["settings"]

        [plugins.other]
        colour = "blue"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        check_config(path, plugins=PLUGINS)
    assert violations(caught) == [
        (
            "/plugins/other",
            "settings for plugin 'other', which is not enabled; "
            "add it to /plugins/enabled or remove this section",
            4,
        )
    ]


def test_plugin_setting_type_violation_is_under_the_plugin_pointer() -> None:
    with pytest.raises(ConfigError) as caught:
        check_config(
            {"plugins": {"enabled": ["settings"], "settings": {"limits": {"daily": "ten"}}}},
            plugins=PLUGINS,
        )
    assert violations(caught) == [
        ("/plugins/settings/limits/daily", "must be an integer, got 'ten'", None)
    ]


def test_removed_key_warns_instead_of_failing(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pg.toml",
        """
        [plugins]
        enabled = ["settings"]

        [plugins.settings]
        old_mode = "turbo"
        mode = "fast"
        """,
    )
    with pytest.warns(ConfigWarning, match=r"/plugins/settings/old_mode .*use 'mode' instead"):
        config = check_config(path, plugins=PLUGINS)
    assert config.plugin_settings["settings"] == {
        "currency": "EUR",
        "mode": "fast",
        "limits": {"daily": 10},
    }


def test_removed_key_warns_exactly_once(make_toolkit: Any) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        toolkit = make_toolkit(
            plugins={"settings": Settings}, settings={"settings": {"old_mode": 1}}
        )
    assert [type(w.message) for w in caught] == [ConfigWarning]
    assert "old_mode" not in toolkit.config.plugin_settings["settings"]


def test_config_warning_is_a_future_warning() -> None:
    assert issubclass(ConfigWarning, FutureWarning)


def test_composed_schema_holds_each_plugin_schema() -> None:
    schema = compose_schema({"settings": Settings().partygraph_config_schema()})
    plugins = schema["properties"]["plugins"]
    assert plugins["additionalProperties"] is False
    assert plugins["properties"]["settings"]["properties"]["currency"]["default"] == "EUR"
    assert set(plugins["properties"]) == {"enabled", "settings"}


# -- database URL ------------------------------------------------------------------------


def test_relative_sqlite_path_is_resolved_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(
        tmp_path / "conf" / "partygraph.toml",
        """
        [database]
        url = "sqlite:///data/crm.db"

        [plugins]
        enabled = []
        """,
    )
    config = check_config(path)
    expected = (tmp_path / "conf").resolve() / "data" / "crm.db"
    assert config.database_url == f"sqlite:///{expected}"


def test_default_sqlite_file_sits_next_to_the_config(tmp_path: Path) -> None:
    path = write(tmp_path / "site" / "pg.toml", "[plugins]\nenabled = []\n")
    config = check_config(path)
    assert config.database_url == f"sqlite:///{(tmp_path / 'site').resolve() / 'partygraph.db'}"


def test_dict_config_resolves_relative_sqlite_against_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = check_config({"database": {"url": "sqlite:///rel.db"}, "plugins": {"enabled": []}})
    assert config.database_url == f"sqlite:///{Path.cwd() / 'rel.db'}"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/partygraph/crm.db",
        "sqlite:///:memory:",
        "postgresql://partygraph@db.example.org/crm",
    ],
)
def test_absolute_memory_and_server_urls_are_kept(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "pg.toml", f'[database]\nurl = "{url}"\n[plugins]\nenabled = []\n')
    assert check_config(path).database_url == url


def test_invalid_config_touches_no_database(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    with pytest.raises(ConfigError):
        partygraph.open(
            {
                "database": {"url": f"sqlite:///{database}"},
                "plugins": {"enabled": []},
                "import": {"batch_size": "many"},
            }
        )
    assert not database.exists()


# -- custom attributes -------------------------------------------------------------------


def test_custom_attributes_are_added_to_a_party_kind(make_toolkit: Any) -> None:
    toolkit = make_toolkit(
        config={
            "attributes": {
                "parties": {
                    "person": {
                        "properties": {"loyalty_id": {"type": "string", "pattern": "^L[0-9]+$"}},
                        "required": ["loyalty_id"],
                    }
                }
            }
        }
    )
    with pytest.raises(partygraph.ValidationError) as caught:
        toolkit.upsert_party("alice", "person", attributes={"email": "a@example.org"})
    assert caught.value.field == "attributes/loyalty_id"
    with pytest.raises(partygraph.ValidationError) as bad:
        toolkit.upsert_party("alice", "person", attributes={"loyalty_id": "X1"})
    assert bad.value.field == "attributes/loyalty_id"
    party = toolkit.upsert_party("alice", "person", attributes={"loyalty_id": "L42"})
    assert party.attributes == {"loyalty_id": "L42"}


def test_custom_attributes_for_an_unknown_kind_are_refused(make_toolkit: Any) -> None:
    with pytest.raises(
        partygraph.UserError, match=r"/attributes/parties/robto.*no such party kind"
    ):
        make_toolkit(config={"attributes": {"parties": {"robto": {"properties": {}}}}})


def test_custom_attributes_for_an_unknown_kind_are_a_config_violation(tmp_path: Path) -> None:
    from partygraph import ConfigError, check_config

    config = tmp_path / "partygraph.toml"
    config.write_text(
        '[plugins]\nenabled = []\n\n[attributes.parties.persn.properties.tier]\ntype = "string"\n'
    )
    with pytest.raises(ConfigError) as caught:
        check_config(config)
    (violation,) = caught.value.violations
    assert violation.pointer == "/attributes/parties/persn"
    assert "persn" in violation.message
    assert "person" in violation.message


def test_a_plugin_schema_may_use_its_own_definitions(tmp_path: Path) -> None:
    class Defs:
        @hookimpl
        def partygraph_config_schema(self) -> dict[str, Any]:
            return {
                "title": "defs",
                "description": "Uses $defs.",
                "type": "object",
                "additionalProperties": False,
                "properties": {"sides": {"type": "array", "items": {"$ref": "#/$defs/side"}}},
                "$defs": {"side": {"type": "string", "enum": ["rider", "driver"]}},
            }

    good = {"plugins": {"enabled": ["defs"], "defs": {"sides": ["rider"]}}}
    assert check_config(good, plugins={"defs": Defs}).plugin_settings["defs"]["sides"] == ["rider"]
    bad = {"plugins": {"enabled": ["defs"], "defs": {"sides": ["pilot"]}}}
    with pytest.raises(
        ConfigError, match="/plugins/defs/sides/0: must be one of 'rider', 'driver'"
    ):
        check_config(bad, plugins={"defs": Defs})
