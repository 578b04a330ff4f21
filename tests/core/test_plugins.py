"""Plugin discovery through entry points, enabling, requirements and ordering."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from partygraph import (
    ConfigError,
    NotFoundError,
    Party,
    PartyKind,
    PluginError,
    RoleAssignment,
    ValidationError,
    hookimpl,
)
from partygraph.plugins import available_plugins, load_plugins, plugin_report
from partygraph.reading import GraphReader
from plugins_for_tests import Basics

GOOD_PLUGIN = '''
from partygraph import PartyKind, hookimpl


class Plugin:
    """A plugin installed as a real distribution."""

    requires = {requires!r}

    @hookimpl
    def partygraph_party_kinds(self):
        return [PartyKind({kind!r})]
'''

BROKEN_PLUGIN = """
raise RuntimeError("this plugin cannot be imported")
"""

FakeDist = Callable[..., str]


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDist]:
    """Install throwaway distributions with ``partygraph.plugins`` entry points.

    ``fake_dist(plugin, source, dist=..., version=...)`` writes a module and a
    ``<dist>-<version>.dist-info`` folder into a site folder on ``sys.path``
    and returns the module's (unique) name.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(plugin: str, source: str, *, dist: str | None = None, version: str = "1.0") -> str:
        module = f"pgtest_{plugin}_{uuid.uuid4().hex[:8]}"
        dist = dist or f"pgtest-{plugin}"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[partygraph.plugins]\n{plugin} = {module}:Plugin\n", encoding="utf-8"
        )
        modules.append(module)
        importlib.invalidate_caches()
        return module

    try:
        yield install
    finally:
        for module in modules:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()


def good(kind: str, requires: tuple[str, ...] = ()) -> str:
    return GOOD_PLUGIN.format(kind=kind, requires=requires)


# -- discovery ---------------------------------------------------------------------------


def test_installed_plugin_is_discovered_and_enabled(fake_dist: FakeDist, make_toolkit: Any) -> None:
    module = fake_dist("shipyard", good("vessel"), dist="pgtest-shipyard", version="2.3")
    assert "shipyard" in available_plugins()
    assert module not in sys.modules  # discovery imports nothing
    toolkit = make_toolkit(enabled=["shipyard"])
    (info,) = toolkit.plugins
    assert (info.name, info.version, info.distribution, info.enabled) == (
        "shipyard",
        "2.3",
        "pgtest-shipyard",
        True,
    )
    assert info.hooks == ("partygraph_party_kinds",)
    assert toolkit.upsert_party("hms", "vessel").kind == "vessel"


def test_installed_but_not_enabled_plugin_is_never_imported(
    fake_dist: FakeDist, make_toolkit: Any
) -> None:
    broken = fake_dist("broken", BROKEN_PLUGIN)
    toolkit = make_toolkit(plugins={"basics": Basics})
    assert [info.name for info in toolkit.plugins] == ["basics"]
    assert broken not in sys.modules
    assert "broken" in available_plugins()


def test_enabled_plugin_that_fails_to_import_names_plugin_and_distribution(
    fake_dist: FakeDist, make_toolkit: Any
) -> None:
    fake_dist("broken", BROKEN_PLUGIN, dist="pgtest-broken-dist", version="0.4")
    with pytest.raises(PluginError) as caught:
        make_toolkit(enabled=["broken"])
    message = str(caught.value)
    assert "'broken'" in message
    assert "pgtest-broken-dist 0.4" in message
    assert "RuntimeError: this plugin cannot be imported" in message


def test_plugin_class_that_fails_to_instantiate(make_toolkit: Any) -> None:
    class Fussy:
        def __init__(self) -> None:
            raise ValueError("needs an API key")

    with pytest.raises(PluginError, match=r"'fussy'.*ValueError: needs an API key"):
        make_toolkit(plugins={"fussy": Fussy})


def test_unknown_plugin_name_in_the_config(fake_dist: FakeDist, make_toolkit: Any) -> None:
    fake_dist("shipyard", good("vessel"))
    with pytest.raises(ConfigError) as caught:
        make_toolkit(enabled=["shipyrd"])
    (violation,) = caught.value.violations
    assert violation.pointer == "/plugins/enabled/0"
    assert "Did you mean 'shipyard'?" in violation.message
    assert "shipyard" in violation.message.split("Available: ")[1]


def test_unknown_plugin_name_when_loading_directly(fake_dist: FakeDist) -> None:
    fake_dist("shipyard", good("vessel"))
    with pytest.raises(PluginError, match=r"Unknown plugin 'shipyrd'\. Did you mean 'shipyard'\?"):
        load_plugins(["shipyrd"])


# -- requirements ------------------------------------------------------------------------


class NeedsShipyard2:
    requires = ("shipyard>=2",)

    @hookimpl
    def partygraph_party_kinds(self) -> list[PartyKind]:
        return [PartyKind("crew")]


