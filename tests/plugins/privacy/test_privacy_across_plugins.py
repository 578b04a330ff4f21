"""The privacy plugin with every installed first-party plugin enabled (issue 3, "Done when").

- Erasure of a person present in every plugin's data leaves no trace of them in any
  table or in the database file, keeps the invoice under its retention period
  (pseudonymised), and keeps the groups' shape (household members, the account's
  committee, the department, the driver's earnings).
- The gate cannot be bypassed: single writes, batches, bulk imports (with or without
  ``skip_invalid``) and every plugin's gated interaction types are refused without a
  basis, and nothing is written; with the basis they pass.
- A household member who withdrew ``household_aggregation`` vanishes from the
  household's roll-ups, unnamed.

Everything goes through the public API. The marketplace plugin takes part only when
it is installed (``"marketplace" in first_party_plugins()``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import partygraph
from partygraph import Context, Toolkit, WriteRefused

NAMES = partygraph.plugins.first_party_plugins()
MARKETPLACE = "marketplace" in NAMES
RETENTION = {"retention": {"purchase": "P10Y"}}

Record = dict[str, Any]
Factory = Callable[..., Toolkit]


@pytest.fixture
def open_all(make_toolkit: Factory) -> Factory:
    """A toolkit with every installed first-party plugin; keywords go to privacy."""

    def factory(**privacy: Any) -> Toolkit:
        return make_toolkit(enabled=NAMES, settings={"privacy": {**RETENTION, **privacy}})

    return factory


# -- record builders ----------------------------------------------------------------------------


def party(key: str, kind: str = "person", name: str | None = None, **attributes: Any) -> Record:
    body: Record = {"key": key, "kind": kind, "name": name or key.title()}
    if attributes:
        body["attributes"] = attributes
    return {"party": body}


def relation(
    type_: str,
    source: str,
    target: str,
    role: str | None = None,
    since: str = "2026-01-01",
    **attrs: Any,
) -> Record:
    body: Record = {"type": type_, "source": source, "target": target, "valid_from": since}
    if role is not None:
        body["role"] = role
    if attrs:
        body["attributes"] = attrs
    return {"relationship": body}


def interaction(
    type_: str, at: str, participants: Sequence[tuple[str, str]], payload: Mapping[str, Any]
) -> Record:
    return {
        "interaction": {
            "type": type_,
            "occurred_at": at,
            "participants": [{"party": key, "role": role} for key, role in participants],
            "payload": dict(payload),
        }
    }


def purchase(
    buyer: str, at: str, order: str, amount: float, category: str = "home", **extra: Any
) -> Record:
    line = {"sku": f"SKU-{order}", "category": category, "quantity": 1, "unit_price": amount}
    participants = [(buyer, "purchaser"), *extra.pop("consumers", [])]
    return interaction(
        "purchase",
        at,
        participants,
        {"order_id": order, "currency": "EUR", "lines": [line], **extra},
    )


# -- database helpers (plain SQL: reads through the API would be audited) -----------------------


def counts(toolkit: Toolkit) -> dict[str, int]:
    """Rows in every table of the core and of the enabled plugins."""
    with toolkit.engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for _, table in toolkit.tables()
        }


def refusals_audited(toolkit: Toolkit) -> int:
    with toolkit.engine.connect() as connection:
        query = "SELECT count(*) FROM privacy_audit WHERE action = 'write_refused'"
        return int(connection.exec_driver_sql(query).scalar_one())


def without_audit(found: Mapping[str, int]) -> dict[str, int]:
    """Counts of every table but the audit log (a refusal is audited in its own transaction)."""
    return {name: value for name, value in found.items() if name != "privacy_audit"}


def occurrences(toolkit: Toolkit, needles: Mapping[str, str]) -> list[str]:
    """Every ``table.column: kind`` of the whole database whose value holds a needle.

    An independent check of the erasure report: every column of every table (not only
    the ones the report scans), stringified, compared case-insensitively.
    """
    found = []
    with toolkit.engine.connect() as connection:
        for name in sorted(sa.inspect(connection).get_table_names()):
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            for row in connection.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    text = (
                        value
                        if isinstance(value, str)
                        else json.dumps(value, default=str, ensure_ascii=False)
                    )
                    for kind, needle in needles.items():
                        if needle.casefold() in text.casefold():
                            found.append(f"{name}.{column}: {kind}")
    return found


def file_occurrences(toolkit: Toolkit, needles: Mapping[str, str]) -> list[str]:
    """Needles found in the bytes of the SQLite file and its WAL."""
    database = toolkit.engine.url.database
    assert database
    found = []
    for path in (Path(database), Path(database + "-wal")):
        if path.is_file():
            data = path.read_bytes().lower()
            found += [
                f"{path.name}: {kind}"
                for kind, needle in needles.items()
                if needle.lower().encode() in data
            ]
    return found


# -- 1. erasure of a person present in every plugin's data ---------------------------------------

ZORA = {"key": "zora-9q4t", "name": "Zora Quillfeather", "email": "zora.quill@example.net"}
AS_OF = "2026-11-20"


def everywhere_world() -> list[Record]:
    """Zora: a b2c buyer, a b2b economic buyer, head of a household, an employee, a rider."""
    key, name, email = ZORA["key"], ZORA["name"], ZORA["email"]
    records = [
        party(key, name=name, email=email, birth_date="1988-05-04"),
        party("bram", name="Bram Olsen", email="bram@example.net", birth_date="1986-01-01"),
        party("tilde", name="Tilde Olsen", birth_date="2012-02-02"),
        # household: Zora heads it, with her partner and their daughter
        party("olsen-home", "household", name="Olsen household"),
        relation("member_of", key, "olsen-home", "head", "2020-01-01"),
        relation("member_of", "bram", "olsen-home", "partner", "2020-01-01"),
        relation("member_of", "tilde", "olsen-home", "dependent", "2020-01-01"),
        # b2c: an invoice under its retention period (for her daughter), one past it, usage
        purchase(key, "2026-06-01T10:00:00Z", "Z-1", 300, "sport",
                 consumers=[("tilde", "consumer")], store=f"pick-up by {name}"),
        purchase(key, "2015-03-01T10:00:00Z", "Z-0", 20),
        interaction("product_usage", "2026-06-05T10:00:00Z", [(key, "user")],
                    {"product": "bike app", "details": {"login": email}}),
        # b2b: economic buyer of Acme, met in November
        party("acme", "organization", name="Acme Ltd"),
        relation("stakeholder_of", key, "acme", "economic_buyer", "2026-01-10"),
        interaction("meeting", "2026-11-01T10:00:00Z", [(key, "attendee"), ("acme", "account")],
                    {"topic": f"ROI review with {name}"}),
        # internal: employed in operations, asked IT for access
        party("our-company", "organization", name="Our Company"),
        party("ops", "department", name="Operations"),
        party("it", "department", name="IT", function="it"),
        relation("employed_in", key, "ops", since="2025-01-01", title="Analyst"),
        relation("serves", "it", "our-company"),
        interaction("service_request", "2026-11-02T09:00:00Z",
                    [(key, "requester"), ("it", "provider")],
                    {"category": "access", "resolved_at": "2026-11-02T11:00:00Z",
                     "satisfaction": 4, "summary": f"reset the password of {email}"}),
    ]  # fmt: skip
    if MARKETPLACE:
        records += [
            party("rideco", "platform", name="RideCo"),
            party("dave", name="Dave Driver"),
            relation("side_of", key, "rideco", "rider", "2026-01-05", status="active"),
            relation("side_of", "dave", "rideco", "driver", "2026-01-05", status="active"),
            interaction("trip", "2026-11-03T08:00:00Z", [(key, "rider"), ("dave", "driver")],
                        {"fare": 18.5, "pickup_zone": "gare", "dropoff_zone": "airport",
                         "ratings": {"rider": 5, "driver": 4}}),
        ]  # fmt: skip
    return records


def build_everywhere(toolkit: Toolkit) -> None:
    toolkit.write(everywhere_world())
    privacy = toolkit.plugin("privacy")
    key = ZORA["key"]
    evidence = f"newsletter form signed by {ZORA['name']} <{ZORA['email']}>"
    privacy.grant(key, "marketing", channel="email", at="2026-01-01", evidence=evidence)
    privacy.grant(key, "employee_usage_analytics", basis="legitimate_interests", at="2025-01-01",
                  note="data-quality coaching only")  # fmt: skip
    for member in (key, "bram"):
        privacy.grant(member, "household_aggregation", at="2026-01-01")
    privacy.grant("tilde", "household_aggregation", at="2026-01-01", given_by=key,
                  verification="signed family form")  # fmt: skip
    # Zora works in the CRM: the internal plugin records her usage evidence.
    toolkit.write([party("lead-1", name="Some Lead")], context=Context(actor=key))


def account_figures(toolkit: Toolkit) -> tuple[float, int]:
    """Acme's engagement score and the touchpoints its committee is credited with."""
    section = toolkit.view("acme", AS_OF).sections["b2b"]
    return section["engagement"]["score"], sum(
        member["interactions"] for member in section["committee"]
    )


