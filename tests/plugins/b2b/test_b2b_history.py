"""A stakeholder who leaves an account keeps her history; her other accounts are untouched."""

from __future__ import annotations

from b2b_world import ACCOUNTANTS, CFO_ONLY, touch

from partygraph import Toolkit

GLOBEX = [
    {"party": {"key": "globex", "kind": "organization", "name": "Globex"}},
    {"relationship": {"type": "stakeholder_of", "source": "ann", "target": "globex",
                      "role": "influencer", "valid_from": "2026-01-01"}},
    touch("meeting", "2026-03-20T10:00:00Z", "ann", account="globex", topic="peer reference"),
]  # fmt: skip
#: Ann leaves Acme on 15 March: her job and her committee role end there.
ANN_LEAVES = [
    {"relationship": {"type": "works_at", "source": "ann", "target": "acme",
                      "valid_from": "2021-01-01", "valid_to": "2026-03-15"}},
    {"relationship": {"type": "stakeholder_of", "source": "ann", "target": "acme",
                      "role": "end_user", "valid_from": "2026-01-10",
                      "valid_to": "2026-03-15"}},
]  # fmt: skip


def acme(toolkit: Toolkit, as_of: str) -> dict:
    entries = toolkit.plugin("b2b").coverage(as_of, account="acme")
    assert entries[0]["account"]["key"] == "acme"
    return entries[0]


def test_a_person_who_leaves_drops_out_of_current_coverage_but_keeps_her_history(
    erp: Toolkit,
) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS, *GLOBEX, *ANN_LEAVES])

    before = acme(erp, "2026-03-01")
    assert "ann" in [p["person"]["key"] for p in before["engaged"]]
    assert before["stakeholders"] == 5
    after = acme(erp, "2026-04-01")
    assert "ann" not in [p["person"]["key"] for p in after["engaged"]]
    assert after["stakeholders"] == 4
    # Abe still covers the end users.
    assert after["covered"] == ["economic_buyer", "end_user"]

    # Her roles: at Acme until she left, at Globex untouched.
    assert [(r.role, r.context.key if r.context else None) for r in erp.roles(
        "ann", as_of="2026-03-01"
    )] == [("end_user", "acme"), ("influencer", "globex")]  # fmt: skip
    now = erp.roles("ann", as_of="2026-04-01")
    assert [(r.role, r.context.key if r.context else None) for r in now] == [
        ("influencer", "globex")
    ]
    assert "engaged 1 time(s)" in now[0].reason
    # Left Acme: at Globex she is an outsider now.
    assert "an outside influencer: does not work at Globex" in now[0].reason

    # The history is kept: the ended relationships, her interactions, a past role in the view.
    ended = [
        view.relationship
        for view in erp.relationships("ann", history=True)
        if view.relationship.type == "stakeholder_of" and view.other.key == "acme"
    ]
    assert len(ended) == 1
    assert ended[0].valid_to is not None
    assert ended[0].valid_to.date().isoformat() == "2026-03-15"
    assert [i.type for i in erp.interactions("ann")] == ["meeting", "demo"]
    section = erp.view("ann", as_of="2026-04-01").sections["b2b"]
    assert [(p["account"]["key"], p["role"], p["to"]) for p in section["past_roles"]] == [
        ("acme", "end_user", "2026-03-15T00:00:00Z")
    ]
    account_view = erp.view("acme", as_of="2026-04-01").sections["b2b"]
    assert [p["person"]["key"] for p in account_view["past_stakeholders"]] == ["ann"]
    assert "ann" not in [entry["person"]["key"] for entry in account_view["committee"]]


def test_as_of_before_she_left_still_shows_her(erp: Toolkit) -> None:
    erp.write([*CFO_ONLY, *ACCOUNTANTS, *ANN_LEAVES])
    (role,) = erp.roles("ann", as_of="2026-03-14")
    assert role.role == "end_user"
    assert role.until is not None
    assert role.until.date().isoformat() == "2026-03-15"
    assert "until 2026-03-15" in role.reason
    view = erp.view("acme", as_of="2026-03-14").sections["b2b"]
    assert "ann" in [entry["person"]["key"] for entry in view["committee"]]
    assert view["past_stakeholders"] == []
    assert erp.roles("ann", as_of="2026-03-15") == []


def test_a_committee_role_can_be_ended_through_the_api(erp: Toolkit) -> None:
    erp.write(CFO_ONLY)
    (link,) = [
        view.relationship
        for view in erp.relationships("carla")
        if view.relationship.type == "stakeholder_of"
    ]
    assert link.id is not None
    erp.end_relationship(link.id, "2026-02-12")
    assert erp.roles("carla", as_of="2026-02-15") == []
    assert acme(erp, "2026-02-15")["engaged_stakeholders"] == 0
    assert [r.role for r in erp.roles("carla", as_of="2026-02-11")] == ["economic_buyer"]
