"""Segments: the filter language, compiled to SQL and checked against plain Python."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from partygraph import ConfigError, Party, ValidationError, check_config, hookimpl
from partygraph.reading import GraphReader
from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentScope
from plugins_for_tests import Basics

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
TRICKY = "O'Brien\"; DROP TABLE party; -- 100% _x_"


class ShopSql:
    """Segment SQL for the Basics vocabulary: purchasers as customers, and their spend."""

    @hookimpl
    def partygraph_segment_predicates(self) -> list[SegmentPredicate]:
        def purchasers(params: Mapping[str, Any], scope: SegmentScope) -> sa.Select[Any]:
            taking_part = scope.tables["participant"]
            return sa.select(taking_part.c.party_id).where(
                taking_part.c.type == "purchase",
                taking_part.c.role == "purchaser",
                taking_part.c.occurred_at < scope.as_of,
            )

        def head(params: Mapping[str, Any], scope: SegmentScope) -> sa.Select[Any]:
            edge = scope.tables["relationship"]
            chosen = sa.select(edge.c.source_id).where(
                edge.c.type == "member_of",
                edge.c.role == "head",
                edge.c.valid_from <= scope.as_of,
                sa.or_(edge.c.valid_to.is_(None), edge.c.valid_to > scope.as_of),
            )
            if "of" in params:
                chosen = chosen.where(edge.c.target_id.in_(scope.members(params["of"])))
            return chosen

        return [
            SegmentPredicate("purchasers", purchasers, roles={"customer"}),
            SegmentPredicate("head", head, roles={"head_of_household"}),
        ]

    @hookimpl
    def partygraph_segment_metrics(self) -> list[SegmentMetric]:
        def purchases(scope: SegmentScope) -> sa.Select[Any]:
            taking_part = scope.tables["participant"]
            return (
                sa.select(taking_part.c.party_id, sa.func.count().label("value"))
                .where(
                    taking_part.c.type == "purchase",
                    taking_part.c.role == "purchaser",
                    taking_part.c.occurred_at < scope.as_of,
                )
                .group_by(taking_part.c.party_id)
            )

        return [SegmentMetric("purchases", purchases, unit="purchases")]


class NoMarketing:
    """Leaves out, for marketing, every party whose attribute says so."""

    @hookimpl
    def partygraph_permitted(
        self, parties: list[Party], purpose: str, as_of: datetime, graph: GraphReader
    ) -> dict[int, str] | None:
        if purpose not in ("marketing", "sale_or_sharing"):
            return None
        key = "no_marketing" if purpose == "marketing" else "no_sale"
        return {p.id: f"opted out of {purpose}" for p in parties if p.attributes.get(key) and p.id}


PLUGINS = {"basics": Basics, "shop": ShopSql, "gate": NoMarketing}


def _open(make_toolkit: Any, segments: Mapping[str, Any] | None = None) -> Any:
    return make_toolkit(PLUGINS, config={"segments": dict(segments or {})})


def _world(toolkit: Any, seed: int = 7) -> dict[str, Any]:
    """A seeded population: persons with attributes, households, purchases."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    people: dict[str, dict[str, Any]] = {}
    for index in range(120):
        attributes: dict[str, Any] = {}
        if rng.random() < 0.8:
            attributes["age"] = rng.randint(10, 80)
        if rng.random() < 0.5:
            attributes["city"] = rng.choice(["Lyon", "Paris", TRICKY, "Paris%"])
        if rng.random() < 0.3:
            attributes["vip"] = rng.random() < 0.5
        if rng.random() < 0.1:
            attributes["age_text"] = "old"
        key = f"p{index}"
        people[key] = attributes
        records.append({"party": {"key": key, "kind": "person", "attributes": attributes}})
    for index in range(10):
        records.append({"party": {"key": f"h{index}", "kind": "household"}})
    memberships = []
    for index in range(30):
        household = f"h{index % 10}"
        ended = rng.random() < 0.3
        valid_to = "2026-03-01T00:00:00Z" if ended else None
        role = "head" if index < 10 else rng.choice(["partner", "dependent"])
        memberships.append((f"p{index}", household, role, "2025-01-01T00:00:00Z", valid_to))
        relationship: dict[str, Any] = {
            "type": "member_of",
            "source": f"p{index}",
            "target": household,
            "role": role,
            "valid_from": "2025-01-01T00:00:00Z",
        }
        if valid_to:
            relationship["valid_to"] = valid_to
        records.append({"relationship": relationship})
    purchases = []
    for _ in range(400):
        buyer = f"p{rng.randrange(120)}"
        when = AS_OF - timedelta(days=rng.uniform(-20, 200))
        purchases.append((buyer, when))
        records.append(
            {
                "interaction": {
                    "type": "purchase",
                    "occurred_at": when.isoformat(),
                    "participants": [{"party": buyer, "role": "purchaser"}],
                    "payload": {"amount": 10},
                }
            }
        )
    toolkit.write(records)
    return {"people": people, "memberships": memberships, "purchases": purchases}


