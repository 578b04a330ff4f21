"""Fixtures of the internal plugin's tests: toolkits with the plugin (and privacy)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from partygraph import Toolkit


@pytest.fixture
def internal_toolkit(make_toolkit: Callable[..., Toolkit]) -> Callable[..., Toolkit]:
    """Open a toolkit with the internal plugin on the test database.

    ``internal_toolkit(settings={...}, privacy=True)``: *settings* go under
    ``[plugins.internal]``; *privacy* enables the privacy plugin too (its
    default purposes, ``privacy_settings`` under ``[plugins.privacy]``).
    """

    def factory(
        settings: Mapping[str, Any] | None = None,
        *,
        privacy: bool = False,
        privacy_settings: Mapping[str, Any] | None = None,
    ) -> Toolkit:
        values: dict[str, Mapping[str, Any]] = {"internal": dict(settings or {})}
        if privacy:
            values["privacy"] = {"secret": "internal-tests-secret-key", **(privacy_settings or {})}
        enabled = ["privacy", "internal"] if privacy else ["internal"]
        return make_toolkit(enabled=enabled, settings=values)

    return factory
