"""``partygraph marketplace ...`` the way users run it: exit codes, tables, --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from marketplace_world import ride_world, trip

from partygraph.cli import main

CONFIG = """\
[database]
url = "{url}"

[plugins]
enabled = ["marketplace"]

[plugins.marketplace]
zones = ["gare", "airport", "centre"]

[[plugins.marketplace.incentives]]
name = "weekly-quest"
min_trips = 2
min_average_rating = 4.5
bonus = 30
"""

TRIPS = [
    trip("2026-02-02T08:00:00Z", "alice", "dave", fare=12.40, tip=2, pickup_zone="gare",
         dropoff_zone="centre", ratings={"rider": 5}),
    trip("2026-02-03T08:00:00Z", "alice", "dave", fare=25.10, pickup_zone="gare",
         dropoff_zone="centre", ratings={"rider": 5}),
    trip("2026-02-10T18:00:00Z", "alice", "sam", fare=8.75, pickup_zone="centre",
         dropoff_zone="airport"),
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(CONFIG.format(url=partygraph_database_url))
    world = folder / "world.jsonl"
    world.write_text("".join(json.dumps(record) + "\n" for record in [*ride_world(), *TRIPS]))
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


def test_an_earnings_statement_is_printed_and_exported(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "marketplace", "earnings", "dave", "--until", "2026-03-01")
    assert code == 0, err
    assert "2026-W06" in out
    assert "37.50" in out  # gross: 12.40 + 25.10
    assert "9.38" in out  # 25 % of 37.50 = 9.375, rounded half up
    assert "total" in out
    rows = run_json(
        capsys, "marketplace", "earnings", "dave", "--period", "month", "--until", "2026-03-01"
    )
    assert [(r["period"], r["gross"], r["platform_fee"], r["tips"], r["net"]) for r in rows] == [
        ("2026-02", 37.5, 9.38, 2.0, 30.12)
    ]
    everyone = run_json(capsys, "marketplace", "earnings", "--until", "2026-03-01")
    assert {row["key"] for row in everyone} == {"dave", "sam"}


def test_incentives_are_evaluated_and_paid(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (row,) = run_json(capsys, "marketplace", "incentives", "--at", "2026-02-04")
    assert (row["key"], row["met"], row["bonus"]) == ("dave", True, 30.0)
    code, out, _ = run(capsys, "marketplace", "incentives", "--at", "2026-02-04", "--pay")
    assert (code, out.strip()) == (
        0,
        "1 met; 1 payout(s) recorded, 0 already paid; total 30.00 EUR",
    )
    code, out, _ = run(capsys, "marketplace", "incentives", "--at", "2026-02-04", "--pay")
    assert "0 payout(s) recorded, 1 already paid" in out


def test_suggestions_health_sides_and_explain(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "marketplace", "suggestions", "alice", "--as-of", "2026-02-20")
    assert (code, out.strip()) == (
        0,
        "gare -> centre, morning (around 08:00): 2 trips, last 2026-02-03T08:00:00Z",
    )
    health = run_json(capsys, "marketplace", "health", "--as-of", "2026-02-20", "--days", "28")
    assert {cell["zone"] for cell in health["supply_demand"]} == {"gare", "centre"}
    assert health["retention"]["side"] == "rider"
    code, out, _ = run(capsys, "marketplace", "health", "--as-of", "2026-02-20")
    assert code == 0
    assert "supply and demand" in out
    assert "churn risk" in out
    sides = run_json(capsys, "marketplace", "sides")
    assert [(s["name"], s["programs"]) for s in sides] == [
        ("rider", []),
        ("driver", ["weekly-quest"]),
    ]
    # Sam is on both sides but has only driven: a driver, not (yet) a rider.
    explained = run_json(capsys, "explain", "sam", "--as-of", "2026-02-20")
    assert [(r["role"], r["customer"], r["kind"]) for r in explained["roles"]] == [
        ("driver", True, "ecosystem")
    ]
    assert explained["roles"][0]["reason"].startswith("Driver on RideCo since 2026-01-04")


def test_bad_input_exits_2_with_a_message(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "marketplace", "earnings", "nobody")
    assert code == 2
    assert "no party with key or id 'nobody'" in err
    code, _, err = run(capsys, "marketplace", "earnings", "dave", "--side", "pilot")
    assert code == 2
    assert "no side 'pilot'" in err
    code, _, err = run(capsys, "marketplace", "incentives", "--at", "yesterday")
    assert code == 2
    assert "at must be an ISO-8601 date" in err
    code, _, err = run(capsys, "marketplace", "earnings", "dave", "--period", "year")
    assert code == 2