def test_requirement_not_enabled(fake_dist: FakeDist, make_toolkit: Any) -> None:
    fake_dist("shipyard", good("vessel"), version="2.0")
    with pytest.raises(PluginError, match=r"'crew'.* requires plugin 'shipyard', which is not"):
        make_toolkit(plugins={"crew": NeedsShipyard2})


def test_requirement_version_not_satisfied(fake_dist: FakeDist, make_toolkit: Any) -> None:
    fake_dist("shipyard", good("vessel"), version="1.5")
    with pytest.raises(PluginError) as caught:
        make_toolkit(plugins={"crew": NeedsShipyard2}, enabled=["crew", "shipyard"])
    assert "shipyard>=2" in str(caught.value)
    assert "version 1.5" in str(caught.value)


def test_requirement_satisfied(fake_dist: FakeDist, make_toolkit: Any) -> None:
    fake_dist("shipyard", good("vessel"), version="2.1")
    toolkit = make_toolkit(plugins={"crew": NeedsShipyard2}, enabled=["crew", "shipyard"])
    assert {info.name for info in toolkit.plugins} == {"crew", "shipyard"}


def test_invalid_requirement_text(make_toolkit: Any) -> None:
    class Sloppy:
        requires = ("not a requirement!!",)

    with pytest.raises(PluginError, match="'sloppy' declares an invalid requirement"):
        make_toolkit(plugins={"sloppy": Sloppy})


# -- order and hook names ----------------------------------------------------------------


def _role_plugin(name: str, after: tuple[str, ...] = ()) -> type:
    class Plugin:
        run_after = after

        @hookimpl
        def partygraph_roles(self) -> list[RoleAssignment]:
            return [RoleAssignment(f"{name}_role", reason=f"{name} says so")]

    Plugin.__name__ = name.capitalize()
    return Plugin


def test_run_after_gives_a_deterministic_topological_order(make_toolkit: Any) -> None:
    plugins = {
        "alpha": _role_plugin("alpha", after=("zulu",)),
        "mike": _role_plugin("mike"),
        "zulu": _role_plugin("zulu", after=("mike",)),
        "bravo": _role_plugin("bravo"),
        "kilo": _role_plugin("kilo", after=("alpha", "absent")),
    }
    expected = ["bravo", "mike", "zulu", "alpha", "kilo"]
    first = make_toolkit(plugins=plugins)
    second = make_toolkit(plugins=dict(reversed(list(plugins.items()))))
    for toolkit in (first, second):
        assert [info.name for info in toolkit.plugins] == expected
        toolkit.upsert_party("p", "person")
        roles = toolkit.roles("p")
        assert [role.plugin for role in roles] == expected
        assert [role.role for role in roles] == [f"{name}_role" for name in expected]


def test_run_after_cycle_is_refused(make_toolkit: Any) -> None:
    with pytest.raises(PluginError, match="alpha, bravo declare run_after in a cycle"):
        make_toolkit(
            plugins={
                "alpha": _role_plugin("alpha", after=("bravo",)),
                "bravo": _role_plugin("bravo", after=("alpha",)),
            }
        )


def test_misspelt_hook_name_is_refused(make_toolkit: Any) -> None:
    class Typo:
        @hookimpl
        def partygraph_before_wirte(self, batch: Any) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError) as caught:
        make_toolkit(plugins={"typo": Typo})
    assert "'typo'" in str(caught.value)
    assert "'partygraph_before_wirte', which is not a partygraph hook" in str(caught.value)


def test_hook_with_an_unknown_argument_is_refused(make_toolkit: Any) -> None:
    class WrongArgs:
        @hookimpl
        def partygraph_roles(self, person: Party) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError, match=r"(?s)'wrongargs'.*\{'person'\}"):
        make_toolkit(plugins={"wrongargs": WrongArgs})


def test_same_vocabulary_name_from_two_plugins_is_refused(make_toolkit: Any) -> None:
    class Vessels:
        @hookimpl
        def partygraph_party_kinds(self) -> list[PartyKind]:
            return [PartyKind("household")]

    with pytest.raises(PluginError, match="'household' is registered by both plugin 'basics'"):
        make_toolkit(plugins={"basics": Basics, "vessels": Vessels})


# -- the report --------------------------------------------------------------------------


