"""Measure earnings and incentives over a large ride-sharing population (not a test).

    python tests/benchmarks/marketplace_benchmark.py [--drivers 10000] [--trips 1000000]
        [--riders 50000] [--weeks 8] [--database sqlite:///bench.db]

Loads the world through the public write path (``toolkit.write``: validation,
the plugin's membership checks, the core's bulk insert), then times the
population analytics the issue asks for: weekly and monthly earnings of every
driver over every trip, and every incentive program for every week.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import partygraph

ZONES = [f"zone-{n:02d}" for n in range(40)]
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def world(drivers: int, riders: int, trips: int, weeks: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)
    yield {"party": {"key": "rideco", "kind": "platform", "name": "RideCo"}}
    for n in range(drivers):
        yield {"party": {"key": f"d{n}", "kind": "person"}}
        yield {
            "relationship": {
                "type": "side_of",
                "source": f"d{n}",
                "target": "rideco",
                "role": "driver",
                "attributes": {"status": "active"},
                "valid_from": "2025-12-01",
            }
        }
    for n in range(riders):
        yield {"party": {"key": f"r{n}", "kind": "person"}}
        yield {
            "relationship": {
                "type": "side_of",
                "source": f"r{n}",
                "target": "rideco",
                "role": "rider",
                "attributes": {"status": "active"},
                "valid_from": "2025-12-01",
            }
        }
    span = weeks * 7 * 24 * 3600
    for _ in range(trips):
        at = START + timedelta(seconds=rng.randrange(span))
        yield {
            "interaction": {
                "type": "trip",
                "occurred_at": at.isoformat(),
                "participants": [
                    {"party": f"r{rng.randrange(riders)}", "role": "rider"},
                    {"party": f"d{rng.randrange(drivers)}", "role": "driver"},
                ],
                "payload": {
                    "fare": round(rng.uniform(5, 60), 2),
                    "tip": round(rng.choice([0, 0, 0, 1, 2, 5]), 2),
                    "pickup_zone": rng.choice(ZONES),
                    "dropoff_zone": rng.choice(ZONES),
                    "distance_km": round(rng.uniform(1, 30), 1),
                    "ratings": {"rider": rng.choice([4, 5, 5, 5]), "driver": 5},
                },
            }
        }


def timed(label: str, fn: Any) -> Any:
    started = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - started:.2f} s", flush=True)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drivers", type=int, default=10_000)
    parser.add_argument("--riders", type=int, default=50_000)
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--database", default=None)
    parser.add_argument("--skip-load", action="store_true", help="Reuse a loaded database.")
    args = parser.parse_args(argv)
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    config = {
        "database": {"url": url},
        "plugins": {
            "enabled": ["marketplace"],
            "marketplace": {
                "zones": ZONES,
                "incentives": [
                    {
                        "name": "weekly-quest",
                        "min_trips": 14,
                        "min_average_rating": 4.7,
                        "bonus": 100,
                    },
                    {"name": "monthly-pro", "period": "month", "min_trips": 60, "bonus": 250},
                ],
            },
        },
    }
    with partygraph.open(config) as toolkit:
        if not args.skip_load:
            report = timed(
                f"load {args.drivers} drivers, {args.riders} riders, {args.trips} trips",
                lambda: toolkit.write(world(args.drivers, args.riders, args.trips, args.weeks)),
            )
            print(f"  written: {report.written}")
        plugin = toolkit.plugin("marketplace")
        until = START + timedelta(weeks=args.weeks)
        weekly = timed(
            "earnings of every driver, per week, over every trip",
            lambda: plugin.earnings(period="week", until=until),
        )
        monthly = timed(
            "earnings of every driver, per month, over every trip",
            lambda: plugin.earnings(period="month", until=until),
        )
        print(f"  {len(weekly)} weekly and {len(monthly)} monthly statements")
        total = sum(row["trips"] for row in weekly)
        print(f"  trips counted: {total}")

        def every_week() -> int:
            rows = 0
            for week in range(args.weeks):
                rows += len(plugin.incentives(START + timedelta(weeks=week, days=3)))
            return rows

        rows = timed(f"every incentive program for each of {args.weeks} weeks", every_week)
        print(f"  {rows} program evaluations")
        timed("one driver's statement", lambda: plugin.earnings("d1", until=until))
        timed("churn risk", lambda: plugin.churn_risk(until))
        timed("supply and demand, 28 days", lambda: plugin.supply_demand(until=until))
        timed("rider retention, 6 months", lambda: plugin.retention(until))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
