"""Fixtures of the b2b plugin's tests: toolkits with the plugin, and the ERP world."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from b2b_world import ERP_WORLD

from partygraph import Toolkit


@pytest.fixture
def b2b_toolkit(make_toolkit: Callable[..., Toolkit]) -> Callable[..., Toolkit]:
    """Open a toolkit with the b2b plugin (and others named in *enabled*).

    ``b2b_toolkit(settings={...}, enabled=["privacy", "b2b"], privacy={...})``.
    """

    def factory(
        settings: Mapping[str, Any] | None = None,
        *,
        enabled: Sequence[str] = ("b2b",),
        privacy: Mapping[str, Any] | None = None,
    ) -> Toolkit:
        sections: dict[str, Mapping[str, Any]] = {"b2b": dict(settings or {})}
        if privacy is not None:
            sections["privacy"] = dict(privacy)
        return make_toolkit(enabled=list(enabled), settings=sections)

    return factory


@pytest.fixture
def erp(b2b_toolkit: Callable[..., Toolkit]) -> Toolkit:
    """A toolkit holding the ERP deal of seed 000 (no touchpoints yet)."""
    toolkit = b2b_toolkit()
    toolkit.write(ERP_WORLD)
    return toolkit
