"""The command line, run the way users run it: exit codes, messages, --json output.

A real plugin distribution (a ``.dist-info`` folder with an entry point in the
``partygraph.plugins`` group) is put on ``sys.path`` so that discovery, config
and commands contributed by plugins are exercised end to end.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from partygraph.cli import main
from partygraph.testing import DATABASE_URL_VARIABLE

PLUGIN_SOURCE = '''
import click
from partygraph import InteractionType, RoleAssignment, hookimpl
from partygraph.cli import pass_toolkit


@click.command("shop-count")
@pass_toolkit
def shop_count(toolkit):
    """Count purchases."""
    with toolkit.reader() as graph:
        rows = graph.connection.exec_driver_sql(
            "SELECT count(*) FROM interaction WHERE type = 'purchase'"
        )
        click.echo(f"purchases: {rows.scalar()}")


class Shop:
    @hookimpl
    def partygraph_config_schema(self):
        return {
            "title": "shop",
            "description": "Settings of the test shop.",
            "type": "object",
            "additionalProperties": False,
            "properties": {"loyal_after": {"type": "integer", "minimum": 1, "default": 3}},
        }

    @hookimpl
    def partygraph_configure(self, settings):
        self.loyal_after = settings["loyal_after"]

    @hookimpl
    def partygraph_interaction_types(self):
        return [InteractionType("purchase", roles={"purchaser", "consumer"},
                                required_roles=("purchaser",))]

    @hookimpl
    def partygraph_roles(self, party, as_of, graph):
        bought = graph.count_interactions(party, type="purchase", role="purchaser", before=as_of)
        if bought:
            yield RoleAssignment("customer", reason=f"made {bought} purchase(s)", customer=True)
        used = graph.count_interactions(party, type="purchase", role="consumer", before=as_of)
        if used:
            yield RoleAssignment("consumer", reason=f"received {used} purchase(s)")

    @hookimpl
    def partygraph_cli_commands(self):
        return [shop_count]
'''

WORLD = [
    {
        "party": {
            "key": "alice",
            "kind": "person",
            "name": "Alice Moreau",
            "attributes": {"email": "alice@example.org"},
        }
    },
    {"party": {"key": "leo", "kind": "person", "name": "Leo Moreau"}},
    {
        "interaction": {
            "type": "purchase",
            "occurred_at": "2026-02-01T10:00:00Z",
            "participants": [
                {"party": "alice", "role": "purchaser"},
                {"party": "leo", "role": "consumer"},
            ],
        }
    },
]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path holding the installed test distribution ``pgshop``."""
    folder = tmp_path / "site"
    info = folder / "pgshop-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pgshop\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[partygraph.plugins]\nshop = pgshop_plugin:Shop\n")
    (folder / "pgshop_plugin.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    return folder


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str, site: Path
) -> Path:
    """A project folder with a config enabling the test plugin on the test database."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(
        f'[database]\nurl = "{partygraph_database_url}"\n\n'
        '[plugins]\nenabled = ["shop"]\n\n[plugins.shop]\nloyal_after = 2\n'
    )
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_world(folder: Path, records: list[dict[str, object]]) -> Path:
    path = folder / "world.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "partygraph.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "explain" in result.stdout
    assert "import" in result.stdout


def test_import_then_explain_names_the_customer_and_why(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = write_world(workdir, WORLD)
    code, out, err = run(capsys, "import", str(world))
    assert code == 0, err
    assert "created 2 parties, 1 interaction" in out

    code, out, _ = run(capsys, "explain", "alice", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["party"]["key"] == "alice"
    assert [(r["role"], r["plugin"], r["customer"]) for r in data["roles"]] == [
        ("customer", "shop", True)
    ]
    assert data["roles"][0]["reason"] == "made 1 purchase(s)"

    code, out, _ = run(capsys, "explain", "leo")
    assert code == 0
    assert "is not a customer" in out
    assert "consumer" in out


def test_explain_as_of_before_the_purchase_finds_no_role(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", str(write_world(workdir, WORLD)))
    code, out, _ = run(capsys, "explain", "alice", "--as-of", "2026-01-31", "--json")
    assert code == 0
    assert json.loads(out)["roles"] == []


def test_ref_may_be_a_numeric_id(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "import", str(write_world(workdir, WORLD)))
    _, out, _ = run(capsys, "explain", "alice", "--json")
    party_id = json.loads(out)["party"]["id"]
    code, out, _ = run(capsys, "show", str(party_id), "--json")
    assert code == 0
    view = json.loads(out)
    assert view["party"]["key"] == "alice"
    assert view["interactions"][0]["type"] == "purchase"
    assert view["roles"][0]["role"] == "customer"


def test_unknown_party_is_bad_input(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "explain", "nobody")
    assert code == 2
    assert "no party with key or id 'nobody'" in err


def test_bad_record_writes_nothing_and_names_the_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [*WORLD[:2], {"party": {"key": "carol"}}, WORLD[2]]
    code, _, err = run(capsys, "import", str(write_world(workdir, bad)))
    assert code == 2
    assert "line 3: /kind: is required" in err
    assert "nothing was written" in err
    code, _, err = run(capsys, "explain", "alice")
    assert code == 2, "all-or-nothing import must not have written alice"


def test_skip_invalid_writes_the_rest_and_reports(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [*WORLD[:2], {"party": {"key": "carol"}}, "not json", WORLD[2]]
    path = workdir / "world.jsonl"
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in bad)
    )
    code, out, _ = run(capsys, "import", str(path), "--skip-invalid", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["created"] == {"interaction": 1, "party": 2}
    assert [item["line"] for item in summary["rejected"]] == [3, 4]
    assert "not valid JSON" in summary["rejected"][1]["reason"]


def test_csv_import_with_kind(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workdir / "people.csv"
    path.write_text("key,name,email\nzoe,Zoe Park,zoe@example.org\nyan,Yan Li,\n")
    code, out, err = run(capsys, "import", str(path), "--kind", "person", "--json")
    assert code == 0, err
    assert json.loads(out)["created"] == {"party": 2}
    _, out, _ = run(capsys, "show", "zoe", "--json")
    assert json.loads(out)["party"]["attributes"] == {"email": "zoe@example.org"}


def test_plugins_lists_discovered_plugins_with_reasons(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "plugins", "--json")
    assert code == 0
    shop = next(item for item in json.loads(out) if item["name"] == "shop")
    assert shop["enabled"] is True
    assert shop["version"] == "1.0"
    assert shop["reason"] is None
    assert "partygraph_roles" in shop["hooks"]

    (workdir / "partygraph.toml").write_text("[plugins]\nenabled = []\n")
    _, out, _ = run(capsys, "plugins", "--json")
    shop = next(item for item in json.loads(out) if item["name"] == "shop")
    assert (shop["enabled"], shop["reason"]) == (False, "not in config")


def test_config_validate_reports_every_violation_with_lines(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = workdir / "broken.toml"
    config.write_text(
        '[database]\nurll = "sqlite:///x.db"\n\n'
        '[plugins]\nenabled = ["shop", "shpo"]\n\n'
        '[plugins.shop]\nloyal_after = "three"\n'
    )
    code, _, err = run(capsys, "config", "validate", "broken.toml")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        "error: Invalid config in broken.toml:2: /database/urll: unknown key 'urll'; "
        "did you mean 'url'?"
    )
    assert lines[1].startswith(
        "Invalid config in broken.toml:5: /plugins/enabled/1: unknown plugin 'shpo'. "
        "Did you mean 'shop'? Available: "
    )
    assert "shop" in lines[1].split("Available: ")[1]
    assert lines[2] == (
        "Invalid config in broken.toml:8: /plugins/shop/loyal_after: must be an integer, "
        "got 'three'"
    )
    code, out, _ = run(capsys, "config", "validate", "broken.toml", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["valid"] is False
    assert [v["pointer"] for v in report["violations"]] == [
        "/database/urll",
        "/plugins/enabled/1",
        "/plugins/shop/loyal_after",
    ]


def test_config_validate_accepts_a_good_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "config", "validate")
    assert code == 0
    assert "partygraph.toml: valid (1 plugin(s) enabled)" in out


def test_config_schema_includes_enabled_plugins(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "config", "schema")
    assert code == 0
    schema = json.loads(out)
    shop = schema["properties"]["plugins"]["properties"]["shop"]
    assert shop["properties"]["loyal_after"]["default"] == 3


def test_init_writes_a_valid_config_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "init", "--plugins", "shop")
    assert code == 0, err
    text = (tmp_path / "partygraph.toml").read_text()
    assert 'enabled = ["shop"]' in text
    assert run(capsys, "config", "validate")[0] == 0
    code, _, err = run(capsys, "init", "--plugins", "shop")
    assert code == 2
    assert "already exists" in err
    assert (tmp_path / "partygraph.toml").read_text() == text


def test_init_refuses_unknown_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "init", "--plugins", "shpo")
    assert code == 2
    assert "Did you mean 'shop'?" in err
    assert not (tmp_path / "partygraph.toml").exists()


def test_plugin_commands_join_the_command_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", str(write_world(workdir, WORLD)))
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "shop-count" in out
    code, out, _ = run(capsys, "shop-count")
    assert (code, out.strip()) == (0, "purchases: 1")


def test_db_commands(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    code, out, _ = run(capsys, "db", "current", "--json")
    assert code == 0
    assert json.loads(out) == {"core": ["core_0001"]}


def test_a_database_password_never_reaches_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "partygraph.toml").write_text(
        '[database]\nurl = "postgresql://crm:s3cr3t-pw@127.0.0.1:1/crm"\n\n'
        "[plugins]\nenabled = []\n"
    )
    code, out, err = run(capsys, "explain", "alice", "--json")
    assert code in (1, 2)
    assert "s3cr3t-pw" not in out + err
    assert err.strip(), "the failure must be explained on stderr"


@pytest.mark.skipif(
    bool(os.environ.get(DATABASE_URL_VARIABLE)), reason="exercises the SQLite default file"
)
def test_default_database_is_a_sqlite_file_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    world = tmp_path / "w.jsonl"
    world.write_text(json.dumps(WORLD[0]) + "\n")
    assert run(capsys, "import", str(world))[0] == 0
    assert (tmp_path / "partygraph.db").is_file()


def test_an_unreachable_database_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "partygraph.toml").write_text(
        '[database]\nurl = "postgresql://bob:s3cr3t-pw@127.0.0.1:1/nowhere"\n'
        "[plugins]\nenabled = []\n"
    )
    code, out, err = run(capsys, "show", "alice")
    assert code == 1
    assert err.startswith("error: database error:"), err
    assert "internal error" not in err
    assert "s3cr3t-pw" not in out + err
