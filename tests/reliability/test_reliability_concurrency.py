"""Concurrent writers: no lost update, no duplicate party, no "database is locked".

- SQLite: four processes import overlapping keys into one database file (WAL)
  at the same time, each file a transaction of its own.
- Any backend (eight threads are the point on PostgreSQL, where the write
  transactions really overlap): eight threads update the same parties and
  record interactions through one toolkit.

Each writer sets an attribute of its own on every shared party, so a lost
update shows as a missing or stale attribute. A transaction that loses a race
is retried whole (``partygraph.storage.retry``); the retry itself is shown
deterministically with a write lock held by another connection.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reliability_support import BUDGET, record_cases

import partygraph
from partygraph import RecordsRejected, StorageError, Toolkit
from partygraph.storage.retry import RetryPolicy, is_transient, run_with_retry
from partygraph.storage.tables import interaction_table, party_table
from plugins_for_tests import Basics

SHARED = [f"shared-{index}" for index in range(8)]
WORKER = Path(__file__).with_name("reliability_worker.py")


def purchase(key: str, party: str, day: int) -> dict[str, Any]:
    line = {"sku": "S1", "category": "home", "quantity": 1, "unit_price": 9.5}
    return {
        "interaction": {
            "type": "purchase",
            "key": key,
            "occurred_at": f"2026-01-{day:02d}T10:00:00Z",
            "participants": [{"party": party, "role": "purchaser"}],
            "payload": {"order_id": key, "currency": "EUR", "lines": [line]},
        }
    }


def writes(writer: str, round_: int) -> list[dict[str, Any]]:
    """One write of one writer: every shared party updated, one new interaction."""
    records: list[dict[str, Any]] = [
        {"party": {"key": key, "kind": "person", "attributes": {writer: round_}}} for key in SHARED
    ]
    records.append(purchase(f"{writer}-{round_}", SHARED[round_ % len(SHARED)], 1 + round_ % 28))
    return records


def check_outcome(toolkit: Toolkit, writers: list[str], rounds: int) -> None:
    with toolkit.engine.connect() as connection:
        keys = connection.execute(sa.select(party_table.c.key)).scalars().all()
        interactions = connection.execute(sa.select(interaction_table.c.key)).scalars().all()
    assert sorted(keys) == sorted(SHARED)  # no duplicate party, none missing
    expected = {f"{writer}-{number}" for writer in writers for number in range(rounds)}
    assert sorted(interactions) == sorted(expected)  # each exactly once
    for key in SHARED:
        attributes = toolkit.party(key).attributes
        assert {writer: attributes.get(writer) for writer in writers} == dict.fromkeys(
            writers, rounds - 1
        ), key  # every writer's last update is there: none was lost


@pytest.mark.slow
def test_four_processes_import_overlapping_keys_into_one_sqlite_file(
    tmp_path: Path, partygraph_database_url: str
) -> None:
    if not partygraph_database_url.startswith("sqlite"):
        pytest.skip("SQLite only: four processes sharing one database file in WAL mode")
    config = tmp_path / "partygraph.json"
    settings = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": ["b2c"]}}
    config.write_text(json.dumps(settings))
    with partygraph.open(config):
        pass  # create the tables once, as 'partygraph db upgrade' would
    writers = [f"process{number}" for number in range(4)]
    rounds = BUDGET.writers
    processes = []
    for writer in writers:
        files = []
        for number in range(rounds):
            path = tmp_path / f"{writer}-{number}.jsonl"
            path.write_text("".join(json.dumps(record) + "\n" for record in writes(writer, number)))
            files.append(str(path))
        command = [sys.executable, str(WORKER), str(config), *files]
        processes.append(
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "locked" not in err
        assert out.split() == [part for n in range(rounds) for part in ("done", str(n + 1))]
    with partygraph.open(config) as toolkit:
        check_outcome(toolkit, writers, rounds)
    record_cases("concurrency: 4 SQLite processes, imports", 4 * rounds, 4 * rounds)


def run_together(writers: list[str], rounds: int, write: Callable[[str, int], Any]) -> None:
    """Each writer's *rounds* writes in a thread of its own, all started at once."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(writers))

    def work(writer: str) -> None:
        try:
            start.wait()
            for number in range(rounds):
                write(writer, number)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_eight_threads_write_the_same_parties(make_toolkit: Any) -> None:
    toolkit: Toolkit = make_toolkit(enabled=["b2c"])
    writers = [f"thread{number}" for number in range(8)]
    rounds = BUDGET.writers
    run_together(writers, rounds, lambda writer, number: toolkit.write(writes(writer, number)))
    check_outcome(toolkit, writers, rounds)
    backend = toolkit.engine.dialect.name
    record_cases(f"concurrency: 8 threads on {backend}", 8 * rounds, 8 * rounds)


