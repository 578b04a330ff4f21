"""The generated command-line reference (docs/cli.md) covers the whole command tree."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from partygraph.cli import reference
from partygraph.cli.app import cli
from partygraph.cli.reference import cli_reference, documented_commands
from partygraph.plugins import first_party_plugins


def _paths(command: click.Command, path: str) -> list[str]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _paths(sub, f"{path} {name}")
    return found


def test_every_builtin_command_is_documented_with_its_usage() -> None:
    text = cli_reference()
    paths = [p for name, c in cli.commands.items() for p in _paths(c, f"partygraph {name}")]
    assert "partygraph db upgrade" in paths
    for path in paths:
        assert f"# `{path}`\n" in text, path
        assert f"Usage: {path} " in text, path


def test_plugin_commands_of_every_first_party_plugin_are_documented() -> None:
    origins = {documented.name: documented.origin for documented in documented_commands()}
    plugins_with_commands = [name for name in first_party_plugins() if name in origins]
    assert plugins_with_commands, "no first-party plugin adds a command"
    text = cli_reference()
    for name in plugins_with_commands:
        assert f"Provided by the `{name}` plugin, while it is enabled." in text


def test_the_page_ignores_the_config_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = cli_reference()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "partygraph.toml").write_text("[plugins]\nenabled = []\n", encoding="utf-8")
    assert cli_reference() == expected


@click.command()
@click.argument("name")
@click.option("--mode", type=click.Choice(["quiet", "loud"]), default="quiet", show_default=True)
def hello(name: str, mode: str) -> None:
    """Greet NAME (a command installed by a package)."""


def _entry_point(distribution: str, command: click.Command) -> SimpleNamespace:
    return SimpleNamespace(dist=SimpleNamespace(name=distribution), load=lambda: command)


def test_installed_commands_of_partygraph_are_documented_and_others_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = {
        "hello": _entry_point("partygraph", hello),
        "elsewhere": _entry_point("someone-else", hello),
    }
    monkeypatch.setattr(reference, "installed_commands", lambda: installed)
    text = cli_reference()
    section = text.split("## `partygraph hello`\n", 1)[1].split("\n## ", 1)[0]
    assert "Greet NAME (a command installed by a package)." in section
    assert "Usage: partygraph hello [OPTIONS] NAME" in section
    assert "| `NAME` | Required argument. |" in section
    assert "| `--mode [quiet|loud]` |" in section
    assert "[default: quiet]" in section
    assert "`partygraph.commands` entry-point group" in section
    assert "partygraph elsewhere" not in text
