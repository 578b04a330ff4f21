"""``partygraph segment``: list, show (with --explain) and export, through the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from partygraph.cli import main

CONFIG = """\
[database]
url = "{url}"

[plugins]
enabled = []

[segments.adults]
description = "People of age"
purpose = "analytics"
where = {{ all = [{{ kind = "person" }}, {{ attribute = "age", op = ">=", value = 18 }}] }}

[segments.lyon]
purpose = "marketing"
where = {{ attribute = "city", value = "Lyon'; DROP TABLE party; --" }}
"""

PARTIES = [
    {"party": {"key": "ann", "kind": "person", "name": "Ann", "attributes": {"age": 30}}},
    {"party": {"key": "bob", "kind": "person", "name": "Bob", "attributes": {"age": 12}}},
    {
        "party": {
            "key": "cyd",
            "kind": "person",
            "name": 'Cyd, "the" third',
            "attributes": {"age": 44, "city": "Lyon'; DROP TABLE party; --"},
        }
    },
    {"party": {"key": "acme", "kind": "organization", "name": "Acme", "attributes": {"age": 99}}},
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partygraph_database_url: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "partygraph.toml").write_text(CONFIG.format(url=partygraph_database_url))
    world = folder / "world.jsonl"
    world.write_text("".join(json.dumps(record) + "\n" for record in PARTIES))
    assert main(["import", str(world)]) == 0
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_names_every_segment(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "segment", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(s["name"], s["purpose"]) for s in listed] == [
        ("adults", "analytics"),
        ("lyon", "marketing"),
    ]
    code, out, _ = run(capsys, "segment", "list")
    assert code == 0
    assert "People of age" in out


def test_show_counts_samples_and_explains(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "segment", "show", "adults", "--json", "--explain", "--sample", "1")
    assert code == 0
    shown = json.loads(out)
    assert (shown["count"], shown["excluded"]) == (2, 0)
    assert [row["key"] for row in shown["sample"]] == ["ann"]
    assert "FROM party AS member" in shown["sql"]
    assert 18 in shown["parameters"].values()
    code, out, _ = run(capsys, "segment", "show", "lyon", "--explain")
    assert code == 0
    assert "members: 1" in out
    assert "DROP TABLE" not in out.split("parameters")[0]  # the value is bound, not in the SQL


def test_export_writes_csv_and_jsonl(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, err = run(capsys, "segment", "export", "adults", "--attribute", "age")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["key", "kind", "name", "age"], ["ann", "person", "Ann", "30"], [
        "cyd", "person", 'Cyd, "the" third', "44"
    ]]  # fmt: skip
    assert "exported 2 member(s)" in err
    target = project / "adults.jsonl"
    code, _, _ = run(capsys, "segment", "export", "adults", "--format", "jsonl", "-o", str(target))
    assert code == 0
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["key"] for line in lines] == ["ann", "cyd"]
    assert set(lines[0]) == {"key", "kind", "name"}


def test_unknown_segment_is_bad_input(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, _, err = run(capsys, "segment", "show", "adultz")
    assert code == 2
    assert "unknown segment 'adultz'" in err
    assert "did you mean 'adults'" in err


def test_a_bad_segment_in_the_config_names_its_key_and_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "partygraph.toml"
    config.write_text(config.read_text().replace('op = ">="', 'op = "=>"'))
    capsys.readouterr()
    code, _, err = run(capsys, "segment", "list")
    assert code == 2
    assert "/segments/adults/where/all/1/op" in err
    assert "partygraph.toml:10" in err