def test_erasure_of_a_person_present_in_every_plugin(open_all: Factory, tmp_path: Path) -> None:
    toolkit = open_all()
    build_everywhere(toolkit)
    privacy = toolkit.plugin("privacy")
    key = ZORA["key"]
    export = tmp_path / "exports" / "zora.json"
    privacy.export(key, path=export)
    assert ZORA["email"] in export.read_text()
    # The world as the plugins saw it before.
    assert occurrences(toolkit, ZORA)  # the scans find her while she is there
    if toolkit.engine.dialect.name == "sqlite":
        assert file_occurrences(toolkit, ZORA)
    assert toolkit.metrics(key)["b2c"]["orders"] == 2
    assert len(toolkit.plugin("household").view("olsen-home", AS_OF)["members"]) == 3
    assert account_figures(toolkit) == (9.0, 1)
    (it_before,) = toolkit.plugin("internal").service_levels(
        "2026-11-01", AS_OF, departments=["it"]
    )
    assert it_before["requests"] == 1
    before = counts(toolkit)
    assert before["internal_usage"] >= 1
    if MARKETPLACE:
        (earnings_before,) = toolkit.plugin("marketplace").earnings("dave", period="month")
        assert before["marketplace_activity"] == 2

    report = privacy.erase(key)

    # The report: nothing left in any table, nor (SQLite) in the file; it names no identifier.
    assert report["residual_hits"] == []
    if toolkit.engine.dialect.name == "sqlite":
        assert report["file_residual_hits"] == 0
        assert file_occurrences(toolkit, ZORA) == []
    else:
        assert report["file_residual_hits"] is None
    assert report["passed"] is True
    assert not [
        value for value in ZORA.values() if value.casefold() in json.dumps(report).casefold()
    ]
    assert report["retained"] == {"retained_purchase": 1}
    assert not export.exists()

    # b2c: the invoice under its retention period is kept, linked to a pseudonym.
    pseudonym = report["pseudonym"]["key"]
    assert pseudonym != key
    stand_in = toolkit.party(pseudonym)
    assert (stand_in.kind, stand_in.name, dict(stand_in.attributes)) == ("person", None, {})
    (invoice,) = toolkit.interactions(pseudonym, type="purchase")
    assert invoice.payload["order_id"] == "Z-1"
    assert {(p.party, p.role) for p in invoice.participants} == {
        (stand_in.id, "purchaser"),
        (toolkit.party("tilde").id, "consumer"),
    }
    figures = toolkit.metrics(pseudonym)["b2c"]
    assert (figures["orders"], figures["historic_clv"]) == (1, 300.0)
    # The order past its retention period went with her, and so did her product usage;
    # what she shared with others (meeting, request, trip) stays, without her.
    assert counts(toolkit)["b2c_order"] == before["b2c_order"] - 1
    assert counts(toolkit)["interaction"] == before["interaction"] - 2

    # household: still three members, the pseudonym in Zora's place (head).
    view = toolkit.plugin("household").view("olsen-home", AS_OF)
    members = {member["key"]: member["role"] for member in view["members"]}
    assert members == {pseudonym: "head", "bram": "partner", "tilde": "dependent"}
    assert view["rollup"]["members_counted"] + view["rollup"]["left_out"] == 3
    # The retained, pseudonymised invoice still counts in the household's spend.
    assert (view["rollup"]["left_out"], view["rollup"]["spend"]["amount"]) == (0, 300.0)
    (row,) = toolkit.plugin("household").rollups(AS_OF)
    assert row["members"] == 3

    # b2b: the account keeps its committee seat and its touchpoint (without her name).
    metrics = toolkit.metrics("acme", AS_OF)["b2b"]
    assert metrics["stakeholders"] == 1
    (meeting,) = toolkit.interactions("acme", type="meeting")
    assert ZORA["name"] not in meeting.payload["topic"]
    assert [p.party for p in meeting.participants if p.role == "account"] == [
        toolkit.party("acme").id
    ]

    # internal: the department keeps its (pseudonymous) employee, IT its request;
    # her CRM usage evidence is gone.
    employed = [v for v in toolkit.relationships("ops") if v.relationship.type == "employed_in"]
    assert [v.other.key for v in employed] == [pseudonym]
    (it_after,) = toolkit.plugin("internal").service_levels("2026-11-01", AS_OF, departments=["it"])
    assert (it_after["requests"], it_after["sla"]) == (1, it_before["sla"])
    after = counts(toolkit)
    assert after["internal_usage"] == 0

    # marketplace: her activity rows are gone; the driver's earnings survive.
    if MARKETPLACE:
        assert after["marketplace_activity"] == 1
        (earnings_after,) = toolkit.plugin("marketplace").earnings("dave", period="month")
        assert earnings_after == earnings_before
        riders = [v for v in toolkit.relationships("rideco") if v.relationship.role == "rider"]
        assert [v.other.key for v in riders] == [pseudonym]

    # Importing the same identifier again is refused (key, or email under another key).
    with pytest.raises(WriteRefused, match=r"belongs to a subject erased on"):
        toolkit.upsert_party(key, "person", "Zora Again")
    with pytest.raises(WriteRefused, match=r"belongs to a subject erased on"):
        toolkit.write([party("zq-2", name="Z. Q.", email=ZORA["email"])])
    source = tmp_path / "again.jsonl"
    source.write_text(json.dumps(party(key, name=ZORA["name"])) + "\n")
    with pytest.raises(WriteRefused, match=r"belongs to a subject erased on"):
        toolkit.import_jsonl(source)
    assert without_audit(counts(toolkit)) == without_audit(after)

    # Independent check: her key, name and email are nowhere in the database.
    assert occurrences(toolkit, ZORA) == []
    assert privacy.verify_audit()["ok"] is True


