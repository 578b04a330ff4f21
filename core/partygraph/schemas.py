"""The JSON Schemas shipped with partygraph (``schemas/`` in the source tree).

In a wheel they live in ``partygraph/schemas``; in a source checkout (an
editable install) they are read from the repository's ``schemas/`` folder.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["load_schema", "schema_root"]


@functools.cache
def schema_root() -> Traversable:
    """The folder holding the shipped schemas."""
    packaged = files("partygraph") / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def _load(name: str) -> str:
    node = schema_root()
    for part in name.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema by relative name, e.g. ``config`` or ``records/party``."""
    loaded: dict[str, Any] = json.loads(_load(f"{name}.schema.json"))
    return loaded
