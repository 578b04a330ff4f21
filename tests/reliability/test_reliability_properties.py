"""Property-based tests: random sequences of writes keep the graph's invariants.

Hypothesis draws sequences of party upserts, relationships (with and without an
end), relationship ends, purchases, consents and erasures. A plain Python model
follows what each operation must do. After every sequence:

- no row refers to a party, interaction or relationship that does not exist;
- relationships are exactly the model's: an end, once written, is never moved
  (an attempt to move it is refused and changes nothing);
- ``roles(as_of=t)`` is what the relationships valid at ``t`` and the purchases
  before ``t`` imply, for many ``t``;
- every party's access export, turned into interchange records and imported
  into a second database, exports the same again (a round trip);
- with the privacy plugin, the consent ledger only grows, except for an erased
  subject's own entries.

The budget (``PARTYGRAPH_RELIABILITY_BUDGET``) sets the number of examples.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import PROFILE, record_cases

from partygraph import (
    GraphReader,
    InteractionType,
    Party,
    PartyKind,
    RelationshipType,
    RoleAssignment,
    Toolkit,
    UserError,
    WriteRefused,
    hookimpl,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
PEOPLE = ["ann", "bob", "cy", "dee"]
HOUSEHOLDS = ["h1", "h2"]
RUNS = itertools.count()


def day(number: int) -> datetime:
    return START + timedelta(days=number)


class Family:
    """Households, membership over time, purchases -- and the roles they imply."""

    @hookimpl
    def partygraph_party_kinds(self) -> list[PartyKind]:
        return [PartyKind("household")]

    @hookimpl
    def partygraph_relationship_types(self) -> list[RelationshipType]:
        return [
            RelationshipType(
                "member_of",
                label="member of",
                source_kinds={"person"},
                target_kinds={"household"},
                roles={"head", "member"},
                role_required=True,
            )
        ]

    @hookimpl
    def partygraph_interaction_types(self) -> list[InteractionType]:
        return [InteractionType("purchase", roles={"purchaser"}, purposes=("service",))]

    @hookimpl
    def partygraph_roles(
        self, party: Party, as_of: datetime, graph: GraphReader
    ) -> list[RoleAssignment]:
        roles = []
        bought = graph.count_interactions(party, type="purchase", role="purchaser", before=as_of)
        if bought:
            roles.append(RoleAssignment("customer", reason=f"{bought} purchase(s)", customer=True))
        for view in graph.relationships(party, type="member_of", direction="outgoing"):
            roles.append(
                RoleAssignment(
                    f"{view.relationship.role}_of",
                    reason=f"relationship #{view.relationship.id}",
                    context=view.other,
                )
            )
        return roles


# -- operations and the model -----------------------------------------------------------------

Operation = tuple[Any, ...]
who = st.sampled_from(PEOPLE + HOUSEHOLDS)
person = st.sampled_from(PEOPLE)
days = st.integers(min_value=0, max_value=60)
#: Any storable text (NUL is refused with a clear error; the fuzz tests cover that).
TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
attributes = st.dictionaries(
    st.sampled_from(["tier", "city", "note'; --", "ü"]),
    st.one_of(st.integers(-5, 5), st.text(TEXT, max_size=5), st.booleans(), st.none()),
    max_size=2,
)
operations = st.one_of(
    st.tuples(st.just("party"), who, attributes),
    st.tuples(
        st.just("relate"),
        person,
        st.sampled_from(HOUSEHOLDS),
        st.sampled_from(["head", "member"]),
        days,
        st.one_of(st.none(), st.integers(min_value=-3, max_value=30)),
    ),
    st.tuples(st.just("end"), st.integers(0, 20), st.integers(-2, 30)),
    st.tuples(st.just("purchase"), person, days),
    st.tuples(st.just("erase"), who),
    st.tuples(st.just("consent"), person, st.booleans(), days),
)


@dataclass
class Link:
    source: str
    target: str
    role: str
    start: int
    end: int | None = None

    def valid_at(self, number: int) -> bool:
        return self.start <= number and (self.end is None or number < self.end)


@dataclass
class Model:
    """What the database must hold for one run's parties."""

    prefix: str
    parties: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    purchases: dict[str, list[int]] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


def kind_of(name: str) -> str:
    return "household" if name in HOUSEHOLDS else "person"