def test_an_erased_stakeholders_touchpoint_still_counts_for_the_account(open_all: Factory) -> None:
    toolkit = open_all()
    toolkit.write(
        [
            party("kim", name="Kim Varga", email="kim@acme.example"),
            party("acme", "organization", name="Acme Ltd"),
            relation("stakeholder_of", "kim", "acme", "economic_buyer", "2026-01-10"),
            interaction("meeting", "2026-11-01T10:00:00Z",
                        [("kim", "attendee"), ("acme", "account")], {"topic": "ROI review"}),
        ]
    )  # fmt: skip
    before = account_figures(toolkit)
    assert before == (9.0, 1)

    report = toolkit.plugin("privacy").erase("kim")

    assert report["residual_hits"] == []
    # "the account its interaction counts": the touchpoint still counts, anonymously.
    assert account_figures(toolkit) == before
    (coverage,) = toolkit.plugin("b2b").coverage(AS_OF, account="acme")
    assert coverage["engaged_stakeholders"] == 1
    assert "Kim" not in json.dumps(coverage)


# -- 2. the gate cannot be bypassed ---------------------------------------------------------------


@dataclass(frozen=True)
class Gated:
    """A plugin interaction type that needs a basis, and a valid record of it."""

    plugin: str
    subject: str
    purpose: str
    participants: tuple[tuple[str, str], ...]
    payload: Mapping[str, Any]
    basis: Mapping[str, Any] = field(default_factory=dict)

    def record(self, type_: str, n: int) -> Record:
        payload = {k: v.format(n=n) if isinstance(v, str) else v for k, v in self.payload.items()}
        return interaction(type_, f"2026-10-{n:02d}T10:00:00Z", self.participants, payload)


