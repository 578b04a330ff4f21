"""One party's marketplace data for one read, fetched in at most three statements.

A view asks the plugin for a party's roles, its section and its metrics: three
hooks that need the same memberships, the same figures and the same support
tickets. :func:`snapshot` reads them once per reader and party (kept in
``graph.memo("marketplace")``) and lazily, so a party on no side costs one
statement and a member three:

1. the party's ``side_of`` stages, each with its platform's key and name;
2. its figures on every side, one aggregate per window (lifetime, this week,
   this month, before its current membership started) and the first completed
   transaction of each side whose role starts there, as one ``UNION ALL``;
3. its support tickets (every role) and, on a demand side with zones, its
   completed transactions' zones (the basis of suggestions), as one ``UNION ALL``.

Every statement is built once (per number of sides) and run as a
:class:`~partygraph.storage.prepared.Prepared` statement. Each window's aggregate
runs over the same index range, in the same order, as the per-window statements
it replaces, so the sums and averages are the same numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, NullType, TypeDecorator, TypeEngine

from partygraph import GraphReader, PartySummary
from partygraph.storage.prepared import Prepared
from partygraph.storage.tables import (
    interaction_table,
    participant_table,
    party_table,
    relationship_table,
)
from partygraph.times import from_storage, to_storage
from partygraph_marketplace.figures import Totals
from partygraph_marketplace.membership import ROLE_STAGES, Stage, period_at, stage_from_row
from partygraph_marketplace.periods import Period, money, period_of, upto
from partygraph_marketplace.settings import Settings
from partygraph_marketplace.tables import KIND_PAYOUT, KIND_TRANSACTION, activity
from partygraph_marketplace.vocab import SIDE_OF, SUPPORT_TICKET

__all__ = ["LIFETIME", "MONTH", "WEEK", "Snapshot", "Ticket", "Trip", "snapshot"]

_a = activity
_rel = relationship_table

#: Windows of :meth:`Snapshot.totals` (all end at the read's time, exclusive of later).
LIFETIME, WEEK, MONTH = 0, 1, 2
_BEFORE = 3  # before the start of the side's current membership
#: Sums and averages come back as the driver sends them (floats on both databases): a
#: ``Float`` result type would ask for PostgreSQL's column type, which a prepared
#: statement does not have before it runs.
_AS_SENT = NullType()


def _raw(column: Any) -> Any:
    """A time column read as the driver sends it (SQLite: text), for
    :func:`~partygraph.times.from_storage` to parse: cheaper than SQLAlchemy's parser."""
    return type_coerce(column, _AS_SENT).label(column.name)


class Ticket(NamedTuple):
    """One event of a support ticket the party took part in."""

    id: int
    occurred_at: datetime
    payload: Mapping[str, Any]


class Trip(NamedTuple):
    """One completed transaction on a side: (id, time, pickup zone, drop-off zone)."""

    id: int
    occurred_at: datetime
    pickup_zone: str | None
    dropoff_zone: str | None


# -- statements ---------------------------------------------------------------------------

_STAGES = Prepared(
    select(
        _rel.c.id,
        _rel.c.source_id,
        _rel.c.target_id,
        _rel.c.role,
        _rel.c.attributes,
        _raw(_rel.c.valid_from),
        _raw(_rel.c.valid_to),
        party_table.c.key.label("platform_key"),
        party_table.c.kind.label("platform_kind"),
        party_table.c.name.label("platform_name"),
    )
    .select_from(_rel.outerjoin(party_table, party_table.c.id == _rel.c.target_id))
    .where(_rel.c.type == SIDE_OF, _rel.c.source_id == bindparam("party"))
)


#: Both kinds, as an IN list of constants the index seeks (not an expanding parameter).
_KINDS = _a.c.kind.in_([literal(KIND_TRANSACTION), literal(KIND_PAYOUT)])


