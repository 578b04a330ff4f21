"""Population analytics: a few parameterised statements over everyone, never a query per party.

- :func:`service_levels`: per provider department, requests opened in the
  period: volume by category and by customer department, SLA met / breached
  (judged at the end of the period: a request still open past its due date
  counts as breached), attainment = met / (met + breached), median resolution
  time (window functions, so SQLite and PostgreSQL compute it alike) and
  satisfaction.
- :func:`handoffs`: lead hand-offs per (from, to) department pair, and the
  acceptance rate = accepted / (accepted + rejected); pending ones are shown,
  not counted in the rate.
- :func:`adoption`: CRM adoption per department, privacy by default: a
  department with fewer employees than ``min_group_size`` in the period shows
  "too few to report"; totals and averages also need that many active users
  (a total over one user is that user's figure).
- :func:`employee_usage`: per-employee figures, refused unless the config
  enables them with a lawful basis; employees ``graph.excluded`` for
  ``employee_usage_analytics`` (no basis, or an objection, when the privacy
  plugin is enabled) are listed as withheld, without figures.

Employees' usage is credited to the department they were employed in when
they used the CRM; requests and hand-offs to the department of their day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import Connection

from partygraph import GraphReader, UserError
from partygraph.storage.prepared import bind_ids
from partygraph.times import isoformat, parse_time, to_storage, utcnow
from partygraph_internal import statements
from partygraph_internal.settings import EMPLOYEE_USAGE_PURPOSE, Settings
from partygraph_internal.sql import Named, chunks, load_parties, named
from partygraph_internal.vocabulary import DEPARTMENT

__all__ = [
    "TOO_FEW",
    "Period",
    "ReportRefused",
    "adoption",
    "employee_usage",
    "handoffs",
    "require_per_employee",
    "service_levels",
]

#: What a department below the minimum group size shows instead of its figures.
TOO_FEW = "too few to report"


class ReportRefused(UserError):
    """A report that may not be produced (per-employee figures without a lawful basis)."""


@attrs.frozen
class Period:
    """[since, until): aware UTC bounds."""

    since: datetime
    until: datetime

    @classmethod
    def of(
        cls, settings: Settings, since: datetime | str | None, until: datetime | str | None
    ) -> Period:
        """The period asked for; by default the ``report_days`` up to now."""
        end = parse_time(until, "until") if until is not None else utcnow()
        start = (
            parse_time(since, "since")
            if since is not None
            else end - timedelta(days=settings.report_days)
        )
        if start >= end:
            raise UserError(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
        return cls(start, end)

    @property
    def stored(self) -> tuple[datetime, datetime]:
        """Naive-UTC bounds, as the columns store them."""
        return to_storage(self.since), to_storage(self.until)

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready."""
        return {"since": isoformat(self.since), "until": isoformat(self.until)}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _party_ref(party: Named | None) -> dict[str, Any] | None:
    if party is None:
        return None
    return {"key": party.key, "name": party.name}


# -- service levels ---------------------------------------------------------------------------


_SUMMED = ("requests", "met", "breached", "open", "overdue", "responses", "satisfaction")


def service_levels(
    connection: Connection,
    period: Period,
    providers: Sequence[int] | None = None,
    known: dict[int, Named] | None = None,
) -> list[dict[str, Any]]:
    """Per provider department: volume, SLA attainment, median resolution, satisfaction.

    *known*: names already read (see :func:`~partygraph_internal.sql.named`).
    """
    since, until = period.stored
    params: dict[str, Any] = {"since": since, "until": until}
    shape = bind_ids(params, "providers", sorted(set(providers))) if providers is not None else None
    figures_query, median_query = statements.service_levels(shape)
    totals: dict[int, dict[str, int]] = {}
    categories: dict[int, dict[str, int]] = {}
    customers: dict[int, dict[int | None, int]] = {}
    for row in figures_query.rows(connection, params):
        provider = int(row.provider_id)
        summed = totals.setdefault(provider, dict.fromkeys(_SUMMED, 0))
        for name in _SUMMED:
            summed[name] += int(getattr(row, name) or 0)
        count = int(row.requests)
        by_category = categories.setdefault(provider, {})
        by_category[row.category] = by_category.get(row.category, 0) + count
        customer = int(row.customer_id) if row.customer_id is not None else None
        by_customer = customers.setdefault(provider, {})
        by_customer[customer] = by_customer.get(customer, 0) + count
    medians = {
        int(row.provider_id): float(row.seconds) for row in median_query.rows(connection, params)
    }
    names = named(
        connection,
        [*totals, *(c for found in customers.values() for c in found if c is not None)],
        known,
    )
    report: list[dict[str, Any]] = []
    for provider, summed in totals.items():
        met, breached, responses = summed["met"], summed["breached"], summed["responses"]
        seconds = medians.get(provider)
        ordered = sorted(
            customers[provider].items(),
            key=lambda item: (
                item[0] is None,
                -item[1],
                names[item[0]].key if item[0] is not None else "",
            ),
        )
        report.append(
            {
                "department": names[provider].key,
                "name": names[provider].name,
                "requests": summed["requests"],
                "by_category": dict(sorted(categories[provider].items())),
                "by_customer": {
                    (names[c].key if c is not None else "(no department)"): n for c, n in ordered
                },
                "resolved": summed["requests"] - summed["open"],
                "open": summed["open"],
                "sla": {
                    "met": met,
                    "breached": breached,
                    "overdue": summed["overdue"],
                    "attainment": _ratio(met, met + breached),
                },
                "median_resolution_hours": round(seconds / 3600, 2)
                if seconds is not None
                else None,
                "satisfaction": {
                    "responses": responses,
                    "average": round(summed["satisfaction"] / responses, 2) if responses else None,
                },
            }
        )
    report.sort(key=lambda item: (-item["requests"], item["department"]))
    return report


