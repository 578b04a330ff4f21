"""Population analytics: earnings, incentive programs, marketplace health.

Each answer is a few set-based statements over the whole population
(:mod:`partygraph_marketplace.figures`), then light Python over the grouped
rows -- never one query per party.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from partygraph import GraphReader, Party
from partygraph.reading import party_from_row
from partygraph.storage.tables import party_table
from partygraph_marketplace.checks import iso
from partygraph_marketplace.figures import (
    PeriodActivity,
    activity_by_week,
    chunks,
    earnings_by_period,
    hourly_supply_demand,
    period_activity,
    retention_cohorts,
)
from partygraph_marketplace.membership import active_members, party_names
from partygraph_marketplace.parties import judge
from partygraph_marketplace.periods import (
    bounds,
    cents,
    money,
    period_label,
    period_of,
    period_start,
    stamp,
    upto,
)
from partygraph_marketplace.settings import Program, Settings, Side

__all__ = [
    "churn_risk",
    "earnings",
    "evaluate_programs",
    "retention",
    "supply_demand",
]


def _party(row_key: tuple[str, str | None] | None, party_id: int) -> dict[str, Any]:
    key, name = row_key if row_key is not None else (str(party_id), None)
    return {"party": party_id, "key": key, "name": name}


def _statement(
    gross: float, fee: float, tips: float, incentives: float
) -> tuple[float, float, float, float, float]:
    """Gross, fee, tips, incentives and net, each rounded to the cent (half up), as floats.

    In whole cents while every sum is non-negative (``n / 100`` is the float nearest
    the cent amount, as ``float(Decimal)`` is); through :func:`money` otherwise.
    """
    g, f, t, i = cents(gross), cents(fee), cents(tips), cents(incentives)
    if g is None or f is None or t is None or i is None:
        a, b, c, d = (money(value) for value in (gross, fee, tips, incentives))
        return float(a), float(b), float(c), float(d), float(a - b + c + d)
    return g / 100, f / 100, t / 100, i / 100, (g - f + t + i) / 100


def earnings(
    settings: Settings,
    graph: GraphReader,
    side: Side,
    period: str,
    *,
    since: datetime | None,
    until: datetime,
    party_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Earnings statements per party and period (JSON-ready; money rounded to the cent).

    Each period's label and times are formatted once, not once per statement.
    """
    periods, rows = earnings_by_period(
        graph.connection, settings, side, period, since=since, until=until, party_ids=party_ids
    )
    names = party_names(graph.connection, {row[0] for row in rows})
    shown = [(each.label, stamp(each.start), stamp(each.end)) for each in periods]
    currency = settings.currency
    plural = settings.transaction.plural
    out = []
    for party_id, index, transactions, gross, fee, tips, incentives in rows:
        key, name = names.get(party_id) or (str(party_id), None)
        label, start, end = shown[index]
        money_gross, money_fee, money_tips, money_incentives, net = _statement(
            gross, fee, tips, incentives
        )
        out.append(
            {
                "party": party_id,
                "key": key,
                "name": name,
                "side": side.name,
                "period": label,
                "start": start,
                "end": end,
                "currency": currency,
                plural: transactions,
                "gross": money_gross,
                "platform_fee": money_fee,
                "tips": money_tips,
                "incentives": money_incentives,
                "net": net,
            }
        )
    return out


