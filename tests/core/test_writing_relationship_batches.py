"""Relationships written in one batch give exactly what writing them one by one gives.

The bulk path inserts independent relationships together and sends the rest
(same identity, a shared cardinality anchor, a stored link) one by one; the
property below checks that rows, histories and rejections never depend on
how the records were batched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import partygraph
from partygraph import Toolkit
from partygraph.testing import temporary_database
from plugins_for_tests import Basics

PEOPLE = ["p0", "p1", "p2", "p3"]
PARTIES = [
    *({"party": {"key": key, "kind": "person"}} for key in PEOPLE),
    {"party": {"key": "h0", "kind": "household"}},
    {"party": {"key": "h1", "kind": "household"}},
    {"party": {"key": "d0", "kind": "department"}},
    {"party": {"key": "o0", "kind": "organization"}},
]
DATES = [None, "2025-01-01", "2025-03-01", "2025-06-01"]


@st.composite
def relationship(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["member_of", "manages", "works_for"]))
    body: dict[str, Any] = {"type": kind, "source": draw(st.sampled_from(PEOPLE))}
    if kind == "member_of":
        body["target"] = draw(st.sampled_from(["h0", "h1"]))
        body["role"] = draw(st.sampled_from(["head", "head", "partner"]))
    else:
        body["target"] = "d0" if kind == "manages" else "o0"
    start = draw(st.sampled_from(DATES))
    if start is not None:
        body["valid_from"] = start
        if draw(st.booleans()) and start != DATES[-1]:
            body["valid_to"] = DATES[DATES.index(start) + 1]
    if kind == "works_for" and draw(st.booleans()):
        body["attributes"] = {"title": draw(st.sampled_from(["a", "b"]))}
    return {"relationship": body}


@pytest.fixture
def pair(make_toolkit: Callable[..., Toolkit], tmp_path: Path) -> Iterator[tuple[Toolkit, Toolkit]]:
    """Two toolkits with the same plugin on two databases."""
    batched = make_toolkit(plugins={"basics": Basics})
    url, drop = temporary_database(tmp_path / "one-by-one")
    (tmp_path / "one-by-one").mkdir(exist_ok=True)
    single = partygraph.open(
        {"database": {"url": url}, "plugins": {"enabled": ["basics"]}}, plugins={"basics": Basics}
    )
    try:
        for toolkit in (batched, single):
            toolkit.write(PARTIES)
        yield batched, single
    finally:
        single.close()
        drop()


def stored(toolkit: Toolkit) -> list[tuple[Any, ...]]:
    """Every relationship row in creation order, ids left out (they differ in value only)."""
    query = (
        "SELECT s.key, t.key, r.type, r.role, r.valid_from, r.valid_to, r.attributes "
        "FROM relationship r JOIN party s ON s.id = r.source_id "
        "JOIN party t ON t.id = r.target_id ORDER BY r.id"
    )
    with toolkit.engine.connect() as connection:
        return [tuple(str(value) for value in row) for row in connection.exec_driver_sql(query)]


@settings(
    max_examples=30,
    deadline=None,
    database=None,  # keeps no example database (a .hypothesis folder) in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(records=st.lists(relationship(), min_size=1, max_size=12))
def test_a_batch_writes_what_one_by_one_writes(
    pair: tuple[Toolkit, Toolkit], records: list[dict[str, Any]]
) -> None:
    batched, single = pair
    for toolkit in pair:
        with toolkit.transaction() as connection:
            connection.exec_driver_sql("DELETE FROM relationship")
    report = batched.write(records, skip_invalid=True)
    rejected_in_batch = [(item.line, item.reason) for item in report.rejected]
    rejected_alone = []
    for line, record in enumerate(records, start=1):
        alone = single.write([record], skip_invalid=True)
        rejected_alone += [(line, item.reason) for item in alone.rejected]
    assert rejected_in_batch == rejected_alone
    assert stored(batched) == stored(single)