# -- lead hand-offs ---------------------------------------------------------------------------


def handoffs(
    connection: Connection,
    period: Period,
    departments: Sequence[int] | None = None,
    known: dict[int, Named] | None = None,
) -> list[dict[str, Any]]:
    """Lead hand-offs per (from, to) department pair, with the acceptance rate.

    *known*: names already read (see :func:`~partygraph_internal.sql.named`).
    """
    since, until = period.stored
    pairs: dict[tuple[int | None, int | None], dict[str, int]] = {}
    if departments is not None and len(set(departments)) == 1:
        # One department: only the hand-offs by or to it or its employees (ever)
        # can be credited to it, and every pair involving it is made of those.
        (only,) = set(departments)
        params = {"since": since, "until": until, "party": only}
        rows = statements.handoff_counts(True).rows(connection, params)
    else:
        rows = statements.handoff_counts(False).rows(connection, {"since": since, "until": until})
    for row in rows:
        source = int(row.from_id) if row.from_id is not None else None
        target = int(row.to_id) if row.to_id is not None else None
        if departments is not None and source not in departments and target not in departments:
            continue
        counts = pairs.setdefault((source, target), {"accepted": 0, "rejected": 0, "pending": 0})
        counts[str(row.outcome)] = counts.get(str(row.outcome), 0) + int(row.n)
    names = named(connection, [side for pair in pairs for side in pair], known)
    report: list[dict[str, Any]] = []
    for (source, target), counts in pairs.items():
        decided = counts["accepted"] + counts["rejected"]
        report.append(
            {
                "from": names[source].key if source is not None else None,
                "to": names[target].key if target is not None else None,
                "handed": sum(counts.values()),
                **counts,
                "acceptance_rate": _ratio(counts["accepted"], decided),
            }
        )
    report.sort(key=lambda item: (-item["handed"], str(item["from"]), str(item["to"])))
    return report


# -- CRM adoption -----------------------------------------------------------------------------


def _excluded(graph: GraphReader, ids: Sequence[int], at: datetime) -> dict[int, str]:
    if not ids:
        return {}
    parties = load_parties(graph.connection, ids)
    return graph.excluded(parties, EMPLOYEE_USAGE_PURPOSE, as_of=at)


