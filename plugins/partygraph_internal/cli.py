"""``partygraph internal ...``: service levels, lead hand-offs, CRM adoption, per-employee usage.

Every command takes ``--since`` / ``--until`` (default: the ``report_days``
up to now), ``--department KEY`` (repeatable) and ``--json``. Bad input (an
unknown department, a malformed date, per-employee figures without a lawful
basis) exits with status 2 and a message on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
from rich.table import Table

from partygraph import Toolkit
from partygraph.cli import pass_toolkit
from partygraph.cli.output import console, emit_json

__all__ = ["internal_group"]

F = TypeVar("F", bound=Callable[..., Any])


def _options(function: F) -> F:
    function = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(function)
    function = click.option(
        "--department",
        "departments",
        multiple=True,
        help="Only this department (key or id); repeat for several.",
    )(function)
    function = click.option("--until", default=None, help="End of the period (default now).")(
        function
    )
    function = click.option(
        "--since", default=None, help="Start of the period (default: report_days before until)."
    )(function)
    return function


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("internal")


def _refs(toolkit: Toolkit, values: Sequence[str]) -> list[str] | None:
    return [toolkit.resolve(value).key for value in values] if values else None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


@click.group("internal")
def internal_group() -> None:
    """Internal customers: service levels, lead hand-offs and CRM adoption."""


@internal_group.command("sla")
@_options
@pass_toolkit
def sla(
    toolkit: Toolkit,
    since: str | None,
    until: str | None,
    departments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Per provider department: requests, SLA attainment, median resolution, satisfaction."""
    report = _plugin(toolkit).service_levels(since, until, _refs(toolkit, departments))
    if as_json:
        emit_json(report)
        return
    table = Table(title="Service levels")
    table.add_column("department", no_wrap=True)
    for column in ("requests", "met", "breached", "attainment", "median h", "satisfaction"):
        table.add_column(column)
    for row in report:
        table.add_row(
            row["department"],
            str(row["requests"]),
            str(row["sla"]["met"]),
            str(row["sla"]["breached"]),
            _percent(row["sla"]["attainment"]),
            _text(row["median_resolution_hours"]),
            _text(row["satisfaction"]["average"]),
        )
    out = console()
    out.print(table)
    for row in report:
        categories = ", ".join(f"{name} {n}" for name, n in row["by_category"].items())
        out.print(f"{row['department']}: {categories}", markup=False)


@internal_group.command("handoffs")
@_options
@pass_toolkit
def handoffs(
    toolkit: Toolkit,
    since: str | None,
    until: str | None,
    departments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Lead hand-offs between departments and their acceptance rate."""
    report = _plugin(toolkit).handoffs(since, until, _refs(toolkit, departments))
    if as_json:
        emit_json(report)
        return
    table = Table(title="Lead hand-offs")
    table.add_column("from", no_wrap=True)
    table.add_column("to", no_wrap=True)
    for column in ("handed", "accepted", "rejected", "pending", "acceptance"):
        table.add_column(column)
    for row in report:
        table.add_row(
            _text(row["from"]),
            _text(row["to"]),
            str(row["handed"]),
            str(row["accepted"]),
            str(row["rejected"]),
            str(row["pending"]),
            _percent(row["acceptance_rate"]),
        )
    console().print(table)


@internal_group.command("adoption")
@_options
@pass_toolkit
def adoption(
    toolkit: Toolkit,
    since: str | None,
    until: str | None,
    departments: tuple[str, ...],
    as_json: bool,
) -> None:
    """CRM adoption per department (departments below the minimum group size show none)."""
    report = _plugin(toolkit).adoption(since, until, _refs(toolkit, departments))
    if as_json:
        emit_json(report)
        return
    table = Table(title="CRM adoption")
    table.add_column("department", no_wrap=True)
    for column in ("headcount", "active", "records/user", "completeness"):
        table.add_column(column)
    for row in report:
        if not row["reported"]:
            table.add_row(row["department"], row["status"], "", "", "")
            continue
        completeness = row["completeness"]
        table.add_row(
            row["department"],
            str(row["headcount"]),
            f"{row['active_users']} ({_percent(row['active_share'])})",
            _text(row["records_per_user"]),
            completeness if isinstance(completeness, str) else _percent(completeness),
        )
    console().print(table)


@internal_group.command("usage")
@_options
@pass_toolkit
def usage(
    toolkit: Toolkit,
    since: str | None,
    until: str | None,
    departments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Per-employee CRM usage (only when the config enables it with a lawful basis)."""
    report = _plugin(toolkit).employee_usage(since, until, _refs(toolkit, departments))
    if as_json:
        emit_json(report)
        return
    out = console()
    out.print(f"Lawful basis: {report['lawful_basis']}")
    table = Table(title="CRM usage per employee")
    table.add_column("employee", no_wrap=True)
    for column in ("department", "records", "completeness", "active days"):
        table.add_column(column)
    for row in report["employees"]:
        table.add_row(
            row["employee"],
            _text(row["department"]),
            str(row["records"]),
            _percent(row["completeness"]),
            str(row["active_days"]),
        )
    out.print(table)
    for row in report["withheld"]:
        out.print(f"withheld: {row['employee']}: {row['reason']}")