def evaluate_programs(
    settings: Settings,
    graph: GraphReader,
    at: datetime,
    programs: Sequence[Program],
    party_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Each program for the period containing *at*: every member with activity, met or not.

    One statement per side and period kind, shared by the programs that use it.
    """
    tz = settings.tz
    cache: dict[tuple[str, str], dict[int, PeriodActivity]] = {}
    chosen = []
    for program in programs:
        side = settings.side(program.side)
        period = period_of(at, program.period, tz)
        key = (side.name, program.period)
        if key not in cache:
            cache[key] = period_activity(
                graph.connection, side, period.start, period.end, party_ids
            )
        chosen.append((program, side, period.as_dict(), cache[key]))
    # The members come with their names; a member asked for without activity needs a lookup.
    names = {
        party_id: (found.key, found.name)
        for activity in cache.values()
        for party_id, found in activity.items()
        if found.key is not None
    }
    missing = set(party_ids or ()) - set(names)
    if missing:
        names.update(party_names(graph.connection, missing))
    out: list[dict[str, Any]] = []
    currency = settings.currency
    for program, side, shown, activity in chosen:
        figures = {party_id: found[:3] for party_id, found in activity.items()}
        for party_id in party_ids or ():
            figures.setdefault(party_id, (0, 0, None))
        # Members with the same trips and ratings get the same verdict: judge it once.
        verdicts: dict[tuple[int, int, float | None], dict[str, Any]] = {}
        for party_id, counts in sorted(figures.items()):
            verdict = verdicts.get(counts)
            if verdict is None:
                verdict = verdicts[counts] = judge(program, *counts)
            party_key, name = names.get(party_id) or (str(party_id), None)
            out.append(
                {
                    "party": party_id,
                    "key": party_key,
                    "name": name,
                    "side": side.name,
                    **shown,
                    **verdict,
                    "currency": currency,
                }
            )
    return out


# -- health -----------------------------------------------------------------------------------


def supply_demand(
    settings: Settings, graph: GraphReader, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Per pickup zone and local hour of day: requested vs completed transactions and
    active supply-side members, averaged per day of the window."""
    tz = settings.tz
    rows = hourly_supply_demand(graph.connection, settings, since, until)
    days = max(1, round((until - since) / timedelta(days=1)))
    cells: dict[tuple[str | None, int], list[int]] = {}
    for zone, hour_start, requested, completed, unfulfilled, supply in rows:
        local_hour = hour_start.astimezone(tz).hour
        cell = cells.setdefault((zone, local_hour), [0, 0, 0, 0, 0])
        cell[0] += requested
        cell[1] += completed
        cell[2] += unfulfilled
        cell[3] += supply  # supply-hours: members active in each hour slot
        cell[4] += 1
    out = []
    for (zone, hour), (requested, completed, unfulfilled, supply_hours, slots) in sorted(
        cells.items(), key=lambda item: (item[0][0] or "", item[0][1])
    ):
        per_member = requested / supply_hours if supply_hours else None
        unfulfilled_rate = unfulfilled / requested if requested else 0.0
        out.append(
            {
                "zone": zone,
                "hour": f"{hour:02d}:00",
                "requested": requested,
                "completed": completed,
                "unfulfilled": unfulfilled,
                "fulfilment_rate": round(completed / requested, 3) if requested else None,
                "requested_per_day": round(requested / days, 2),
                "active_supply_per_day": round(supply_hours / days, 2),
                "requests_per_active_supply": round(per_member, 2) if per_member else None,
                "hours_with_activity": slots,
                "balance": (
                    "undersupplied"
                    if unfulfilled_rate >= 0.1 or (per_member is None and requested)
                    else "balanced"
                ),
            }
        )
    return out


def churn_risk(
    settings: Settings, graph: GraphReader, side: Side, as_of: datetime
) -> dict[str, Any]:
    """Active supply-side members whose weekly completed transactions are falling.

    The last ``window_weeks`` weeks are compared with the ``window_weeks`` before
    (rolling weeks ending at *as_of*); a member is at risk when the earlier window
    held at least ``min_trips`` and the recent one fell by ``drop`` or more.
    Members excluded for ``analytics`` (an objection, a restriction) are left out.
    """
    churn = settings.churn
    weeks = churn.window_weeks
    end = upto(as_of)
    edges = [end - timedelta(weeks=2 * weeks - index) for index in range(2 * weeks + 1)]
    weekly = activity_by_week(graph.connection, side, edges)
    active = active_members(graph.connection, side.name, as_of)
    flagged = []
    for party_id in active:
        counts = weekly.get(party_id, [0] * (2 * weeks))
        before, recent = sum(counts[:weeks]), sum(counts[weeks:])
        if before < churn.min_trips or recent > before * (1 - churn.drop):
            continue
        flagged.append((party_id, counts, before, recent))
    excluded = _excluded(graph, [party_id for party_id, *_ in flagged], "analytics")
    names = party_names(graph.connection, [party_id for party_id, *_ in flagged])
    members = []
    for party_id, counts, before, recent in flagged:
        if party_id in excluded:
            continue
        drop = 1 - recent / before
        members.append(
            {
                **_party(names.get(party_id), party_id),
                "weekly": counts,
                "before_per_week": round(before / weeks, 2),
                "recent_per_week": round(recent / weeks, 2),
                "drop": round(drop, 3),
                "reason": f"{recent} completed {settings.transaction.noun}"
                f"{'' if recent == 1 else 's'} in the last {weeks} weeks against {before} "
                f"in the {weeks} weeks before ({drop:.0%} fewer)",
            }
        )
    members.sort(key=lambda item: (-item["drop"], item["key"]))
    return {
        "side": side.name,
        "as_of": iso(as_of),
        "window_weeks": weeks,
        "active_members": len(active),
        "at_risk": members,
        "left_out": len(excluded),
    }


def retention(
    settings: Settings, graph: GraphReader, side: Side, as_of: datetime, months: int
) -> dict[str, Any]:
    """Monthly cohorts of a side (by first completed transaction), active month by month."""
    tz = settings.tz
    start = period_start(as_of, "month", tz)
    for _ in range(months - 1):
        start = period_start(start - timedelta(days=1), "month", tz)
    edges = bounds(start, upto(as_of), "month", tz)
    counts = retention_cohorts(graph.connection, side, edges)
    labels = [period_label(edge, "month", tz) for edge in edges[:-1]]
    cohorts = []
    for index, label in enumerate(labels):
        size = counts.get((index, index), 0)
        if not size:
            continue
        active = [counts.get((index, later), 0) for later in range(index, len(labels))]
        cohorts.append(
            {
                "cohort": label,
                "members": size,
                "active": active,
                "retention": [round(value / size, 3) for value in active],
            }
        )
    return {"side": side.name, "as_of": iso(as_of), "months": labels, "cohorts": cohorts}


def _excluded(graph: GraphReader, ids: Sequence[int], purpose: str) -> dict[int, str]:
    """Which of these parties may not be processed for *purpose* (one hook call)."""
    if not ids:
        return {}
    parties: list[Party] = []
    for chunk in chunks(ids):
        query = select(party_table).where(party_table.c.id.in_(chunk))
        parties.extend(party_from_row(row) for row in graph.connection.execute(query))
    return graph.excluded(parties, purpose)
