"""``partygraph demo`` as users run it: the tour, its follow-up commands, refusals."""

from __future__ import annotations

import io
import json
import shlex
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from partygraph.cli import main
from partygraph_demo import is_demo_database


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder to run the demo in, as a newcomer would (the default file names)."""
    return tmp_path_factory.mktemp("demo-cli")


@pytest.fixture(scope="module")
def tour(demo_dir: Path) -> dict[str, Any]:
    """``partygraph demo --json`` run in *demo_dir*."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(demo_dir)
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["demo", "--json"]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_demo_writes_the_database_and_its_config(demo_dir: Path, tour: dict[str, Any]) -> None:
    assert is_demo_database(demo_dir / "partygraph-demo.db")
    config = (demo_dir / "partygraph-demo.toml").read_text(encoding="utf-8")
    assert 'enabled = ["privacy", "b2c", "b2b", "household", "marketplace", "internal"]' in config
    assert tour["config"] == "partygraph-demo.toml"
    assert tour["as_of"] == "2026-07-01"
    assert len(tour["scenarios"]) == 8
    customers = {
        party["key"]
        for scenario in tour["scenarios"]
        for party in scenario["parties"]
        if party["customer"]
    }
    assert {"sophie", "acme", "carla", "bernard-home", "sam", "pixelworks", "sales"} <= customers
    assert not {"marc", "lea", "ann", "cora"} & customers


def test_every_dig_deeper_command_works_as_printed(
    demo_dir: Path,
    tour: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(demo_dir)
    commands = [command for scenario in tour["scenarios"] for command in scenario["commands"]]
    assert len(commands) >= 7 * 2
    assert {shlex.split(command)[3] for command in commands} >= {
        "explain",
        "graph",
        "b2c",
        "b2b",
        "household",
        "marketplace",
        "internal",
        "segment",
        "privacy",
    }
    for command in commands:
        argv = shlex.split(command)
        assert argv[:3] == ["partygraph", "--config", "partygraph-demo.toml"], command
        status = main(argv[1:])
        captured = capsys.readouterr()
        assert status == 0, f"{command}: {captured.err}"
        assert captured.out.strip(), command


def test_the_tour_is_plain_text_when_piped(
    demo_dir: Path,
    tour: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(demo_dir)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    # A rerun replaces the earlier demo database without --force.
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    for scenario in tour["scenarios"]:
        assert scenario["title"] in out
    assert out.count("Dig deeper:") == 8
    # Every command is printed whole on a line of its own, ready to copy.
    lines = out.splitlines()
    for scenario in tour["scenarios"]:
        for command in scenario["commands"]:
            assert f"  $ {command}" in lines, command
    assert "Sophie Martin (sophie): a customer" in out


def test_a_file_that_is_not_a_demo_database_is_refused_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    precious = tmp_path / "mine.db"
    precious.write_bytes(b"my own data")
    assert main(["demo", "--database", "mine.db"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --database: mine.db exists and is not a demo database")
    assert "--force" in error
    assert precious.read_bytes() == b"my own data"
    assert not (tmp_path / "mine.toml").exists()
    assert main(["demo", "--database", "mine.db", "--force", "--json"]) == 0
    assert is_demo_database(precious)
    assert json.loads(capsys.readouterr().out)["config"] == "mine.toml"


def test_a_config_the_demo_did_not_write_is_refused_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "shop.toml"
    mine.write_text('[database]\nurl = "sqlite:///shop.db"\n', encoding="utf-8")
    assert main(["demo", "--database", "shop.db"]) == 2
    error = capsys.readouterr().err
    assert "shop.toml, which exists and was not written by the demo" in error
    assert mine.read_text(encoding="utf-8").startswith("[database]")
    assert not (tmp_path / "shop.db").exists()
    assert main(["demo", "--database", "world.toml"]) == 2
    assert "ends in .toml" in capsys.readouterr().err
