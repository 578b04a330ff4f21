"""The loaded demo world the demo tests share (loading takes a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from partygraph import Toolkit
from partygraph_demo import DemoFiles, PrivacyOutcomes, load_demo
from partygraph_demo.tour import Tour, build_tour


@attrs.frozen
class LoadedDemo:
    """A loaded demo world: its files, the open toolkit, the privacy outcomes, the tour."""

    files: DemoFiles
    toolkit: Toolkit
    outcomes: PrivacyOutcomes
    tour: Tour


def load_for_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedDemo]:
    """Load the demo world into a SQLite file of its own (the demo is SQLite by design)."""
    files = DemoFiles.beside(tmp_path_factory.mktemp("demo") / "partygraph-demo.db")
    toolkit, outcomes = load_demo(files)
    try:
        tour = build_tour(toolkit, outcomes, database="partygraph-demo.db", config="demo.toml")
        yield LoadedDemo(files, toolkit, outcomes, tour)
    finally:
        toolkit.close()
