"""Crash safety: a bulk import killed with SIGKILL at random points loses nothing committed.

A worker process imports a set of JSON Lines files, one transaction each
(parties, and b2c purchases whose plugin writes derived rows). It is killed
with SIGKILL at a random moment, again and again. After each kill the SQLite
database passes ``PRAGMA integrity_check`` and ``foreign_key_check``, and
every file is either wholly there or wholly absent -- never half a file.
Finally the import is run again to the end: everything is there once, no
party or interaction duplicated.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import BUDGET, record_cases

WORKER = Path(__file__).with_name("reliability_worker.py")
CHUNKS = 6


def chunk_records(chunk: int, size: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for index in range(size):
        key = f"c{chunk}-p{index}"
        records.append({"party": {"key": key, "kind": "person", "attributes": {"chunk": chunk}}})
        if index % 4 == 0:
            line = {"sku": f"S{index}", "category": "home", "quantity": 1, "unit_price": 5.0}
            records.append(
                {
                    "interaction": {
                        "type": "purchase",
                        "key": f"o-{key}",
                        "occurred_at": "2026-02-01T10:00:00Z",
                        "participants": [{"party": key, "role": "purchaser"}],
                        "payload": {"order_id": f"o-{key}", "lines": [line]},
                    }
                }
            )
    return records


def chunk_state(database: Path, size: int) -> list[str]:
    """For each chunk: 'all', 'none' or a description of a partial write."""
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        states = []
        for chunk in range(CHUNKS):
            parties = connection.execute(
                "SELECT count(*) FROM party WHERE key LIKE ?", (f"c{chunk}-p%",)
            ).fetchone()[0]
            orders = connection.execute(
                "SELECT count(*) FROM interaction WHERE key LIKE ?", (f"o-c{chunk}-p%",)
            ).fetchone()[0]
            purchases = (size + 3) // 4
            if (parties, orders) == (size, purchases):
                states.append("all")
            elif (parties, orders) == (0, 0):
                states.append("none")
            else:
                states.append(f"partial: {parties} parties, {orders} orders")
        return states
    finally:
        connection.close()


@pytest.mark.slow
def test_killed_imports_leave_whole_files_or_nothing(
    tmp_path: Path, partygraph_database_url: str
) -> None:
    if not partygraph_database_url.startswith("sqlite"):
        pytest.skip("SQLite only: SIGKILL of the writer, then PRAGMA integrity_check on the file")
    database = Path(partygraph_database_url.removeprefix("sqlite:///"))
    config = tmp_path / "partygraph.json"
    settings = {"database": {"url": partygraph_database_url}, "plugins": {"enabled": ["b2c"]}}
    config.write_text(json.dumps({**settings, "import": {"batch_size": 100}}))
    size = max(10, BUDGET.crash_records // CHUNKS)
    files = []
    for chunk in range(CHUNKS):
        path = tmp_path / f"chunk-{chunk}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in chunk_records(chunk, size)))
        files.append(str(path))
    command = [sys.executable, str(WORKER), str(config), *files]
    rng = random.Random(7)
    mid_import = 0
    seen_states: set[str] = set()
    for _ in range(BUDGET.crash_kills):
        worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert worker.stdout is not None
        first = worker.stdout.readline()  # the first file is committed: the worker is importing
        time.sleep(rng.uniform(0.0, 0.5))
        finished = worker.poll() is not None
        if not finished:
            os.kill(worker.pid, signal.SIGKILL)
            mid_import += 1
        worker.communicate(timeout=60)
        states = chunk_state(database, size)
        assert all(state in ("all", "none") for state in states), states
        assert first.strip() == b"done 1" or finished
        seen_states.update(states)
    assert mid_import >= 1  # at least one kill landed while files were still being imported
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert chunk_state(database, size) == ["all"] * CHUNKS
    connection = sqlite3.connect(database)
    try:
        duplicates = connection.execute(
            "SELECT count(*) - count(DISTINCT key) FROM party"
        ).fetchone()[0]
        orders = connection.execute("SELECT count(*) FROM interaction").fetchone()[0]
    finally:
        connection.close()
    assert duplicates == 0
    assert orders == CHUNKS * ((size + 3) // 4)
    record_cases("crash: SIGKILL during imports", BUDGET.crash_kills, BUDGET.crash_kills)
