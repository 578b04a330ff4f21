"""The b2b plugin's config schema, its checks, its declarations and its migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import partygraph
from partygraph import ConfigError, Toolkit, ValidationError
from partygraph.schemas import load_schema
from partygraph_b2b import B2BPlugin


def config(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "database": {"url": "sqlite://"},
        "plugins": {"enabled": ["b2b"], "b2b": settings},
    }


def test_the_schema_documents_and_defaults_every_property() -> None:
    schema = load_schema("plugins/b2b")
    assert schema["title"] == "b2b"
    assert schema["description"].endswith(".")
    assert schema["additionalProperties"] is False
    assert schema["x-removed"] == {}
    for name, prop in schema["properties"].items():
        assert "default" in prop, name
        assert prop["description"].endswith("."), name
    assert B2BPlugin().partygraph_config_schema() == schema


def test_defaults_reach_the_plugin(b2b_toolkit: Callable[..., Toolkit]) -> None:
    settings = b2b_toolkit().plugin("b2b").settings
    assert settings.required_roles == ("economic_buyer", "technical_evaluator", "end_user")
    assert settings.engagement_window_days == 90
    assert settings.messaging_tracks["end_user"] == "usability_adoption"
    assert settings.role_weight("economic_buyer") == 3.0


def test_a_partial_table_keeps_the_other_defaults(b2b_toolkit: Callable[..., Toolkit]) -> None:
    settings = (
        b2b_toolkit(
            {
                "role_weights": {"end_user": 5},
                "interaction_weights": {"meeting": 9},
                "tracks": {"business_value": {"description": "ROI first."}},
            }
        )
        .plugin("b2b")
        .settings
    )
    assert (settings.role_weight("end_user"), settings.role_weight("legal")) == (5.0, 1.0)
    assert (settings.type_weight("meeting"), settings.type_weight("demo")) == (9.0, 4.0)
    assert settings.tracks["business_value"].description == "ROI first."
    assert settings.tracks["business_value"].themes == ()
    assert "usability_adoption" in settings.tracks


@pytest.mark.parametrize(
    ("settings", "pointer"),
    [
        ({"required_roles": ["cfo"]}, "/plugins/b2b/required_roles/0"),
        ({"engagement_window_days": 0}, "/plugins/b2b/engagement_window_days"),
        ({"role_weights": {"boss": 1}}, "/plugins/b2b/role_weights/boss"),
        ({"currency": "euro"}, "/plugins/b2b/currency"),
        ({"tracks": {"x": {"themes": []}}}, "/plugins/b2b/tracks/x/description"),
        ({"window": 30}, "/plugins/b2b/window"),
    ],
)
def test_invalid_settings_point_at_the_key(settings: dict[str, Any], pointer: str) -> None:
    with pytest.raises(ConfigError) as caught:
        partygraph.check_config(config(settings))
    assert pointer in [violation.pointer for violation in caught.value.violations]


def test_a_track_must_exist() -> None:
    with pytest.raises(ValidationError) as caught:
        partygraph.check_config(config({"messaging_tracks": {"end_user": "memes"}}))
    assert caught.value.field == "/plugins/b2b/messaging_tracks/end_user"
    assert "no track 'memes'" in caught.value.reason


def test_every_table_is_declared(b2b_toolkit: Callable[..., Toolkit]) -> None:
    toolkit = b2b_toolkit()
    declared = {d.table for owner, d in toolkit.data_declarations() if owner == "b2b"}
    mine = {table.name for owner, table in toolkit.tables() if owner == "b2b"}
    assert mine == {"b2b_deal", "b2b_deal_state"}
    assert mine <= declared
