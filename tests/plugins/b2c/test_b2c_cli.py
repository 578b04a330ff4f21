"""``partygraph explain`` and ``partygraph b2c ...`` run the way users run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from b2c_records import person, purchase, refund

from partygraph.cli import main

WORLD = [
    person("paul", "Paul Martin"),
    person("lea", "Léa Martin", birth_date="2015-06-01"),
    person("ann", "Ann Lead"),
    person("bob", "Bob Returner"),
    person("vera", "Vera Loyal"),
    person("otto", "Otto Gone"),
    purchase("P-1", "2025-09-01", "paul", [("LEGO", "toys", 1, 49.99)], consumers=["lea"]),
    purchase("B-1", "2025-09-01", "bob", [("COAT", "clothing", 1, 120)]),
    refund("B-1", "2025-09-10", "bob"),
    purchase("V-1", "2025-06-01", "vera", [("TEA", "grocery", 3, 6.5)]),
    purchase("V-2", "2025-08-01", "vera", [("TEA", "grocery", 2, 6.5)]),
    purchase("V-3", "2025-10-01", "vera", [("CUP", "kitchen", 1, 15)]),
    purchase("O-1", "2024-01-15", "otto", [("BIKE", "sport", 1, 400)]),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    """A project folder whose config enables the b2c plugin on the test database."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n[plugins]\nenabled = ["b2c"]\n\n'
        "[plugins.b2c]\nlapse_after_days = 365\n\n[plugins.b2c.loyal]\nmin_orders = 3\n"
    )
    world = folder / "world.jsonl"
    world.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in WORLD))
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


@pytest.mark.parametrize(
    ("key", "verdict", "lines"),
    [
        ("paul", "is a customer", [
            "customer since 2025-09-01 [b2c, external, customer]: Billing customer: bought 1 "
            "order as purchaser on 2025-09-01 (latest: order P-1, 49.99 EUR); net spend "
            "49.99 EUR. Bought for Léa Martin (lea)"]),
        ("lea", "is not a customer", [
            "consumer of paul since 2025-09-01 [b2c, external, not a customer]: Service "
            "customer: named as consumer of 1 purchase made by Paul Martin (paul)"]),
        ("ann", "is not a customer", [
            "prospect [b2c, external, not a customer]", "no purchase yet: a lead"]),
        ("bob", "is not a customer", [
            "prospect since 2025-09-10", "returned everything in full, last on 2025-09-10"]),
        ("vera", "is a customer", [
            "loyal_customer since 2025-10-01 [b2c, external, customer]: Loyal customer: 3 "
            "purchases in the last 365 days (rule: at least 3), latest on 2025-10-01."]),
        ("otto", "is a customer", [
            "lapsed_customer since 2025-01-14 [b2c, external, customer]: Lapsed customer: no "
            "purchase for 640 days, since order O-1 on 2024-01-15 (a customer lapses after 365 "
            "days without buying); a customer since 2024-01-15."]),
    ],
)  # fmt: skip
def test_explain_prints_roles_with_reasons(
    workdir: Path, capsys: pytest.CaptureFixture[str], key: str, verdict: str, lines: list[str]
) -> None:
    code, out, err = run(capsys, "explain", key, "--as-of", "2025-10-16")
    assert code == 0, err
    assert verdict in out
    for line in lines:
        assert line in out


def test_explain_json_and_show(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "explain", "lea", "--as-of", "2025-10-16")
    assert [(role["role"], role["context"]["key"]) for role in data["roles"]] == [
        ("consumer", "paul")
    ]
    view = run_json(capsys, "show", "vera", "--as-of", "2025-10-16")
    section = view["sections"]["b2c"]
    assert section["billing"]["orders"] == 3
    assert section["preferences"]["top_categories"][0]["category"] == "grocery"
    assert view["metrics"]["b2c"]["historic_clv"] == 47.5


def test_b2c_commands(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = run_json(capsys, "b2c", "customers", "--as-of", "2025-10-16")
    assert listing["summary"]["customers"] == 3
    assert [row["key"] for row in listing["customers"]] == ["otto", "paul", "vera"]
    rfm = run_json(capsys, "b2c", "rfm", "--as-of", "2025-10-16")
    assert {row["key"]: row["score"] for row in rfm} == {
        "vera": "441",
        "paul": "212",
        "otto": "114",
    }
    code, out, _ = run(capsys, "b2c", "rfm", "--as-of", "2025-10-16")
    assert code == 0
    assert "3 customer(s) scored" in out
    audience = run_json(capsys, "b2c", "audience", "grocery", "--as-of", "2025-10-16")
    assert [row["key"] for row in audience["parties"]] == ["vera"]
    code, out, _ = run(capsys, "b2c", "recipients", "P-1", "--purpose", "service")
    assert code == 0
    assert "service about order P-1 (service perspective): lea" in out
    code, _, err = run(capsys, "b2c", "recipients", "NOPE")
    assert code == 2
    assert "no purchase with order id 'NOPE'" in err
    code, _, err = run(capsys, "b2c", "customers", "--as-of", "yesterday")
    assert code == 2
    assert "--as-of must be an ISO-8601 date" in err


def test_refresh_rfm_stores_the_scale_views_use(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scored = run_json(capsys, "b2c", "rfm", "--as-of", "2025-12-01", "--limit", "0")
    code, out, _ = run(capsys, "b2c", "refresh-rfm", "--as-of", "2025-12-01", "--json")
    assert code == 0
    assert json.loads(out) == {"customers": len(scored), "as_of": "2025-12-01T00:00:00Z"}
    code, out, _ = run(capsys, "b2c", "refresh-rfm")
    assert code == 0
    assert "RFM scale stored" in out