def apply(toolkit: Toolkit, model: Model, operation: Operation, privacy: bool) -> None:
    """Run one operation on the toolkit and on the model; check refusals on the way."""
    name = operation[0]
    if name == "party":
        _, party, values = operation
        kind = kind_of(party)
        if privacy and party in model.erased:
            with pytest.raises(WriteRefused, match="erased"):  # never silently re-created
                toolkit.upsert_party(model.key(party), kind, party.upper(), values)
            return
        toolkit.upsert_party(model.key(party), kind, party.upper(), values)
        before = model.parties.get(party, (kind, {}))[1]
        model.parties[party] = (kind, {**before, **values})
    elif name == "relate":
        _, source, target, role, start, length = operation
        if source not in model.parties or target not in model.parties:
            return
        end = None if length is None else start + length
        same = [
            link
            for link in model.links
            if (link.source, link.target, link.role, link.start) == (source, target, role, start)
        ]
        refused = end is not None and (
            end <= start or any(link.end is not None and link.end != end for link in same)
        )
        call = {"role": role, "valid_from": day(start)}
        if end is not None:
            call["valid_to"] = day(end)
        if refused:
            with pytest.raises(UserError):
                toolkit.relate(model.key(source), model.key(target), "member_of", **call)
            return
        toolkit.relate(model.key(source), model.key(target), "member_of", **call)
        if same:
            if same[0].end is None:
                same[0].end = end
        else:
            model.links.append(Link(source, target, role, start, end))
    elif name == "end":
        _, index, length = operation
        if not model.links:
            return
        link = model.links[index % len(model.links)]
        stored = relationship_id(toolkit, model, link)
        end = link.start + length
        if end <= link.start or (link.end is not None and link.end != end):
            with pytest.raises(UserError):  # history is never rewritten
                toolkit.end_relationship(stored, day(end))
            return
        toolkit.end_relationship(stored, day(end))
        link.end = end
    elif name == "purchase":
        _, buyer, number = operation
        if buyer not in model.parties:
            return
        at = day(number) + timedelta(hours=12)
        toolkit.record_interaction("purchase", at, [(model.key(buyer), "purchaser")])
        model.purchases.setdefault(buyer, []).append(number)
    elif name == "erase":
        _, party = operation
        if party not in model.parties:
            return
        toolkit.erase_subject(model.key(party))
        del model.parties[party]
        model.links = [link for link in model.links if party not in (link.source, link.target)]
        model.purchases.pop(party, None)
        model.erased.add(party)
    elif name == "consent" and privacy:
        _, subject, grant, number = operation
        if subject not in model.parties:
            return
        body: dict[str, Any] = {"party": model.key(subject), "purpose": "marketing"}
        at = day(number).isoformat()
        body.update({"basis": "consent", "granted_at": at} if grant else {"withdrawn_at": at})
        toolkit.write([{"consent": body}])


def relationship_id(toolkit: Toolkit, model: Model, link: Link) -> int:
    for view in toolkit.relationships(model.key(link.source), history=True):
        found = view.relationship
        if (view.other.key, found.role, found.valid_from) == (
            model.key(link.target),
            link.role,
            day(link.start),
        ):
            assert found.id is not None
            return found.id
    raise AssertionError(f"relationship {link} is not stored")


# -- invariants ------------------------------------------------------------------------------


DANGLING = {
    "participant without party": "SELECT count(*) FROM participant p "
    "WHERE NOT EXISTS (SELECT 1 FROM party x WHERE x.id = p.party_id)",
    "participant without interaction": "SELECT count(*) FROM participant p "
    "WHERE NOT EXISTS (SELECT 1 FROM interaction i WHERE i.id = p.interaction_id)",
    "interaction without participant": "SELECT count(*) FROM interaction i "
    "WHERE NOT EXISTS (SELECT 1 FROM participant p WHERE p.interaction_id = i.id)",
    "relationship without source": "SELECT count(*) FROM relationship r "
    "WHERE NOT EXISTS (SELECT 1 FROM party x WHERE x.id = r.source_id)",
    "relationship without target": "SELECT count(*) FROM relationship r "
    "WHERE NOT EXISTS (SELECT 1 FROM party x WHERE x.id = r.target_id)",
}


def check_no_dangling_references(toolkit: Toolkit) -> None:
    with toolkit.engine.connect() as connection:
        found = {name: connection.exec_driver_sql(sql).scalar() for name, sql in DANGLING.items()}
        if connection.dialect.name == "sqlite":
            found["foreign keys"] = len(
                connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            )
    assert found == dict.fromkeys(found, 0)


