"""The ERP scenario of seed 000: the CFO, two accountants, the IT lead and an outside consultant."""

from __future__ import annotations

from b2b_world import ACCOUNTANTS, CFO_ONLY, IT_REVIEW, WON

from partygraph import Toolkit


def coverage_of(toolkit: Toolkit, as_of: str) -> dict:
    (entry,) = [e for e in toolkit.plugin("b2b").coverage(as_of) if e["account"]["key"] == "acme"]
    return entry


def test_only_the_cfo_engaged_is_single_threaded_with_the_missing_roles_named(
    erp: Toolkit,
) -> None:
    erp.write(CFO_ONLY)
    entry = coverage_of(erp, "2026-02-15")
    assert entry["covered"] == ["economic_buyer"]
    assert entry["missing"] == ["technical_evaluator", "end_user"]
    assert entry["named_not_engaged"] == ["technical_evaluator", "end_user"]
    assert (entry["stakeholders"], entry["engaged_stakeholders"]) == (5, 1)
    assert entry["single_threaded"] is True
    assert [(p["person"]["key"], p["interactions"]) for p in entry["engaged"]] == [("carla", 2)]
    assert entry["risk"] == (
        "single-threaded: only Carla Diaz (economic_buyer) has engaged in the 90 days to "
        "2026-02-15; missing roles: technical_evaluator, end_user"
    )
    flagged = erp.plugin("b2b").single_threaded("2026-02-15")
    assert [e["account"]["key"] for e in flagged] == ["acme"]


def test_the_flag_clears_once_the_accountants_engage(erp: Toolkit) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS])
    before = coverage_of(erp, "2026-02-19")
    after = coverage_of(erp, "2026-03-01")
    assert before["single_threaded"] is True
    assert after["single_threaded"] is False
    assert after["threading"] == "multi"
    assert after["covered"] == ["economic_buyer", "end_user"]
    assert after["missing"] == ["technical_evaluator"]
    assert after["risk"] == "missing roles: technical_evaluator"
    assert sorted(p["person"]["key"] for p in after["engaged"]) == ["abe", "ann", "carla"]
    assert erp.plugin("b2b").single_threaded("2026-03-01") == []


def test_the_it_review_completes_coverage_and_the_window_forgets_old_engagement(
    erp: Toolkit,
) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS, *IT_REVIEW])
    full = coverage_of(erp, "2026-03-10")
    assert (full["covered"], full["missing"], full["risk"]) == (
        ["economic_buyer", "technical_evaluator", "end_user"],
        [],
        None,
    )
    # 90 days after the last touch nobody has engaged any more.
    late = coverage_of(erp, "2026-06-10")
    assert late["engaged_stakeholders"] == 0
    assert late["threading"] == "none"
    assert late["risk"].startswith("no stakeholder has engaged in the 90 days to 2026-06-10")


def test_the_consultant_is_an_outside_influencer(erp: Toolkit) -> None:
    (role,) = erp.roles("cora", as_of="2026-02-15")
    assert role.role == "influencer"
    assert role.plugin == "b2b"
    assert role.context is not None
    assert role.context.key == "acme"
    assert role.customer is False
    assert "an outside influencer: does not work at Acme Manufacturing" in role.reason
    assert "(works at Ledger Partners)" in role.reason
    committee = erp.view("acme", as_of="2026-02-15").sections["b2b"]["committee"]
    cora = next(entry for entry in committee if entry["person"]["key"] == "cora")
    assert (cora["outside"], cora["buyer"], cora["title"]) == (True, False, None)
    # The accountant of the French subsidiary works inside the group: no outsider.
    abe = next(entry for entry in committee if entry["person"]["key"] == "abe")
    assert (abe["outside"], abe["title"]) == (False, "Accountant")


def test_messaging_track_per_person(erp: Toolkit) -> None:
    found = erp.plugin("b2b").messaging("2026-02-15")
    tracks = {entry["person"]["key"]: entry["track"] for entry in found["stakeholders"]}
    assert tracks == {
        "carla": "business_value",
        "ann": "usability_adoption",
        "abe": "usability_adoption",
        "ian": "security_integration",
        "cora": "industry_insight",
    }
    carla = next(e for e in found["stakeholders"] if e["person"]["key"] == "carla")
    assert "ROI" in carla["themes"]
    assert carla["email"] == "carla@acme.example"
    assert found["excluded"] == []
    # The same field in the 360-degree view of a person.
    section = erp.view("ian", as_of="2026-02-15").sections["b2b"]
    assert section["messaging_tracks"] == [
        {
            "account": "acme",
            "track": "security_integration",
            "themes": ["security", "integration", "scalability", "technical support"],
        }
    ]


def test_the_account_is_a_target_until_the_deal_is_won(erp: Toolkit) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS, *IT_REVIEW, *WON])
    (target,) = erp.roles("acme", as_of="2026-03-01")
    assert (target.role, target.customer) == ("target_account", False)
    assert "deal erp-2026 'ERP rollout' in progress since 2026-01-10" in target.reason
    assert "stage discovery, EUR 250,000, expected to close 2026-06-30" in target.reason
    (customer,) = erp.roles("acme", as_of="2026-05-01")
    assert (customer.role, customer.customer) == ("customer_account", True)
    assert customer.since is not None
    assert customer.since.date().isoformat() == "2026-04-15"
    assert "deal erp-2026 'ERP rollout' won on 2026-04-15 (EUR 250,000)" in customer.reason
    assert "contract signed on 2026-04-20" in customer.reason
    assert customer.evidence[0] == "deal erp-2026"
    assert customer.evidence[1].startswith("interaction #")


def test_end_users_use_what_the_account_bought_and_are_not_buyers(erp: Toolkit) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS, *IT_REVIEW, *WON])
    (cfo,) = erp.roles("carla", as_of="2026-05-01")
    (accountant,) = erp.roles("ann", as_of="2026-05-01")
    assert (cfo.role, cfo.customer) == ("economic_buyer", True)
    assert "acts for Acme Manufacturing in buying, and Acme Manufacturing is a customer" in (
        cfo.reason
    )
    assert (accountant.role, accountant.customer) == ("end_user", False)
    assert (
        "a user of what Acme Manufacturing bought (deal erp-2026 'ERP rollout' won on "
        "2026-04-15), not a buyer" in accountant.reason
    )
    assert "works there as Accountant, Finance" in accountant.reason
    # Before the purchase the CFO is a buyer of a target account, not yet a customer.
    (early,) = erp.roles("carla", as_of="2026-02-15")
    assert early.customer is False
    assert "target account, not yet a customer" in early.reason
    assert "engaged 2 time(s) in the 90 days to 2026-02-15, last an email on 2026-02-10" in (
        early.reason
    )
    assert early.evidence[0].startswith("relationship #")
    assert early.evidence[-1].startswith("interaction #")


def test_nobody_has_a_committee_role_before_the_committee_formed(erp: Toolkit) -> None:
    assert erp.roles("carla", as_of="2025-12-01") == []
    assert erp.roles("acme", as_of="2025-12-01") == []
    assert [r.role for r in erp.roles("carla", as_of="2026-01-10")] == ["economic_buyer"]
