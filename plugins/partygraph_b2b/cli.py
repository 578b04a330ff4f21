"""``partygraph b2b ...``: coverage, single-threaded risk, scores, messaging tracks, deals.

Every command takes ``--as-of`` (default now) and ``--json``; ``ACCOUNT``
(a key or id) narrows a command to one account and its subsidiaries.
"""

from __future__ import annotations

from typing import Any

import click

from partygraph import Toolkit, UserError
from partygraph.cli import pass_toolkit
from partygraph.cli.output import emit_json

__all__ = ["b2b_group"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
as_of_option = click.option(
    "--as-of", "as_of", default=None, help="Date or date-time (default: now)."
)
account_argument = click.argument("account", required=False)


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("b2b")


def _as_of(value: str | None) -> str | None:
    if value is None:
        return None
    from partygraph.times import parse_time

    try:
        parse_time(value, "--as-of")
    except ValueError as error:
        raise UserError(str(error)) from None
    return value


def _account(toolkit: Toolkit, ref: str | None) -> str | None:
    return toolkit.resolve(ref).key if ref is not None else None


def _name(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "-"
    return str(summary.get("key") or summary.get("id"))


@click.group("b2b")
def b2b_group() -> None:
    """Accounts: buying-committee coverage, single-threaded risk, scores, messaging, deals."""


@b2b_group.command("coverage")
@account_argument
@as_of_option
@json_option
@pass_toolkit
def coverage(toolkit: Toolkit, account: str | None, as_of: str | None, as_json: bool) -> None:
    """Which required committee roles engaged in the window, and which are missing."""
    entries = _plugin(toolkit).coverage(_as_of(as_of), account=_account(toolkit, account))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("no accounts")
        return
    for entry in entries:
        flag = "  [SINGLE-THREADED]" if entry["single_threaded"] else ""
        click.echo(
            f"{_name(entry['account'])}: covered {', '.join(entry['covered']) or 'none'}; "
            f"missing {', '.join(entry['missing']) or 'none'}; "
            f"{entry['engaged_stakeholders']} of {entry['stakeholders']} stakeholder(s) "
            f"engaged{flag}"
        )


@b2b_group.command("risks")
@account_argument
@as_of_option
@json_option
@pass_toolkit
def risks(toolkit: Toolkit, account: str | None, as_of: str | None, as_json: bool) -> None:
    """Single-threaded accounts: only one stakeholder engaged in the window."""
    entries = _plugin(toolkit).single_threaded(_as_of(as_of), account=_account(toolkit, account))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("no single-threaded account")
        return
    for entry in entries:
        click.echo(f"{_name(entry['account'])}: {entry['risk']}")


@b2b_group.command("scores")
@account_argument
@as_of_option
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N highest.")
@json_option
@pass_toolkit
def scores(
    toolkit: Toolkit, account: str | None, as_of: str | None, top: int | None, as_json: bool
) -> None:
    """Account engagement scores, own and rolled up through the hierarchy."""
    entries = _plugin(toolkit).scores(_as_of(as_of), account=_account(toolkit, account))
    if top is not None:
        entries = entries[:top]
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("no accounts")
        return
    for entry in entries:
        parent = f" (subsidiary of {_name(entry['parent'])})" if entry["parent"] else ""
        click.echo(
            f"{_name(entry['account'])}: {entry['rolled_up_score']:g} rolled up, "
            f"{entry['score']:g} own{parent}"
        )


@b2b_group.command("messaging")
@account_argument
@as_of_option
@json_option
@pass_toolkit
def messaging(toolkit: Toolkit, account: str | None, as_of: str | None, as_json: bool) -> None:
    """The messaging track of every current stakeholder (for a marketing system: --json)."""
    found = _plugin(toolkit).messaging(_as_of(as_of), account=_account(toolkit, account))
    if as_json:
        emit_json(found)
        return
    if not found["stakeholders"] and not found["excluded"]:
        click.echo("no stakeholders")
    for entry in found["stakeholders"]:
        where = "outside " if entry["outside"] else ""
        click.echo(
            f"{_name(entry['person'])} ({where}{', '.join(entry['roles'])} at "
            f"{_name(entry['account'])}): {entry['track']} -- {entry['description']}"
        )
    for entry in found["excluded"]:
        click.echo(f"{entry['person']} at {entry['account']}: left out: {entry['reason']}")


@b2b_group.command("deals")
@account_argument
@as_of_option
@json_option
@pass_toolkit
def deals(toolkit: Toolkit, account: str | None, as_of: str | None, as_json: bool) -> None:
    """Deals as they stood at --as-of: stage, status, amount, expected close."""
    entries = _plugin(toolkit).deals(_as_of(as_of), account=_account(toolkit, account))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("no deals")
        return
    for entry in entries:
        amount = (
            f", {entry['currency']} {entry['amount']:,.2f}" if entry["amount"] is not None else ""
        )
        close = f", expected to close {entry['expected_close']}" if entry["expected_close"] else ""
        click.echo(
            f"{entry['key']} ({_name(entry['account'])}): {entry['status']}, "
            f"stage {entry['stage'] or '-'}{amount}{close}"
        )
