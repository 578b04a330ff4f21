"""Fixtures of the privacy plugin's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from world import Shop, shop_migrations

from partygraph import Toolkit


@pytest.fixture
def privacy_toolkit(make_toolkit: Callable[..., Toolkit], tmp_path: Path) -> Callable[..., Toolkit]:
    """Open a toolkit with the privacy plugin and the stand-in ``shop`` plugin.

    ``privacy_toolkit(settings={...}, notes=True)``: *settings* go under
    ``[plugins.privacy]``; *notes* gives the shop a table of its own.
    """

    def factory(settings: Mapping[str, Any] | None = None, *, notes: bool = False) -> Toolkit:
        shop = Shop(shop_migrations(tmp_path) if notes else None)
        return make_toolkit(
            plugins={"shop": shop},
            enabled=["privacy", "shop"],
            settings={"privacy": dict(settings or {})},
        )

    return factory