def check_relationships(toolkit: Toolkit, model: Model) -> None:
    stored = set()
    for name in model.parties:
        if kind_of(name) != "person":
            continue
        for view in toolkit.relationships(model.key(name), history=True):
            found = view.relationship
            end = found.valid_to
            assert found.valid_from is not None
            stored.add(
                (
                    name,
                    view.other.key.removeprefix(model.prefix),
                    found.role,
                    (found.valid_from - START).days,
                    None if end is None else (end - START).days,
                )
            )
    expected = {(link.source, link.target, link.role, link.start, link.end) for link in model.links}
    assert stored == expected


def expected_roles(model: Model, name: str, number: int) -> set[tuple[str, str | None]]:
    roles: set[tuple[str, str | None]] = set()
    if any(bought < number for bought in model.purchases.get(name, [])):
        roles.add(("customer", None))
    for link in model.links:
        if link.source == name and link.valid_at(number):
            roles.add((f"{link.role}_of", model.key(link.target)))
    return roles


def check_roles(toolkit: Toolkit, model: Model) -> int:
    checked = 0
    # Every instant where a role may start or stop, and the day before it.
    edges = {0, 95}
    for link in model.links:
        edges.update({link.start, link.start + 1, *((link.end, link.end - 1) if link.end else ())})
    for bought in itertools.chain.from_iterable(model.purchases.values()):
        edges.update({bought, bought + 1})
    for name in model.parties:
        for number in sorted(edges):
            found = {
                (role.role, role.context.key if role.context else None)
                for role in toolkit.roles(model.key(name), as_of=day(number))
                if role.plugin == "family"
            }
            assert found == expected_roles(model, name, number), (name, number)
            checked += 1
    return checked


class KeyOf:
    """Party keys by database id, read from one toolkit (for parties outside the exports)."""

    def __init__(self, toolkit: Toolkit, exports: list[dict[str, Any]]) -> None:
        self.toolkit = toolkit
        self.keys = {export["party"]["id"]: export["party"]["key"] for export in exports}
        self.others: dict[int, Party] = {}

    def __call__(self, party_id: int) -> str:
        if party_id not in self.keys:
            found = self.toolkit.party(party_id)
            self.others[party_id] = found
            self.keys[party_id] = found.key
        return self.keys[party_id]


def interchange(exports: list[dict[str, Any]], key_of: KeyOf) -> list[dict[str, Any]]:
    """Interchange records that recreate what the access exports show."""
    links: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    seen_links: set[int] = set()
    seen_events: set[int] = set()
    for export in exports:
        for view in export["relationships"]:
            link = view["relationship"]
            if link["id"] in seen_links:
                continue
            seen_links.add(link["id"])
            links.append(
                {
                    "relationship": {
                        "type": link["type"],
                        "source": key_of(link["source"]),
                        "target": key_of(link["target"]),
                        "role": link["role"],
                        "valid_from": link["valid_from"],
                        "valid_to": link["valid_to"],
                        "attributes": link["attributes"],
                    }
                }
            )
        for interaction in export["interactions"]:
            if interaction["id"] in seen_events:
                continue
            seen_events.add(interaction["id"])
            participants = [
                {"party": key_of(item["party"]), "role": item["role"]}
                for item in interaction["participants"]
            ]
            body = {key: interaction[key] for key in ("type", "occurred_at", "payload")}
            events.append({"interaction": {**body, "participants": participants}})
    parties = [
        {"party": {key: party[key] for key in ("key", "kind", "name", "attributes")}}
        for party in (export["party"] for export in exports)
    ]
    parties += [
        {"party": {"key": p.key, "kind": p.kind, "name": p.name, "attributes": dict(p.attributes)}}
        for p in key_of.others.values()
    ]
    return [*parties, *links, *events]


def comparable(exports: list[dict[str, Any]], keys: KeyOf) -> list[str]:
    """The exports without database ids and timestamps, parties named by key."""
    shown = []
    for export in exports:
        party = {key: export["party"][key] for key in ("key", "kind", "name", "attributes")}
        links = sorted(
            json.dumps(
                {
                    **{k: v for k, v in view["relationship"].items() if k != "id"},
                    "source": keys(view["relationship"]["source"]),
                    "target": keys(view["relationship"]["target"]),
                    "direction": view["direction"],
                },
                sort_keys=True,
            )
            for view in export["relationships"]
        )
        events = sorted(
            json.dumps(
                {
                    "type": item["type"],
                    "occurred_at": item["occurred_at"],
                    "payload": item["payload"],
                    "participants": [[keys(p["party"]), p["role"]] for p in item["participants"]],
                },
                sort_keys=True,
            )
            for item in export["interactions"]
        )
        roles = sorted(
            json.dumps(
                {
                    **{k: v for k, v in role.items() if k not in ("context", "reason")},
                    "context": (role.get("context") or {}).get("key"),
                },
                sort_keys=True,
                default=str,
            )
            for role in export["roles"]
        )  # reasons and contexts name database ids, which differ between the two databases
        shown.append(json.dumps([party, links, events, roles], sort_keys=True, default=str))
    return sorted(shown)


