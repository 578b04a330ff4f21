"""``partygraph household ...``: a household's view, every household's roll-up, offers, and
address-based suggestions. Every command takes ``--as-of`` and ``--json``.

Bad input (an unknown party, a person in no household, a malformed date) is a
:class:`partygraph.UserError`: exit status 2, the message on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from partygraph import Context, Toolkit, UserError
from partygraph.cli import pass_toolkit
from partygraph.cli.output import emit_json

__all__ = ["household_group"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
as_of_option = click.option("--as-of", "as_of", default=None, help="As of this date (ISO-8601).")


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("household")


def _checked(value: str | None) -> str | None:
    if value is None:
        return None
    from partygraph.times import parse_time

    try:
        parse_time(value, "--as-of")
    except ValueError as error:
        raise UserError(str(error)) from None
    return value


def _money(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, int | float) else "-"


@click.group("household")
def household_group() -> None:
    """Households: roll-ups, life-stage facts, offers and address-based suggestions."""


@household_group.command("show")
@click.argument("ref")
@as_of_option
@json_option
@pass_toolkit
def show(toolkit: Toolkit, ref: str, as_of: str | None, as_json: bool) -> None:
    """The household view of REF (a household, or a person's current household)."""
    party = toolkit.resolve(ref)
    summary = _plugin(toolkit).view(party.key, _checked(as_of), context=Context(source="cli"))
    if as_json:
        emit_json(summary)
        return
    _print_summary(summary)


def _print_summary(summary: Mapping[str, Any]) -> None:
    household = summary["household"]
    rollup = summary["rollup"]
    click.echo(
        f"{household['name'] or household['key']} (household {household['key']}), "
        f"as of {summary['as_of']}: {summary['status']}"
    )
    click.echo("Members:")
    for member in summary["members"]:
        since = f" since {member['since']}" if member["since"] else ""
        click.echo(f"  - {member['name'] or member['key']} ({member['role']}){since}")
    if not summary["members"]:
        click.echo("  (none current; its history stays)")
    if rollup.get("note"):
        click.echo(f"Note: {rollup['note']}")
    spend = rollup["spend"]
    currency = f" {spend['currency']}" if spend.get("currency") else ""
    click.echo(
        f"Spend while members: {_money(spend['amount'])}{currency} in {spend['purchases']} "
        f"purchase(s); last {rollup['recent_spend']['days']} days: "
        f"{_money(rollup['recent_spend']['amount'])}"
    )
    if "total_value" in rollup:
        click.echo(f"Total value (members' metrics): {_money(rollup['total_value']['total'])}")
    shared = ", ".join(
        f"{item['category']} ({item['members']})" for item in rollup["shared_preferences"]
    )
    click.echo(f"Shared preferences: {shared or '(none)'}")
    click.echo("Products held:")
    for product in rollup["products"]:
        holders = "the household" if product["held_by_household"] else f"{product['holders']}"
        click.echo(
            f"  - {product['product']} {product['key']} (holders: {holders}, "
            f"balance {_money(product['balance'])})"
        )
    if not rollup["products"]:
        click.echo("  (none)")
    facts = ", ".join(f"{name}={value}" for name, value in summary["facts"].items())
    click.echo(f"Facts: {facts}")
    click.echo("Offers:")
    for offer in summary["offers"]:
        click.echo(f"  - {offer['label']}: because {'; '.join(offer['because'])}")
    if not summary["offers"]:
        click.echo("  (none)")


@household_group.command("list")
@as_of_option
@json_option
@pass_toolkit
def list_(toolkit: Toolkit, as_of: str | None, as_json: bool) -> None:
    """Every household's roll-up: members, spend, products, status, offers."""
    rows = _plugin(toolkit).rollups(_checked(as_of))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no households")
        return
    for row in rows:
        left = f", {row['left_out']} left out" if row["left_out"] else ""
        offers = f"; offers: {', '.join(row['offers'])}" if row["offers"] else ""
        click.echo(
            f"{row['household']}: {row['status']}, {row['members']} member(s){left}, "
            f"spend {_money(row['spend'])}, {row['products']} product(s){offers}"
        )


@household_group.command("offers")
@as_of_option
@json_option
@pass_toolkit
def offers(toolkit: Toolkit, as_of: str | None, as_json: bool) -> None:
    """Households eligible for an offer, and the facts that made each eligible."""
    rows = _plugin(toolkit).offers(_checked(as_of))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no household is eligible for an offer")
        return
    for row in rows:
        for offer in row["offers"]:
            click.echo(f"{row['household']}: {offer['label']} ({'; '.join(offer['because'])})")


@household_group.command("suggest")
@as_of_option
@json_option
@pass_toolkit
def suggest(toolkit: Toolkit, as_of: str | None, as_json: bool) -> None:
    """Candidate households from shared postal addresses (proposals: nothing is written)."""
    found = _plugin(toolkit).suggestions(_checked(as_of))
    if as_json:
        emit_json(found)
        return
    proposals = found["proposals"]
    if not proposals:
        click.echo("no suggestions")
    for proposal in proposals:
        people = ", ".join(item["key"] for item in proposal["parties"])
        click.echo(f"{proposal['id']}: {proposal['reason']} People: {people}")
    if found["left_out"]:
        click.echo(f"{found['left_out']} person(s) left out: their data may not be aggregated.")
    if proposals:
        click.echo("To accept one, review its records (--json) and import them.")
