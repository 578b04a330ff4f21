"""Privacy metadata is mandatory once the privacy plugin is enabled."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from world import Shop, shop_migrations

from partygraph import (
    Context,
    DataDeclaration,
    InteractionType,
    PartyKind,
    PluginError,
    Toolkit,
    hookimpl,
)

MakeToolkit = Callable[..., Toolkit]


class SecretiveShop(Shop):
    """Keeps notes about people in a table of its own, and declares nothing about them."""

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return [
            DataDeclaration("party", "attributes.loyalty_tier", "user.behavior.purchase_history")
        ]


class Blog:
    """Registers an interaction type with no purposes, and one with an unknown purpose."""

    def __init__(self, purposes: tuple[str, ...] = ()) -> None:
        self.purposes = purposes

    @hookimpl
    def partygraph_interaction_types(self) -> Iterable[InteractionType]:
        return [InteractionType("comment", roles={"author"}, purposes=self.purposes)]


class Club:
    """A kind of natural persons with an attribute nobody declares."""

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        return [
            PartyKind(
                "member",
                personal=True,
                attributes={"type": "object", "properties": {"shoe_size": {"type": "integer"}}},
            )
        ]


def test_the_privacy_plugin_declares_its_own_tables(
    make_toolkit: MakeToolkit, tmp_path: Path
) -> None:
    toolkit = make_toolkit(
        plugins={"shop": Shop(shop_migrations(tmp_path))}, enabled=["privacy", "shop"]
    )
    declared = {(owner, d.table) for owner, d in toolkit.data_declarations()}
    for owner, table in toolkit.tables():
        assert any(d_table == table.name for _, d_table in declared), (owner, table.name)
    audit = [
        d
        for owner, d in toolkit.data_declarations()
        if owner == "privacy" and d.table == "privacy_audit"
    ]
    assert {d.category for d in audit} == {"user.unique_id.pseudonymous"}
    assert all(d.personal for d in audit)


def test_a_table_without_declaration_stops_the_toolkit(
    make_toolkit: MakeToolkit, tmp_path: Path
) -> None:
    migrations = shop_migrations(tmp_path)
    with pytest.raises(PluginError) as caught:
        make_toolkit(plugins={"shop": SecretiveShop(migrations)}, enabled=["privacy", "shop"])
    message = str(caught.value)
    assert "plugin 'privacy' cannot run" in message
    assert "plugin 'shop': table 'shop_note' has no data declaration" in message

    # Without the privacy plugin, the same plugin is welcome.
    toolkit = make_toolkit(plugins={"shop": SecretiveShop(migrations)}, enabled=["shop"])
    toolkit.upsert_party("alice", "person", "Alice")
    assert toolkit.party("alice").name == "Alice"


def test_an_interaction_type_without_purposes_stops_the_toolkit(make_toolkit: MakeToolkit) -> None:
    with pytest.raises(PluginError, match="plugin 'blog': interaction type 'comment' declares no"):
        make_toolkit(plugins={"blog": Blog()}, enabled=["privacy", "blog"])
    with pytest.raises(PluginError, match="purpose 'astrology', which is not configured"):
        make_toolkit(plugins={"blog": Blog(("astrology",))}, enabled=["privacy", "blog"])
    # The config can give (or replace) a type's purposes.
    toolkit = make_toolkit(
        plugins={"blog": Blog(("astrology",))},
        enabled=["privacy", "blog"],
        settings={"privacy": {"purpose_overrides": {"comment": ["service"]}}},
    )
    assert toolkit.vocabulary.interaction_types["comment"].purposes == ("astrology",)
    # ... and without privacy nobody asks.
    make_toolkit(plugins={"blog": Blog()}, enabled=["blog"])


def test_an_undeclared_attribute_of_a_personal_kind_stops_the_toolkit(
    make_toolkit: MakeToolkit,
) -> None:
    with pytest.raises(PluginError, match="plugin 'club': attribute 'shoe_size' of party kind"):
        make_toolkit(plugins={"club": Club()}, enabled=["privacy", "club"])


def custom_attributes(**properties: Any) -> dict[str, Any]:
    return {"attributes": {"parties": {"person": {"properties": properties}}}}


def test_an_undeclared_custom_attribute_stops_the_toolkit(make_toolkit: MakeToolkit) -> None:
    config = custom_attributes(nickname={"type": "string"})
    with pytest.raises(PluginError) as caught:
        make_toolkit(plugins={"shop": Shop()}, enabled=["privacy", "shop"], config=config)
    message = str(caught.value)
    assert "custom attribute 'nickname' of party kind 'person'" in message
    assert "[attributes.parties.person.properties.nickname]" in message
    assert "x-data-category" in message
    # Fine without privacy, and fine once declared in its schema.
    make_toolkit(plugins={"shop": Shop()}, enabled=["shop"], config=config)
    declared = custom_attributes(
        nickname={"type": "string", "x-data-category": "user.name"},
        office_phone={"type": "string", "x-data-category": "user.contact.phone_number"},
    )
    toolkit = make_toolkit(plugins={"shop": Shop()}, enabled=["privacy", "shop"], config=declared)
    toolkit.upsert_party("alice", "person", "Alice", {"nickname": "Al", "office_phone": "123"})
    # The declaration drives access like any other: an analyst sees neither.
    view = toolkit.view("alice", context=Context(viewer_role="analyst"))
    assert dict(view.party.attributes) == {}
    view = toolkit.view("alice", context=Context(viewer_role="sales"))
    assert dict(view.party.attributes) == {"nickname": "Al", "office_phone": "123"}
    ropa = toolkit.plugin("privacy").ropa()
    assert "user.contact.phone_number" in ropa["common"]["data_categories"]


def test_every_problem_is_listed_at_once(make_toolkit: MakeToolkit) -> None:
    with pytest.raises(PluginError) as caught:
        make_toolkit(
            plugins={"blog": Blog(), "club": Club()},
            enabled=["privacy", "blog", "club"],
            config=custom_attributes(nickname={"type": "string"}),
        )
    message = str(caught.value)
    assert "3 problem(s)" in message
    for part in ("'comment'", "'shoe_size'", "'nickname'"):
        assert part in message
