"""``partygraph internal ...`` and ``explain`` run as users run them; export and erasure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from internal_world import department, employ, handoff, person, request, serves, staff

from partygraph import Context, Toolkit
from partygraph.cli import main

WORLD = [
    department("recruiting", "Recruiting", "hr"),
    department("engineering", "Engineering"),
    department("marketing", "Marketing"),
    department("sales", "Sales"),
    person("rita", "Rita Recruiter"),
    person("hank", "Hank Hiring"),
    employ("rita", "recruiting"),
    employ("hank", "engineering", role="manager"),
    *staff("sales", "rep", 3),
    serves("recruiting", "engineering", categories=["hiring"]),
    serves("marketing", "sales", categories=["leads"]),
    request("hank", "recruiting", "2026-02-01T09:00:00Z", "hiring", assignee="rita",
            resolved="2026-02-20T09:00:00Z", satisfaction=5),
    request("hank", "recruiting", "2026-03-01T09:00:00Z", "hiring", assignee="rita",
            resolved="2026-04-15T09:00:00Z", satisfaction=2),
    handoff("marketing", "sales", "2026-02-03T10:00:00Z", "accepted"),
    handoff("marketing", "sales", "2026-02-04T10:00:00Z", "rejected"),
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    """A project folder whose config enables the internal plugin on the test database."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n'
        '[plugins]\nenabled = ["internal"]\n\n'
        "[plugins.internal]\nmin_group_size = 3\n"
    )
    world = folder / "world.jsonl"
    world.write_text("".join(json.dumps(record) + "\n" for record in WORLD))
    assert main(["import", str(world)]) == 0
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_reports_print_json_and_tables(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    period = ("--since", "2026-01-01", "--until", "2026-05-01")
    (levels,) = run_json(capsys, "internal", "sla", *period)
    assert levels["department"] == "recruiting"
    assert levels["sla"] == {"met": 1, "breached": 1, "overdue": 0, "attainment": 0.5}
    assert levels["median_resolution_hours"] == pytest.approx((19 * 24 + 45 * 24) / 2)

    (pair,) = run_json(capsys, "internal", "handoffs", *period, "--department", "sales")
    assert pair["acceptance_rate"] == 0.5

    adoption = run_json(capsys, "internal", "adoption", *period)
    by_department = {row["department"]: row for row in adoption}
    assert by_department["sales"]["headcount"] == 3
    assert by_department["engineering"]["status"] == "too few to report"

    code, out, err = run(capsys, "internal", "adoption", *period)
    assert code == 0, err
    assert "too few to report" in out
    code, out, _ = run(capsys, "internal", "sla", *period)
    assert code == 0
    assert "recruiting" in out
    assert "50%" in out


def test_per_employee_usage_is_refused_on_the_command_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "internal", "usage", "--json")
    assert code == 2
    assert out == ""
    assert "per-employee CRM usage figures are off" in err
    code, _, err = run(capsys, "internal", "sla", "--department", "nobody")
    assert code == 2
    assert "nobody" in err


def test_explain_shows_the_recruiter_s_internal_customers(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    explained = run_json(capsys, "explain", "rita", "--as-of", "2026-05-01")
    roles = explained["roles"]
    assert [(role["role"], role["context"]["key"]) for role in roles] == [
        ("internal_supplier", "hank")
    ]
    assert roles[0]["plugin"] == "internal"
    assert roles[0]["kind"] == "internal"
    assert roles[0]["customer"] is False
    code, out, _ = run(capsys, "explain", "hank", "--as-of", "2026-05-01")
    assert code == 0
    assert "is a customer" in out
    assert "Rita Recruiter handled 2 of Hank Hiring's service requests" in out


def test_export_and_erasure_cover_the_plugin_s_tables(
    make_toolkit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    toolkit: Toolkit = make_toolkit(
        enabled=["internal"],
        settings={
            "internal": {
                "per_employee": {"enabled": True, "lawful_basis": "legal_obligation"},
            }
        },
    )
    toolkit.write(WORLD)
    toolkit.write([person("cand", "A Candidate")], context=Context(actor="rita"))
    exported = toolkit.export_subject("rita")["plugins"]["internal"]
    assert [row["as"] for row in exported["service_requests"]] == ["assignee", "assignee"]
    assert exported["crm_usage"][0]["records_created"] == 1

    report = toolkit.erase_subject("hank")
    assert report["plugins"]["internal"] == {
        "usage_rows_deleted": 0,
        "requests_deleted": 0,
        "requests_unlinked": 2,
    }
    erased = toolkit.erase_subject("rita")
    assert erased["plugins"]["internal"]["usage_rows_deleted"] == 1
    # Recruiting's figures survive without the people, still credited to the
    # department Hank worked in when he asked: that is about the department.
    plugin = toolkit.plugin("internal")
    (levels,) = plugin.service_levels("2026-01-01", "2026-05-01")
    assert levels["requests"] == 2
    assert levels["by_customer"] == {"engineering": 2}
    assert toolkit.roles("recruiting", as_of="2026-05-01")[0].role == "internal_supplier"
    assert plugin.employee_usage("2026-01-01", "2026-12-31")["employees"][0]["employee"] != "rita"
