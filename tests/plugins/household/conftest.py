"""Fixtures of the household plugin's tests (the world they use is in household_world.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from household_world import FAMILY, ShopFake

from partygraph import Toolkit

Factory = Callable[..., Toolkit]


@pytest.fixture
def household_toolkit(make_toolkit: Factory) -> Factory:
    """Open a toolkit with the household plugin and the ``shopfake`` stand-in.

    ``household_toolkit(settings={...}, privacy=True)``: *settings* go under
    ``[plugins.household]``; *privacy* enables the privacy plugin too.
    """

    def factory(
        settings: Mapping[str, Any] | None = None,
        *,
        privacy: bool = False,
        privacy_settings: Mapping[str, Any] | None = None,
    ) -> Toolkit:
        enabled = ["household", "shopfake"]
        all_settings: dict[str, Mapping[str, Any]] = {"household": dict(settings or {})}
        if privacy:
            enabled.insert(0, "privacy")
            all_settings["privacy"] = dict(privacy_settings or {})
        return make_toolkit(plugins={"shopfake": ShopFake}, enabled=enabled, settings=all_settings)

    return factory


@pytest.fixture
def moreau(household_toolkit: Factory) -> Toolkit:
    """A toolkit holding the Moreau family (household plugin and shopfake only)."""
    toolkit = household_toolkit()
    toolkit.write(FAMILY)
    return toolkit
