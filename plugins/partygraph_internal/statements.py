"""Statements built once and reused with bound parameters.

Building a SQLAlchemy expression costs more than running the indexed query it
describes (a role lookup for a person is two index probes), so every
statement the roles, figures and reports run is constructed here once per
shape and cached; callers pass ``party``, ``at``, ``start``, ``since``,
``until`` and the like as parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
)

from partygraph.storage.prepared import IdShape as Shape
from partygraph.storage.prepared import Prepared, ids_in
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph_internal import tables
from partygraph_internal.sql import credited_department, employment_join
from partygraph_internal.vocabulary import DEPARTMENT, EMPLOYED_IN, LEAD_HANDOFF, SERVES

__all__ = [
    "adoption_by_department",
    "departments",
    "employees_of",
    "employment_links",
    "employment_history",
    "handoff_counts",
    "headcounts",
    "judgement",
    "person_activity",
    "person_requests",
    "request_groups",
    "serves_in_force",
    "service_levels",
    "staff",
    "usage_by_employee",
    "usage_of",
    "usage_population",
]

_r = tables.request
_u = tables.usage
_rel = relationship_table
_party = party_table


def _time(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=DateTime())


def _id(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=Integer())


def judgement(until: ColumnElement[Any]) -> dict[str, ColumnElement[Any]]:
    """SQL flags of a request judged at *until*: met, breached, open, overdue, resolved."""
    c = _r.c
    resolved = and_(c.resolved_at.is_not(None), c.resolved_at <= until)
    return {
        "met": case((and_(resolved, c.resolved_at <= c.due_at), 1), else_=0),
        "breached": case(
            (
                or_(
                    and_(resolved, c.resolved_at > c.due_at),
                    and_(not_(resolved), c.due_at < until),
                ),
                1,
            ),
            else_=0,
        ),
        "open": case((resolved, 0), else_=1),
        "overdue": case((and_(not_(resolved), c.due_at < until), 1), else_=0),
        "resolved": resolved,
    }


def employment_links(link: Any) -> ColumnElement[bool]:
    """``link`` is an ``employed_in`` relationship, in a form that looks it up by target.

    ``type || ''`` instead of ``type``: without table statistics SQLite
    otherwise walks every ``employed_in`` link of the database through the
    identity index (``type`` leads it, and it covers ``source_id``) instead of
    one department's links through the target index. PostgreSQL plans the
    target index either way.
    """
    found: ColumnElement[bool] = link.c.type.concat(literal_column("''")) == EMPLOYED_IN
    return found


def employees_of(party: ColumnElement[Any]) -> Select[Any]:
    """Everyone ever employed in *party* (a superset; dates are checked by the caller)."""
    return select(_rel.c.source_id).where(employment_links(_rel), _rel.c.target_id == party)


# -- roles ------------------------------------------------------------------------------------


@functools.cache
def person_activity() -> Prepared:
    """A person's request activity, in one statement (params party, at, start, since, until).

    ``active``: did they request or handle anything in the activity window
    [start, at] (their roles need more only then); ``filed`` and ``handled``:
    how many requests they filed and handled in the report period [since, until).
    """
    party, at, start = _id("party"), _time("at"), _time("start")
    since, until = _time("since"), _time("until")
    window = and_(_r.c.opened_at <= at, _r.c.opened_at >= start)
    asked = exists().where(_r.c.requester_id == party, window)
    handled = exists().where(_r.c.assignee_id == party, window)
    period = and_(_r.c.opened_at >= since, _r.c.opened_at < until)
    filed_count = select(func.count()).where(_r.c.requester_id == party, period)
    handled_count = select(func.count()).where(_r.c.assignee_id == party, period)
    return Prepared(
        select(
            or_(asked, handled).label("active"),
            filed_count.scalar_subquery().label("filed"),
            handled_count.scalar_subquery().label("handled"),
        )
    )


def _grouped(
    where: list[ColumnElement[bool]],
    keys: Mapping[str, ColumnElement[Any]],
    side: str | None = None,
) -> Select[Any]:
    """Requests in the window [start, at], grouped by *keys* and category, judged at ``at``."""
    at, start = _time("at"), _time("start")
    c = _r.c
    flags = judgement(at)
    tag: list[Any] = [literal(side).label("side")] if side is not None else []
    window = [c.opened_at <= at, c.opened_at >= start]
    return (
        select(
            *tag,
            *(expression.label(name) for name, expression in keys.items()),
            c.category,
            func.count().label("n"),
            func.min(c.opened_at).label("first"),
            func.max(c.opened_at).label("last"),
            func.min(c.interaction_id).label("first_id"),
            func.max(c.interaction_id).label("last_id"),
            func.sum(flags["met"]).label("met"),
            func.sum(flags["breached"]).label("breached"),
            func.sum(flags["open"]).label("open"),
        )
        .where(*where, *window)
        .group_by(*keys.values(), c.category)
    )


@functools.cache
def person_requests() -> Prepared:
    """A person's requests in the window, grouped, both ways (params party, at, start).

    ``side`` ``asked`` (they requested): by provider and assignee (``other_id``);
    ``handled`` (they were assigned): by requester (``other_id``) and provider.
    One statement for both: they are read together.
    """
    party = _id("party")
    asked = _grouped(
        [_r.c.requester_id == party],
        {"provider_id": _r.c.provider_id, "other_id": _r.c.assignee_id},
        "asked",
    )
    handled = _grouped(
        [_r.c.assignee_id == party],
        {"provider_id": _r.c.provider_id, "other_id": _r.c.requester_id},
        "handled",
    )
    return Prepared(union_all(asked, handled))


@functools.cache
def request_groups(side: str) -> Prepared:
    """A department's requests in the window, grouped (params party, at, start).

    ``asked``: those credited to it (its own and its employees' of the day), by
    provider; ``served``: those it received, by the customer department they
    are credited to (``cust``). Both read one covering index range.
    """
    party = _id("party")
    if side == "asked":
        return Prepared(_grouped([_r.c.customer_id == party], {"provider_id": _r.c.provider_id}))
    return Prepared(_grouped([_r.c.provider_id == party], {"cust": _r.c.customer_id}))


@functools.cache
def serves_in_force() -> Prepared:
    """``serves`` links valid at ``at`` from or to ``party``, and those serving everyone."""
    party, at = _id("party"), _time("at")
    target = _party.alias("target")
    return Prepared(
        select(_rel, target.c.kind.label("target_kind"))
        .select_from(_rel.join(target, target.c.id == _rel.c.target_id))
        .where(
            _rel.c.type == SERVES,
            _rel.c.valid_from <= at,
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > at),
            or_(
                _rel.c.source_id == party,
                _rel.c.target_id == party,
                target.c.kind != DEPARTMENT,  # serves everyone in an organization
            ),
        )
    )


@functools.cache
def usage_of() -> Prepared:
    """One employee's usage in [start, at] (params party, at, start)."""
    party, at, start = _id("party"), _time("at"), _time("start")
    columns: list[ColumnElement[Any]] = [
        func.count().label("n"),
        func.min(_u.c.at).label("first"),
        func.max(_u.c.id).label("latest"),
        func.sum(_u.c.records_created + _u.c.records_updated).label("records"),
        func.sum(_u.c.fields_filled).label("filled"),
        func.sum(_u.c.fields_expected).label("expected"),
    ]
    return Prepared(select(*columns).where(_u.c.party_id == party, _u.c.at <= at, _u.c.at >= start))


# -- lead hand-offs ---------------------------------------------------------------------------


def _side(role: str, candidates: bool) -> Any:
    part = participant_table
    since, until = _time("since"), _time("until")
    joined, department = credited_department(part, part.c.party_id, part.c.occurred_at, role)
    query = (
        select(part.c.interaction_id, part.c.occurred_at, department.label("department"))
        .select_from(joined)
        .where(
            part.c.type == LEAD_HANDOFF,
            part.c.role == role,
            part.c.occurred_at >= since,
            part.c.occurred_at < until,
        )
    )
    if candidates:
        party = _id("party")
        query = query.where(
            part.c.interaction_id.in_(
                select(part.c.interaction_id).where(
                    part.c.type == LEAD_HANDOFF,
                    or_(part.c.party_id == party, part.c.party_id.in_(employees_of(party))),
                )
            )
        )
    return query.subquery(f"{role}_side")


@functools.cache
def handoff_counts(candidates: bool) -> Prepared:
    """(from_id, to_id, outcome, n, first, last, latest) in [since, until).

    With *candidates*, only hand-offs involving ``party`` or its employees.
    """
    sender = _side("from", candidates)
    # The receiving side joins the sender's hand-offs by interaction: the
    # sender's candidates bound it, so the candidate list is built once.
    receiver = _side("to", False)
    inter = interaction_table
    outcome = inter.c.payload["outcome"].as_string()
    return Prepared(
        select(
            sender.c.department.label("from_id"),
            receiver.c.department.label("to_id"),
            outcome.label("outcome"),
            func.count().label("n"),
            func.min(sender.c.occurred_at).label("first"),
            func.max(sender.c.occurred_at).label("last"),
            func.max(sender.c.interaction_id).label("latest"),
        )
        .select_from(
            sender.join(receiver, receiver.c.interaction_id == sender.c.interaction_id).join(
                inter, inter.c.id == sender.c.interaction_id
            )
        )
        .group_by(sender.c.department, receiver.c.department, outcome)
    )


# -- service levels ---------------------------------------------------------------------------


@functools.cache
def service_levels(providers: Shape) -> tuple[Prepared, Prepared]:
    """Figures per (provider, category, customer department) and medians per provider.

    Over requests opened in [since, until), judged at ``until``; with a shape
    for *providers*, only the providers in ``providers`` (see
    :func:`~partygraph.storage.prepared.bind_ids`). One pass for the figures, one
    for the medians.
    """
    since, until = _time("since"), _time("until")
    flags = judgement(until)
    where: list[ColumnElement[bool]] = [_r.c.opened_at >= since, _r.c.opened_at < until]
    if providers is not None:
        where.append(ids_in(_r.c.provider_id, "providers", providers))
    customer = _r.c.customer_id
    figures = (
        select(
            _r.c.provider_id,
            _r.c.category,
            customer,
            func.count().label("requests"),
            func.sum(flags["met"]).label("met"),
            func.sum(flags["breached"]).label("breached"),
            func.sum(flags["open"]).label("open"),
            func.sum(flags["overdue"]).label("overdue"),
            func.count(_r.c.satisfaction).label("responses"),
            func.sum(_r.c.satisfaction).label("satisfaction"),
        )
        .where(*where)
        .group_by(_r.c.provider_id, _r.c.category, customer)
    )
    ranked = (
        select(
            _r.c.provider_id,
            _r.c.resolution_seconds.label("seconds"),
            func.row_number()
            .over(partition_by=_r.c.provider_id, order_by=_r.c.resolution_seconds)
            .label("rank"),
            func.count().over(partition_by=_r.c.provider_id).label("n"),
        )
        .where(*where, flags["resolved"])
        .subquery()
    )
    # The median: the middle row, or the mean of the two middle rows.
    median = (
        select(ranked.c.provider_id, func.avg(ranked.c.seconds).label("seconds"))
        .where(ranked.c.rank * 2 >= ranked.c.n, ranked.c.rank * 2 <= ranked.c.n + 2)
        .group_by(ranked.c.provider_id)
    )
    return Prepared(figures), Prepared(median)


# -- CRM adoption -----------------------------------------------------------------------------


@functools.cache
def headcounts(departments: Shape = None) -> Prepared:
    """Employees per department (of ``ids``) whose employment overlaps [since, until)."""
    since, until = _time("since"), _time("until")
    query = (
        select(_rel.c.target_id, func.count(distinct(_rel.c.source_id)).label("n"))
        .where(
            _rel.c.type == EMPLOYED_IN,
            _rel.c.valid_from < until,
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > since),
        )
        .group_by(_rel.c.target_id)
    )
    if departments is not None:
        query = query.where(ids_in(_rel.c.target_id, "ids", departments))
    return Prepared(query)


