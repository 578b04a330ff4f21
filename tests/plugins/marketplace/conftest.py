"""Fixtures of the marketplace plugin's tests: toolkits with the installed plugin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from marketplace_world import ZONES, ride_world

from partygraph import Toolkit


@pytest.fixture
def marketplace(make_toolkit: Callable[..., Toolkit]) -> Callable[..., Toolkit]:
    """``marketplace(settings={...}, privacy=False)``: a toolkit with the marketplace plugin
    (the ride-sharing preset, zones configured unless *settings* say otherwise)."""

    def factory(settings: Mapping[str, Any] | None = None, *, privacy: bool = False) -> Toolkit:
        values = {"zones": ZONES, **(settings or {})}
        enabled = ["privacy", "marketplace"] if privacy else ["marketplace"]
        return make_toolkit(enabled=enabled, settings={"marketplace": values})

    return factory


@pytest.fixture
def ride(marketplace: Callable[..., Toolkit]) -> Toolkit:
    """RideCo with Alice (rider), Dave (driver, activated 2026-01-12) and Sam (both)."""
    toolkit = marketplace()
    toolkit.write(ride_world())
    return toolkit


def count(toolkit: Toolkit, table: str) -> int:
    """Rows in a table."""
    with toolkit.engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


@pytest.fixture
def rows() -> Callable[[Toolkit, str], int]:
    """``rows(toolkit, "interaction")``: how many rows a table holds."""
    return count