#: No first-party type is consent-based by default: one type per plugin is made to need
#: marketing consent on top of its own purposes.
OVERRIDES = {
    "email": ["sales", "marketing"],
    "product_usage": ["service", "marketing"],
    "lead_handoff": ["sales", "marketing"],
    **({"support_ticket": ["support", "marketing"]} if MARKETPLACE else {}),
}
#: crm_usage needs a basis out of the box: legitimate interests with a note, never consent.
MONITORING = {"basis": "legitimate_interests", "note": "data-quality coaching only"}
GATED = {
    "email": Gated("b2b", "carla", "marketing", (("carla", "recipient"), ("acme", "account")),
                   {"subject": "Spring offer {n}"}),
    "product_usage": Gated("b2c", "gina", "marketing", (("gina", "user"),), {"product": "app-{n}"}),
    "lead_handoff": Gated("internal", "lena", "marketing",
                          (("marketing", "from"), ("sales", "to"), ("lena", "lead")),
                          {"outcome": "pending", "source": "fair {n}"}),
    "crm_usage": Gated("internal", "sam", "employee_usage_analytics", (("sam", "user"),),
                       {"records_created": 2, "tool": "crm-{n}"}, MONITORING),
    **({"support_ticket": Gated("marketplace", "rita", "marketing", (("rita", "rider"),),
                                {"ticket": "T-{n}", "status": "open"})} if MARKETPLACE else {}),
}  # fmt: skip
ACTOR = "erin"  # an employee whose writes become CRM usage evidence (a derived write)


