"""The demo world: it loads, and the tour's claims are the toolkit's own answers."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
import sqlalchemy as sa
from demo_loaded import LoadedDemo
from rich.console import Console

from partygraph import Toolkit
from partygraph.plugins import first_party_plugins
from partygraph_demo import AS_OF, DemoFiles, load_demo
from partygraph_demo.render import print_tour
from partygraph_demo.tour import RoleLine, Scenario, build_tour


def _scenario(demo: LoadedDemo, slug: str) -> Scenario:
    (found,) = [scenario for scenario in demo.tour.scenarios if scenario.slug == slug]
    return found


def _roles(toolkit: Toolkit, key: str) -> set[tuple[str, str | None, bool, str]]:
    return {
        (role.role, role.context.key if role.context else None, role.customer, role.kind)
        for role in toolkit.roles(key, AS_OF)
    }


def _figure(scenario: Scenario, label: str) -> str:
    (value,) = [figure.value for figure in scenario.figures if figure.label == label]
    return value


def test_the_world_uses_every_first_party_plugin(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    assert sorted(info.name for info in toolkit.plugins) == sorted(first_party_plugins())
    with toolkit.engine.connect() as connection:
        kinds = Counter(row.kind for row in connection.execute(sa.text("SELECT kind FROM party")))
        types = {row.type for row in connection.execute(sa.text("SELECT type FROM interaction"))}
    assert {"person", "organization", "household", "department", "platform"} <= set(kinds)
    assert kinds["account_holding"] == 2
    assert {
        "purchase",
        "product_usage",
        "meeting",
        "demo",
        "contract_signed",
        "trip",
        "support_ticket",
        "incentive_payout",
        "service_request",
        "lead_handoff",
    } <= types
    assert [scenario.slug for scenario in demo.tour.scenarios] == [
        "groceries",
        "erp-deal",
        "bank-household",
        "ride-sharing",
        "app-store",
        "internal",
        "audiences",
        "privacy",
    ]


def test_every_role_in_the_tour_is_the_toolkit_s_answer(demo: LoadedDemo) -> None:
    for scenario in demo.tour.scenarios:
        shown_plugins = {role.plugin for party in scenario.parties for role in party.roles}
        for party in scenario.parties:
            answered = [
                RoleLine.of(role)
                for role in demo.toolkit.roles(party.key, AS_OF)
                if role.plugin in shown_plugins
            ]
            assert list(party.roles) == answered, (scenario.slug, party.key)
            assert all(role.reason for role in party.roles)


def test_groceries_the_payer_is_the_customer_the_family_consumes(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    assert {("customer", None, True, "external"), ("loyal_customer", None, True, "external")} <= (
        _roles(toolkit, "sophie")
    )
    for consumer in ("marc", "lea"):
        roles = _roles(toolkit, consumer)
        assert ("consumer", "sophie", False, "external") in roles
        assert ("household_influencer", "martin-home", False, "external") in roles
        assert not any(customer for _, _, customer, _ in roles)
    assert ("customer_household", None, True, "external") in _roles(toolkit, "martin-home")
    scenario = _scenario(demo, "groceries")
    metrics = toolkit.metrics("sophie", AS_OF)["b2c"]
    assert _figure(scenario, "Sophie's orders") == str(metrics["orders"]) == "13"
    assert _figure(scenario, "Sophie's net spend") == f"{metrics['historic_clv']:,.2f} EUR"


def test_erp_deal_the_account_buys_its_committee_plays_roles(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    assert ("customer_account", None, True, "external") in _roles(toolkit, "acme")
    assert ("economic_buyer", "acme", True, "external") in _roles(toolkit, "carla")
    assert ("technical_evaluator", "acme", True, "external") in _roles(toolkit, "ivan")
    assert ("end_user", "acme", False, "external") in _roles(toolkit, "ann")
    assert ("influencer", "acme", False, "external") in _roles(toolkit, "cora")
    assert ("target_account", None, False, "external") in _roles(toolkit, "globex")
    (cora,) = [p for p in _scenario(demo, "erp-deal").parties if p.key == "cora"]
    assert "outside influencer" in cora.roles[0].reason
    scenario = _scenario(demo, "erp-deal")
    assert _figure(scenario, "won with Acme") == "250,000.00 EUR"
    assert toolkit.metrics("acme", AS_OF)["b2b"]["won_amount"] == 250000
    (globex,) = toolkit.plugin("b2b").coverage(AS_OF, account="globex")
    assert globex["single_threaded"] is True
    assert _figure(scenario, "Globex") == globex["risk"]


def test_bank_household_is_one_unit_with_offers(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    assert ("customer_household", None, True, "external") in _roles(toolkit, "bernard-home")
    assert ("head_of_household", "bernard-home", False, "external") in _roles(toolkit, "paul")
    assert ("dependent", "bernard-home", False, "external") in _roles(toolkit, "emma")
    view = toolkit.plugin("household").view("bernard-home", AS_OF)
    assert sorted(p["product"] for p in view["rollup"]["products"]) == [
        "family_insurance",
        "joint_account",
    ]
    offers = [offer["offer"] for offer in view["offers"]]
    assert offers == ["education_savings"]
    scenario = _scenario(demo, "bank-household")
    assert _figure(scenario, "eligible offers") == "Education savings plan"
    assert _figure(scenario, "balances held") == "8,200.00 EUR"


def test_ride_sharing_two_sides_and_a_person_on_both(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    sam = _roles(toolkit, "sam")
    assert ("rider", "rideco", True, "ecosystem") in sam
    assert ("driver", "rideco", True, "ecosystem") in sam
    assert ("driver", "rideco", True, "ecosystem") in _roles(toolkit, "dave")
    figures = toolkit.metrics("dave", AS_OF)["marketplace"]
    scenario = _scenario(demo, "ride-sharing")
    assert _figure(scenario, "Dave: trips / net earnings") == (
        f"{figures['driver.trips']} / {figures['driver.net_earnings']:,.2f} EUR"
    )
    # Dave met the weekly quest in each of the first three weeks of June, not the fourth.
    met = {
        week: [row["met"] for row in toolkit.plugin("marketplace").incentives(week, party="dave")]
        for week in ("2026-06-03", "2026-06-10", "2026-06-17", "2026-06-24")
    }
    assert met == {
        "2026-06-03": [True],
        "2026-06-10": [True],
        "2026-06-17": [True],
        "2026-06-24": [False],
    }
    assert _figure(scenario, "Dave: weekly-quest bonuses paid") == "3"
    assert _figure(scenario, "Fatou: open support tickets") == "1"


def test_app_store_developers_are_customers(demo: LoadedDemo) -> None:
    for developer in ("nina", "pixelworks"):
        assert ("developer", "apphub", True, "ecosystem") in _roles(demo.toolkit, developer)
    scenario = _scenario(demo, "app-store")
    assert _figure(scenario, "PixelWorks: launch-grant payout") == "500.00 EUR"


def test_internal_departments_serve_each_other(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    sales = _roles(toolkit, "sales")
    assert ("internal_customer", "marketing", True, "internal") in sales
    assert ("internal_customer", "it", True, "internal") in sales
    assert ("internal_customer", "rita", True, "internal") in _roles(toolkit, "sara")
    assert ("internal_supplier", "sara", False, "internal") in _roles(toolkit, "rita")
    scenario = _scenario(demo, "internal")
    (handoff,) = toolkit.plugin("internal").handoffs("2026-04-01", AS_OF)
    assert (handoff["accepted"], handoff["rejected"]) == (2, 1)
    assert _figure(scenario, "marketing -> sales lead acceptance") == "67% (2 of 3)"


def test_audiences_are_the_segments_answers_after_consent(demo: LoadedDemo) -> None:
    scenario = _scenario(demo, "audiences")
    toolkit = demo.toolkit
    tips = toolkit.segment("product_tips", "2026-07-01")
    # Consumers and end users; only those who agreed to marketing are kept.
    assert sorted(tips.keys) == ["ann", "marc"]
    assert tips.excluded == 6
    shown = ", ".join(tips.keys)
    assert _figure(scenario, "product_tips") == f"2 ({shown}); 6 left out for marketing"
    assert toolkit.segment("roi_content", "2026-07-01").keys == ["carla"]
    assert toolkit.segment("single_threaded_targets", "2026-07-01").keys == ["globex"]
    households = toolkit.segment("education_savings_households", "2026-07-01").keys
    assert sorted(households) == ["bernard-home", "martin-home"]


def test_the_teenager_on_the_shared_tablet(demo: LoadedDemo) -> None:
    assert demo.outcomes.refused.startswith("lea: no lawful basis for profiling")
    assert "shared device 'martin-tablet'" in demo.outcomes.refused
    assert "minor (aged 14)" in demo.outcomes.refused
    history = demo.toolkit.plugin("privacy").ledger_history("lea")
    profiling = [entry for entry in history if entry["purpose"] == "profiling"]
    assert [entry["given_by"] for entry in profiling] == ["sophie"]
    (usage,) = demo.toolkit.interactions("lea", type="product_usage")
    assert usage.occurred_at.isoformat().startswith("2026-06-23")


def test_a_withdrawn_consent_is_respected(demo: LoadedDemo) -> None:
    privacy = demo.toolkit.plugin("privacy")
    before = privacy.can_contact("sophie", "email", "marketing", "2026-05-01")
    after = privacy.can_contact("sophie", "email", "marketing", AS_OF)
    assert (before.allowed, after.allowed) == (True, False)
    assert "withdrawn" in after.reason
    assert privacy.can_contact("sophie", "email", "billing", AS_OF).allowed
    # Marketing audiences leave her out (counted, not named).
    audience = demo.toolkit.plugin("b2c").audience("groceries", as_of=AS_OF, purpose="marketing")
    assert "sophie" not in str(audience)
    figure = _figure(_scenario(demo, "privacy"), "marketing e-mail to Sophie")
    assert figure == f"not allowed: {after.reason}"


def test_the_erased_rider_leaves_no_trace(demo: LoadedDemo) -> None:
    toolkit = demo.toolkit
    with toolkit.reader() as graph:
        assert graph.find_party("yuki") is None
    needles = ("yuki", "Yuki Tanaka", "yuki.tanaka@example.net")
    found = []
    with toolkit.engine.connect() as connection:
        for name in sa.inspect(connection).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            for row in connection.execute(sa.select(table)):
                text = " ".join(str(value) for value in row).casefold()
                found += [f"{name}: {needle}" for needle in needles if needle.casefold() in text]
    assert found == []
    for path in (
        demo.files.database,
        demo.files.database.with_name(f"{demo.files.database.name}-wal"),
    ):
        data = path.read_bytes().lower() if path.exists() else b""
        assert not [needle for needle in needles if needle.lower().encode() in data], path
    assert (demo.outcomes.erasure_passed, demo.outcomes.residual_hits) == (True, 0)
    # Her trips stay, for the drivers' earnings, without her.
    assert demo.outcomes.erased_trips_kept > 0
    with toolkit.engine.connect() as connection:
        riderless = connection.execute(
            sa.text(
                "SELECT count(*) FROM interaction i WHERE i.type = 'trip' AND NOT EXISTS "
                "(SELECT 1 FROM participant p WHERE p.interaction_id = i.id AND p.role = 'rider')"
            )
        ).scalar_one()
    assert riderless == demo.outcomes.erased_trips_kept


def test_two_runs_give_the_same_tour(
    demo: LoadedDemo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = DemoFiles.beside(tmp_path_factory.mktemp("again") / "partygraph-demo.db")
    toolkit, outcomes = load_demo(files)
    try:
        again = build_tour(toolkit, outcomes, database="partygraph-demo.db", config="demo.toml")
    finally:
        toolkit.close()
    assert again.as_dict() == demo.tour.as_dict()


def test_the_tour_has_colour_on_a_terminal_only(demo: LoadedDemo) -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    piped = Console(file=io.StringIO(), force_terminal=False, width=100)
    for console in (terminal, piped):
        print_tour(demo.tour, console)
    coloured = terminal.file.getvalue()  # type: ignore[attr-defined]
    plain = piped.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain
    assert "Carla Diaz (carla): a customer" in plain
    assert "Ann Berg (ann): not a customer" in plain


def test_no_color_turns_colours_off(demo: LoadedDemo, monkeypatch: pytest.MonkeyPatch) -> None:
    colour = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m")
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    print_tour(demo.tour, terminal)
    assert colour.search(terminal.file.getvalue())  # type: ignore[attr-defined]
    monkeypatch.setenv("NO_COLOR", "1")
    quiet = Console(file=io.StringIO(), force_terminal=True, width=100)
    print_tour(demo.tour, quiet)
    assert not colour.search(quiet.file.getvalue())  # type: ignore[attr-defined]