@functools.cache
def staff() -> Select[Any]:
    """Everyone employed at some point of [since, until)."""
    since, until = _time("since"), _time("until")
    return (
        select(_rel.c.source_id)
        .where(
            _rel.c.type == EMPLOYED_IN,
            _rel.c.valid_from < until,
            or_(_rel.c.valid_to.is_(None), _rel.c.valid_to > since),
        )
        .distinct()
    )


@functools.cache
def usage_population(departments: Shape) -> Prepared:
    """Employees with usage evidence in [since, until) (in the departments ``ids``)."""
    since, until = _time("since"), _time("until")
    query = select(_u.c.party_id).where(_u.c.at >= since, _u.c.at < until).distinct()
    if departments is not None:
        joined, department = employment_join(_u, _u.c.party_id, _u.c.at, "e")
        query = query.select_from(joined).where(ids_in(department, "ids", departments))
    return Prepared(query)


@functools.cache
def adoption_by_department(departments: Shape, excluded: Shape) -> Prepared:
    """Usage per department of the day (of ``ids``) in [since, until), without ``excluded``."""
    since, until = _time("since"), _time("until")
    joined, department = employment_join(_u, _u.c.party_id, _u.c.at, "e")
    records = _u.c.records_created + _u.c.records_updated
    query = (
        select(
            department.label("department"),
            func.count(distinct(case((records > 0, _u.c.party_id)))).label("active"),
            func.sum(_u.c.records_created).label("created"),
            func.sum(_u.c.records_updated).label("updated"),
            func.sum(_u.c.fields_filled).label("filled"),
            func.sum(_u.c.fields_expected).label("expected"),
        )
        .select_from(joined)
        .where(_u.c.at >= since, _u.c.at < until, department.is_not(None))
        .group_by(department)
    )
    if departments is not None:
        query = query.where(ids_in(department, "ids", departments))
    if excluded is not None:
        query = query.where(~ids_in(_u.c.party_id, "excluded", excluded))
    return Prepared(query)


