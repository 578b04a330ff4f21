"""``partygraph marketplace ...``: sides, earnings statements, incentives, suggestions, health.

Every command takes ``--json``. Bad input (an unknown party, side or program,
a malformed date) is a :class:`partygraph.UserError`: exit status 2, the
message on stderr, nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich.table import Table

from partygraph import Context, Toolkit
from partygraph.cli import pass_toolkit
from partygraph.cli.output import console, emit_json

__all__ = ["marketplace_group"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_CONTEXT = Context(source="cli")


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("marketplace")


def _key(toolkit: Toolkit, ref: str | None) -> str | None:
    """A command-line REF (key or numeric id) -> the party's key."""
    return toolkit.resolve(ref).key if ref is not None else None


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*[str(cell) if cell is not None else "-" for cell in row])
    console().print(table)


@click.group("marketplace")
def marketplace_group() -> None:
    """Two-sided platforms: sides, earnings, incentives, suggestions, health."""


@marketplace_group.command("sides")
@json_option
@pass_toolkit
def sides(toolkit: Toolkit, as_json: bool) -> None:
    """The marketplace's sides (from the preset and the config)."""
    found = _plugin(toolkit).sides()
    if as_json:
        emit_json(found)
        return
    _table(
        "sides",
        ("side", "label", "position", "role since", "programs"),
        [
            (s["name"], s["label"], s["position"], s["role_since"], ", ".join(s["programs"]))
            for s in found
        ],
    )