def test_eight_threads_merge_attributes_into_one_relationship(make_toolkit: Any) -> None:
    """Each writer sets its own attribute on the same link: every last value is kept."""
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics()})
    link = {"type": "knows", "source": "ann", "target": "bob", "valid_from": "2026-01-01"}
    toolkit.write(
        [
            {"party": {"key": "ann", "kind": "person"}},
            {"party": {"key": "bob", "kind": "person"}},
            {"relationship": dict(link)},
        ]
    )
    writers = [f"thread{number}" for number in range(8)]
    rounds = BUDGET.writers

    def merge(writer: str, number: int) -> None:
        toolkit.write([{"relationship": {**link, "attributes": {writer: number}}}])

    run_together(writers, rounds, merge)
    (found,) = toolkit.relationships("ann")
    assert found.relationship.attributes == dict.fromkeys(writers, rounds - 1)
    backend = toolkit.engine.dialect.name
    record_cases(f"concurrency: 8 threads merging one link on {backend}", 8 * rounds, 8 * rounds)


def test_eight_threads_adding_a_link_with_a_limit_of_one_leave_one(make_toolkit: Any) -> None:
    """``manages`` allows one manager per department: of eight racing writers, one wins."""
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics()})
    writers = [f"manager{number}" for number in range(8)]
    toolkit.write(
        [
            {"party": {"key": "dept", "kind": "department"}},
            *({"party": {"key": key, "kind": "person"}} for key in writers),
        ]
    )
    won: list[str] = []

    def claim(writer: str, _number: int) -> None:
        link = {"type": "manages", "source": writer, "target": "dept", "valid_from": "2026-01-01"}
        try:
            toolkit.write([{"relationship": link}])
        except RecordsRejected:
            return  # refused: the department has its manager
        won.append(writer)

    run_together(writers, 1, claim)
    managers = [found for found in toolkit.relationships("dept") if found.current]
    assert len(won) == 1
    assert [found.relationship.source for found in managers] == [toolkit.party(won[0]).id]
    backend = toolkit.engine.dialect.name
    record_cases(f"concurrency: 8 threads racing for one manages link on {backend}", 8, 8)


# -- the retry, shown deterministically -----------------------------------------------------------


def locked_error(path: Path) -> sa.exc.OperationalError:
    """A real 'database is locked' from SQLite, raised through SQLAlchemy."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    except sa.exc.OperationalError as error:
        return error
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    raise AssertionError("the second writer was not locked out")


def test_what_counts_as_a_lost_race(tmp_path: Path) -> None:
    assert is_transient(locked_error(tmp_path / "locked.db"))
    assert not is_transient(ValueError("database is locked"))  # not from a driver
    assert not is_transient(sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("x")))


def test_a_transaction_that_lost_a_race_is_run_again_until_it_wins() -> None:
    waits: list[float] = []
    attempts: list[int] = []
    lost = sa.exc.OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))

    def attempt() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise lost
        return "committed"

    policy = RetryPolicy(attempts=5, first_delay=0.01, max_delay=0.03, sleep=waits.append)
    assert run_with_retry(attempt, policy) == "committed"
    assert attempts == [1, 2, 3]
    assert len(waits) == 2
    assert 0.005 <= waits[0] <= 0.01  # half to all of first_delay
    assert 0.01 <= waits[1] <= 0.02  # doubled

    def always_lost() -> str:
        attempts.append(len(attempts) + 1)
        raise lost

    attempts.clear()
    with pytest.raises(sa.exc.OperationalError):
        run_with_retry(always_lost, policy)
    assert attempts == [1, 2, 3, 4, 5]  # bounded
    attempts.clear()
    with pytest.raises(sa.exc.OperationalError):  # input already consumed: never retried
        run_with_retry(always_lost, policy, can_retry=lambda: False)
    assert attempts == [1]


def test_a_write_waits_out_a_lock_held_by_another_connection(
    make_toolkit: Any, partygraph_database_url: str, tmp_path: Path
) -> None:
    if not partygraph_database_url.startswith("sqlite"):
        pytest.skip("SQLite only: the lock is SQLite's database write lock")
    path = Path(partygraph_database_url.removeprefix("sqlite:///"))
    engine = sa.create_engine(partygraph_database_url)
    toolkit: Toolkit = make_toolkit()
    toolkit.close()
    toolkit = partygraph.open({"database": {"url": partygraph_database_url}}, engine=engine)
    sa.event.listen(
        engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=0")
    )
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    released: list[float] = []

    def release(delay: float) -> None:
        released.append(delay)
        if holder.in_transaction:
            holder.rollback()

    toolkit.retry_policy = RetryPolicy(sleep=release)
    try:
        toolkit.write([{"party": {"key": "patient", "kind": "person"}}])
        assert len(released) == 1  # failed once on the lock, then succeeded
        assert toolkit.party("patient").key == "patient"
        holder.execute("BEGIN IMMEDIATE")
        toolkit.retry_policy = RetryPolicy(attempts=3, sleep=lambda _: None)
        with pytest.raises(StorageError, match="database error: database is locked"):
            toolkit.write([{"party": {"key": "impatient", "kind": "person"}}])
    finally:
        if holder.in_transaction:
            holder.rollback()
        holder.close()
        toolkit.close()
        engine.dispose()