@functools.cache
def departments(ids: Shape) -> Prepared:
    """Every department (or those in ``ids``)."""
    query = select(_party.c.id).where(_party.c.kind == DEPARTMENT)
    if ids is not None:
        query = query.where(ids_in(_party.c.id, "ids", ids))
    return Prepared(query)


@functools.cache
def usage_by_employee() -> Select[Any]:
    """Usage per employee in [since, until)."""
    since, until = _time("since"), _time("until")
    return (
        select(
            _u.c.party_id,
            func.sum(_u.c.records_created).label("created"),
            func.sum(_u.c.records_updated).label("updated"),
            func.sum(_u.c.fields_filled).label("filled"),
            func.sum(_u.c.fields_expected).label("expected"),
            func.count(distinct(func.date(_u.c.at))).label("days"),
            func.max(_u.c.at).label("last"),
        )
        .where(_u.c.at >= since, _u.c.at < until)
        .group_by(_u.c.party_id)
    )


@functools.cache
def employment_history() -> Select[Any]:
    """``employed_in`` links of ``ids`` (expanding) that start before ``until``."""
    until = _time("until")
    return select(_rel.c.source_id, _rel.c.target_id, _rel.c.valid_from, _rel.c.valid_to).where(
        _rel.c.type == EMPLOYED_IN,
        _rel.c.source_id.in_(bindparam("ids", expanding=True)),
        _rel.c.valid_from <= until,
    )
