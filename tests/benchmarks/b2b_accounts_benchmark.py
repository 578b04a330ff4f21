"""How long the b2b plugin's account analytics take.

Run ``python tests/benchmarks/b2b_accounts_benchmark.py``.

Generates a seeded world through the public bulk API: N accounts (every tenth the
parent of the next nine), 20 stakeholders each (committee role, job at the account),
a deal per account and 10 touchpoints per account over the last 400 days (1 to 4
stakeholders each, half of them naming the account). Then times, on the same database,
the population figures -- ``coverage()``, ``scores()``, ``single_threaded()`` --
in wall-clock and CPU seconds, and one account's 360-degree view.

Options: ``--accounts 10000 --database sqlite:///path.db --repeat 2``. A database that
already holds parties is reused as it is (loading 10,000 accounts takes minutes).
Timing figures are for people to read; no test asserts them.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import partygraph

STAKEHOLDERS = 20
ROLES = (
    "economic_buyer", "decision_maker", "technical_evaluator", "end_user", "end_user",
    "end_user", "end_user", "end_user", "end_user", "end_user", "champion", "influencer",
    "procurement", "legal", "executive_sponsor", "end_user", "end_user", "technical_evaluator",
    "end_user", "end_user",
)  # fmt: skip
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def world(accounts: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Accounts, their committees, jobs, deals and touchpoints."""
    rng = random.Random(seed)
    for a in range(accounts):
        account = f"acct-{a}"
        yield {
            "party": {
                "key": account,
                "kind": "organization",
                "name": f"Account {a}",
                "attributes": {"employees": rng.randint(10, 10_000)},
            }
        }
        if a % 10:
            yield {
                "relationship": {
                    "type": "subsidiary_of",
                    "source": account,
                    "target": f"acct-{a - a % 10}",
                    "valid_from": "2020-01-01",
                }
            }
        for s in range(STAKEHOLDERS):
            person = f"p-{a}-{s}"
            yield {
                "party": {
                    "key": person,
                    "kind": "person",
                    "name": f"Person {a}/{s}",
                    "attributes": {"email": f"{person}@example.org"},
                }
            }
            yield {
                "relationship": {
                    "type": "stakeholder_of",
                    "source": person,
                    "target": account,
                    "role": ROLES[s],
                    "valid_from": "2025-01-01",
                }
            }
            yield {
                "relationship": {
                    "type": "works_at",
                    "source": person,
                    "target": account,
                    "valid_from": "2020-01-01",
                    "attributes": {"title": "Staff"},
                }
            }
        yield {
            "deal": {
                "key": f"deal-{a}",
                "account": account,
                "stage": "proposal",
                "amount": 1000.0 * (a % 97),
                "status": "won" if a % 3 == 0 else "open",
                "at": "2026-01-15",
            }
        }
        for i in range(10):
            when = AS_OF - timedelta(days=rng.randint(1, 400), hours=rng.randint(0, 23))
            kind = rng.choice(["meeting", "email", "demo"])
            role = "recipient" if kind == "email" else "attendee"
            people = rng.sample(range(STAKEHOLDERS), rng.randint(1, 4))
            participants = [{"party": f"p-{a}-{s}", "role": role} for s in people]
            if i % 2 == 0:
                participants.append({"party": account, "role": "account"})
            yield {
                "interaction": {
                    "type": kind,
                    "occurred_at": when.isoformat(),
                    "participants": participants,
                }
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temp file)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'b2b-bench.db'}"
    config = {"database": {"url": url}, "plugins": {"enabled": ["b2b"]}}
    with partygraph.open(config) as toolkit:
        with toolkit.engine.connect() as connection:
            existing = connection.exec_driver_sql("SELECT count(*) FROM party").scalar()
        if not existing:
            start = time.perf_counter()
            report = toolkit.write(world(args.accounts), batch_size=20_000)
            print(f"loaded {report.written} records in {time.perf_counter() - start:.0f} s")
        with toolkit.engine.connect() as connection:
            counts = {
                table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                for table in ("party", "relationship", "interaction", "participant", "b2b_deal")
            }
        print("rows:", counts)
        b2b = toolkit.plugin("b2b")
        for name in ("coverage", "scores", "single_threaded"):
            for _ in range(args.repeat):
                start, cpu = time.perf_counter(), time.process_time()
                result = getattr(b2b, name)(AS_OF)
                print(
                    f"{name}(): {len(result)} entries in {time.perf_counter() - start:.2f} s "
                    f"(CPU {time.process_time() - cpu:.2f} s)"
                )
        start = time.perf_counter()
        toolkit.view("acct-10", as_of=AS_OF)
        print(f"view of one account (9 subsidiaries): {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
