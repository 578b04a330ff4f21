"""Reading: roles with reasons, views, metrics, history and ``as_of``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import event

from partygraph import (
    GraphReader,
    NotFoundError,
    Party,
    PartySummary,
    RoleAssignment,
    Toolkit,
    WriteBatch,
    WriteSession,
    hookimpl,
    once_per_read,
)
from plugins_for_tests import Basics, Gossip

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
APR = datetime(2025, 4, 1, tzinfo=UTC)
FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


class Notebook:
    """A second plugin with its own view section and metrics."""

    @hookimpl
    def partygraph_view_section(self, party: Party) -> dict[str, Any] | None:
        return {"initial": party.key[0]} if party.kind == "person" else None

    @hookimpl
    def partygraph_metrics(self, party: Party, graph: GraphReader) -> dict[str, Any]:
        return {"relationships": len(graph.relationships(party, history=True))}


class Explicit:
    """Fills in a plugin name of its own (the toolkit must not overwrite it)."""

    @hookimpl
    def partygraph_roles(self, party: Party) -> list[RoleAssignment]:
        return [RoleAssignment("delegate", reason="speaks for others", plugin="delegated")]


@pytest.fixture
def toolkit(make_toolkit: Any) -> Toolkit:
    toolkit: Toolkit = make_toolkit(plugins={"basics": Basics, "notebook": Notebook})
    toolkit.write(
        [
            {"party": {"key": "alice", "kind": "person", "name": "Alice"}},
            {"party": {"key": "bob", "kind": "person", "name": "Bob"}},
            {"party": {"key": "kid", "kind": "person", "name": "Kid"}},
            {"party": {"key": "home", "kind": "household", "name": "The Moreaus"}},
            {"party": {"key": "acme", "kind": "organization", "name": "Acme"}},
        ]
    )
    return toolkit


def buy(
    toolkit: Toolkit, buyer: str, at: datetime, amount: float, consumer: str | None = None
) -> None:
    participants = [(buyer, "purchaser")] + ([(consumer, "consumer")] if consumer else [])
    toolkit.record_interaction("purchase", at, participants, {"amount": amount})


# -- roles -------------------------------------------------------------------------------


def test_roles_carry_reasons_and_the_plugin_name(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", JAN, 20, consumer="kid")
    buy(toolkit, "alice", FEB, 5)
    (customer,) = toolkit.roles("alice")
    assert customer == RoleAssignment(
        "customer", reason="made 2 purchase(s)", plugin="basics", customer=True
    )
    (consumer,) = toolkit.roles("kid")
    assert (consumer.role, consumer.plugin, consumer.customer) == ("consumer", "basics", False)
    assert consumer.reason == "received 1 purchase(s)"
    assert toolkit.roles("bob") == []


def test_roles_as_of_a_date(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", FEB, 20)
    assert toolkit.roles("alice", as_of=JAN) == []
    assert [role.role for role in toolkit.roles("alice", as_of="2025-02-02")] == ["customer"]


def test_a_plugins_own_name_is_kept(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"explicit": Explicit})
    toolkit.upsert_party("p", "person")
    (role,) = toolkit.roles("p")
    assert role.plugin == "delegated"


def test_roles_with_context_and_dates(toolkit: Toolkit) -> None:
    rel = toolkit.relate("alice", "home", "member_of", role="head", valid_from=JAN)
    (head,) = toolkit.roles("alice")
    assert head.role == "head_of_household"
    assert head.context == PartySummary(
        toolkit.party("home").id or 0, "home", "household", "The Moreaus"
    )
    assert head.since == JAN
    assert head.reason == f"head of home (relationship #{rel.id})"


def test_graph_roles_asks_other_parties(toolkit: Toolkit) -> None:
    toolkit.relate("bob", "home", "member_of", role="partner", valid_from=JAN)
    toolkit.relate("kid", "home", "member_of", role="dependent", valid_from=JAN)
    assert toolkit.roles("home") == []
    buy(toolkit, "bob", FEB, 10)
    (household,) = toolkit.roles("home")
    assert household.role == "customer_household"
    assert household.reason == "member bob is a customer"
    assert household.customer is True
    # the member's purchase is not yet made on JAN 15th
    assert toolkit.roles("home", as_of=JAN + timedelta(days=14)) == []


def test_graph_roles_recursion_stops_at_cycles(make_toolkit: Any) -> None:
    toolkit = make_toolkit(plugins={"basics": Basics, "gossip": Gossip})
    for key in ("ann", "ben", "cat"):
        toolkit.upsert_party(key, "person")
    toolkit.relate("ann", "ben", "knows")
    toolkit.relate("ben", "cat", "knows")
    toolkit.relate("cat", "ann", "knows")
    buy(toolkit, "cat", JAN, 1)
    roles = {key: sorted((r.role, r.reason) for r in toolkit.roles(key)) for key in ("ann", "ben")}
    assert roles["ann"] == [("influencer", "knows customer cat")]
    assert roles["ben"] == [("influencer", "knows customer cat")]
    assert [role.role for role in toolkit.roles("cat")] == ["customer"]


def test_roles_of_an_unknown_party(toolkit: Toolkit) -> None:
    with pytest.raises(NotFoundError, match="no party with key 'ghost'"):
        toolkit.roles("ghost")
    with pytest.raises(NotFoundError, match="no party with id 999"):
        toolkit.roles(999)


# -- views and metrics -------------------------------------------------------------------


def test_view_has_each_plugins_section_and_metrics(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", JAN, 20)
    buy(toolkit, "alice", FEB, 2.5)
    toolkit.relate("alice", "acme", "works_for", valid_from=JAN)
    view = toolkit.view("alice")
    assert view.party.key == "alice"
    assert dict(view.sections) == {"basics": {"purchases": 2}, "notebook": {"initial": "a"}}
    assert dict(view.metrics) == {
        "basics": {"purchases": 2, "spent": 22.5},
        "notebook": {"relationships": 1},
    }
    assert [role.role for role in view.roles] == ["customer"]
    assert [i.occurred_at for i in view.interactions] == [FEB, JAN]
    assert [rel.other.key for rel in view.relationships] == ["acme"]
    assert view.history == ()
    orjson.dumps(view.as_dict())  # JSON-ready


def test_view_leaves_out_plugins_with_nothing_to_say(toolkit: Toolkit) -> None:
    view = toolkit.view("home")
    assert dict(view.sections) == {}
    assert toolkit.metrics("home") == {
        "basics": {"purchases": 0, "spent": 0},
        "notebook": {"relationships": 0},
    }


def test_view_as_of_splits_current_and_history(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "acme", "works_for", valid_from=JAN, valid_to=MAR)
    toolkit.relate("alice", "home", "member_of", role="partner", valid_from=FEB)
    in_feb = toolkit.view("alice", as_of="2025-02-15")
    assert in_feb.as_of == datetime(2025, 2, 15, tzinfo=UTC)
    assert sorted(rel.other.key for rel in in_feb.relationships) == ["acme", "home"]
    assert in_feb.history == ()
    in_apr = toolkit.view("alice", as_of=APR)
    assert [rel.other.key for rel in in_apr.relationships] == ["home"]
    assert [rel.other.key for rel in in_apr.history] == ["acme"]


def test_view_as_of_a_past_date_shows_nothing_that_happened_after_it(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", JAN, 1)
    buy(toolkit, "alice", MAR, 2)
    toolkit.record_interaction("meeting", FUTURE, [("alice", "attendee")])
    in_feb = toolkit.view("alice", as_of=FEB)
    assert [i.occurred_at for i in in_feb.interactions] == [JAN]
    assert dict(in_feb.metrics)["basics"] == {"purchases": 1, "spent": 1}
    now = toolkit.view("alice")
    assert [i.occurred_at for i in now.interactions] == [FUTURE, MAR, JAN]


# -- time --------------------------------------------------------------------------------


def test_as_of_reads_see_ended_relationships_correctly(toolkit: Toolkit) -> None:
    rel = toolkit.relate("alice", "acme", "works_for", valid_from=JAN)
    toolkit.end_relationship(rel.id or 0, MAR)

    def current(at: datetime | str) -> list[str]:
        return [view.other.key for view in toolkit.relationships("alice", as_of=at)]

    assert current(JAN - timedelta(microseconds=1)) == []
    assert current(JAN) == ["acme"]
    assert current(MAR - timedelta(microseconds=1)) == ["acme"]
    assert current(MAR) == []  # valid_to is exclusive
    assert current(APR) == []
    assert current("2025-02-10") == ["acme"]
    (everything,) = toolkit.relationships("alice", history=True)
    assert everything.relationship.valid_to == MAR
    assert everything.current is False
    (then,) = toolkit.relationships("alice", as_of=FEB, history=True)
    assert then.current is True


def test_relationship_views_from_both_ends(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "acme", "works_for", valid_from=JAN)
    toolkit.relate("alice", "bob", "knows", valid_from=JAN)
    (employs,) = toolkit.relationships("acme")
    assert (employs.direction, employs.label, employs.other.key) == ("incoming", "employs", "alice")
    mine = {view.other.key: (view.direction, view.label) for view in toolkit.relationships("alice")}
    assert mine == {"acme": ("outgoing", "works for"), "bob": ("outgoing", "knows")}
    (knows,) = toolkit.relationships("bob")
    assert (knows.direction, knows.label) == ("incoming", "knows")  # symmetric label


def test_graph_relationship_filters(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "acme", "works_for", valid_from=JAN)
    toolkit.relate("alice", "home", "member_of", role="head", valid_from=JAN)
    toolkit.relate("bob", "home", "member_of", role="partner", valid_from=JAN)
    with toolkit.reader(as_of=FEB) as graph:
        assert [v.other.key for v in graph.relationships("alice", type="works_for")] == ["acme"]
        assert [v.other.key for v in graph.relationships("home", role="partner")] == ["bob"]
        assert graph.relationships("home", direction="outgoing") == []
        assert len(graph.relationships("home", direction="incoming")) == 2
        assert graph.relationships("alice", as_of=JAN - timedelta(days=1)) == []


def test_future_dated_relationship_becomes_current_on_its_date(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "acme", "works_for", valid_from=FUTURE)
    assert toolkit.relationships("alice") == []
    (future,) = toolkit.relationships("alice", history=True)
    assert future.current is False
    assert [v.other.key for v in toolkit.relationships("alice", as_of=FUTURE)] == ["acme"]
    assert toolkit.relationships("alice", as_of=FUTURE - timedelta(seconds=1)) == []
    assert [v.other.key for v in toolkit.view("alice", as_of=FUTURE).relationships] == ["acme"]


def test_interactions_newest_first(toolkit: Toolkit) -> None:
    for at in (FEB, JAN, APR, MAR):
        buy(toolkit, "alice", at, 1)
    toolkit.record_interaction("meeting", FEB + timedelta(hours=1), [("alice", "attendee")])
    stamps = [i.occurred_at for i in toolkit.interactions("alice")]
    assert stamps == [APR, MAR, FEB + timedelta(hours=1), FEB, JAN]
    assert [i.occurred_at for i in toolkit.interactions("alice", limit=2)] == [APR, MAR]
    assert [i.type for i in toolkit.interactions("alice", type="meeting")] == ["meeting"]
    assert len(toolkit.interactions("alice", limit=None)) == 5


def test_count_interactions_with_type_role_since_and_before(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", JAN, 1, consumer="kid")
    buy(toolkit, "alice", FEB, 1)
    buy(toolkit, "kid", MAR, 1, consumer="alice")
    toolkit.record_interaction("meeting", MAR, [("alice", "host"), ("bob", "guest")])
    with toolkit.reader() as graph:
        assert graph.count_interactions("alice") == 4
        assert graph.count_interactions("alice", type="purchase") == 3
        assert graph.count_interactions("alice", type="purchase", role="purchaser") == 2
        assert graph.count_interactions("alice", role="consumer") == 1
        assert graph.count_interactions("alice", before=FEB) == 1
        assert graph.count_interactions("alice", before=FEB + timedelta(microseconds=1)) == 2
        assert graph.count_interactions("alice", since=FEB) == 3
        assert graph.count_interactions("alice", since=FEB, before=MAR) == 1
        assert graph.count_interactions("kid", type="purchase") == 2
        assert graph.count_interactions("bob", type="purchase") == 0
        assert [i.occurred_at for i in graph.interactions("alice", role="purchaser")] == [FEB, JAN]


def test_an_interaction_counts_once_when_a_party_plays_two_roles(toolkit: Toolkit) -> None:
    buy(toolkit, "alice", JAN, 1, consumer="alice")
    with toolkit.reader() as graph:
        assert graph.count_interactions("alice") == 1
        assert len(graph.interactions("alice")) == 1


def test_resolve_takes_a_key_or_a_numeric_id(toolkit: Toolkit) -> None:
    alice = toolkit.party("alice")
    assert toolkit.resolve("alice") == alice
    assert toolkit.resolve(str(alice.id)) == alice
    assert toolkit.party(alice.id or 0) == alice
    with pytest.raises(NotFoundError, match="no party with key or id 'nobody'"):
        toolkit.resolve("nobody")


def test_a_reader_fetches_a_party_and_its_relationships_once(toolkit: Toolkit) -> None:
    toolkit.relate("alice", "home", "member_of", role="head", valid_from=JAN)
    toolkit.relate("bob", "home", "member_of", role="partner", valid_from=JAN, valid_to=FEB)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with toolkit.reader(MAR) as graph:
        first = graph.relationships("home", history=True)
        event.listen(toolkit.engine, "before_cursor_execute", count)
        try:
            again = graph.relationships("home", history=True)
            current = graph.relationships("home", type="member_of", role="head")
            ended = graph.relationships("home", as_of=JAN + timedelta(days=1))
        finally:
            event.remove(toolkit.engine, "before_cursor_execute", count)
    assert statements == []
    assert again == first
    assert [view.other.key for view in current] == ["alice"]
    assert sorted(view.other.key for view in ended) == ["alice", "bob"]


def test_the_latest_interactions_are_the_first_of_the_whole_history(toolkit: Toolkit) -> None:
    # Alice buys for herself (two roles: two participant rows) and for Kid, at times that
    # tie and times that do not: every limit must give the head of the full, ordered list.
    for index in range(12):
        at = JAN + timedelta(days=index // 2)
        buy(toolkit, "alice", at, index, consumer="alice" if index % 3 else "kid")
    everything = toolkit.interactions("alice", limit=None)
    assert len(everything) == 12
    assert [item.occurred_at for item in everything] == sorted(
        (item.occurred_at for item in everything), reverse=True
    )
    for limit in range(14):
        assert toolkit.interactions("alice", limit=limit) == everything[:limit]
        purchases = toolkit.interactions("alice", type="purchase", limit=limit)
        assert purchases == everything[:limit]


# -- once per read ---------------------------------------------------------------------


class Counting:
    """Works out one figure for its roles, metrics and section, through once_per_read."""

    def __init__(self) -> None:
        self.computed = 0

    def _figure(self, graph: GraphReader, party: Party) -> str:
        def compute() -> str:
            self.computed += 1
            return party.key.upper()

        return once_per_read(graph, "counting", ("figure", party.id), compute)

    @hookimpl
    def partygraph_roles(self, party: Party, graph: GraphReader) -> list[RoleAssignment]:
        return [RoleAssignment("counted", reason=self._figure(graph, party))]

    @hookimpl
    def partygraph_metrics(self, party: Party, graph: GraphReader) -> dict[str, Any]:
        return {"figure": self._figure(graph, party)}

    @hookimpl
    def partygraph_view_section(self, party: Party, graph: GraphReader) -> dict[str, Any]:
        return {"figure": self._figure(graph, party)}

    @hookimpl
    def partygraph_after_write(self, batch: WriteBatch, session: WriteSession) -> None:
        for party in batch.parties:
            self._figure(session.graph, party)
            self._figure(session.graph, party)


def test_once_per_read_computes_once_per_read_only_reader_and_each_time_in_a_write(
    make_toolkit: Any,
) -> None:
    counting = Counting()
    toolkit: Toolkit = make_toolkit(plugins={"counting": counting})
    toolkit.upsert_party("alice", "person", "Alice")
    assert counting.computed == 2  # a write's reader keeps nothing: its data change
    view = toolkit.view("alice")
    assert view.sections["counting"] == {"figure": "ALICE"}
    assert view.metrics["counting"] == {"figure": "ALICE"}
    assert counting.computed == 3  # roles, metrics and section shared one computation
    toolkit.view("alice")
    assert counting.computed == 4  # a new read computes afresh
