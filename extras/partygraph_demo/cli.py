"""``partygraph demo``: load the demo world into a SQLite file and print the guided tour."""

from __future__ import annotations

import contextlib
import shlex
import sys

import click
from rich.console import Console

from partygraph.cli.output import emit_json
from partygraph_demo.loading import DemoFiles, load_demo
from partygraph_demo.render import print_tour
from partygraph_demo.tour import build_tour

__all__ = ["demo"]


@click.command()
@click.option(
    "--database",
    default="partygraph-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file to create; its config is written beside it with a .toml suffix.",
)
@click.option("--force", is_flag=True, help="Replace the file even if it is not a demo database.")
@click.option("--json", "as_json", is_flag=True, help="Print the tour as JSON.")
def demo(database: str, force: bool, as_json: bool) -> None:
    """Load a sample world covering every first-party plugin, and print a guided tour.

    The world stages the scenarios partygraph is built for (a family's groceries, a
    B2B buying committee, a bank household, ride-sharing, an app store, internal
    departments, privacy cases). It writes and uses a config of its own, beside the
    database (the group's --config is not read). An earlier demo database at the same
    path is replaced; any other file is refused unless --force is given.
    """
    files = DemoFiles.beside(database)
    progress = Console(stderr=True)
    showing = not as_json and sys.stderr.isatty()
    with progress.status("loading the demo world") if showing else contextlib.nullcontext():
        toolkit, outcomes = load_demo(files, force=force)
    try:
        tour = build_tour(
            toolkit,
            outcomes,
            database=str(files.database),
            config=shlex.quote(str(files.config)),
        )
    finally:
        toolkit.close()
    if as_json:
        emit_json(tour.as_dict())
    else:
        print_tour(tour, Console(highlight=False))