def adoption(
    graph: GraphReader,
    settings: Settings,
    period: Period,
    departments: Sequence[int] | None = None,
    known: dict[int, Named] | None = None,
) -> list[dict[str, Any]]:
    """CRM adoption per department, with the minimum group size applied.

    *known*: names already read (see :func:`~partygraph_internal.sql.named`);
    the departments given are told from other parties by their names' kind.
    """
    connection = graph.connection
    since, until = period.stored
    params: dict[str, Any] = {"since": since, "until": until}
    minimum = settings.min_group_size
    scope: dict[str, Any] = {}
    shape = bind_ids(scope, "ids", sorted(set(departments))) if departments is not None else None
    headcounts = {
        int(row.target_id): int(row.n)
        for row in statements.headcounts(shape).rows(connection, {**params, **scope})
    }
    usage: dict[int, Any] = {}
    if departments is None or any(headcounts.get(d, 0) >= minimum for d in departments):
        # Usage matters only where a department is reported; none in the period, none to sum.
        population = sorted(
            int(row.party_id)
            for row in statements.usage_population(shape).rows(connection, {**params, **scope})
        )
        if population:
            excluded = _excluded(graph, population, period.until)
            left_out: dict[str, Any] = {}
            without = bind_ids(left_out, "excluded", sorted(excluded)) if excluded else None
            query = statements.adoption_by_department(shape, without)
            usage = {
                int(row.department): row
                for row in query.rows(connection, {**params, **scope, **left_out})
            }
    if departments is None:
        listed = statements.departments(shape)
        ids = [int(row.id) for row in listed.rows(connection, scope)]
        names = named(connection, ids, known)
    else:
        names = named(connection, departments, known)
        ids = [party for party, found in names.items() if found.kind == DEPARTMENT]
    report = []
    for department_id in ids:
        headcount = headcounts.get(department_id, 0)
        entry: dict[str, Any] = {
            "department": names[department_id].key,
            "name": names[department_id].name,
        }
        if headcount < minimum:
            entry.update(
                reported=False,
                status=TOO_FEW,
                reason=f"fewer than {minimum} employees in the period (the minimum group size)",
            )
            report.append(entry)
            continue
        row = usage.get(department_id)
        active = int(row.active) if row is not None else 0
        entry.update(
            reported=True,
            headcount=headcount,
            active_users=active,
            active_share=_ratio(active, headcount),
        )
        if 0 < active < minimum:
            entry.update(
                records=TOO_FEW,
                records_per_user=TOO_FEW,
                completeness=TOO_FEW,
                note=f"fewer than {minimum} active users: totals would show individuals' figures",
            )
        else:
            created = int(row.created or 0) if row is not None else 0
            updated = int(row.updated or 0) if row is not None else 0
            filled = int(row.filled or 0) if row is not None else 0
            expected = int(row.expected or 0) if row is not None else 0
            entry.update(
                records=created + updated,
                records_created=created,
                records_updated=updated,
                records_per_user=round((created + updated) / active, 2) if active else None,
                completeness=_ratio(filled, expected),
            )
        report.append(entry)
    report.sort(key=lambda item: item["department"])
    return report


# -- per employee -----------------------------------------------------------------------------


def require_per_employee(settings: Settings) -> None:
    """Refuse per-employee figures unless the config enables them with a lawful basis."""
    per = settings.per_employee
    if not per.enabled or per.lawful_basis is None:
        raise ReportRefused(
            "per-employee CRM usage figures are off: employees are measured only in aggregate "
            "(per department, at least min_group_size people). To offer them, set "
            "[plugins.internal.per_employee] enabled = true with a lawful_basis "
            "(legitimate_interests and its balancing_note, legal_obligation or contract)"
        )


def _employment(connection: Connection, ids: Sequence[int], until: datetime) -> dict[int, int]:
    """Each person's department at *until*, else the last one before it."""
    found: dict[int, tuple[datetime, int]] = {}
    for chunk in chunks(list(ids)):
        rows = connection.execute(statements.employment_history(), {"ids": chunk, "until": until})
        for row in rows:
            current = row.valid_to is None or row.valid_to > until
            rank = datetime.max if current else row.valid_to
            person = int(row.source_id)
            if person not in found or rank > found[person][0]:
                found[person] = (rank, int(row.target_id))
    return {person: department for person, (_, department) in found.items()}


def employee_usage(
    graph: GraphReader,
    settings: Settings,
    period: Period,
    departments: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Per-employee CRM usage; refused without a lawful basis, withheld where excluded."""
    require_per_employee(settings)
    connection = graph.connection
    since, until = period.stored
    params = {"since": since, "until": until}
    figures = {
        int(row.party_id): row for row in connection.execute(statements.usage_by_employee(), params)
    }
    staff = connection.execute(statements.staff(), params).scalars()
    population = sorted({*figures, *(int(value) for value in staff)})
    department_of = _employment(connection, population, until)
    if departments is not None:
        wanted = set(departments)
        population = [p for p in population if department_of.get(p) in wanted]
    excluded = _excluded(graph, population, period.until)
    names = named(connection, [*population, *department_of.values()])
    employees: list[dict[str, Any]] = []
    withheld: list[dict[str, Any]] = []
    for person in population:
        department = department_of.get(person)
        base = {
            "employee": names[person].key,
            "name": names[person].name,
            "department": names[department].key if department is not None else None,
        }
        if person in excluded:
            withheld.append({**base, "reason": excluded[person]})
            continue
        row = figures.get(person)
        created = int(row.created or 0) if row is not None else 0
        updated = int(row.updated or 0) if row is not None else 0
        employees.append(
            {
                **base,
                "records_created": created,
                "records_updated": updated,
                "records": created + updated,
                "completeness": _ratio(int(row.filled or 0), int(row.expected or 0))
                if row is not None
                else None,
                "active_days": int(row.days) if row is not None else 0,
                "last_active": isoformat(row.last) if row is not None else None,
            }
        )
    employees.sort(key=lambda item: (-item["records"], item["employee"]))
    withheld.sort(key=lambda item: item["employee"])
    per = settings.per_employee
    return {
        "period": period.as_dict(),
        "lawful_basis": per.lawful_basis,
        "balancing_note": per.balancing_note or None,
        "employees": employees,
        "withheld": withheld,
    }
