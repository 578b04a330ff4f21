"""Fixtures of the demo tests: the demo world, loaded once per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from demo_loaded import LoadedDemo, load_for_module


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedDemo]:
    """The demo world in a SQLite file of its own, shared by a module's tests."""
    yield from load_for_module(tmp_path_factory)
