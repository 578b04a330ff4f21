"""Per party: the side roles with their reasons, the view section, the metrics.

Everything is scoped by side: the figures of a party's ``driver`` side come
from the transactions it took part in as ``driver`` only, those of its
``rider`` side from its trips as ``rider`` -- they never mix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from partygraph import GraphReader, Party, RoleAssignment
from partygraph_marketplace.checks import iso
from partygraph_marketplace.figures import Totals, routes
from partygraph_marketplace.membership import Stage, stage_at
from partygraph_marketplace.periods import money, upto
from partygraph_marketplace.settings import Program, Settings, Side
from partygraph_marketplace.snapshot import LIFETIME, MONTH, WEEK, Snapshot, Ticket, Trip, snapshot
from partygraph_marketplace.vocab import TICKET_OPEN

__all__ = [
    "judge",
    "metrics",
    "open_issues",
    "roles",
    "suggestions",
    "view_section",
]

#: Parts of the day, by local hour, for trip suggestions.
PARTS_OF_DAY = (
    ("night", 0, 5),
    ("morning", 5, 10),
    ("midday", 10, 16),
    ("evening", 16, 21),
    ("night", 21, 24),
)


def part_of_day(hour: int) -> str:
    """morning (5-10), midday (10-16), evening (16-21) or night (21-5)."""
    return next(name for name, start, end in PARTS_OF_DAY if start <= hour < end)


def _day(at: datetime | None) -> str:
    return at.date().isoformat() if at is not None else "an unknown date"


def _plural(settings: Settings, count: int) -> str:
    noun = settings.transaction.noun
    return f"{count} completed {noun}{'' if count == 1 else 's'}"


def _end_of_membership(stages: Sequence[Stage], current: Stage) -> datetime | None:
    """When the run of stages holding *current* ends (a churn, or no successor), if known."""
    index = stages.index(current)
    stage = current
    while stage.end is not None:
        following = stages[index + 1] if index + 1 < len(stages) else None
        if (
            following is None
            or following.platform_id != stage.platform_id
            or following.start != stage.end
        ):
            return stage.end
        if following.status == "churned":
            return following.start
        stage, index = following, index + 1
    return None


# -- roles ------------------------------------------------------------------------------------


def roles(
    settings: Settings, party: Party, as_of: datetime, graph: GraphReader
) -> list[RoleAssignment]:
    """One role per side the party is on at *as_of* (from its first completed transaction,
    or from its activation), each relative to the platform and with its reason."""
    assert party.id is not None
    snap = snapshot(settings, party.id, as_of, graph)
    found = []
    for side in settings.sides:
        run = snap.run(side.name)
        if not run:
            continue
        role = _role(settings, side, snap, run)
        if role is not None:
            found.append(role)
    return found


def _role(
    settings: Settings, side: Side, snap: Snapshot, run: Sequence[Stage]
) -> RoleAssignment | None:
    as_of = snap.as_of
    stages = snap.stages[side.name]
    current = run[-1]
    joined = run[0]
    summary = snap.platform(current.platform_id)
    platform_name = summary.name or summary.key
    transactions, last = snap.joined(side.name)
    done = _plural(settings, transactions)
    activity = (
        f"{done} as {side.name} up to {_day(as_of)}, the last on {_day(last)}"
        if transactions
        else f"no completed {settings.transaction.noun} as {side.name} yet"
    )
    evidence = []
    if side.role_since == "activation":
        activated = next((stage for stage in run if stage.status == "active"), None)
        if activated is None:
            return None
        since = activated.start
        reason = (
            f"{side.label} on {platform_name} since {_day(since)} (activated, relationship "
            f"#{activated.id}): {activity}"
        )
        evidence.append(f"relationship #{activated.id}")
        shown = activated
    else:
        first = snap.first(side.name)
        if first is None:
            return None
        interaction_id, since = first
        reason = (
            f"{side.label} on {platform_name} since {_day(since)} (first completed "
            f"{settings.transaction.noun}, interaction #{interaction_id}): {activity}; "
            f"member since {_day(joined.start)} (relationship #{joined.id})"
        )
        evidence += [f"relationship #{joined.id}", f"interaction #{interaction_id}"]
        shown = joined
    if current is not shown:
        reason += f"; {current.status} since {_day(current.start)} (relationship #{current.id}"
        reason += f": {current.reason})" if current.reason else ")"
        evidence.append(f"relationship #{current.id}")
    reason += "."
    return RoleAssignment(
        side.name,
        reason=reason,
        context=summary,
        customer=True,
        kind="ecosystem",
        since=since,
        until=_end_of_membership(stages, current),
        evidence=tuple(evidence),
    )


# -- support -----------------------------------------------------------------------------------


def open_issues(events: Sequence[Ticket]) -> list[dict[str, Any]]:
    """The support tickets among *events* (one side's, newest first) whose latest event
    leaves them open."""
    latest: dict[str, Ticket] = {}
    opened: dict[str, datetime] = {}
    for event in events:  # newest first
        ticket = str(event.payload.get("ticket"))
        latest.setdefault(ticket, event)
        opened[ticket] = event.occurred_at
    issues = []
    for ticket, event in latest.items():
        if event.payload.get("status") not in TICKET_OPEN:
            continue
        issues.append(
            {
                "ticket": ticket,
                "status": event.payload.get("status"),
                "subject": event.payload.get("subject"),
                "priority": event.payload.get("priority"),
                "opened_at": iso(opened[ticket]),
                "updated_at": iso(event.occurred_at),
                "interaction": event.id,
            }
        )
    issues.sort(key=lambda issue: str(issue["opened_at"]))
    return issues


# -- incentive programs ------------------------------------------------------------------------


def judge(program: Program, trips: int, rated: int, average: float | None) -> dict[str, Any]:
    """Whether one member met a program, and by how much it missed."""
    short = max(0, program.min_trips - trips)
    threshold = program.min_average_rating
    rating_ok = threshold is None or (average is not None and round(average, 6) >= threshold)
    met = short == 0 and rating_ok
    shown = f"{average:.2f}" if average is not None else "none"
    if met:
        why = f"met: {trips} trips (at least {program.min_trips})"
        if threshold is not None:
            why += f", average rating {shown} (at least {threshold:g})"
    else:
        misses = []
        if short:
            misses.append(
                f"{short} trip{'' if short == 1 else 's'} short ({trips} of {program.min_trips})"
            )
        if not rating_ok:
            misses.append(f"average rating {shown} below {threshold:g}")
        why = "missed: " + " and ".join(misses)
    return {
        "program": program.name,
        "description": program.description,
        "trips": trips,
        "min_trips": program.min_trips,
        "remaining_trips": short,
        "rated_trips": rated,
        "average_rating": round(average, 3) if average is not None else None,
        "min_average_rating": threshold,
        "met": met,
        "bonus": float(program.bonus) if met else 0.0,
        "reason": why,
    }


def _progress(settings: Settings, side: Side, snap: Snapshot) -> list[dict[str, Any]]:
    """Each of the side's programs in its current period, up to the read's time.

    A program's period contains the read's time, so it ends after it: its window
    is the snapshot's week or month.
    """
    out = []
    for program in settings.programs_of(side.name):
        period = snap.period(program.period)
        window = snap.totals(side.name, WEEK if program.period == "week" else MONTH)
        judged = judge(program, window.transactions, window.rated, window.average_rating)
        out.append({**period.as_dict(), **judged})
    return out


# -- suggestions ---------------------------------------------------------------------------------


def suggestions(
    settings: Settings,
    party: Party,
    side: Side,
    as_of: datetime,
    graph: GraphReader,
    trips: Sequence[Trip] | None = None,
) -> dict[str, Any]:
    """The party's frequent routes on *side* by time of day: the basis for suggestions.

    Personalisation is profiling: a party excluded for ``profiling`` (no basis,
    an objection) gets no suggestions, and the answer says why. *trips* are the
    party's completed transactions on *side* up to *as_of* (read here when None).
    """
    assert party.id is not None
    result: dict[str, Any] = {"side": side.name, "routes": [], "withheld": None}
    if not settings.transaction.zones:
        result["withheld"] = f"{settings.transaction.name} transactions have no zones"
        return result
    excluded = graph.excluded([party], "profiling")
    if party.id in excluded:
        result["withheld"] = excluded[party.id]
        return result
    tz = settings.tz
    if trips is None:
        trips = [Trip(*trip) for trip in routes(graph.connection, side.name, party.id, upto(as_of))]
    counts: Counter[tuple[str, str, str]] = Counter()
    hours: dict[tuple[str, str, str], Counter[int]] = {}
    last: dict[tuple[str, str, str], datetime] = {}
    evidence: dict[tuple[str, str, str], list[int]] = {}
    for interaction_id, at, pickup, dropoff in trips:
        if not pickup or not dropoff:
            continue
        local = at.astimezone(tz)
        key = (pickup, dropoff, part_of_day(local.hour))
        counts[key] += 1
        hours.setdefault(key, Counter())[local.hour] += 1
        last[key] = at
        evidence.setdefault(key, []).append(interaction_id)
    ranked = sorted(counts, key=lambda key: (-counts[key], -last[key].timestamp(), key))
    total = len(trips)
    for key in ranked:
        if counts[key] < settings.suggestion_min_trips:
            break
        pickup, dropoff, part = key
        hour = hours[key].most_common(1)[0][0]
        result["routes"].append(
            {
                "pickup_zone": pickup,
                "dropoff_zone": dropoff,
                "time_of_day": part,
                "usual_hour": f"{hour:02d}:00",
                "trips": counts[key],
                "share": round(counts[key] / total, 3),
                "last": iso(last[key]),
                "reason": f"{counts[key]} of {total} completed {settings.transaction.noun}s "
                f"from {pickup} to {dropoff} in the {part}, usually around {hour:02d}:00",
                "evidence": [f"interaction #{i}" for i in evidence[key][-5:]],
            }
        )
        if len(result["routes"]) >= settings.suggestion_limit:
            break
    return result


# -- view and metrics -------------------------------------------------------------------------


def _lifecycle(stages: Sequence[Stage]) -> list[dict[str, Any]]:
    return [
        {
            "status": stage.status,
            "from": iso(stage.start) if stage.start else None,
            "to": iso(stage.end) if stage.end else None,
            "relationship": stage.id,
            **({"reason": stage.reason} if stage.reason else {}),
        }
        for stage in stages
    ]


def _report(settings: Settings, figures: Totals) -> dict[str, Any]:
    incentives = figures.incentives + figures.payouts
    return {
        settings.transaction.plural: figures.transactions,
        "gross": float(figures.gross),
        "platform_fee": float(figures.fee),
        "tips": float(figures.tips),
        "incentives": float(incentives),
        "net": float(figures.gross - figures.fee + figures.tips + incentives),
    }


def view_section(
    settings: Settings, party: Party, as_of: datetime, graph: GraphReader
) -> Mapping[str, Any] | None:
    """Per side the party is (or was) on: its membership, figures and open issues."""
    assert party.id is not None
    snap = snapshot(settings, party.id, as_of, graph)
    sides: dict[str, Any] = {}
    for side in settings.sides:
        stages = [
            stage
            for stage in snap.stages.get(side.name, ())
            if stage.start is None or stage.start <= as_of
        ]
        if not stages:
            continue
        sides[side.name] = _side_view(settings, side, party, stages, snap)
    if not sides:
        return None
    return {"preset": settings.preset, "currency": settings.currency, "sides": sides}


def _side_view(
    settings: Settings, side: Side, party: Party, stages: Sequence[Stage], snap: Snapshot
) -> dict[str, Any]:
    as_of = snap.as_of
    current = stage_at(stages, as_of)
    summary = snap.platform((current or stages[-1]).platform_id)
    figures = snap.totals(side.name, LIFETIME)
    section: dict[str, Any] = {
        "label": side.label,
        "position": side.position,
        "platform": {"key": summary.key, "name": summary.name},
        "status": current.status if current else "left",
        "status_since": iso(current.start) if current and current.start else None,
        "lifecycle": _lifecycle(stages),
        settings.transaction.plural: figures.transactions,
        "first": iso(figures.first) if figures.first else None,
        "last": iso(figures.last) if figures.last else None,
        "average_rating_received": (
            round(figures.average_rating, 3) if figures.average_rating is not None else None
        ),
    }
    if side.supply:
        section["earnings"] = {}
        for name, window in (("week", WEEK), ("month", MONTH)):
            period = snap.period(name)
            report = _report(settings, snap.totals(side.name, window))
            section["earnings"][name] = {**period.as_dict(), **report}
        section["earnings"]["lifetime"] = _report(settings, figures)
    else:
        section["lifetime_value"] = float(figures.gross + figures.tips)
        section["platform_revenue"] = float(figures.fee)
        trips = snap.trips(side.name)
        section["suggestions"] = suggestions(settings, party, side, as_of, snap.graph, trips)
    if settings.programs_of(side.name):
        section["incentives"] = _progress(settings, side, snap)
    section["open_issues"] = open_issues(snap.tickets(side.name))
    return section


def metrics(
    settings: Settings, party: Party, as_of: datetime, graph: GraphReader
) -> Mapping[str, float | int | str | None] | None:
    """Per side the party is on: named figures, each computed from that side only."""
    assert party.id is not None
    snap = snapshot(settings, party.id, as_of, graph)
    out: dict[str, float | int | str | None] = {}
    for side in settings.sides:
        if not snap.stages.get(side.name):
            continue
        figures = snap.totals(side.name, LIFETIME)
        prefix = side.name
        out[f"{prefix}.{settings.transaction.plural}"] = figures.transactions
        out[f"{prefix}.average_rating"] = (
            round(figures.average_rating, 3) if figures.average_rating is not None else None
        )
        if side.supply:
            report = _report(settings, figures)
            out[f"{prefix}.gross"] = report["gross"]
            out[f"{prefix}.net_earnings"] = report["net"]
        else:
            out[f"{prefix}.lifetime_value"] = float(money(figures.gross + figures.tips))
            out[f"{prefix}.platform_revenue"] = float(figures.fee)
        out[f"{prefix}.open_issues"] = len(open_issues(snap.tickets(side.name)))
    return out or None
