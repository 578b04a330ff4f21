"""Command definitions and the error handling that maps failures to exit codes."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

import partygraph
from partygraph.cli.output import console, emit_json, error_console
from partygraph.config import compose_schema, read_config
from partygraph.errors import StorageError, UserError
from partygraph.model import RoleAssignment, converter
from partygraph.plugins import describe_plugin, first_party_plugins, plugin_report
from partygraph.storage.engine import redact_text
from partygraph.toolkit import Toolkit

__all__ = ["COMMANDS_GROUP", "cli", "installed_commands", "main", "pass_toolkit"]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "partygraph.toml"


class State:
    """What the group's options decided, shared with every command."""

    def __init__(self, config: str | None) -> None:
        self.config_option = config
        self._toolkit: Toolkit | None = None

    @property
    def config_source(self) -> str | None:
        """The config file to use: --config, ./partygraph.toml, or None (default)."""
        if self.config_option:
            return self.config_option
        return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None

    def toolkit(self) -> Toolkit:
        """The toolkit, opened on first use."""
        if self._toolkit is None:
            self._toolkit = partygraph.open(self.config_source)
        return self._toolkit

    def close(self) -> None:
        """Close the toolkit if one was opened."""
        if self._toolkit is not None:
            self._toolkit.close()


def pass_toolkit(function: F) -> F:
    """Decorate a command so it receives the open toolkit as its first argument."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().find_object(State)
        assert state is not None
        return function(state.toolkit(), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class PartygraphGroup(click.Group):
    """The top-level group: built-in commands plus those of enabled plugins."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        cached: dict[str, click.Command] | None = ctx.meta.get("partygraph.plugin_commands")
        if cached is not None:
            return cached
        found: dict[str, click.Command] = {}
        source = ctx.params.get("config") or (
            DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None
        )
        try:
            from partygraph.toolkit import _prepare

            prepared = _prepare(source, None)
            for _, command in prepared.hooks.cli_commands():
                if command.name and command.name not in self.commands:
                    found[command.name] = command
        except Exception:
            found = {}
        ctx.meta["partygraph.plugin_commands"] = found
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(
            {*super().list_commands(ctx), *installed_commands(), *self._plugin_commands(ctx)}
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry_point = installed_commands().get(cmd_name)
        if entry_point is not None:
            loaded = entry_point.load()
            if not isinstance(loaded, click.Command):
                raise UserError(
                    f"entry point {entry_point.value!r} in group {COMMANDS_GROUP!r} "
                    "is not a click command"
                )
            return loaded
        return self._plugin_commands(ctx).get(cmd_name)


#: Entry-point group for whole commands shipped by installed packages (``demo``,
#: ``bench``), available whatever the config enables. Plugin commands, by contrast,
#: come from the ``partygraph_cli_commands`` hook of enabled plugins.
COMMANDS_GROUP = "partygraph.commands"


@functools.cache
def installed_commands() -> dict[str, importlib.metadata.EntryPoint]:
    """The commands registered under :data:`COMMANDS_GROUP`, by name (not yet imported)."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=COMMANDS_GROUP)}


@click.group(cls=PartygraphGroup)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./partygraph.toml if present, else the embedded default).",
)
@click.version_option(partygraph.__version__, prog_name="partygraph")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """partygraph: who is the customer, and why?"""
    state = State(config)
    ctx.obj = state
    ctx.call_on_close(state.close)


# -- init / plugins / config -------------------------------------------------------------


STARTER = """\
# partygraph configuration. Validate with: partygraph config validate
# Every key is documented in the schema: partygraph config schema

[database]
url = "sqlite:///partygraph.db"

[plugins]
enabled = [{enabled}]
"""


@cli.command()
@click.option("--plugins", "plugin_names", default=None, help="Comma-separated plugins to enable.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--path", "path", default=DEFAULT_CONFIG, show_default=True, help="Where to write.")
def init(plugin_names: str | None, force: bool, path: str) -> None:
    """Write a starter partygraph.toml."""
    target = Path(path)
    if target.exists() and not force:
        raise UserError(f"{path} already exists; use --force to overwrite it")
    names = (
        [name.strip() for name in plugin_names.split(",") if name.strip()]
        if plugin_names is not None
        else first_party_plugins()
    )
    text = STARTER.format(enabled=", ".join(json.dumps(name) for name in names))
    partygraph.check_config(_parse_toml(text))
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path} ({len(names)} plugin(s) enabled)")


def _parse_toml(text: str) -> dict[str, Any]:
    import tomllib

    data: dict[str, Any] = tomllib.loads(text)
    return data


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def plugins(state: State, as_json: bool) -> None:
    """List discovered plugins: name, version, enabled, hooks."""
    raw = read_config(state.config_source)
    section = raw.data.get("plugins", {})
    enabled = section.get("enabled") if isinstance(section, dict) else None
    names = enabled if isinstance(enabled, list) else first_party_plugins()
    report = plugin_report([str(name) for name in names])
    if as_json:
        emit_json([describe_plugin(info) for info in report])
        return
    if not report:
        click.echo("no plugins installed")
        return
    table = Table("name", "version", "enabled", "reason / hooks")
    for info in report:
        detail = info.reason or ", ".join(h.removeprefix("partygraph_") for h in info.hooks)
        table.add_row(info.name, info.version or "-", "yes" if info.enabled else "no", detail)
    console().print(table)


@cli.group()
def config() -> None:
    """Check a config file, or print its JSON Schema."""


@config.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config_validate(state: State, file: str | None, as_json: bool) -> None:
    """Report every violation in a config file (exit 2 if any)."""
    source = file or state.config_source
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            checked = partygraph.check_config(source)
        except partygraph.ConfigError as error:
            if as_json:
                emit_json(
                    {
                        "valid": False,
                        "source": error.source,
                        "violations": [
                            {"pointer": v.pointer, "message": v.message, "line": v.line}
                            for v in error.violations
                        ],
                    }
                )
                raise SystemExit(2) from None
            raise
    for warning in caught:
        error_console().print(f"warning: {warning.message}", markup=False)
    if as_json:
        emit_json({"valid": True, "source": checked.source, "enabled": list(checked.enabled)})
    else:
        click.echo(f"{checked.source}: valid ({len(checked.enabled)} plugin(s) enabled)")


@config.command("schema")
@click.pass_obj
def config_schema(state: State) -> None:
    """Print the composed JSON Schema (core and every enabled plugin)."""
    from partygraph.toolkit import _prepare

    prepared = _prepare(state.config_source, None)
    schemas = {
        name: schema for name, schema in prepared.hooks.config_schemas().items() if name != "core"
    }
    emit_json(compose_schema(schemas))


# -- database ----------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Create or upgrade the database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: State) -> None:
    """Apply every missing migration of the core and the enabled plugins."""
    toolkit = partygraph.open(state.config_source, migrate=True)
    try:
        applied = toolkit.applied_migrations
    finally:
        toolkit.close()
    click.echo("up to date" if not applied else "applied: " + ", ".join(applied))


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def db_current(toolkit: Toolkit, as_json: bool) -> None:
    """Show the applied revision of the core and of each enabled plugin."""
    from partygraph.storage.migrations import current_heads

    with toolkit.engine.connect() as connection:
        heads = {
            source.name: list(current_heads(connection, source))
            for source in toolkit.migration_sources()
        }
    if as_json:
        emit_json(heads)
        return
    for name, revisions in heads.items():
        click.echo(f"{name}: {', '.join(revisions) or '(none)'}")


# -- import ------------------------------------------------------------------------------


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help="Write the valid records, report the rest.")
@click.option("--kind", default=None, help="Read FILE as CSV of parties of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_toolkit
def import_(
    toolkit: Toolkit, file: str, skip_invalid: bool, kind: str | None, as_json: bool
) -> None:
    """Load a JSON Lines file (or CSV with --kind): all-or-nothing unless --skip-invalid."""
    if not Path(file).is_file():
        raise UserError(f"{file}: no such file")
    show_progress = sys.stderr.isatty() and not as_json
    total = Path(file).stat().st_size
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=error_console(),
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=total)
        if kind is not None:
            report = toolkit.import_csv(file, kind, skip_invalid=skip_invalid)
        else:
            report = toolkit.import_jsonl(
                file,
                skip_invalid=skip_invalid,
                progress=lambda done: progress.update(task, completed=done),
            )
    summary = report.as_dict()
    if as_json:
        emit_json(summary)
        return
    click.echo(f"read {report.read} record(s); created {_counts(summary['created'])}")
    if summary["updated"]:
        click.echo(f"updated {_counts(summary['updated'])}")
    if summary["unchanged"]:
        click.echo(f"unchanged {_counts(summary['unchanged'])}")
    if report.rejected:
        click.echo(f"rejected {len(report.rejected)} record(s):")
        for item in report.rejected[:50]:
            click.echo(f"  line {item.line}: {item.reason}")


_PHASES = ("party", "relationship", "interaction")
_PLURALS = {"party": "parties", "relationship": "relationships", "interaction": "interactions"}


def _counts(counts: dict[str, int]) -> str:
    """'2 parties, 1 interaction', in the order records are applied."""
    order = sorted(counts, key=lambda kind: (_PHASES.index(kind) if kind in _PHASES else 2, kind))
    words = [
        f"{counts[kind]} {kind if counts[kind] == 1 else _PLURALS.get(kind, kind + 's')}"
        for kind in order
    ]
    return ", ".join(words) or "nothing"


# -- show / explain ----------------------------------------------------------------------


def _role_line(role: RoleAssignment) -> str:
    context = f" of {role.context.key}" if role.context else ""
    since = f" since {role.since.date().isoformat()}" if role.since else ""
    until = f" until {role.until.date().isoformat()}" if role.until else ""
    flag = "customer" if role.customer else "not a customer"
    return f"{role.role}{context}{since}{until} [{role.plugin}, {role.kind}, {flag}]: {role.reason}"


@cli.command()
@click.argument("ref")
@click.option("--as-of", "as_of", default=None, help="Date or date-time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def explain(toolkit: Toolkit, ref: str, as_of: str | None, as_json: bool) -> None:
    """Every role the party plays, and why: who is the customer?"""
    party = toolkit.resolve(ref)
    roles = toolkit.roles(party.key, as_of=_as_of(as_of))
    if as_json:
        emit_json({"party": converter.unstructure(party), "roles": converter.unstructure(roles)})
        return
    click.echo(f"{party.name or party.key} ({party.kind}, key {party.key}, id {party.id})")
    if not roles:
        enabled = ", ".join(info.name for info in toolkit.plugins) or "none"
        click.echo(f"  plays no role that an enabled plugin recognises (enabled: {enabled})")
        return
    customer = [role for role in roles if role.customer]
    verdict = "is a customer" if customer else "is not a customer"
    click.echo(f"  {verdict}; {len(roles)} role(s):")
    for role in roles:
        click.echo(f"  - {_role_line(role)}")


def _as_of(value: str | None) -> str | None:
    if value is None:
        return None
    from partygraph.times import parse_time

    try:
        parse_time(value, "--as-of")
    except ValueError as error:
        raise UserError(str(error)) from None
    return value


@cli.command()
@click.argument("ref")
@click.option("--as-of", "as_of", default=None, help="Date or date-time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_toolkit
def show(toolkit: Toolkit, ref: str, as_of: str | None, as_json: bool) -> None:
    """The 360-degree view of a party."""
    party = toolkit.resolve(ref)
    view = toolkit.view(party.key, as_of=_as_of(as_of))
    if as_json:
        emit_json(view.as_dict())
        return
    out = console()
    out.print(f"[bold]{party.name or party.key}[/bold] ({party.kind}, key {party.key})")
    for name, value in sorted(party.attributes.items()):
        out.print(f"  {name}: {value}", markup=False)
    out.print("[bold]Roles[/bold]")
    for assignment in view.roles:
        out.print(f"  - {_role_line(assignment)}", markup=False)
    if not view.roles:
        out.print("  (none)")
    out.print("[bold]Relationships[/bold]")
    for rel in view.relationships:
        role = f" as {rel.relationship.role}" if rel.relationship.role else ""
        out.print(f"  - {rel.label} {rel.other.key}{role}", markup=False)
    for rel in view.history:
        out.print(f"  - (ended/not yet) {rel.label} {rel.other.key}", markup=False)
    if not view.relationships and not view.history:
        out.print("  (none)")
    out.print("[bold]Recent interactions[/bold]")
    for interaction in view.interactions:
        when = interaction.occurred_at.isoformat().replace("+00:00", "Z")
        out.print(f"  - {when} {interaction.type}", markup=False)
    if not view.interactions:
        out.print("  (none)")
    for plugin, section in view.sections.items():
        out.print(f"[bold]{plugin}[/bold]")
        out.print("  " + json.dumps(section, default=str), markup=False)


# -- entry point -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0, 1 or 2)."""
    try:
        cli.main(args=argv, prog_name="partygraph", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as error:
        error.show()
        return 2
    except click.exceptions.Exit as error:
        return int(error.exit_code)
    except SystemExit as error:
        return int(error.code) if isinstance(error.code, int) else 1
    except UserError as error:
        click.echo(f"error: {error}", err=True)
        return 2
    except StorageError as error:
        # The database could not be reached or used: not a bug, and not the input's fault.
        # The message never holds a password (see partygraph.storage.engine.redact_text).
        click.echo(f"error: {redact_text(str(error))}", err=True)
        return 1
    except Exception as error:
        message = redact_text(f"{type(error).__name__}: {error}")
        click.echo(f"internal error: {message.splitlines()[0] if message else ''}", err=True)
        if os.environ.get("PARTYGRAPH_DEBUG"):
            traceback.print_exc()
        return 1
    return 0


# -- built-in commands kept in modules of their own ---------------------------------------

from partygraph.cli.graph import graph  # noqa: E402  (needs pass_toolkit, defined above)

cli.add_command(graph)
