"""How long the b2c plugin's population figures take.

Run ``python tests/benchmarks/b2c_metrics_benchmark.py``.

Generates a seeded world of N customers with purchases (some returned) through the public
bulk API, then times, on the same database:

- ``customers()``: every customer's lifetime value, order value, frequency and RFM scores
  in one SQL pass, and ``rfm()``;
- the same statement run raw (no Python around it), as the baseline;
- ``audience(category)``: the category audience, one statement;
- per-party reads: ``metrics`` (the RFM lookup warm) and ``roles``, p50 and p99.

Options: ``--customers 100000 --orders 5 --database sqlite:///path.db --repeat 3``.
Timing figures are for people to read; no test asserts them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import partygraph

CATEGORIES = ("shoes", "shirts", "toys", "books", "garden", "kitchen", "sport", "beauty")
PRICES = (4.99, 9.5, 12.0, 19.99, 35.25, 80.0, 129.0)


def world(customers: int, orders: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Persons, then their purchases (about *orders* each) and some returns."""
    rng = random.Random(seed)
    for index in range(customers):
        yield {"party": {"key": f"c{index}", "kind": "person", "name": f"Customer {index}"}}
    start = datetime(2023, 1, 1, tzinfo=UTC)
    number = 0
    for index in range(customers):
        for _ in range(rng.randint(1, 2 * orders - 1)):
            number += 1
            at = start + timedelta(minutes=rng.randrange(1_400_000))
            lines = [
                {"sku": f"S{rng.randrange(500)}", "category": rng.choice(CATEGORIES),
                 "quantity": rng.randint(1, 3), "unit_price": rng.choice(PRICES)}
                for _ in range(rng.randint(1, 3))
            ]  # fmt: skip
            participants = [{"party": f"c{index}", "role": "purchaser"}]
            if rng.random() < 0.2:
                participants.append({"party": f"c{rng.randrange(customers)}", "role": "consumer"})
            if participants[-1]["party"] == participants[0]["party"] and len(participants) == 2:
                participants.pop()
            payload = {"order_id": f"O{number}", "lines": lines}
            yield {"interaction": {"type": "purchase", "occurred_at": at.isoformat(),
                                   "participants": participants, "payload": payload}}  # fmt: skip
            if rng.random() < 0.08:
                yield {"interaction": {"type": "return",
                                       "occurred_at": (at + timedelta(days=3)).isoformat(),
                                       "participants": participants[:1],
                                       "payload": {"order_id": f"O{number}"}}}  # fmt: skip


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall-clock and CPU seconds of *repeat* runs, and the last result.

    CPU time (this process) is less disturbed by other work on a shared machine; SQLite
    runs in this process, so it counts the database's work too.
    """
    walls = []
    cpus = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        cpu = time.process_time()
        result = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls), statistics.median(cpus), result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=5, help="average orders per customer")
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-ingest", action="store_true", help="measure an existing --database as it is"
    )
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="b2c-bench-")
    url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
    config = {"database": {"url": url}, "plugins": {"enabled": ["b2c"]}}
    with partygraph.open(config) as toolkit:
        print(f"database: {toolkit.engine.url.render_as_string(hide_password=True)}")
        if not args.no_ingest:
            started = time.perf_counter()
            report = toolkit.write(world(args.customers, args.orders))
            ingest = time.perf_counter() - started
            created = dict(report.created)
            print(
                f"ingest: {created.get('party', 0)} parties, {created.get('interaction', 0)} "
                f"interactions in {ingest:.1f} s ({created.get('interaction', 0) / ingest:,.0f}/s)"
            )
        plugin = toolkit.plugin("b2c")
        as_of = "2026-01-01"
        seconds, cpu, rows = timed(lambda: plugin.customers(as_of), args.repeat)
        print(
            f"customers(): {len(rows):,} customers with CLV, AOV, frequency, RFM: "
            f"{seconds:.2f} s ({cpu:.2f} s CPU)"
        )
        seconds_rfm, cpu_rfm, scores = timed(lambda: plugin.rfm(as_of), args.repeat)
        print(f"rfm(): {len(scores):,} customers scored: {seconds_rfm:.2f} s ({cpu_rfm:.2f} s CPU)")
        statement = plugin.rfm_statement(as_of)

        def raw() -> int:
            with toolkit.engine.connect() as connection:
                return len(connection.execute(statement).all())

        seconds_raw, cpu_raw, count = timed(raw, args.repeat)
        print(
            f"the same SQL statement run raw: {count:,} rows: {seconds_raw:.2f} s "
            f"({cpu_raw:.2f} s CPU); customers() / raw = {seconds / seconds_raw:.2f} "
            f"({cpu / cpu_raw:.2f} by CPU)"
        )
        seconds_audience, cpu_audience, found = timed(
            lambda: plugin.audience("garden", as_of), args.repeat
        )
        print(
            f"audience('garden'): {len(found['parties']):,} shoppers: {seconds_audience:.2f} s "
            f"({cpu_audience:.2f} s CPU)"
        )
        rng = random.Random(3)
        keys = [f"c{rng.randrange(args.customers)}" for _ in range(300)]
        toolkit.metrics(keys[0], as_of=as_of)  # builds the day's RFM scoring once
        metric_times = []
        role_times = []
        for key in keys:
            started = time.perf_counter()
            toolkit.metrics(key, as_of=as_of)
            metric_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            toolkit.roles(key, as_of=as_of)
            role_times.append(time.perf_counter() - started)
        print(
            f"per party: metrics p50 {percentile(metric_times, 0.5) * 1e3:.2f} ms, "
            f"p99 {percentile(metric_times, 0.99) * 1e3:.2f} ms; roles p50 "
            f"{percentile(role_times, 0.5) * 1e3:.2f} ms, p99 "
            f"{percentile(role_times, 0.99) * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
