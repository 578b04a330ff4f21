"""Prepared statements: the same answers as SQLAlchemy's own path, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    cast,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from partygraph.storage.engine import create_engine_for
from partygraph.storage.prepared import MAX_BOUND, Prepared, bind_ids, bucketed, ids_in

metadata = MetaData()
sample = Table(
    "prepared_sample",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True),
    Column("at", DateTime),
    Column("data", JSON),
    Column("amount", Numeric(10, 2)),
    Column("ratio", Float),
)

by_name = Prepared(
    select(sample.c.id, sample.c.at, sample.c.data).where(sample.c.name == bindparam("name"))
)
since = Prepared(
    select(sample.c.name, func.count().label("n"))
    .where(sample.c.at >= bindparam("since"), sample.c.name != "skipped")
    .group_by(sample.c.name)
    .order_by(sample.c.name)
)
add = Prepared(insert(sample))


@pytest.fixture
def engine(partygraph_database_url: str) -> Iterator[Engine]:
    engine = create_engine_for(partygraph_database_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def _fill(engine: Engine) -> None:
    with engine.begin() as connection:
        for number, name in enumerate(["ann", "bob", "skipped"], start=1):
            add.execute(
                connection,
                {
                    "id": number,
                    "name": name,
                    "at": datetime(2026, 1, number, 12, 30),
                    "data": {"n": number, "tags": [name]},
                    "amount": Decimal(number) / 4,
                    "ratio": number / 8,
                },
            )


def test_rows_convert_dates_and_json_like_sqlalchemy(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as connection:
        row = by_name.first(connection, {"name": "bob"})
        expected = connection.execute(by_name.statement, {"name": "bob"}).one()
    assert row == tuple(expected)
    assert row.at == datetime(2026, 1, 2, 12, 30)
    assert row.data == {"n": 2, "tags": ["bob"]}
    assert row.id == row[0] == 2


def test_numbers_convert_like_sqlalchemy(engine: Engine) -> None:
    _fill(engine)
    money = Prepared(
        select(sample.c.amount, sample.c.ratio, func.sum(sample.c.amount).label("total"))
        .where(sample.c.name == bindparam("name"))
        .group_by(sample.c.amount, sample.c.ratio)
    )
    with engine.connect() as connection:
        row = money.first(connection, {"name": "bob"})
        expected = connection.execute(money.statement, {"name": "bob"}).one()
    assert row == tuple(expected)
    assert row.amount == Decimal("0.50")
    assert isinstance(row.amount, Decimal)
    assert row.ratio == 0.25


def test_literal_values_in_the_statement_are_bound(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as connection:
        found = since.rows(connection, {"since": datetime(2026, 1, 1)})
    assert [(row.name, row.n) for row in found] == [("ann", 1), ("bob", 1)]


def test_missing_row_and_scalar(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as connection:
        assert by_name.first(connection, {"name": "nobody"}) is None
        assert by_name.scalar(connection, {"name": "ann"}) == 1


def test_driver_errors_are_sqlalchemy_errors_and_roll_back(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as connection:
        transaction = connection.begin()
        add.execute(connection, {"id": 10, "name": "new"})
        with pytest.raises(IntegrityError):
            add.execute(connection, {"id": 11, "name": "ann"})
        transaction.rollback()
    with engine.connect() as connection:
        assert by_name.first(connection, {"name": "new"}) is None


def test_listeners_see_every_statement(engine: Engine) -> None:
    _fill(engine)
    seen: list[str] = []

    def capture(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as connection:
            row = by_name.first(connection, {"name": "ann"})
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert row is not None
    assert row.id == 1
    assert any("prepared_sample" in text for text in seen)


def test_expanding_parameters_take_the_ordinary_path(engine: Engine) -> None:
    _fill(engine)
    among = Prepared(
        select(sample.c.name)
        .where(sample.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(sample.c.name)
    )
    with engine.connect() as connection:
        assert [row.name for row in among.rows(connection, {"ids": [1, 3]})] == ["ann", "skipped"]


def test_textual_statements_name_their_columns_from_the_driver(engine: Engine) -> None:
    _fill(engine)
    counted = Prepared(text("SELECT count(*) AS n, max(id) AS top FROM prepared_sample"))
    with engine.connect() as connection:
        row = counted.first(connection)
    assert (row.n, row.top) == (3, 3)


def test_float_results_read_like_sqlalchemy_on_both_backends(engine: Engine) -> None:
    # PostgreSQL's float conversion depends on the column type the driver reports:
    # it is settled at the first run.
    _fill(engine)
    scores = Prepared(
        select(sample.c.name, (cast(sample.c.id, Float) / 2).label("half"))
        .where(sample.c.name != "skipped")
        .order_by(sample.c.name)
    )
    with engine.connect() as connection:
        found = scores.rows(connection)
        expected = list(connection.execute(scores.statement))
    assert [tuple(row) for row in found] == [tuple(row) for row in expected]
    assert [(row.name, row.half) for row in found] == [("ann", 0.5), ("bob", 1.0)]


def test_id_lists_bind_in_power_of_two_shapes() -> None:
    assert bucketed([5, 6, 7]) == [(4, {"id0": 5, "id1": 6, "id2": 7, "id3": 7})]
    assert [size for size, _ in bucketed(list(range(300)))] == [256, 64]
    params: dict[str, Any] = {}
    assert bind_ids(params, "ids", [1, 2, 3]) == 4
    assert params == {"ids_0": 1, "ids_1": 2, "ids_2": 3, "ids_3": 3}
    long: dict[str, Any] = {}
    assert bind_ids(long, "ids", list(range(MAX_BOUND + 1))) == 0
    assert long == {"ids": list(range(MAX_BOUND + 1))}


def test_bound_and_expanding_id_lists_select_the_same_rows(engine: Engine) -> None:
    _fill(engine)
    found = []
    for ids in ([1, 3], list(range(1, MAX_BOUND + 2))):
        params: dict[str, Any] = {}
        shape = bind_ids(params, "ids", ids)
        among = Prepared(select(sample.c.name).where(ids_in(sample.c.id, "ids", shape)))
        with engine.connect() as connection:
            found.append(sorted(row.name for row in among.rows(connection, params)))
    assert found == [["ann", "skipped"], ["ann", "bob", "skipped"]]