def test_plugin_report_explains_every_plugin(fake_dist: FakeDist) -> None:
    fake_dist("shipyard", good("vessel"), dist="pgtest-shipyard", version="2.0")
    fake_dist("broken", BROKEN_PLUGIN)
    fake_dist("idle", BROKEN_PLUGIN)
    report = {
        info.name: info
        for info in plugin_report(
            ["shipyard", "broken", "crew", "basics", "ghost"],
            extra={"basics": Basics, "crew": NeedsShipyard2, "spare": Basics},
        )
    }
    assert report["shipyard"].enabled is True
    assert report["shipyard"].reason is None
    assert report["shipyard"].version == "2.0"
    assert report["shipyard"].hooks == ("partygraph_party_kinds",)
    assert report["basics"].enabled is True
    assert "partygraph_roles" in report["basics"].hooks
    assert report["crew"].enabled is True
    assert report["idle"].enabled is False
    assert report["idle"].reason == "not in config"
    assert report["spare"].reason == "not in config"
    assert report["broken"].enabled is False
    assert report["broken"].reason == (
        "failed to load: RuntimeError: this plugin cannot be imported"
    )
    assert report["ghost"].reason == "not installed"
    assert list(report) == sorted(report)


def test_plugin_report_names_a_missing_requirement() -> None:
    (info,) = [
        info
        for info in plugin_report(["crew"], extra={"crew": NeedsShipyard2})
        if info.name == "crew"
    ]
    assert info.enabled is False
    assert info.reason == (
        "Plugin 'crew' requires plugin 'shipyard', which is not enabled; add it to plugins.enabled"
    )


def test_plugin_report_agrees_with_loading_about_a_version(fake_dist: FakeDist) -> None:
    fake_dist("shipyard", good("vessel"), version="1.5")
    report = plugin_report(["crew", "shipyard"], extra={"crew": NeedsShipyard2})
    by_name = {info.name: info for info in report}
    assert by_name["crew"].enabled is False
    assert by_name["crew"].reason == (
        "Plugin 'crew' requires shipyard>=2, but 'shipyard' is version 1.5"
    )
    assert by_name["shipyard"].enabled is True


def test_plugin_report_agrees_with_loading_about_a_run_after_cycle() -> None:
    plugins = {
        "alpha": _role_plugin("alpha", after=("bravo",)),
        "bravo": _role_plugin("bravo", after=("alpha",)),
        "charlie": _role_plugin("charlie"),
    }
    by_name = {info.name: info for info in plugin_report(list(plugins), extra=plugins)}
    for name in ("alpha", "bravo"):
        assert by_name[name].enabled is False
        assert by_name[name].reason == (
            "cannot be ordered: run_after goes round in a circle among alpha, bravo"
        )
    assert by_name["charlie"].enabled is True


def test_plugin_report_agrees_with_loading_about_a_misspelt_hook() -> None:
    class Typo:
        @hookimpl
        def partygraph_rolez(self) -> None:
            raise AssertionError("never called")

    report = plugin_report(["typo", "basics"], extra={"typo": Typo, "basics": Basics})
    by_name = {info.name: info for info in report}
    assert by_name["typo"].enabled is False
    assert by_name["typo"].reason is not None
    assert "'partygraph_rolez', which is not a partygraph hook" in by_name["typo"].reason
    assert by_name["basics"].enabled is True


# -- isolation ---------------------------------------------------------------------------


class Fleet:
    """Registers its own party kind and keeps per-toolkit state."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def partygraph_party_kinds(self) -> list[PartyKind]:
        return [PartyKind("vessel")]

    @hookimpl
    def partygraph_roles(self, party: Party, as_of: datetime, graph: GraphReader) -> list[Any]:
        self.seen.append(party.key)
        return []


def test_two_toolkits_in_one_process_do_not_share_plugins_or_data(
    make_toolkit: Any, second_database_url: str
) -> None:
    first = make_toolkit(plugins={"basics": Basics, "fleet": Fleet})
    second = make_toolkit(plugins={"fleet": Fleet}, database_url=second_database_url)

    assert [info.name for info in first.plugins] == ["basics", "fleet"]
    assert [info.name for info in second.plugins] == ["fleet"]
    assert first.plugin_objects["fleet"] is not second.plugin_objects["fleet"]

    first.upsert_party("home", "household")
    first.upsert_party("alice", "person")
    second.upsert_party("boaty", "vessel")
    with pytest.raises(ValidationError, match="unknown party kind 'household'"):
        second.upsert_party("home", "household")
    with pytest.raises(NotFoundError):
        second.party("alice")
    with pytest.raises(NotFoundError):
        first.party("boaty")

    first.roles("alice")
    second.roles("boaty")
    assert first.plugin_objects["fleet"].seen == ["alice"]
    assert second.plugin_objects["fleet"].seen == ["boaty"]
    assert "household" in first.vocabulary.party_kinds
    assert "household" not in second.vocabulary.party_kinds


def test_same_plugin_instance_is_never_shared_between_toolkits_by_class(
    make_toolkit: Any, second_database_url: str
) -> None:
    first = make_toolkit(plugins={"fleet": Fleet})
    second = make_toolkit(plugins={"fleet": Fleet}, database_url=second_database_url)
    first.upsert_party("a", "vessel")
    second.upsert_party("b", "vessel")
    first.roles("a")
    assert first.plugin_objects["fleet"].seen == ["a"]
    assert second.plugin_objects["fleet"].seen == []