class _StoredTime(TypeDecorator[Any]):
    """A time already in ``occurred_at``'s storage form (:func:`_stored`): text on SQLite,
    bound without SQLAlchemy formatting it again for each place it appears; a naive
    datetime elsewhere."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(String() if dialect.name == "sqlite" else DateTime())


def _time(name: str) -> BindParameter[Any]:
    """A time parameter, stored once by :func:`_stored` although the statement repeats it
    in every branch."""
    return bindparam(name, type_=_StoredTime())


def _stored(connection: Connection, at: datetime) -> Any:
    """*at* as the ``occurred_at`` column stores it: naive UTC, text on SQLite (the
    format SQLAlchemy writes, as the write path does)."""
    value = to_storage(at)
    if connection.dialect.name == "sqlite":
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def _window(tag: int, side: ColumnElement[bool], *conditions: ColumnElement[bool]) -> Select[Any]:
    """One window's figures per side and kind: completed transactions and payouts.

    With the party, the side and the kind fixed, the index on (party, side, kind,
    time) seeks straight to the window's rows, in time order.
    """
    return (
        select(
            literal_column(str(tag)).label("tag"),
            _a.c.side,
            _a.c.kind,
            func.count().label("n"),
            func.sum(_a.c.amount, type_=_AS_SENT).label("amount"),
            func.sum(_a.c.fee, type_=_AS_SENT).label("fee"),
            func.sum(_a.c.tip, type_=_AS_SENT).label("tip"),
            func.sum(_a.c.incentive, type_=_AS_SENT).label("incentive"),
            func.count(_a.c.rating).label("rated"),
            func.avg(_a.c.rating, type_=_AS_SENT).label("rating"),
            func.min(_a.c.occurred_at, type_=_AS_SENT).label("first"),
            func.max(_a.c.occurred_at, type_=_AS_SENT).label("last"),
            # typed: PostgreSQL would read NULLs of several branches as text
            cast(null(), _a.c.interaction_id.type).label("interaction_id"),
        )
        .where(
            _a.c.party_id == bindparam("party"),
            side,
            _KINDS,
            # completed transactions (only transactions are ever completed) and payouts
            or_(_a.c.completed.is_(True), _a.c.kind == KIND_PAYOUT),
            _a.c.occurred_at < _time("until"),
            *conditions,
        )
        .group_by(_a.c.side, _a.c.kind)
    )


def _first(index: int) -> Select[Any]:
    """The first completed transaction of side *index* since it joined."""
    first = (
        select(_a.c.side, _a.c.kind, _a.c.occurred_at, _a.c.interaction_id)
        .where(
            _a.c.party_id == bindparam("party"),
            _a.c.side == bindparam(f"first_side{index}"),
            _a.c.kind == KIND_TRANSACTION,
            _a.c.completed.is_(True),
            _a.c.occurred_at >= _time(f"first_since{index}"),
            _a.c.occurred_at < _time("until"),
        )
        .order_by(_a.c.occurred_at, _a.c.interaction_id)
        .limit(1)
        .subquery(f"first{index}")
    )
    return select(
        literal_column(str(-1 - index)).label("tag"),
        first.c.side,
        first.c.kind,
        literal_column("1").label("n"),
        null(),
        null(),
        null(),
        null(),
        null(),
        null(),
        _raw(first.c.occurred_at),
        _raw(first.c.occurred_at),
        first.c.interaction_id,
    )


@functools.cache
def _figures(sides: int, windows: bool, befores: int, firsts: int) -> Prepared:
    """One party's figures on *sides* sides: lifetime, this week and month (*windows*),
    before the current membership of *befores* sides, first transaction of *firsts*.

    A shape per party's needs: a rider costs three branches, a driver four.
    """

    def since(name: str) -> ColumnElement[bool]:
        return _a.c.occurred_at >= _time(name)

    every = _a.c.side.in_([bindparam(f"side{index}") for index in range(sides)])
    branches = [_window(LIFETIME, every)]
    if windows:
        branches += [_window(WEEK, every, since("week")), _window(MONTH, every, since("month"))]
    for index in range(befores):
        # Before the current membership started (usually nothing): its complement in
        # the lifetime window is the membership's window, without scanning it again.
        before = _a.c.occurred_at < _time(f"since{index}")
        branches.append(_window(_BEFORE, _a.c.side == bindparam(f"run_side{index}"), before))
    branches.extend(_first(index) for index in range(firsts))
    return Prepared(union_all(*branches))


@functools.cache
def _tickets(sides: int, demand_sides: int) -> Prepared:
    """A party's support-ticket events in the roles of *sides* sides and its completed
    transactions on *demand_sides* sides, for the sides' open issues and suggestions.

    The roles are bound one by one so that the (party, type, role, time) index answers.
    """
    part, inter = participant_table, interaction_table
    tickets = select(
        literal_column("0").label("trip"),
        part.c.role,
        inter.c.id,
        _raw(inter.c.occurred_at),
        # as sent (SQLite: JSON text, parsed below for the few ticket rows only): with no
        # column to convert, the trip rows come back without any per-row conversion
        type_coerce(inter.c.payload, _AS_SENT).label("payload"),
        null().label("pickup_zone"),
        null().label("dropoff_zone"),
    ).where(
        part.c.party_id == bindparam("party"),
        part.c.type == SUPPORT_TICKET,
        part.c.role.in_([bindparam(f"side{index}") for index in range(sides)]),
        part.c.occurred_at < _time("until"),
        inter.c.id == part.c.interaction_id,
    )
    if not demand_sides:
        return Prepared(tickets)
    demand: list[BindParameter[str]] = [
        bindparam(f"demand{index}", type_=String()) for index in range(demand_sides)
    ]
    trips = select(
        literal_column("1"),
        _a.c.side,
        _a.c.interaction_id,
        _a.c.occurred_at,
        null(),
        _a.c.pickup_zone,
        _a.c.dropoff_zone,
    ).where(
        _a.c.party_id == bindparam("party"),
        _a.c.side == demand[0] if demand_sides == 1 else _a.c.side.in_(demand),
        _a.c.kind == KIND_TRANSACTION,
        _a.c.completed.is_(True),
        _a.c.occurred_at < _time("until"),
    )
    return Prepared(union_all(tickets, trips))


# -- the snapshot -------------------------------------------------------------------------


def _float(value: Any) -> float:
    return float(value) if value is not None else 0.0


class Snapshot:
    """What the marketplace knows of one party at one moment (see the module's docstring).

    Figures and tickets are read on first use: a party on no side costs one statement.
    """

    def __init__(
        self,
        settings: Settings,
        graph: GraphReader,
        party_id: int,
        as_of: datetime,
        stages: dict[str, list[Stage]],
        platforms: dict[int, PartySummary],
    ) -> None:
        self.settings = settings
        self.graph = graph
        self.party_id = party_id
        self.as_of = as_of
        self.until = upto(as_of)
        #: Every stage of the party's membership of each side, oldest first.
        self.stages = stages
        self._platforms = platforms
        self._figures: dict[tuple[int, str], Totals] | None = None
        self._rows: dict[tuple[int, str], list[Any]] = {}
        self._firsts: dict[str, tuple[int, datetime]] = {}
        self._tickets: dict[str, list[Ticket]] | None = None
        self._trips: dict[str, list[Trip]] = {}
        self._periods: dict[str, Period] = {}
        self._windows = False

    @classmethod
    def load(
        cls, settings: Settings, graph: GraphReader, party_id: int, as_of: datetime
    ) -> Snapshot:
        """Read the party's stages (one statement)."""
        sides = set(settings.side_names)
        stages: dict[str, list[Stage]] = {}
        platforms: dict[int, PartySummary] = {}
        for row in _STAGES.rows(graph.connection, {"party": party_id}):
            if row.role not in sides:
                continue
            stage = stage_from_row(row)
            stages.setdefault(stage.side, []).append(stage)
            if row.platform_key is not None:
                platforms[stage.platform_id] = PartySummary(
                    stage.platform_id, row.platform_key, row.platform_kind, row.platform_name
                )
        for found in stages.values():
            found.sort(key=_stage_order)
        return cls(settings, graph, party_id, as_of, stages, platforms)

    # -- memberships ----------------------------------------------------------------------

    def run(self, side: str) -> list[Stage]:
        """The unbroken run of stages of *side* in force now, when it holds the role."""
        run = period_at(self.stages.get(side, []), self.as_of)
        return run if run and run[-1].status in ROLE_STAGES else []

    def platform(self, platform_id: int) -> PartySummary:
        """A platform's summary (read with the stages; the graph's party otherwise)."""
        found = self._platforms.get(platform_id)
        if found is None:
            found = self._platforms[platform_id] = PartySummary.of(self.graph.party(platform_id))
        return found

    def period(self, name: str) -> Period:
        """The week or month containing the read's time (computed once per snapshot)."""
        found = self._periods.get(name)
        if found is None:
            found = self._periods[name] = period_of(self.as_of, name, self.settings.tz)
        return found

    # -- figures --------------------------------------------------------------------------

    def _load_figures(self, windows: bool = False) -> None:
        settings = self.settings
        connection = self.graph.connection
        sides = [side for side in settings.sides if side.name in self.stages]
        # The week's and month's figures serve supply sides and incentive programs.
        windows = windows or any(side.supply or settings.programs_of(side.name) for side in sides)
        params: dict[str, Any] = {"party": self.party_id, "until": _stored(connection, self.until)}
        if windows:
            params["week"] = _stored(connection, self.period("week").start)
            params["month"] = _stored(connection, self.period("month").start)
        befores = firsts = 0
        for index, side in enumerate(sides):
            params[f"side{index}"] = side.name
            run = self.run(side.name)
            if not run:
                continue
            since = _stored(connection, run[0].start or _EARLIEST)
            if run[0].start is not None:
                params[f"run_side{befores}"] = side.name
                params[f"since{befores}"] = since
                befores += 1
            if side.role_since == "first_transaction":
                params[f"first_side{firsts}"] = side.name
                params[f"first_since{firsts}"] = since
                firsts += 1
        rows: dict[tuple[int, str], list[Any]] = {}
        statement = _figures(max(len(sides), 1), windows, befores, firsts)
        for row in statement.rows(connection, params):
            if row.tag < 0:
                at = from_storage(row.first)
                assert at is not None
                self._firsts[row.side] = (int(row.interaction_id), at)
            else:
                rows.setdefault((row.tag, row.side), []).append(row)
        self._rows = rows
        self._windows = windows
        self._figures = {}

    def totals(self, side: str, window: int) -> Totals:
        """The party's totals on *side* over a window (:data:`LIFETIME`, :data:`WEEK`,
        :data:`MONTH`), up to the read's time."""
        if self._figures is None or (window in (WEEK, MONTH) and not self._windows):
            self._load_figures(windows=window in (WEEK, MONTH))
        assert self._figures is not None
        key = (window, side)
        found = self._figures.get(key)
        if found is None:
            found = self._figures[key] = _totals(self._rows.get(key, ()))
        return found

    def joined(self, side: str) -> tuple[int, datetime | None]:
        """Completed transactions on *side* since the party's current run of stages started,
        and the time of the last one: the lifetime's, less those before the run."""
        lifetime = self.totals(side, LIFETIME)
        before = self.totals(side, _BEFORE)
        run = self.run(side)
        start = run[0].start if run else None
        last = lifetime.last
        if last is not None and start is not None and last < start:
            last = None
        return lifetime.transactions - before.transactions, last

    def first(self, side: str) -> tuple[int, datetime] | None:
        """The first completed transaction on a ``first_transaction`` *side* since the
        party joined it: (interaction id, time), or None."""
        if self._figures is None:
            self._load_figures()
        return self._firsts.get(side)

    # -- tickets and trips ----------------------------------------------------------------

    def _load_events(self) -> None:
        settings = self.settings
        demand = (
            [side.name for side in settings.positioned("demand") if side.name in self.stages]
            if settings.transaction.zones
            else []
        )
        connection = self.graph.connection
        params: dict[str, Any] = {"party": self.party_id, "until": _stored(connection, self.until)}
        for index, name in enumerate(settings.side_names):
            params[f"side{index}"] = name
        for index, name in enumerate(demand):
            params[f"demand{index}"] = name
        tickets: list[tuple[Any, ...]] = []
        trips: list[tuple[Any, ...]] = []
        for row in _tickets(len(settings.sides), len(demand)).rows(connection, params):
            (trips if row.trip else tickets).append(tuple(row))
        # Newest first, as the core's interactions are; trips oldest first.
        tickets.sort(key=lambda row: (row[3], row[2]), reverse=True)
        trips.sort(key=lambda row: (row[3], row[2]))
        self._tickets = {}
        for _, role, interaction_id, occurred_at, payload, _, _ in tickets:
            at = from_storage(occurred_at)
            assert at is not None
            if isinstance(payload, str | bytes):
                payload = orjson.loads(payload)
            self._tickets.setdefault(role, []).append(Ticket(interaction_id, at, payload or {}))
        for _, side, interaction_id, occurred_at, _, pickup, dropoff in trips:
            at = from_storage(occurred_at)
            assert at is not None
            self._trips.setdefault(side, []).append(Trip(interaction_id, at, pickup, dropoff))

    def tickets(self, side: str) -> list[Ticket]:
        """The events of the support tickets the party took part in as *side*, newest first."""
        if self._tickets is None:
            self._load_events()
        assert self._tickets is not None
        return self._tickets.get(side, [])

    def trips(self, side: str) -> list[Trip]:
        """The party's completed transactions on a demand *side*, oldest first (with zones)."""
        if self._tickets is None:
            self._load_events()
        return self._trips.get(side, [])


_EARLIEST = datetime(1, 1, 1)


def _stage_order(stage: Stage) -> tuple[datetime, int]:
    return (to_storage(stage.start) if stage.start else datetime.min, stage.id)


def _totals(rows: Sequence[Any]) -> Totals:
    done = payouts = None
    for row in rows:
        if row.kind == KIND_TRANSACTION:
            done = row
        elif row.kind == KIND_PAYOUT:
            payouts = row
    paid = money(_float(payouts.amount)) if payouts is not None else money(0.0)
    if done is None:
        return Totals(payouts=paid)
    return Totals(
        transactions=int(done.n),
        gross=money(_float(done.amount)),
        fee=money(_float(done.fee)),
        tips=money(_float(done.tip)),
        incentives=money(_float(done.incentive)),
        payouts=paid,
        rated=int(done.rated or 0),
        average_rating=float(done.rating) if done.rating is not None else None,
        first=from_storage(done.first),
        last=from_storage(done.last),
    )


def snapshot(settings: Settings, party_id: int, as_of: datetime, graph: GraphReader) -> Snapshot:
    """The party's snapshot at *as_of*: once per reader (its memo), else read anew."""
    memo = graph.memo("marketplace")
    if memo is None:
        return Snapshot.load(settings, graph, party_id, as_of)
    key = ("snapshot", party_id, as_of)
    found = memo.get(key)
    if found is None:
        found = memo[key] = Snapshot.load(settings, graph, party_id, as_of)
    assert isinstance(found, Snapshot)
    return found
