"""``partygraph b2c ...``: population figures, RFM, category audiences, order recipients.

``refresh-rfm`` stores the population's RFM scale that views score against.

Every command takes ``--json``. Bad input (an unknown order, a malformed
date) is a :class:`partygraph.UserError`: exit status 2, the message on
stderr.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from partygraph import Toolkit, UserError
from partygraph.cli import pass_toolkit
from partygraph.cli.output import console, emit_json
from partygraph.times import parse_time

__all__ = ["b2c_group"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
as_of_option = click.option(
    "--as-of", "as_of", default=None, help="Date or date-time (default: now)."
)
limit_option = click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=0), help="Rows to show."
)


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("b2c")


def _as_of(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_time(value, "--as-of")
    except ValueError as error:
        raise UserError(str(error)) from None
    return value


@click.group("b2c")
def b2c_group() -> None:
    """Customers' lifetime value, RFM scores, category audiences and order recipients."""


@b2c_group.command("customers")
@as_of_option
@limit_option
@click.option(
    "--sort",
    "sort",
    type=click.Choice(["clv", "historic_clv", "orders", "recency_days", "key"]),
    default="clv",
    show_default=True,
    help="Order of the rows shown.",
)
@json_option
@pass_toolkit
def customers(toolkit: Toolkit, as_of: str | None, limit: int, sort: str, as_json: bool) -> None:
    """Every customer's lifetime value, order value, frequency and RFM, in one pass."""
    plugin = _plugin(toolkit)
    when = _as_of(as_of)
    rows = plugin.customers(when)
    summary = plugin.summary(when, rows=rows)
    reverse = sort not in ("key", "recency_days")
    rows.sort(key=lambda row: row[sort], reverse=reverse)
    if as_json:
        emit_json({"summary": summary, "customers": rows[:limit] if limit else rows})
        return
    currency = summary["currency"]
    click.echo(
        f"{summary['customers']} customer(s), {summary['lapsed']} lapsed; "
        f"{summary['orders']} kept order(s); historic CLV {summary['historic_clv']:,.2f} "
        f"{currency}, average order {summary['aov'] or 0:,.2f} {currency}"
    )
    table = Table("key", "orders", "historic CLV", "predicted", "AOV", "per year", "RFM")
    for row in rows[:limit]:
        table.add_row(
            row["key"],
            str(row["orders"]),
            f"{row['historic_clv']:,.2f}",
            f"{row['predicted_clv']:,.2f}",
            f"{row['aov']:,.2f}",
            f"{row['frequency']:.2f}",
            row["rfm"],
        )
    console().print(table)


@b2c_group.command("rfm")
@as_of_option
@limit_option
@json_option
@pass_toolkit
def rfm(toolkit: Toolkit, as_of: str | None, limit: int, as_json: bool) -> None:
    """RFM scores (1-5 each) of every customer, best first."""
    rows = _plugin(toolkit).rfm(_as_of(as_of))
    rows.sort(key=lambda row: (row["score"], row["historic_clv"]), reverse=True)
    if as_json:
        emit_json(rows[:limit] if limit else rows)
        return
    click.echo(f"{len(rows)} customer(s) scored")
    table = Table("key", "R", "F", "M", "recency (days)", "orders", "net revenue")
    for row in rows[:limit]:
        table.add_row(
            row["key"],
            str(row["r"]),
            str(row["f"]),
            str(row["m"]),
            str(row["recency_days"]),
            str(row["orders"]),
            f"{row['historic_clv']:,.2f}",
        )
    console().print(table)


@b2c_group.command("refresh-rfm")
@as_of_option
@json_option
@pass_toolkit
def refresh_rfm(toolkit: Toolkit, as_of: str | None, as_json: bool) -> None:
    """Score the population and store the RFM scale views score customers against.

    Run it on a schedule (after a nightly import, say): until it runs again, views
    score each customer's own current figures against the stored boundaries.
    """
    scale = _plugin(toolkit).refresh_rfm(_as_of(as_of))
    found = {"customers": scale.population, "as_of": scale.cut.isoformat() + "Z"}
    if as_json:
        emit_json(found)
        return
    click.echo(f"RFM scale stored: {found['customers']} customer(s) as of {found['as_of']}")


@b2c_group.command("audience")
@click.argument("category")
@as_of_option
@click.option("--purpose", default="marketing", show_default=True, help="Purpose of the use.")
@click.option("--top", "top_n", default=None, type=click.IntRange(min=1), help="Top N (config).")
@json_option
@pass_toolkit
def audience(
    toolkit: Toolkit,
    category: str,
    as_of: str | None,
    purpose: str,
    top_n: int | None,
    as_json: bool,
) -> None:
    """Shoppers for whom CATEGORY is a top category (those without a basis left out)."""
    found = _plugin(toolkit).audience(category, _as_of(as_of), purpose=purpose, top_n=top_n)
    if as_json:
        emit_json(found)
        return
    click.echo(
        f"{len(found['parties'])} shopper(s) with {category!r} among their top categories "
        f"for {purpose}; {found['left_out']} left out (no lawful basis)"
    )
    for row in found["parties"]:
        click.echo(f"  - {row['key']} (#{row['place']}: {row['quantity']:g} unit(s))")


@b2c_group.command("recipients")
@click.argument("order_id")
@click.option("--purpose", default="billing", show_default=True, help="billing, service ...")
@json_option
@pass_toolkit
def recipients(toolkit: Toolkit, order_id: str, purpose: str, as_json: bool) -> None:
    """Whom to address about ORDER_ID for a purpose: purchaser (billing) or consumers."""
    found = _plugin(toolkit).recipients(order_id, purpose)
    if as_json:
        emit_json(found)
        return
    to = ", ".join(found["to"]) or "nobody"
    click.echo(f"{purpose} about order {order_id} ({found['perspective']} perspective): {to}")
    for item in found["left_out"]:
        click.echo(f"  left out {item['party']}: {item['reason']}")
