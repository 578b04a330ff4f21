"""The toolkit tells plugins when it is ready and when a write was rolled back."""

from __future__ import annotations

from typing import Any

import pytest

import partygraph
from partygraph import Context, InteractionType, PluginError, Toolkit, WriteRefused, hookimpl


class Watcher:
    def __init__(self) -> None:
        self.ready: list[Toolkit] = []
        self.failures: list[tuple[str, str, str | None]] = []

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self.ready.append(toolkit)

    @hookimpl
    def partygraph_interaction_types(self) -> list[InteractionType]:
        return [InteractionType("call", purposes=("service",))]

    @hookimpl
    def partygraph_before_write(self, batch: Any, session: Any) -> None:
        if any(item.payload.get("refuse") for item in batch.interactions):
            raise WriteRefused("calls marked refuse are refused")

    @hookimpl
    def partygraph_write_failed(self, error: BaseException, context: Context) -> None:
        self.failures.append((type(error).__name__, str(error), context.actor))


class Broken:
    @hookimpl
    def partygraph_write_failed(self, error: BaseException, context: Context) -> None:
        raise RuntimeError("the failure hook itself fails")


class Picky:
    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        raise PluginError("picky refuses to run without a household plugin")


def test_ready_is_called_once_the_toolkit_is_usable(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"watch": Watcher})
    assert toolkit.plugin_objects["watch"].ready == [toolkit]


def test_a_plugin_may_refuse_to_run_when_ready(partygraph_database_url: str) -> None:
    config = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": ["picky"]}}
    with pytest.raises(PluginError, match="picky refuses"):
        partygraph.open(config, plugins={"picky": Picky})


def test_refused_writes_are_reported_after_the_rollback(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"watch": Watcher, "broken": Broken})
    toolkit.upsert_party("alice", "person")
    with pytest.raises(WriteRefused):
        toolkit.record_interaction(
            "call",
            "2026-01-01",
            [("alice", "caller")],
            {"refuse": True},
            context=Context(actor="agent-7"),
        )
    assert toolkit.plugin_objects["watch"].failures == [
        ("WriteRefused", "calls marked refuse are refused", "agent-7")
    ]
    assert toolkit.interactions("alice") == []


def test_a_plugin_object_is_reachable_by_name(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"watch": Watcher})
    assert isinstance(toolkit.plugin("watch"), Watcher)
    with pytest.raises(PluginError, match="'nope' is not enabled \\(enabled: watch\\)"):
        toolkit.plugin("nope")


class Closer:
    def __init__(self) -> None:
        self.closing: list[Toolkit] = []

    @hookimpl
    def partygraph_toolkit_closing(self, toolkit: Toolkit) -> None:
        self.closing.append(toolkit)


def test_closing_is_called_once_before_the_connections_go(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"closer": Closer})
    closer = toolkit.plugin_objects["closer"]
    assert closer.closing == []
    toolkit.close()
    toolkit.close()
    assert closer.closing == [toolkit]
