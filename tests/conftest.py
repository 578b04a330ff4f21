"""Shared fixtures of the test suite.

``make_toolkit`` and ``partygraph_database_url`` come from the installed
pytest plugin :mod:`partygraph.testing`; the shared test plugins live in
``tests/plugins_for_tests.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from partygraph.testing import temporary_database


@pytest.fixture
def second_database_url(tmp_path: Path) -> Iterator[str]:
    """Another fresh, empty database (a second SQLite file or PostgreSQL schema)."""
    folder = tmp_path / "second-database"
    folder.mkdir()
    url, drop = temporary_database(folder)
    try:
        yield url
    finally:
        drop()
