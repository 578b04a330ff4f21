"""The bulk insert path (COPY on PostgreSQL, driver executemany elsewhere) keeps every value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import partygraph.toolkit
from partygraph import Interaction, Participant, Party, Toolkit
from plugins_for_tests import Basics

AWKWARD = ["tab\there", "line\nbreak", "back\\slash", 'quote"s', "é ü 中文 🎉", "\\N", ""]


def test_a_large_batch_reads_back_exactly(make_toolkit: Any) -> None:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics})
    toolkit.write([Party("ann", "person"), Party("bob", "person")])
    start = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    written = [
        Interaction(
            "meeting",
            start + timedelta(minutes=index),
            (Participant("ann", "attendee"), Participant("bob", "attendee")),
            {"note": AWKWARD[index % len(AWKWARD)], "n": index, "nested": {"list": [1.5, None]}},
            key=None if index % 3 else f"k\t{index}",
        )
        for index in range(150)
    ]
    report = toolkit.write(written)
    assert report.created["interaction"] == 150
    found = toolkit.interactions("ann", limit=200)
    assert len(found) == 150
    by_time = {item.occurred_at: item for item in found}
    for original in written:
        stored = by_time[original.occurred_at]
        assert stored.payload == original.payload
        assert stored.key == original.key
        assert sorted(p.role for p in stored.participants) == ["attendee", "attendee"]


def test_a_large_write_gives_sqlite_planner_statistics(
    make_toolkit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics})
    if toolkit.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    monkeypatch.setattr(partygraph.toolkit, "ANALYZE_AFTER_ROWS", 50)
    toolkit.write([Party(f"p{index}", "person") for index in range(10)])
    with toolkit.engine.connect() as connection:
        assert not connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).all()
    toolkit.write([Party(f"q{index}", "person") for index in range(60)])
    with toolkit.engine.connect() as connection:
        tables = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert "party" in tables