def gate_world() -> list[Record]:
    records = [
        party("acme", "organization", name="Acme Ltd"),
        party("carla", name="Carla Diaz"),
        relation("stakeholder_of", "carla", "acme", "champion"),
        party("gina", name="Gina Shopper"),
        party("marketing", "department", name="Marketing"),
        party("sales", "department", name="Sales"),
        party("lena", name="Lena Lead"),
        party("sam", name="Sam Seller"),
        relation("employed_in", "sam", "sales"),
        party(ACTOR, name="Erin Editor"),
        relation("employed_in", ACTOR, "marketing"),
    ]
    if MARKETPLACE:
        records += [
            party("rideco", "platform", name="RideCo"),
            party("rita", name="Rita Rider"),
            relation("side_of", "rita", "rideco", "rider", status="active"),
        ]
    return records


def gated_types(toolkit: Toolkit) -> dict[str, str]:
    """Interaction type -> owning plugin, for the types that need a basis in this toolkit."""
    settings = toolkit.plugin("privacy").settings
    needs_basis = {name for name, purpose in settings.purposes.items() if not purpose.implicit}
    owners = {}
    for name in NAMES:
        hook = getattr(toolkit.plugin(name), "partygraph_interaction_types", None)
        for itype in hook() if hook is not None else ():
            owners[itype.name] = name
    return {
        name: owners[name]
        for name, itype in toolkit.vocabulary.interaction_types.items()
        if set(settings.purpose_overrides.get(name) or itype.purposes) & needs_basis
    }


@pytest.fixture
def gated(open_all: Factory) -> Toolkit:
    toolkit = open_all(purpose_overrides=OVERRIDES)
    toolkit.write(gate_world())
    toolkit.plugin("privacy").grant(
        ACTOR, "employee_usage_analytics", at="2026-01-01", **MONITORING
    )
    found = gated_types(toolkit)
    # Every gated type is covered below, and every plugin with interactions has one.
    assert found == {name: case.plugin for name, case in GATED.items()}
    assert set(found.values()) == {"b2b", "b2c", "internal"} | (
        {"marketplace"} if MARKETPLACE else set()
    )
    return toolkit


def lawful(n: int) -> list[Record]:
    """Records that pass the gate on their own: a new person and a purchase (contract)."""
    return [
        party(f"bystander-{n}"),
        purchase("gina", f"2026-09-{n:02d}T10:00:00Z", f"B-{n}", 15),
    ]


def write_through(toolkit: Toolkit, path: str, record: Record, n: int, folder: Path) -> int:
    """Write *record* through one write path; return the interactions it should add."""
    context = Context(actor=ACTOR)
    if path == "single":
        body = record["interaction"]
        toolkit.record_interaction(
            body["type"],
            body["occurred_at"],
            body["participants"],
            body["payload"],
            context=context,
        )
        return 1
    records = [*lawful(n), record]
    if path == "batch":
        toolkit.write(records, context=context)
    else:
        source = folder / f"{path}-{record['interaction']['type']}-{n}.jsonl"
        source.write_text("".join(json.dumps(item) + "\n" for item in records))
        toolkit.import_jsonl(source, context=context)
    return 2


