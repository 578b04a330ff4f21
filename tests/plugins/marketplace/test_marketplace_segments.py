"""The marketplace plugin's segment SQL answers exactly what its Python roles and figures say."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace_world import party, stage, trip

from partygraph import Toolkit

INCENTIVES = {
    "incentives": [
        {"name": "weekly-ten", "side": "driver", "period": "week", "min_trips": 6, "bonus": 50},
        {"name": "month-30", "side": "driver", "period": "month", "min_trips": 14, "bonus": 200},
    ]
}
DATES = ("2026-02-18T12:00:00Z", "2026-04-09T00:00:00Z", "2026-06-20T08:30:00Z")
LIFECYCLES = (
    ("active",),
    ("applied", "onboarding", "active"),
    ("applied", "onboarding"),
    ("active", "suspended", "active"),
    ("active", "suspended"),
    ("active", "churned"),
    ("active", "churned", "active"),
)


def _day(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _world(toolkit: Toolkit, seed: int = 9) -> tuple[list[str], list[tuple[str, datetime]]]:
    """Thirty people riding and driving through lifecycles; trips, some cancelled."""
    rng = random.Random(seed)
    people = [f"m{index:02d}" for index in range(30)]
    records: list[dict[str, Any]] = [party("rideco", "platform", "RideCo")]
    records += [party(key) for key in people]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    timeline: dict[tuple[str, str], list[tuple[datetime, str]]] = {}
    for key in people:
        for side in ("rider", "driver"):
            if rng.random() < 0.3:
                continue
            when = start + timedelta(days=rng.uniform(0, 60))
            for status in rng.choice(LIFECYCLES):
                records.append(stage(key, side, status, _day(when)))
                timeline.setdefault((key, side), []).append((when, status))
                when += timedelta(days=rng.uniform(5, 60))
    toolkit.write(records)

    def active(side: str, at: datetime) -> list[str]:
        found = []
        for (key, on), stages in timeline.items():
            now = [status for began, status in stages if began <= at]
            if on == side and now and now[-1] == "active":
                found.append(key)
        return found

    trips = []
    driven: list[tuple[str, datetime]] = []
    for _ in range(400):
        when = start + timedelta(days=rng.uniform(0, 175), hours=rng.uniform(0, 24))
        riders, drivers = active("rider", when), active("driver", when)[:6]
        if not riders or not drivers:
            continue
        rider, driver = rng.choice(riders), rng.choice(drivers)
        if rider == driver:
            continue
        status = "completed" if rng.random() < 0.9 else "cancelled"
        trips.append(trip(_day(when), rider, driver, status=status))
        if status == "completed":
            driven.append((driver, when))
    toolkit.write(trips)
    return people, driven


def _sql(toolkit: Toolkit, where: dict[str, Any], as_of: str) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_side_roles_in_sql_match_the_plugins_roles(
    marketplace: Callable[..., Toolkit],
) -> None:
    toolkit = marketplace(INCENTIVES)
    people, _ = _world(toolkit)
    for as_of in DATES:
        python: dict[str, set[str]] = {"rider": set(), "driver": set()}
        for key in people:
            for found in toolkit.roles(key, as_of=as_of):
                if found.plugin == "marketplace":
                    assert found.context is not None
                    assert found.context.key == "rideco"
                    python[found.role].add(key)
        for role, want in python.items():
            assert want, (role, as_of)
            assert _sql(toolkit, {"role": role}, as_of) == want, (role, as_of)
            of = {"kind": "platform"}
            assert _sql(toolkit, {"role": role, "of": of}, as_of) == want
            assert _sql(toolkit, {"role": role, "of": {"kind": "person"}}, as_of) == set()


def test_transactions_match_the_plugins_figures(marketplace: Callable[..., Toolkit]) -> None:
    toolkit = marketplace(INCENTIVES)
    people, _ = _world(toolkit)
    as_of = DATES[1]
    figures = {key: dict(toolkit.metrics(key, as_of).get("marketplace") or {}) for key in people}
    for side in ("rider", "driver"):
        counts = {k: f[f"{side}.trips"] for k, f in figures.items() if f"{side}.trips" in f}
        for least in (0, 5):
            want = {key for key, value in counts.items() if value >= least}
            where = {"metric": f"marketplace.{side}_trips", "op": ">=", "value": least}
            assert _sql(toolkit, where, as_of) == want, (side, least)


def test_drivers_near_an_incentive_match_a_count_of_their_trips(
    marketplace: Callable[..., Toolkit],
) -> None:
    toolkit = marketplace(INCENTIVES)
    _, driven = _world(toolkit)
    seen: set[str] = set()
    for as_of in DATES:
        moment = datetime.fromisoformat(as_of)
        week = (moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0)
        month = moment.replace(day=1, hour=0, minute=0, second=0)

        def trips(key: str, since: datetime, at: datetime = moment) -> int:
            return sum(1 for who, when in driven if who == key and since <= when <= at)

        drivers = {who for who, _ in driven}
        weekly = {k: 6 - trips(k, week) for k in drivers if trips(k, week)}
        monthly = {k: 14 - trips(k, month) for k in drivers if trips(k, month)}
        for within in (1, 3):
            near_week = {k for k, short in weekly.items() if 1 <= short <= within}
            near_month = {k for k, short in monthly.items() if 1 <= short <= within}
            where: dict[str, Any] = {
                "predicate": "marketplace.near_incentive",
                "params": {"program": "weekly-ten", "within": within},
            }
            assert _sql(toolkit, where, as_of) == near_week, (as_of, within)
            where = {"predicate": "marketplace.near_incentive", "params": {"within": within}}
            assert _sql(toolkit, where, as_of) == near_week | near_month, (as_of, within)
            seen |= near_week | near_month
        where = {"metric": "marketplace.month_30_remaining", "op": "<=", "value": 8}
        assert _sql(toolkit, where, as_of) == {
            k for k, short in monthly.items() if max(short, 0) <= 8
        }
    assert len(seen) >= 3


def test_churn_risk_matches_the_plugins_report(marketplace: Callable[..., Toolkit]) -> None:
    toolkit = marketplace(INCENTIVES)
    _world(toolkit)
    plugin: Any = toolkit.plugin("marketplace")
    flagged: set[str] = set()
    for day in range(40, 200, 8):
        as_of = _day(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day, hours=7))
        want = {row["key"] for row in plugin.churn_risk(as_of, side="driver")["at_risk"]}
        assert _sql(toolkit, {"predicate": "marketplace.churn_risk"}, as_of) == want, as_of
        flagged |= want
    assert flagged
