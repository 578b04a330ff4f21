"""``partygraph new-plugin``: names are checked, nothing is overwritten, the package works.

The scaffolded package is imported from its folder (not installed: that is
the slower check CI runs), and opened in-process like any plugin object.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from partygraph import Toolkit
from partygraph.cli import main

NAME = "kit_visits"
PACKAGE = f"partygraph_{NAME}"


@pytest.fixture
def scaffolded(tmp_path: Path) -> Iterator[Path]:
    """A plugin package scaffolded into a fresh folder, importable for the test."""
    folder = tmp_path / "partygraph-kit-visits"
    assert main(["new-plugin", NAME, "--dir", str(folder)]) == 0
    sys.path.insert(0, str(folder / "src"))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder / "src"))
        for module in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[module]


def _plugin_class() -> Any:
    module = __import__(PACKAGE)
    return module.KitVisitsPlugin


def test_scaffold_writes_an_installable_package(scaffolded: Path) -> None:
    files = sorted(str(path.relative_to(scaffolded)) for path in scaffolded.rglob("*.*"))
    assert files == [
        "README.md",
        "pyproject.toml",
        f"src/{PACKAGE}/__init__.py",
        f"src/{PACKAGE}/migrations/0001_{NAME}_tables.py",
        f"src/{PACKAGE}/plugin.py",
        f"src/{PACKAGE}/py.typed",
        f"src/{PACKAGE}/schema.json",
        f"src/{PACKAGE}/tables.py",
        f"tests/test_{NAME}_conformance.py",
        f"tests/test_{NAME}_plugin.py",
    ]
    project = tomllib.loads((scaffolded / "pyproject.toml").read_text())
    assert project["project"]["name"] == "partygraph-kit-visits"
    assert project["project"]["entry-points"]["partygraph.plugins"] == {
        NAME: f"{PACKAGE}:KitVisitsPlugin"
    }
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{PACKAGE}"]
    assert any(dep.startswith("partygraph>=") for dep in project["project"]["dependencies"])
    schema = json.loads((scaffolded / f"src/{PACKAGE}/schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert "{{" not in "".join(path.read_text() for path in scaffolded.rglob("*.*"))
    for path in scaffolded.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_scaffolded_plugin_opens_and_assigns_its_role(
    scaffolded: Path, make_toolkit: Callable[..., Toolkit]
) -> None:
    toolkit = make_toolkit(plugins={NAME: _plugin_class()}, settings={NAME: {}})
    toolkit.write(
        [
            {"party": {"key": "alice", "kind": "person", "name": "Alice"}},
            {
                "interaction": {
                    "type": f"{NAME}_visit",
                    "occurred_at": "2026-01-10T09:00:00Z",
                    "participants": [{"party": "alice", "role": "visitor"}],
                    "payload": {"topic": "open day"},
                }
            },
        ]
    )
    (role,) = toolkit.roles("alice")
    assert (role.role, role.plugin, role.customer) == (f"{NAME}_customer", NAME, True)
    assert toolkit.export_subject("alice")["plugins"][NAME]["visits"][0]["topic"] == "open day"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Loyalty", "lowercase identifier"),
        ("2fast", "lowercase identifier"),
        ("my-plugin", "lowercase identifier"),
        ("class", "reserved"),
        ("core", "reserved"),
        ("b2c", "already named 'b2c'"),
    ],
)
def test_bad_names_are_refused_with_exit_2(
    name: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-plugin", name, "--dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "NAME" in error
    assert reason in error
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert main(["new-plugin", "fresh", "--dir", str(folder)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]


def test_json_output_lists_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out"
    assert main(["new-plugin", "fresh", "--dir", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["package"] == "partygraph_fresh"
    assert report["distribution"] == "partygraph-fresh"
    assert sorted(report["files"]) == sorted(
        str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()
    )
