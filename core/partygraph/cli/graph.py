"""``partygraph graph REF``: draw a party's neighbourhood as Mermaid, DOT or SVG."""

from __future__ import annotations

from pathlib import Path

import click

from partygraph.cli.output import emit_json
from partygraph.errors import UserError
from partygraph.graphing import neighbourhood, to_dot, to_mermaid, to_svg
from partygraph.model import Context, converter
from partygraph.toolkit import Toolkit

__all__ = ["graph"]

_RENDERERS = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}


def _pass_toolkit(function: click.decorators.FC) -> click.decorators.FC:
    from partygraph.cli.app import pass_toolkit

    return pass_toolkit(function)


@click.command()
@click.argument("ref")
@click.option(
    "--depth",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many steps from the party to walk.",
)
@click.option("--as-of", "as_of", default=None, help="Date or date-time (default: now).")
@click.option(
    "--interactions",
    default=5,
    show_default=True,
    type=click.IntRange(min=0),
    help="Most recent interactions drawn per party.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(sorted(_RENDERERS)),
    default="mermaid",
    show_default=True,
    help="mermaid and dot are text; svg needs Graphviz's dot.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the nodes and edges as JSON.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to FILE instead of standard output.",
)
@_pass_toolkit
def graph(
    toolkit: Toolkit,
    ref: str,
    depth: int,
    as_of: str | None,
    interactions: int,
    format_: str,
    as_json: bool,
    output: str | None,
) -> None:
    """Draw REF's neighbourhood: relationships and recent interactions, roles on the edges."""
    from partygraph.times import parse_time

    try:
        at = parse_time(as_of, "--as-of") if as_of is not None else None
    except ValueError as error:
        raise UserError(str(error)) from None
    party = toolkit.resolve(ref)
    assert party.id is not None
    picture = neighbourhood(
        toolkit,
        party.id,
        depth=depth,
        as_of=at,
        interactions=interactions,
        context=Context(source="cli"),
    )
    if as_json:
        emit_json(converter.unstructure(picture))
        return
    text = _RENDERERS[format_](picture)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserError(f"--output: cannot write {output}: {error.strerror}") from None
    click.echo(f"wrote {output} ({format_}, {len(picture.nodes)} nodes)", err=True)
