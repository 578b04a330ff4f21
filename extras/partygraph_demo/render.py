"""Printing the tour on a terminal: colour only where it is seen.

rich decides from the output stream: on a terminal it uses colour and the
terminal's width; piped into a file or another program (or with ``NO_COLOR``
set) it writes the same text without escape codes. Reasons are long sentences,
so they are printed as indented paragraphs rather than squeezed into table cells.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from partygraph_demo.tour import PartyRoles, Scenario, Tour

__all__ = ["print_tour"]


def print_tour(tour: Tour, console: Console) -> None:
    """Print the whole tour: an introduction, then one section per scenario."""
    console.print(
        Panel(
            Text.assemble(
                ("The partygraph demo world\n", "bold"),
                f"Loaded into {tour.database} with every first-party plugin enabled; "
                f"its config is {tour.config}. In each scenario below, 'customer' is a role "
                f"a party plays, computed by a plugin with its reason, as of {tour.as_of}.",
            )
        )
    )
    for number, scenario in enumerate(tour.scenarios, start=1):
        console.print()
        console.print(_section(number, scenario))
        # Commands are printed whole (soft wrap: never cut), so they can be copied.
        console.print(_commands(scenario), soft_wrap=True)


def _section(number: int, scenario: Scenario) -> Group:
    parts: list[RenderableType] = [
        Rule(Text(f"{number}. {scenario.title}", style="bold cyan"), align="left"),
        Text(scenario.story),
        Text(""),
        Text("Who is the customer, and why?", style="bold"),
    ]
    parts += [_party(party) for party in scenario.parties]
    figures = Table("key figure", "value", title_justify="left")
    for figure in scenario.figures:
        figures.add_row(Text(figure.label), Text(figure.value))
    parts += [Text(""), figures]
    return Group(*parts)


def _commands(scenario: Scenario) -> Text:
    commands = Text("Dig deeper:", style="bold")
    for command in scenario.commands:
        commands.append(f"\n  $ {command}", style="yellow")
    return commands


def _party(party: PartyRoles) -> RenderableType:
    verdict = (
        Text("a customer", style="bold green")
        if party.is_customer
        else Text("not a customer", style="dim")
    )
    lines: list[RenderableType] = [
        Text.assemble("- ", (party.name, "bold"), f" ({party.key}): ", verdict)
    ]
    if not party.roles:
        lines.append(Padding(Text("no role here"), (0, 0, 0, 4), expand=False))
    for role in party.roles:
        context = f" of {role.context}" if role.context else ""
        flag = "green" if role.customer else "magenta"
        lines.append(
            Padding(
                Text.assemble((f"{role.role}{context}", flag), f" [{role.plugin}]: {role.reason}"),
                (0, 0, 0, 4),
                expand=False,
            )
        )
    return Group(*lines)
