"""What every measurement needs: the plan, the databases prepared once, the world.

``BenchContext.prepare`` writes, untimed, two structure databases (the world
minus its interactions): one opened with every first-party plugin, one with
the core and the same vocabulary only. Ingest and single-write measurements
start each repetition from copies of them. Then the world itself: the full
structure, every interaction through the bulk API, and the erasure subjects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

import partygraph
from partygraph import Toolkit
from partygraph_bench.databases import Workspace
from partygraph_bench.progress import Progress
from partygraph_bench.scales import Scale
from partygraph_bench.timing import timed
from partygraph_bench.vocabulary_only import VocabularyOnly
from partygraph_bench.world import (
    AS_OF,
    Plan,
    bench_config,
    interaction_records,
    structure_records,
    subject_records,
)

__all__ = ["BenchContext", "open_core_only", "open_pipeline", "party_ids", "refresh_after_import"]

#: Rows per batch on the bulk path while the world is built.
_WORLD_BATCH = 20_000


def open_pipeline(url: str) -> Toolkit:
    """A toolkit with every first-party plugin enabled."""
    return partygraph.open(bench_config(url))


def open_core_only(url: str, vocabulary: partygraph.Vocabulary) -> Toolkit:
    """A toolkit with no plugin enabled, lent the plugins' vocabulary (see vocabulary_only)."""
    return partygraph.open(
        bench_config(url, enabled=["bench_vocabulary"]),
        plugins={"bench_vocabulary": VocabularyOnly(vocabulary)},
    )


def refresh_after_import(toolkit: Toolkit) -> None:
    """What an operator runs after an import: b2c's stored RFM scale (``b2c refresh-rfm``)."""
    toolkit.plugin("b2c").refresh_rfm(AS_OF)


def party_ids(toolkit: Toolkit) -> dict[str, int]:
    """Every party's id by key (what a writer without partygraph looks up first)."""
    with toolkit.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT key, id FROM party")
        return {str(key): int(number) for key, number in rows}


def _write(
    toolkit: Toolkit, records: Iterable[Any], progress: Progress, label: str, total: int
) -> float:
    with progress.task(label, total) as advance:
        done = [0]

        def tick(count: int) -> None:
            advance(count - done[0])
            done[0] = count

        seconds, _ = timed(lambda: toolkit.write(records, progress=tick, batch_size=_WORLD_BATCH))
    return seconds


@attrs.define
class BenchContext:
    """The run's plan, workspace, prepared databases and open world toolkit."""

    scale: Scale
    plan: Plan
    repeat: int
    workspace: Workspace
    progress: Progress
    full_structure: str = ""
    core_structure: str = ""
    world_url: str = ""
    world: Toolkit | None = None
    vocabulary: partygraph.Vocabulary | None = None
    full_ids: Mapping[str, int] = attrs.field(factory=dict)
    core_ids: Mapping[str, int] = attrs.field(factory=dict)
    figures: dict[str, Any] = attrs.field(factory=dict)

    def prepare(self) -> None:
        """Write the structure databases and the world (untimed but reported)."""
        plan = self.plan
        structure = sum(1 for _ in structure_records(plan))
        self.full_structure = self.workspace.fresh("structure-full")
        with open_pipeline(self.full_structure) as toolkit:
            self.vocabulary = toolkit.vocabulary
            _write(
                toolkit,
                structure_records(plan),
                self.progress,
                "structure (all plugins)",
                structure,
            )
            self.full_ids = party_ids(toolkit)
        self.core_structure = self.workspace.fresh("structure-core")
        with open_core_only(self.core_structure, self.vocabulary) as toolkit:
            core_records = structure_records(plan, privacy=False)
            _write(toolkit, core_records, self.progress, "structure (core only)", structure)
            self.core_ids = party_ids(toolkit)
        self.world_url = self.prepared("world", full=True)
        self.world = open_pipeline(self.world_url)
        seconds = _write(
            self.world,
            interaction_records(plan),
            self.progress,
            "world interactions",
            plan.interactions,
        )
        self.figures["world_load_s"] = round(seconds, 2)
        self.figures["world_load_rows_per_s"] = round(plan.interactions / seconds)
        for index in range(plan.subjects):
            self.world.write(subject_records(index))
        refresh_after_import(self.world)

    def prepared(self, name: str, *, full: bool) -> str:
        """A new database holding the structure (all plugins' or the core's)."""
        source = self.full_structure if full else self.core_structure
        copied = self.workspace.copy(source, name)
        if copied is not None:
            return copied
        url = self.workspace.fresh(name)
        assert self.vocabulary is not None
        opened = open_pipeline(url) if full else open_core_only(url, self.vocabulary)
        with opened as toolkit:
            toolkit.write(structure_records(self.plan, privacy=full), batch_size=_WORLD_BATCH)
        return url

    def world_toolkit(self) -> Toolkit:
        """The open toolkit on the world."""
        assert self.world is not None
        return self.world

    def core_vocabulary(self) -> partygraph.Vocabulary:
        """The six plugins' vocabulary."""
        assert self.vocabulary is not None
        return self.vocabulary

    def close(self) -> None:
        """Close the world toolkit."""
        if self.world is not None:
            self.world.close()
            self.world = None
