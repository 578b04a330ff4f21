"""Fixtures of the b2c plugin's tests: a toolkit with the installed b2c plugin."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from partygraph import Toolkit


@pytest.fixture
def b2c(make_toolkit: Callable[..., Toolkit]) -> Callable[..., Toolkit]:
    """Open a toolkit with the installed b2c plugin; ``b2c(settings={...})``."""

    def factory(
        settings: Mapping[str, Any] | None = None, *, enabled: Sequence[str] = ("b2c",), **kw: Any
    ) -> Toolkit:
        return make_toolkit(enabled=list(enabled), settings={"b2c": dict(settings or {})}, **kw)

    return factory
