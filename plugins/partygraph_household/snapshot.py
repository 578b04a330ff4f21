"""One household at one date, read lazily with the prepared statements, once per view.

A view of a household asks the plugin for its roles (``customer_household``),
its metrics and its section. All three come from one :class:`Snapshot`, kept
in the reader's memo (``graph.memo("household")``): the memberships, who may
be aggregated and which members are customers are read once and shared, and
the roll-up figures (spend, categories, holdings) are read only when the
metrics or the section ask for them, so ``toolkit.roles`` of a household
costs one statement of this plugin's own.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any

from partygraph import GraphReader, Party, RoleAssignment
from partygraph.times import to_storage
from partygraph_household import prepared
from partygraph_household.queries import (
    HoldingRow,
    MemberRow,
    SpendRow,
    category_rows,
    holding_rows,
    member_rows,
    spend_rows,
)
from partygraph_household.rollup import customers_among
from partygraph_household.settings import Settings
from partygraph_household.vocabulary import PURPOSE

__all__ = ["ASKING_FOR_CUSTOMERS", "Snapshot", "asking_for_customers", "snapshot_of"]

#: Memo key set while a snapshot asks every plugin for its members' roles.
ASKING_FOR_CUSTOMERS = "asking_for_customers"


def asking_for_customers(graph: GraphReader) -> bool:
    """Whether this reader is asking for members' roles only to find customers."""
    memo = graph.memo("household")
    return memo is not None and ASKING_FOR_CUSTOMERS in memo


class Snapshot:
    """What the roles, metrics and section of one household need at *at*.

    It answers :class:`partygraph_household.rollup.Households` for this one
    household, so :func:`partygraph_household.rollup.summary_of` works on it as
    on a census of many.
    """

    def __init__(
        self, graph: GraphReader, settings: Settings, household: Party, at: datetime
    ) -> None:
        assert household.id is not None
        self.graph = graph
        self.settings = settings
        self.household = household
        self.household_id: int = household.id
        self.at = at
        self.since = at - timedelta(days=settings.recent_days)
        self.today: date = to_storage(at).date()
        self._statements = prepared.for_household(graph.connection.dialect.name, settings.purchases)
        self._params = {
            "household": household.id,
            "at": to_storage(at),
            "since": to_storage(self.since),
        }

    def _rows(self, statement: Any) -> list[Any]:
        if statement is None:
            return []
        rows: list[Any] = statement.rows(self.graph.connection, self._params)
        return rows

    @property
    def households(self) -> dict[int, Party]:
        """This household, by id."""
        return {self.household_id: self.household}

    @functools.cached_property
    def memberships(self) -> list[MemberRow]:
        """Every membership that started by the date (ended ones too)."""
        return member_rows(self._rows(self._statements.members))

    @functools.cached_property
    def excluded(self) -> set[int]:
        """Members (current or former: their purchases are credited by membership period)
        who may not be aggregated; the plugins are asked once."""
        people = list({row.party.id: row.party for row in self.memberships}.values())
        return set(self.graph.excluded(people, PURPOSE, self.at)) if people else set()

    @functools.cached_property
    def spend(self) -> dict[int, list[SpendRow]]:
        """Purchases credited to the household, per buyer and currency."""
        return {self.household_id: spend_rows(self._rows(self._statements.spend))}

    @functools.cached_property
    def categories(self) -> dict[int, list[tuple[int, str]]]:
        """``(buyer, category)`` bought while a member in the recent window."""
        rows = category_rows(self._rows(self._statements.categories))
        return {self.household_id: [(party, category) for _, party, category in rows]}

    @functools.cached_property
    def holdings(self) -> dict[int, list[HoldingRow]]:
        """Holdings of the current members and of the household."""
        return {self.household_id: holding_rows(self._rows(self._statements.holdings))}

    def current(self, household_id: int) -> list[MemberRow]:
        """Memberships current at the date."""
        return [row for row in self.memberships if row.holds(self.at)]

    def included(self, household_id: int) -> list[MemberRow]:
        """Current memberships of people who may be aggregated."""
        return [row for row in self.current(household_id) if row.party.id not in self.excluded]

    @functools.cached_property
    def _customers(self) -> list[tuple[MemberRow, list[RoleAssignment]]]:
        memo = self.graph.memo("household")
        if memo is None:
            return customers_among(self.graph, self.included(self.household_id), self.at)
        # Only customer roles are wanted, and this plugin's own person roles never are
        # one: while the other plugins are asked, ours are not worked out.
        memo[ASKING_FOR_CUSTOMERS] = True
        try:
            return customers_among(self.graph, self.included(self.household_id), self.at)
        finally:
            del memo[ASKING_FOR_CUSTOMERS]

    def customers(self, household_id: int) -> list[tuple[MemberRow, list[RoleAssignment]]]:
        """Included members who are customers (asks every plugin for their roles, once)."""
        return self._customers


def snapshot_of(graph: GraphReader, settings: Settings, household: Party, at: datetime) -> Snapshot:
    """The household's snapshot, shared by every hook within one reader."""
    assert household.id is not None
    memo = graph.memo("household")
    if memo is None:
        return Snapshot(graph, settings, household, at)
    key = ("snapshot", household.id, at)
    found = memo.get(key)
    if found is None:
        found = memo[key] = Snapshot(graph, settings, household, at)
    assert isinstance(found, Snapshot)
    return found
