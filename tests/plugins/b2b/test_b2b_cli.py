"""``partygraph b2b ...`` and ``explain`` run the way users run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from b2b_world import ACCOUNTANTS, CFO_ONLY, ERP_WORLD, WON

from partygraph.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    """A folder whose config enables the b2b plugin, holding the ERP world."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n[plugins]\nenabled = ["b2b"]\n'
    )
    world = folder / "world.jsonl"
    records = [*ERP_WORLD, *CFO_ONLY, *ACCOUNTANTS, *WON]
    world.write_text("".join(json.dumps(record) + "\n" for record in records))
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


def test_coverage_and_risks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "b2b", "coverage", "--as-of", "2026-02-15")
    assert code == 0
    assert out.strip() == (
        "acme: covered economic_buyer; missing technical_evaluator, end_user; "
        "1 of 5 stakeholder(s) engaged  [SINGLE-THREADED]"
    )
    code, out, _ = run(capsys, "b2b", "risks", "--as-of", "2026-02-15")
    assert out.startswith("acme: single-threaded: only Carla Diaz (economic_buyer)")
    code, out, _ = run(capsys, "b2b", "risks", "--as-of", "2026-03-01")
    assert out.strip() == "no single-threaded account"
    (entry,) = run_json(capsys, "b2b", "coverage", "acme", "--as-of", "2026-03-01")
    assert entry["missing"] == ["technical_evaluator"]


def test_messaging_json_is_data_for_a_marketing_system(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = run_json(capsys, "b2b", "messaging", "acme", "--as-of", "2026-03-01")
    tracks = {e["person"]["key"]: (e["track"], e["outside"]) for e in found["stakeholders"]}
    assert tracks["carla"] == ("business_value", False)
    assert tracks["ann"] == ("usability_adoption", False)
    assert tracks["cora"] == ("industry_insight", True)
    assert "usability_adoption" in found["tracks"]
    code, out, _ = run(capsys, "b2b", "messaging", "--as-of", "2026-03-01")
    assert code == 0
    assert "cora (outside influencer at acme): industry_insight -- " in out


def test_scores_and_deals(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (top,) = run_json(capsys, "b2b", "scores", "--as-of", "2026-03-01", "--top", "1")
    assert top["account"]["key"] == "acme"
    assert top["rolled_up_score"] > 0
    code, out, _ = run(capsys, "b2b", "deals", "--as-of", "2026-05-01")
    assert code == 0
    assert out.strip() == (
        "erp-2026 (acme): won, stage closed, EUR 250,000.00, expected to close 2026-06-30"
    )
    code, out, _ = run(capsys, "b2b", "deals", "--as-of", "2025-01-01")
    assert (code, out.strip()) == (0, "no deals")


def test_explain_shows_who_buys_and_who_uses(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "explain", "carla", "--as-of", "2026-05-01")
    assert code == 0
    assert "is a customer" in out
    assert "economic_buyer of acme since 2026-01-10 [b2b, external, customer]" in out
    code, out, _ = run(capsys, "explain", "ann", "--as-of", "2026-05-01")
    assert "is not a customer" in out
    assert "end_user of acme since 2026-01-10 [b2b, external, not a customer]" in out
    assert "not a buyer" in out
    found = run_json(capsys, "explain", "acme", "--as-of", "2026-05-01")
    assert [(r["role"], r["customer"]) for r in found["roles"]] == [("customer_account", True)]


def test_bad_input_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "b2b", "coverage", "carla")
    assert code == 2
    assert "account: 'carla' is a person, not an organization" in err
    code, _, err = run(capsys, "b2b", "scores", "--as-of", "someday")
    assert code == 2
    assert "--as-of must be an ISO-8601 date" in err
    bad = project / "bad.jsonl"
    bad.write_text(
        json.dumps({"relationship": {"type": "works_at", "source": "ann", "target": "carla"}})
        + "\n"
    )
    code, _, err = run(capsys, "import", str(bad))
    assert code == 2
    assert "line 1: target: a works_at relationship ends at a organization" in err