def _keys(toolkit: Any, where: Mapping[str, Any], as_of: datetime = AS_OF) -> set[str]:
    return set(toolkit.segment({"purpose": "analytics", "where": where}, as_of).keys)


def test_attribute_comparisons_match_a_reference(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    people = _world(toolkit)["people"]
    cases: list[tuple[dict[str, Any], Any]] = [
        (
            {"attribute": "age", "op": ">=", "value": 18},
            lambda a: _num(a, "age", lambda v: v >= 18),
        ),
        (
            {"attribute": "age", "op": "<", "value": 30.5},
            lambda a: _num(a, "age", lambda v: v < 30.5),
        ),
        (
            {"attribute": "age", "op": "!=", "value": 40},
            lambda a: _num(a, "age", lambda v: v != 40),
        ),
        ({"attribute": "age"}, lambda a: "age" in a),
        ({"attribute": "city", "value": "Paris"}, lambda a: a.get("city") == "Paris"),
        (
            {"attribute": "city", "op": "in", "value": ["Lyon", TRICKY]},
            lambda a: a.get("city") in ("Lyon", TRICKY),
        ),
        (
            {"attribute": "city", "op": "not in", "value": ["Lyon"]},
            lambda a: "city" in a and a["city"] != "Lyon",
        ),
        ({"attribute": "vip", "value": True}, lambda a: a.get("vip") is True),
        ({"attribute": "vip", "value": False}, lambda a: a.get("vip") is False),
        (
            {"not": {"attribute": "age", "op": ">=", "value": 18}},
            lambda a: not _num(a, "age", lambda v: v >= 18),
        ),
    ]
    for where, expected in cases:
        want = {key for key, attributes in people.items() if expected(attributes)}
        got = _keys(toolkit, {"all": [{"kind": "person"}, where]})
        assert got == want, where
        assert want, f"the world should exercise {where}"


def _num(attributes: Mapping[str, Any], name: str, test: Any) -> bool:
    value = attributes.get(name)
    return isinstance(value, int | float) and not isinstance(value, bool) and bool(test(value))


def test_sql_metacharacters_are_matched_literally(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    toolkit.upsert_party("tricky", "person", attributes={"city": TRICKY})
    toolkit.upsert_party("wildcard", "person", attributes={"city": "O'Brien\"; x"})
    toolkit.upsert_party("percent", "person", attributes={"city": "Paris%"})
    toolkit.upsert_party("plain", "person", attributes={"city": "Paris"})
    assert _keys(toolkit, {"attribute": "city", "value": TRICKY}) == {"tricky"}
    assert _keys(toolkit, {"attribute": "city", "value": "Paris%"}) == {"percent"}
    assert _keys(toolkit, {"attribute": "city", "value": "Paris_"}) == set()
    assert toolkit.segment({"purpose": "x", "where": {"kind": "person"}}).count == 4
    result = toolkit.segment({"purpose": "x", "where": {"attribute": "city", "value": TRICKY}})
    assert TRICKY not in result.statement
    assert TRICKY in result.parameters.values()


def test_relationships_as_of_respect_ended_ones(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    memberships = _world(toolkit)["memberships"]
    for as_of in (datetime(2026, 2, 1, tzinfo=UTC), AS_OF, datetime(2024, 1, 1, tzinfo=UTC)):
        stored = as_of.replace(tzinfo=None)

        def current(valid_from: str, valid_to: str | None, at: datetime = stored) -> bool:
            start = datetime.fromisoformat(valid_from).replace(tzinfo=None)
            end = datetime.fromisoformat(valid_to).replace(tzinfo=None) if valid_to else None
            return start <= at and (end is None or end > at)

        members = {s for s, _, _, f, t in memberships if current(f, t)}
        where = {"relationship": {"type": "member_of"}}
        assert _keys(toolkit, where, as_of) == members
        dependents = {h for _, h, r, f, t in memberships if r == "dependent" and current(f, t)}
        households = _keys(
            toolkit,
            {"relationship": {"type": "member_of", "direction": "in", "role": "dependent"}},
            as_of,
        )
        assert households == dependents
        # Members of households with dependents: a nested condition on the other end.
        nested = {
            "relationship": {
                "type": "member_of",
                "other": {
                    "relationship": {"type": "member_of", "direction": "in", "role": "dependent"}
                },
            }
        }
        want = {s for s, h, _, f, t in memberships if h in dependents and current(f, t)}
        assert _keys(toolkit, nested, as_of) == want
    assert (
        _keys(toolkit, {"relationship": {"type": "member_of"}}, datetime(2024, 1, 1, tzinfo=UTC))
        == set()
    )


def test_interactions_in_a_window(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    world = _world(toolkit)
    purchases = world["purchases"]

    def count(key: str, days: float | None) -> int:
        return sum(
            1
            for buyer, when in purchases
            if buyer == key
            and when < AS_OF
            and (days is None or when >= AS_OF - timedelta(days=days))
        )

    people = world["people"]
    lapsed = {k for k in people if count(k, None) >= 1 and count(k, 90) == 0}
    where = {
        "all": [
            {"interaction": {"type": "purchase", "role": "purchaser"}},
            {"not": {"interaction": {"type": "purchase", "within_days": 90}}},
        ]
    }
    assert _keys(toolkit, where) == lapsed
    assert lapsed
    loyal = {k for k in people if 3 <= count(k, 120) <= 5}
    where = {"interaction": {"type": "purchase", "within_days": 120, "at_least": 3, "at_most": 5}}
    assert _keys(toolkit, where) == loyal
    never = {k for k in people if count(k, 30) == 0}
    where = {
        "all": [
            {"kind": "person"},
            {"interaction": {"type": "purchase", "within_days": 30, "at_most": 0}},
        ]
    }
    assert _keys(toolkit, where) == never


def test_roles_metrics_and_predicates_from_plugins(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    world = _world(toolkit)
    buyers = {b for b, when in world["purchases"] if when < AS_OF}
    assert _keys(toolkit, {"role": "customer"}) == buyers
    assert _keys(toolkit, {"predicate": "shop.purchasers"}) == buyers
    counts: dict[str, int] = {}
    for buyer, when in world["purchases"]:
        if when < AS_OF:
            counts[buyer] = counts.get(buyer, 0) + 1
    assert _keys(toolkit, {"metric": "shop.purchases", "op": ">=", "value": 5}) == {
        k for k, n in counts.items() if n >= 5
    }
    # Heads of households that have a current dependent (a role with its context).
    memberships = world["memberships"]
    stored = AS_OF.replace(tzinfo=None)

    def current(f: str, t: str | None) -> bool:
        return t is None or datetime.fromisoformat(t).replace(tzinfo=None) > stored

    with_dependents = {h for _, h, r, f, t in memberships if r == "dependent" and current(f, t)}
    want = {
        s for s, h, r, f, t in memberships if r == "head" and h in with_dependents and current(f, t)
    }
    of = {"relationship": {"type": "member_of", "direction": "in", "role": "dependent"}}
    assert _keys(toolkit, {"role": "head_of_household", "of": of}) == want
    assert _keys(toolkit, {"role": "head_of_household", "plugin": "shop"}) == {
        s for s, _, r, f, t in memberships if r == "head" and current(f, t)
    }


def test_named_segments_refer_to_each_other_and_report_exclusions(make_toolkit: Any) -> None:
    segments = {
        "adults": {"purpose": "analytics", "where": {"attribute": "age", "op": ">=", "value": 18}},
        "adult_customers": {
            "purpose": "marketing",
            "export_purposes": ["sale_or_sharing"],
            "where": {"all": [{"segment": "adults"}, {"role": "customer"}]},
        },
    }
    toolkit = _open(make_toolkit, segments)
    for key, attributes in {
        "ann": {"age": 30},
        "bob": {"age": 40, "no_marketing": True},
        "cyd": {"age": 50, "no_sale": True},
        "dan": {"age": 12},
    }.items():
        toolkit.upsert_party(key, "person", attributes=attributes)
        toolkit.record_interaction(
            "purchase", "2026-01-01T00:00:00Z", [(key, "purchaser")], payload={"amount": 1}
        )
    result = toolkit.segment("adult_customers", AS_OF)
    assert result.keys == ["ann", "cyd"]
    assert (result.excluded, dict(result.exclusion_reasons)) == (1, {"marketing": 1})
    exported = toolkit.segment("adult_customers", AS_OF, export=True)
    assert exported.keys == ["ann"]
    assert exported.purposes == ("marketing", "sale_or_sharing")
    assert (exported.excluded, dict(exported.exclusion_reasons)) == (
        2,
        {"marketing": 1, "sale_or_sharing": 1},
    )
    assert toolkit.segment("adults", AS_OF).keys == ["ann", "bob", "cyd"]


@pytest.mark.parametrize(
    ("segment", "pointer", "words"),
    [
        (
            {"purpose": "x", "where": {"attribute": "age", "valeu": 3}},
            "/segments/bad/where/valeu",
            "value",
        ),
        (
            {"purpose": "x", "where": {"all": [{"kind": "persn"}]}},
            "/segments/bad/where/all/0/kind",
            "person",
        ),
        (
            {"purpose": "x", "where": {"kind": "person", "attribute": "age"}},
            "/segments/bad/where",
            "exactly one",
        ),
        (
            {"purpose": "x", "where": {"attribute": "age", "op": "in", "value": 3}},
            "/segments/bad/where/value",
            "list",
        ),
        (
            {"purpose": "x", "where": {"metric": "shop.purchase"}},
            "/segments/bad/where/metric",
            "shop.purchases",
        ),
        ({"purpose": "x", "where": {"role": "buyer"}}, "/segments/bad/where/role", "customer"),
        (
            {"purpose": "x", "where": {"predicate": "shop.head", "params": {"of": {"kind": 3}}}},
            "/segments/bad/where/params/of/kind",
            "",
        ),
        (
            {"purpose": "x", "where": {"relationship": {"type": "member_of", "direction": "up"}}},
            "/segments/bad/where/relationship/direction",
            "",
        ),
        ({"purpose": "x", "where": {"segment": "bad"}}, "/segments/bad/where", "circle"),
        ({"where": {"kind": "person"}}, "/segments/bad/purpose", "required"),
    ],
)
def test_malformed_segments_name_the_bad_key(
    make_toolkit: Any, segment: dict[str, Any], pointer: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _open(make_toolkit, {"bad": segment})
    pointers = [violation.pointer for violation in caught.value.violations]
    assert pointer in pointers, caught.value
    assert words in str(caught.value)


def test_toml_config_errors_carry_the_line(tmp_path: Any, make_toolkit: Any) -> None:
    config = tmp_path / "partygraph.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///x.db"\n[plugins]\nenabled = ["basics"]\n\n'
        '[segments.adults]\npurpose = "analytics"\nwhere = { kind = "persn" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        check_config(config, plugins={"basics": Basics})
    (violation,) = caught.value.violations
    assert violation.pointer == "/segments/adults/where/kind"
    assert violation.line == 8


def test_adhoc_definitions_are_checked_like_named_ones(make_toolkit: Any) -> None:
    toolkit = _open(make_toolkit)
    with pytest.raises(ValidationError, match=r"segment/where/all/1/kind"):
        toolkit.segment({"purpose": "x", "where": {"all": [{"kind": "person"}, {"kind": "nope"}]}})
    with pytest.raises(ValidationError, match="purpose"):
        toolkit.segment({"where": {"kind": "person"}})
    with pytest.raises(ValidationError, match="unknown segment 'missing'"):
        toolkit.segment("missing")