def exports_of(toolkit: Toolkit, keys: list[str]) -> list[dict[str, Any]]:
    """Each party's access export, as JSON would carry it."""
    return [json.loads(json.dumps(toolkit.export_subject(key), default=str)) for key in keys]


def check_round_trip(toolkit: Toolkit, other: Toolkit, model: Model) -> None:
    keys = [model.key(name) for name in sorted(model.parties)]
    exports = exports_of(toolkit, keys)
    key_of = KeyOf(toolkit, exports)
    other.write(interchange(exports, key_of))
    copied = exports_of(other, keys)
    assert comparable(copied, KeyOf(other, copied)) == comparable(exports, key_of)


def ledger_rows(toolkit: Toolkit) -> dict[int, str]:
    with toolkit.engine.connect() as connection:
        table = sa.Table("privacy_ledger", sa.MetaData(), autoload_with=connection)
        rows = connection.execute(sa.select(table)).mappings().all()
    return {int(row["id"]): json.dumps(dict(row), sort_keys=True, default=str) for row in rows}


# -- the tests ---------------------------------------------------------------------------------


def run(toolkit: Toolkit, other: Toolkit, steps: list[Operation], privacy: bool) -> int:
    model = Model(prefix=f"r{next(RUNS)}-")
    ledger_before = ledger_rows(toolkit) if privacy else {}
    for name in PEOPLE + HOUSEHOLDS:  # everyone exists at first; operations may erase them
        apply(toolkit, model, ("party", name, {}), privacy)
    for operation in steps:
        apply(toolkit, model, operation, privacy)
    check_no_dangling_references(toolkit)
    check_relationships(toolkit, model)
    checked = check_roles(toolkit, model)
    check_round_trip(toolkit, other, model)
    if privacy:
        after = ledger_rows(toolkit)
        kept = {row_id: row for row_id, row in ledger_before.items() if row_id in after}
        assert all(after[row_id] == row for row_id, row in kept.items())  # never rewritten
    return checked


def _closed_after(toolkits: tuple[Toolkit, Toolkit]) -> Iterator[tuple[Toolkit, Toolkit]]:
    # Closed here, before the second database is dropped: closing writes what a plugin
    # still holds (the privacy plugin's buffered read entries).
    yield toolkits
    for toolkit in toolkits:
        toolkit.close()


@pytest.fixture
def pair(make_toolkit: Any, second_database_url: str) -> Iterator[tuple[Toolkit, Toolkit]]:
    yield from _closed_after(
        (
            make_toolkit(plugins={"family": Family}),
            make_toolkit(plugins={"family": Family}, database_url=second_database_url),
        )
    )


@settings(PROFILE)
@given(steps=st.lists(operations, max_size=14))
def test_random_writes_keep_the_invariants(pair: tuple[Toolkit, Toolkit], steps: Any) -> None:
    toolkit, other = pair
    checked = run(toolkit, other, steps, privacy=False)
    record_cases("properties: sequences", 1, 1)
    record_cases("properties: operations", len(steps), len(steps))
    record_cases("properties: roles(as_of) checks", checked, checked)


@pytest.fixture
def private_pair(make_toolkit: Any, second_database_url: str) -> Iterator[tuple[Toolkit, Toolkit]]:
    yield from _closed_after(
        (
            make_toolkit(plugins={"family": Family}, enabled=["family", "privacy"]),
            make_toolkit(
                plugins={"family": Family},
                enabled=["family", "privacy"],
                database_url=second_database_url,
            ),
        )
    )


@settings(PROFILE)
@given(steps=st.lists(operations, max_size=10))
def test_random_writes_with_consent_and_erasure_keep_the_invariants(
    private_pair: tuple[Toolkit, Toolkit], steps: Any
) -> None:
    toolkit, other = private_pair
    checked = run(toolkit, other, steps, privacy=True)
    record_cases("properties with privacy: sequences", 1, 1)
    record_cases("properties with privacy: operations", len(steps), len(steps))
    record_cases("properties with privacy: roles(as_of) checks", checked, checked)
