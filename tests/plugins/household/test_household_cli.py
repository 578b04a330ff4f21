"""``partygraph household ...`` and ``partygraph explain`` run the way users run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from household_world import FAMILY

from partygraph.cli import main

WORLD = [
    *FAMILY,
    {"party": {"key": "joint-1", "kind": "account_holding", "name": "Joint account",
               "attributes": {"product": "joint_account", "balance": 2500}}},
    {"relationship": {"type": "holds", "source": "alice", "target": "joint-1",
                      "attributes": {"share": 0.5}, "valid_from": "2020-01-01"}},
    {"relationship": {"type": "holds", "source": "bob", "target": "joint-1",
                      "attributes": {"share": 0.5}, "valid_from": "2020-01-01"}},
    {"party": {"key": "eve", "kind": "person", "name": "Eve Martin",
               "attributes": {"address": "3 Oak Street"}}},
    {"party": {"key": "frank", "kind": "person", "name": "Frank Martin",
               "attributes": {"address": "3 oak st"}}},
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    """A project folder whose config enables the household plugin, with the family imported."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n[plugins]\nenabled = ["household"]\n'
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


def test_household_show_and_explain(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = run_json(capsys, "household", "show", "moreau", "--as-of", "2024-03-01")
    assert summary["household"]["key"] == "moreau"
    assert summary["facts"]["dependents"] == 2
    assert [item["key"] for item in summary["rollup"]["products"]] == ["joint-1"]
    # A person's REF shows their household.
    assert run_json(capsys, "household", "show", "dan")["household"]["key"] == "moreau"

    code, out, _ = run(capsys, "household", "show", "moreau", "--as-of", "2024-03-01")
    assert code == 0
    assert "Moreau household (household moreau), as of 2024-03-01: active" in out
    assert "  - Chloé Moreau (dependent) since 2015-01-01" in out
    assert "  - joint_account joint-1 (holders: 2, balance 2,500.00)" in out
    assert "  - Education savings plan: because has_dependents_under_18 is true" in out

    code, out, _ = run(capsys, "explain", "chloe", "--as-of", "2024-03-01")
    assert code == 0
    assert "Dependent in the Moreau household: aged 17 (born 2006-03-10), under 18" in out
    explained = run_json(capsys, "explain", "chloe", "--as-of", "2024-03-15")
    assert [role["role"] for role in explained["roles"]] == ["household_member"]


def test_household_list_offers_and_suggest(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (row,) = run_json(capsys, "household", "list", "--as-of", "2024-03-01")
    assert (row["household"], row["members"], row["products"]) == ("moreau", 4, 1)
    offers = run_json(capsys, "household", "offers", "--as-of", "2024-03-01")
    assert [offer["offer"] for offer in offers[0]["offers"]] == [
        "education_savings",
        "family_insurance",
    ]
    code, out, _ = run(capsys, "household", "offers", "--as-of", "2024-03-01")
    assert code == 0
    assert "moreau: Family insurance (dependents is 2 (at least 1); members is 4" in out

    found = run_json(capsys, "household", "suggest")
    assert [p["key"] for p in found["proposals"][0]["parties"]] == ["eve", "frank"]
    code, out, _ = run(capsys, "household", "suggest")
    assert "2 people in no household share the address '3 oak st'" in out
    assert "review its records (--json) and import them" in out


def test_bad_input_exits_with_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "household", "show", "nobody")
    assert code == 2
    assert "no party with key or id 'nobody'" in err
    code, _, err = run(capsys, "household", "show", "eve")
    assert code == 2
    assert "'eve' belongs to no household on" in err
    code, _, err = run(capsys, "household", "list", "--as-of", "yesterday")
    assert code == 2
    assert "--as-of must be an ISO-8601 date" in err
