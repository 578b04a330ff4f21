"""``partygraph new-plugin NAME``: scaffold a plugin as a separate installable package.

A built-in command, registered under the ``partygraph.commands`` entry-point
group of partygraph itself, so it needs no config and opens no database.
"""

from __future__ import annotations

from pathlib import Path

import click

import partygraph
from partygraph.cli.output import console, emit_json
from partygraph.plugins import available_plugins
from partygraph.scaffold import default_folder, placeholders, scaffold

__all__ = ["new_plugin"]


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the package (default: ./partygraph-NAME); must be new or empty.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def new_plugin(name: str, folder: Path | None, as_json: bool) -> None:
    """Scaffold a new plugin NAME as its own installable package, with tests."""
    target = folder if folder is not None else default_folder(name)
    version = partygraph.__version__.split("+")[0]
    written = scaffold(name, target, version=version, installed=frozenset(available_plugins()))
    values = placeholders(name, version)
    if as_json:
        emit_json(
            {
                "name": name,
                "package": values["package"],
                "distribution": values["dist"],
                "folder": str(target),
                "files": [str(path.relative_to(target)) for path in written],
            }
        )
        return
    out = console()
    out.print(f"Created the plugin [bold]{name}[/bold] in {target}:")
    for path in written:
        out.print(f"  {path.relative_to(target)}", markup=False)
    out.print("Next:")
    out.print(f"  cd {target} && pip install -e '.[test]' && pytest", markup=False)
