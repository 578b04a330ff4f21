"""``partygraph segment``: list, show and export the audiences declared in the config."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table

from partygraph.cli.app import pass_toolkit
from partygraph.cli.output import console, emit_json
from partygraph.errors import ValidationError
from partygraph.segments import SegmentResult
from partygraph.toolkit import Toolkit

__all__ = ["segment"]

AS_OF_HELP = "Membership at this time (ISO 8601; default: now)."


@click.group()
def segment() -> None:
    """Audiences declared under [segments.<name>] in the config."""


@segment.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def segment_list(toolkit: Toolkit, as_json: bool) -> None:
    """List the segments: name, purpose and description."""
    definitions = toolkit.segments.definitions.values()
    if as_json:
        emit_json(
            [
                {
                    "name": d.name,
                    "purpose": d.purpose,
                    "export_purposes": list(d.export_purposes),
                    "description": d.description,
                }
                for d in definitions
            ]
        )
        return
    if not definitions:
        click.echo("no segments; declare some under [segments.<name>] in the config")
        return
    table = Table("name", "purpose", "description")
    for d in definitions:
        table.add_row(d.name, d.purpose, d.description)
    console().print(table)


def _summary(result: SegmentResult, sample: int, explain: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": result.name,
        "as_of": result.as_of.isoformat(),
        "purposes": list(result.purposes),
        "count": result.count,
        "excluded": result.excluded,
        "exclusion_reasons": dict(result.exclusion_reasons),
        "sample": [{"key": p.key, "kind": p.kind, "name": p.name} for p in result.members[:sample]],
    }
    if explain:
        out["sql"] = result.statement
        out["parameters"] = dict(result.parameters)
    return out


@segment.command("show")
@click.argument("name")
@click.option("--as-of", "as_of", default=None, help=AS_OF_HELP)
@click.option("--sample", default=10, show_default=True, type=click.IntRange(min=0))
@click.option("--explain", is_flag=True, help="Show the SQL that ran and its parameters.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def segment_show(
    toolkit: Toolkit, name: str, as_of: str | None, sample: int, explain: bool, as_json: bool
) -> None:
    """Count a segment's members and show a sample (and, with --explain, its SQL)."""
    result = toolkit.segment(name, as_of)
    summary = _summary(result, sample, explain)
    if as_json:
        emit_json(summary)
        return
    out = console()
    definition = toolkit.segments.definition(name)
    out.print(f"[bold]{name}[/bold]: {definition.description}".rstrip(": "))
    out.print(f"as of {summary['as_of']}, for {', '.join(result.purposes)}")
    out.print(f"members: {result.count}")
    reasons = ", ".join(f"{n} for {p}" for p, n in result.exclusion_reasons.items())
    out.print(
        f"left out (no lawful basis): {result.excluded}" + (f" ({reasons})" if reasons else "")
    )
    if summary["sample"]:
        table = Table("key", "kind", "name")
        for row in summary["sample"]:
            table.add_row(row["key"], row["kind"], row["name"] or "")
        out.print(table)
    if explain:
        out.print("[bold]SQL[/bold]")
        out.print(result.statement, markup=False)
        out.print("[bold]parameters[/bold]")
        out.print(json.dumps(summary["parameters"], default=str, ensure_ascii=False), markup=False)


@contextmanager
def _opened(output: str | None) -> Iterator[IO[str]]:
    if output is None or output == "-":
        yield sys.stdout
        return
    with Path(output).open("w", encoding="utf-8", newline="") as stream:
        yield stream


@segment.command("export")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--output", "-o", default=None, help="File to write (default: standard output).")
@click.option("--as-of", "as_of", default=None, help=AS_OF_HELP)
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    help="An attribute to include as a column (repeatable); only key, kind and name otherwise.",
)
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    help="A further purpose to check for every member (repeatable).",
)
@pass_toolkit
def segment_export(
    toolkit: Toolkit,
    name: str,
    fmt: str,
    output: str | None,
    as_of: str | None,
    attributes: tuple[str, ...],
    purposes: tuple[str, ...],
) -> None:
    """Write a segment's members for a marketing tool (its export purposes are checked too)."""
    for attribute in attributes:
        if not attribute.strip():
            raise ValidationError("--attribute", "an attribute name must not be empty")
    result = toolkit.segment(name, as_of, export=True, purposes=purposes)
    columns = ["key", "kind", "name", *attributes]
    with _opened(output) as stream:
        if fmt == "csv":
            writer = csv.writer(stream)
            writer.writerow(columns)
            for party in result.members:
                extra = [_cell(party.attributes.get(a)) for a in attributes]
                writer.writerow([party.key, party.kind, party.name or "", *extra])
        else:
            for party in result.members:
                row = {"key": party.key, "kind": party.kind, "name": party.name}
                row.update({a: party.attributes.get(a) for a in attributes})
                stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    click.echo(
        f"exported {result.count} member(s) of {name}; left out {result.excluded} "
        f"without a lawful basis for {', '.join(result.purposes)}",
        err=True,
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


@segment.command("vocabulary")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def segment_vocabulary(toolkit: Toolkit, as_json: bool) -> None:
    """What enabled plugins let segments ask: roles, predicates and metrics."""
    catalog = toolkit.segments
    data: dict[str, Any] = {
        "roles": catalog.roles,
        "predicates": {
            name: {"description": p.description, "parameters": dict(p.schema)}
            for name, p in sorted(catalog.predicates.items())
        },
        "metrics": {
            name: {"description": m.description, "unit": m.unit}
            for name, m in sorted(catalog.metrics.items())
        },
    }
    if as_json:
        emit_json(data)
        return
    table = Table("kind", "name", "description")
    for role, answering in catalog.roles.items():
        table.add_row("role", role, "answered by " + ", ".join(answering))
    for name, p in sorted(catalog.predicates.items()):
        table.add_row("predicate", name, p.description)
    for name, m in sorted(catalog.metrics.items()):
        unit = f" ({m.unit})" if m.unit else ""
        table.add_row("metric", name, m.description + unit)
    console().print(table)
