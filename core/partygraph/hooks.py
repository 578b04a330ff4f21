"""A typed facade over the plugin manager: every hook call site is type-checked.

Per-plugin hooks are called implementation by implementation, in the
deterministic plugin order, so each answer is attributed to its plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from partygraph.hookspecs import WRAPPABLE_HOOKS

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

__all__ = ["Hooks"]


class Hooks:
    """Typed calls into one toolkit's plugins."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._manager = manager

    def each(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a per-plugin hook; ``(plugin name, answer)`` for every non-None answer."""
        assert name not in WRAPPABLE_HOOKS, f"{name} is called through pluggy, not per plugin"
        caller = getattr(self._manager.hook, name)
        answers: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            args = [kwargs[arg] for arg in impl.argnames]
            answer = impl.function(*args)
            if answer is not None:
                answers.append((impl.plugin_name, answer))
        return answers

    def _each_item(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return [(plugin, item) for plugin, items in self.each(name, **kwargs) for item in items]

    # -- configuration and vocabulary ------------------------------------------------

    def config_schemas(self) -> dict[str, Mapping[str, Any]]:
        """Each plugin's settings schema, by plugin name."""
        return dict(self.each("partygraph_config_schema"))

    def configure(self, settings: Mapping[str, Mapping[str, Any]]) -> None:
        """Hand each plugin its own settings."""
        caller = self._manager.hook.partygraph_configure
        for impl in reversed(caller.get_hookimpls()):
            values = {"settings": settings.get(impl.plugin_name, {})}
            impl.function(*[values[arg] for arg in impl.argnames])

    def party_kinds(self) -> list[tuple[str, PartyKind]]:
        """Registered party kinds, with the plugin that registered each."""
        return self._each_item("partygraph_party_kinds")

    def segment_predicates(self) -> list[tuple[str, SegmentPredicate]]:
        """The predicates plugins express in SQL for segments, with their plugins."""
        return self._each_item("partygraph_segment_predicates")

    def segment_metrics(self) -> list[tuple[str, SegmentMetric]]:
        """The metrics plugins compute in SQL for segments, with their plugins."""
        return self._each_item("partygraph_segment_metrics")

    def relationship_types(self) -> list[tuple[str, RelationshipType]]:
        """Registered relationship types, with their plugins."""
        return self._each_item("partygraph_relationship_types")

    def interaction_types(self) -> list[tuple[str, InteractionType]]:
        """Registered interaction types, with their plugins."""
        return self._each_item("partygraph_interaction_types")

    def record_types(self) -> list[tuple[str, RecordType]]:
        """Registered interchange record types, with their plugins."""
        return self._each_item("partygraph_record_types")

    def tables(self) -> list[tuple[str, Table]]:
        """Tables contributed by plugins."""
        return self._each_item("partygraph_tables")

    def migrations(self) -> list[tuple[str, MigrationSource]]:
        """Migration sources, in plugin order (the core's first)."""
        return self.each("partygraph_migrations")

    def data_declarations(self) -> list[tuple[str, DataDeclaration]]:
        """Every plugin's declarations of the personal data it stores."""
        return self._each_item("partygraph_data_declarations")

    def cli_commands(self) -> list[tuple[str, click.Command]]:
        """Command-line commands contributed by plugins."""
        return self._each_item("partygraph_cli_commands")

    # -- writing -----------------------------------------------------------------------

    def before_write(self, batch: WriteBatch, session: WriteSession) -> None:
        """Let every plugin check (and refuse or withhold items of) a batch."""
        self._manager.hook.partygraph_before_write(batch=batch, session=session)

    def after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        """Let every plugin react to a written batch."""
        self._manager.hook.partygraph_after_write(batch=batch, session=session)

    def write_failed(self, error: BaseException, context: Context) -> None:
        """Tell each plugin a write was rolled back; one plugin failing does not stop the rest."""
        caller = self._manager.hook.partygraph_write_failed
        values: dict[str, Any] = {"error": error, "context": context}
        for impl in reversed(caller.get_hookimpls()):
            with contextlib.suppress(Exception):  # the original error matters more
                impl.function(*[values[arg] for arg in impl.argnames])

    def toolkit_ready(self, toolkit: Toolkit) -> None:
        """Tell every plugin the toolkit is open."""
        self._manager.hook.partygraph_toolkit_ready(toolkit=toolkit)

    def toolkit_closing(self, toolkit: Toolkit) -> None:
        """Tell every plugin the toolkit is closing (each implementation in plugin order)."""
        self.each("partygraph_toolkit_closing", toolkit=toolkit)

    # -- reading -----------------------------------------------------------------------

    def roles(self, party: Party, as_of: datetime, graph: GraphReader) -> list[RoleAssignment]:
        """Every plugin's role assignments for *party*, stamped with the plugin's name."""
        found: list[RoleAssignment] = []
        for plugin, answer in self.each("partygraph_roles", party=party, as_of=as_of, graph=graph):
            for role in answer:
                found.append(role if role.plugin else attrs.evolve(role, plugin=plugin))
        return found

    def view_sections(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> dict[str, Mapping[str, Any]]:
        """Each plugin's section of the 360-degree view."""
        return dict(self.each("partygraph_view_section", party=party, as_of=as_of, graph=graph))

    def metrics(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> dict[str, Mapping[str, Any]]:
        """Each plugin's figures for *party*."""
        return dict(self.each("partygraph_metrics", party=party, as_of=as_of, graph=graph))

    def after_read(self, party: Party, action: str, context: Context) -> None:
        """Tell every plugin a party's data was read."""
        self._manager.hook.partygraph_after_read(party=party, action=action, context=context)

    def review_view(self, view: PartyView, context: Context) -> PartyView:
        """Let each plugin in turn redact a 360-degree view."""
        caller = self._manager.hook.partygraph_review_view
        for impl in reversed(caller.get_hookimpls()):
            values: dict[str, Any] = {"view": view, "context": context}
            revised: Any = impl.function(*[values[arg] for arg in impl.argnames])
            if revised is not None:
                view = revised
        return view

    def excluded(
        self, parties: Sequence[Party], purpose: str, as_of: datetime, graph: GraphReader
    ) -> dict[int, str]:
        """Parties some plugin says may not be processed for *purpose*, with reasons."""
        found: dict[int, str] = {}
        for plugin, answer in self.each(
            "partygraph_permitted", parties=parties, purpose=purpose, as_of=as_of, graph=graph
        ):
            for party_id, reason in answer.items():
                found.setdefault(int(party_id), f"{reason} ({plugin})")
        return found

    # -- data subjects -------------------------------------------------------------------

    def export_subject(self, party: Party, graph: GraphReader) -> dict[str, Any]:
        """Each plugin's export of a data subject."""
        return dict(self.each("partygraph_export_subject", party=party, graph=graph))

    def review_export(
        self, document: Mapping[str, Any], party: Party, context: Context
    ) -> Mapping[str, Any]:
        """Let each plugin in turn revise an access export."""
        caller = self._manager.hook.partygraph_review_export
        for impl in reversed(caller.get_hookimpls()):
            values: dict[str, Any] = {"document": document, "party": party, "context": context}
            revised: Any = impl.function(*[values[arg] for arg in impl.argnames])
            if revised is not None:
                document = revised
        return document

    def erase_subject(self, party: Party, session: WriteSession) -> dict[str, Any]:
        """Each plugin's erasure report for a data subject."""
        return dict(self.each("partygraph_erase_subject", party=party, session=session))