@pytest.mark.parametrize("path", ["single", "batch", "import"])
def test_no_write_path_passes_the_gate_without_a_basis(
    gated: Toolkit, path: str, tmp_path: Path
) -> None:
    toolkit = gated
    for type_, case in GATED.items():
        before = counts(toolkit)
        audited = refusals_audited(toolkit)
        with pytest.raises(
            WriteRefused, match=rf"^{case.subject}: no lawful basis for {case.purpose} "
        ):
            write_through(toolkit, path, case.record(type_, 1), 1, tmp_path)
        # Nothing written: not the record, not its companions, not a derived row.
        assert without_audit(counts(toolkit)) == without_audit(before), type_
        assert refusals_audited(toolkit) == audited + 1, type_

    privacy = toolkit.plugin("privacy")
    for case in GATED.values():
        privacy.grant(case.subject, case.purpose, at="2026-01-01", **case.basis)
    for n, (type_, case) in enumerate(GATED.items(), start=2):
        before = counts(toolkit)
        added = write_through(toolkit, path, case.record(type_, n), n, tmp_path)
        after = counts(toolkit)
        assert after["interaction"] == before["interaction"] + added, type_
        assert after["internal_usage"] > before["internal_usage"], type_  # the derived write
        assert len(toolkit.interactions(case.subject, type=type_)) == 1, type_
        if path != "single":
            assert after["b2c_order"] == before["b2c_order"] + 1, type_


def test_skip_invalid_reports_every_unlawful_record_and_writes_only_the_rest(
    gated: Toolkit, tmp_path: Path
) -> None:
    toolkit = gated
    records = [*lawful(1)] + [case.record(type_, 1) for type_, case in GATED.items()]
    source = tmp_path / "mixed.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in records))
    before = counts(toolkit)

    report = toolkit.import_jsonl(source, skip_invalid=True)

    rejected = {item.line: item.reason for item in report.rejected}
    assert sorted(rejected) == list(range(3, 3 + len(GATED)))
    for line, case in enumerate(GATED.values(), start=3):
        assert rejected[line].startswith(f"{case.subject}: no lawful basis for {case.purpose} ")
    after = counts(toolkit)
    assert (after["party"], after["interaction"]) == (
        before["party"] + 1,
        before["interaction"] + 1,
    )
    for type_, case in GATED.items():
        assert toolkit.interactions(case.subject, type=type_) == []


def test_a_restricted_person_is_frozen_in_every_plugins_writes(open_all: Factory) -> None:
    toolkit = open_all()
    world = [
        party("rhea", name="Rhea Stone"),
        party("acme", "organization", name="Acme Ltd"),
        party("ops", "department", name="Operations"),
        party("berg", "household", name="Berg household"),
    ]
    if MARKETPLACE:
        world += [party("rideco", "platform", name="RideCo"),
                  relation("side_of", "rhea", "rideco", "rider", status="active")]  # fmt: skip
    toolkit.write(world)
    toolkit.plugin("privacy").restrict("rhea", at="2026-02-01", reason="accuracy contested")
    before = without_audit(counts(toolkit))
    frozen = r"^rhea: its data is frozen"

    with pytest.raises(WriteRefused, match=frozen):  # b2b
        toolkit.relate("rhea", "acme", "stakeholder_of", role="champion", valid_from="2026-03-01")
    with pytest.raises(WriteRefused, match=frozen):  # household
        toolkit.relate("rhea", "berg", "member_of", role="head", valid_from="2026-03-01")
    with pytest.raises(WriteRefused, match=frozen):  # internal
        toolkit.relate("rhea", "ops", "employed_in", valid_from="2026-03-01")
    with pytest.raises(WriteRefused, match=r"^rhea: no lawful basis for .*restricted"):  # b2c
        toolkit.write([purchase("rhea", "2026-03-01T10:00:00Z", "R-1", 10)])
    if MARKETPLACE:
        with pytest.raises(WriteRefused, match=frozen):  # the marketplace's own API
            toolkit.plugin("marketplace").set_status(
                "rhea", "rider", "suspended", "2026-03-01", platform="rideco"
            )

    assert without_audit(counts(toolkit)) == before


def test_derived_household_writes_for_a_restricted_head_are_refused(open_all: Factory) -> None:
    toolkit = open_all()
    toolkit.write(
        [
            party("hana", name="Hana Lund"),
            party("ivo", name="Ivo Lund"),
            party("lund", "household", name="Lund household"),
            relation("member_of", "hana", "lund", "head", "2020-01-01"),
            relation("member_of", "ivo", "lund", "partner", "2020-01-01"),
        ]
    )
    toolkit.plugin("privacy").restrict("hana", at="2026-02-01")
    before = without_audit(counts(toolkit))

    # Naming Ivo head would end Hana's headship and give her a new membership: her
    # data is frozen, so the write is refused and nothing is written.
    with pytest.raises(WriteRefused, match=r"hana: its data is frozen"):
        toolkit.relate("ivo", "lund", "member_of", role="head", valid_from="2026-03-01")
    assert without_audit(counts(toolkit)) == before