@marketplace_group.command("earnings")
@click.argument("party", required=False)
@click.option("--side", default=None, help="The side (default: the first supply side).")
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option("--since", default=None, help="From (ISO-8601; default: the first transaction).")
@click.option("--until", default=None, help="Until, exclusive (ISO-8601; default now).")
@json_option
@pass_toolkit
def earnings(
    toolkit: Toolkit,
    party: str | None,
    side: str | None,
    period: str,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Earnings statement of PARTY (or of every member of the side) per week or month."""
    rows = _plugin(toolkit).earnings(
        _key(toolkit, party), side=side, period=period, since=since, until=until, context=_CONTEXT
    )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no earnings in this window")
        return
    plural = _plugin(toolkit).settings.transaction.plural
    currency = rows[0]["currency"]
    body = [
        (
            row["key"],
            row["period"],
            row[plural],
            _money(row["gross"]),
            _money(row["platform_fee"]),
            _money(row["tips"]),
            _money(row["incentives"]),
            _money(row["net"]),
        )
        for row in rows
    ]
    if party is not None:
        body.append(
            (
                "total",
                "",
                sum(row[plural] for row in rows),
                *(
                    _money(sum(row[name] for row in rows))
                    for name in ("gross", "platform_fee", "tips", "incentives", "net")
                ),
            )
        )
    _table(
        f"earnings ({currency})",
        ("party", period, plural.replace("_", " "), "gross", "fee", "tips", "incentives", "net"),
        body,
    )


@marketplace_group.command("incentives")
@click.option("--at", default=None, help="A time in the period to evaluate (default now).")
@click.option("--program", default=None, help="Only this program.")
@click.option("--party", default=None, help="Only this party (REF).")
@click.option("--pay", is_flag=True, help="Record a payout for every member who met a program.")
@json_option
@pass_toolkit
def incentives(
    toolkit: Toolkit,
    at: str | None,
    program: str | None,
    party: str | None,
    pay: bool,
    as_json: bool,
) -> None:
    """Incentive programs for the period containing --at: who met them, who missed, by how much."""
    plugin = _plugin(toolkit)
    if pay:
        result = plugin.pay_incentives(at, program=program, context=_CONTEXT)
        if as_json:
            emit_json(result)
        else:
            click.echo(
                f"{result['met']} met; {result['paid']} payout(s) recorded, "
                f"{result['already_paid']} already paid; total {_money(result['total'])} "
                f"{result['currency']}"
            )
        return
    rows = plugin.incentives(at, program=program, party=_key(toolkit, party))
    if as_json:
        emit_json(rows)
        return
    if not plugin.settings.programs:
        click.echo("no incentive programs are configured ([[plugins.marketplace.incentives]])")
        return
    if not rows:
        click.echo("no activity for any program in this period")
        return
    _table(
        "incentives",
        ("program", "period", "party", "trips", "rating", "met", "bonus", "reason"),
        [
            (
                row["program"],
                row["period"],
                row["key"],
                f"{row['trips']}/{row['min_trips']}",
                row["average_rating"],
                "yes" if row["met"] else "no",
                _money(row["bonus"]),
                row["reason"],
            )
            for row in rows
        ],
    )


@marketplace_group.command("suggestions")
@click.argument("party")
@click.option("--as-of", "as_of", default=None, help="As of (ISO-8601; default now).")
@click.option("--side", default=None, help="The side (default: the first demand side).")
@json_option
@pass_toolkit
def suggestions(
    toolkit: Toolkit, party: str, as_of: str | None, side: str | None, as_json: bool
) -> None:
    """PARTY's frequent routes by time of day: the basis of trip suggestions."""
    result = _plugin(toolkit).suggestions(_key(toolkit, party), as_of, side=side, context=_CONTEXT)
    if as_json:
        emit_json(result)
        return
    if result["withheld"]:
        click.echo(f"no suggestions: {result['withheld']}")
        return
    if not result["routes"]:
        click.echo("no frequent route yet")
        return
    for route in result["routes"]:
        click.echo(
            f"{route['pickup_zone']} -> {route['dropoff_zone']}, {route['time_of_day']} "
            f"(around {route['usual_hour']}): {route['trips']} trips, last {route['last']}"
        )


@marketplace_group.command("health")
@click.option("--as-of", "as_of", default=None, help="As of (ISO-8601; default now).")
@click.option("--days", default=28, show_default=True, help="Days of supply and demand.")
@json_option
@pass_toolkit
def health(toolkit: Toolkit, as_of: str | None, days: int, as_json: bool) -> None:
    """Supply vs demand per zone and hour, churn risk, rider retention."""
    result = _plugin(toolkit).health(as_of, days=days)
    if as_json:
        emit_json(result)
        return
    _table(
        f"supply and demand, {days} days to {result['as_of']}",
        ("zone", "hour", "requested", "completed", "unfulfilled", "supply/day", "balance"),
        [
            (
                row["zone"],
                row["hour"],
                row["requested"],
                row["completed"],
                row["unfulfilled"],
                row["active_supply_per_day"],
                row["balance"],
            )
            for row in result["supply_demand"]
        ],
    )
    churn = result["churn_risk"]
    _table(
        f"churn risk ({churn['side']}s, {churn['active_members']} active)",
        ("party", "weekly", "before/week", "recent/week", "drop"),
        [
            (
                row["key"],
                " ".join(str(n) for n in row["weekly"]),
                row["before_per_week"],
                row["recent_per_week"],
                f"{row['drop']:.0%}",
            )
            for row in churn["at_risk"]
        ],
    )
    retention = result["retention"]
    _table(
        f"retention ({retention['side']}s, by month of first transaction)",
        ("cohort", "members", "active month by month"),
        [
            (
                row["cohort"],
                row["members"],
                " ".join(f"{share:.0%}" for share in row["retention"]),
            )
            for row in retention["cohorts"]
        ],
    )


@marketplace_group.command("rebuild")
@json_option
@pass_toolkit
def rebuild(toolkit: Toolkit, as_json: bool) -> None:
    """Recompute the marketplace's activity table from the interactions."""
    result = _plugin(toolkit).rebuild()
    if as_json:
        emit_json(result)
        return
    click.echo(f"rebuilt {result['rows']} activity row(s)")
