"""``partygraph bench``: the command, its progress on stderr and its report on stdout."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from partygraph.cli.output import console, emit_json, error_console
from partygraph.errors import UserError
from partygraph.storage.engine import redact_text
from partygraph_bench.progress import Advance
from partygraph_bench.runner import run_benchmark
from partygraph_bench.scales import SCALES

__all__ = ["bench", "readable_table"]


class RichProgress:
    """One rich progress bar per task, on standard error."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """Show *description* with a bar while the block runs."""
        task = self.progress.add_task(description, total=total)

        def advance(count: int) -> None:
            self.progress.advance(task, count)

        try:
            yield advance
        finally:
            self.progress.remove_task(task)


def readable_table(result: dict[str, Any]) -> Table:
    """The report as a table of (section, figure, value) for people."""
    table = Table(title=f"partygraph bench: {result['scale']['name']} ({result['database']})")
    table.add_column("section")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section in ("scale", "world", "ingest", "single_write", "reads", "analytics", "privacy"):
        for name, value in _flat(result[section]):
            shown = (
                f"{value:,}"
                if isinstance(value, int | float) and not isinstance(value, bool)
                else str(value)
            )
            table.add_row(section, name, shown)
    return table


def _flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted name, value) of *figures*, nested sections (``by_kind``) spelled out."""
    found: list[tuple[str, Any]] = []
    for name, value in figures.items():
        if isinstance(value, dict):
            found.extend(_flat(value, f"{prefix}{name}."))
        else:
            found.append((f"{prefix}{name}", value))
    return found


@click.command("bench")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option(
    "--scale",
    type=click.Choice(list(SCALES)),
    default="small",
    show_default=True,
    help="World size: small (CI), medium (~100k parties, ~1M interactions, the targets), "
    "large (~1M parties, ~10M interactions); tiny is for tests.",
)
@click.option(
    "--database",
    default=None,
    metavar="URL",
    help="A PostgreSQL URL to measure on (schemas are created and dropped), or a SQLite "
    "URL whose folder holds the temporary files; default: SQLite in a temporary folder.",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Repetitions of each measurement (medians are reported).",
)
@click.option("--seed", type=int, default=11, show_default=True, help="The world's seed.")
def bench(as_json: bool, scale: str, database: str | None, repeat: int, seed: int) -> None:
    """Measure ingest, writes, reads, analytics and privacy against same-run baselines."""
    if database is not None and not database.startswith(("postgresql", "sqlite:///")):
        raise UserError(
            f"--database: expected a postgresql:// or sqlite:/// URL, got {redact_text(database)!r}"
        )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console(),
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as progress:
        result = run_benchmark(
            scale, database=database, repeat=repeat, seed=seed, progress=RichProgress(progress)
        )
    if as_json:
        emit_json(result)
    else:
        console().print(readable_table(result))