# -- 3. a member who withdrew household_aggregation vanishes from the roll-ups --------------------


def test_a_member_who_withdrew_aggregation_consent_vanishes_from_household_rollups(
    open_all: Factory,
) -> None:
    toolkit = open_all()
    toolkit.write(
        [
            party("berg", "household", name="Berg household"),
            party("ann", name="Ann Berg", birth_date="1980-01-01"),
            party("ben", name="Benedikt Berg", birth_date="1982-01-01"),
            party("cai", name="Cai Berg", birth_date="2001-01-01"),
            relation("member_of", "ann", "berg", "head", "2020-01-01"),
            relation("member_of", "ben", "berg", "partner", "2020-01-01"),
            relation("member_of", "cai", "berg", "other", "2020-01-01", relation="child"),
            purchase("ann", "2026-03-01T10:00:00Z", "A-1", 40, "groceries"),
            purchase("ben", "2026-04-01T10:00:00Z", "B-1", 90, "tools"),
            purchase("ben", "2026-04-02T10:00:00Z", "B-2", 25, "groceries"),
            purchase("cai", "2026-05-01T10:00:00Z", "C-1", 30, "books"),
        ]
    )
    privacy = toolkit.plugin("privacy")
    for key in ("ann", "ben", "cai"):
        privacy.grant(key, "household_aggregation", at="2026-01-01")
    household = toolkit.plugin("household")
    everyone = household.view("berg", "2026-10-01")["rollup"]
    assert (everyone["members_counted"], everyone["left_out"]) == (3, 0)
    assert everyone["spend"]["amount"] == 185.0
    assert everyone["shared_preferences"] == [{"category": "groceries", "members": 2}]

    privacy.withdraw("ben", "household_aggregation", at="2026-10-15")

    view = household.view("berg", "2026-11-01")
    rollup = view["rollup"]
    assert (rollup["members_counted"], rollup["left_out"]) == (2, 1)
    assert rollup["spend"]["amount"] == 70.0  # his past purchases no longer add up
    assert rollup["spend"]["buyers"] == 2
    assert rollup["shared_preferences"] == []
    assert rollup["note"].startswith("1 member(s) left out")
    figures = json.dumps([rollup, view["facts"], view["offers"]]).casefold()
    assert "ben" not in figures
    (row,) = household.rollups("2026-11-01")
    assert (row["left_out"], row["spend"]) == (1, 70.0)
    assert toolkit.metrics("berg", "2026-11-01")["household"]["left_out"] == 1
    (role,) = [r for r in toolkit.roles("berg", "2026-11-01") if r.role == "customer_household"]
    assert "1 member(s) left out" in role.reason
    assert "ben" not in role.reason.casefold()
    # Only the household aggregation leaves him out: his own b2c figures stay.
    assert toolkit.metrics("ben", "2026-11-01")["b2c"]["orders"] == 2
    # Before the withdrawal he still counted.
    assert household.view("berg", "2026-10-10")["rollup"]["left_out"] == 0


def test_erasing_the_head_does_not_rewrite_a_minors_consent_history(open_all: Factory) -> None:
    toolkit = open_all()
    toolkit.write(
        [
            party("moss", "household", name="Moss household"),
            party("uma", name="Uma Moss", birth_date="1984-01-01"),
            party("vik", name="Vik Moss", birth_date="2013-01-01"),
            relation("member_of", "uma", "moss", "head", "2020-01-01"),
            relation("member_of", "vik", "moss", "dependent", "2020-01-01"),
        ]
    )
    privacy = toolkit.plugin("privacy")
    privacy.grant("vik", "household_aggregation", at="2026-01-01", given_by="uma",
                  verification="signed family form")  # fmt: skip
    assert privacy.basis("vik", "household_aggregation", "2026-06-01").allowed is True

    privacy.erase("uma")

    # What the ledger held at a past time does not change: the consent was given by a
    # verified guardian, whoever that was.
    decision = privacy.basis("vik", "household_aggregation", "2026-06-01")
    assert decision.allowed is True
    assert "by the subject" not in decision.reason
