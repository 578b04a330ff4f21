"""``partygraph privacy ...``: consent, objections, restriction, requests, export, erasure, audit.

Every command that reports data takes ``--json``. Bad input (an unknown party,
purpose or request, a malformed ``--set``) is a :class:`partygraph.UserError`:
exit status 2, the message on stderr, nothing written. ``verify-audit`` exits
with 2 when the log was tampered with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from partygraph import Context, Toolkit, UserError, ValidationError, converter
from partygraph.cli import pass_toolkit
from partygraph.cli.output import emit_json

__all__ = ["privacy_group"]

_CONTEXT = Context(source="cli")


def _plugin(toolkit: Toolkit) -> Any:
    return toolkit.plugin("privacy")


def _key(toolkit: Toolkit, ref: str) -> str:
    """A command-line REF (key or numeric id) -> the party's key."""
    return toolkit.resolve(ref).key


def _assignments(values: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError("--set", f"expected key=value, got {item!r}", item)
        found[name.strip()] = value
    return found


def _request_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError("ID", f"a request id is a number, got {value!r}", value) from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
at_option = click.option("--at", default=None, help="When (ISO-8601; default now).")


@click.group("privacy")
def privacy_group() -> None:
    """Consent, objections, restriction, data-subject requests, export, erasure, audit."""


# -- consent -------------------------------------------------------------------------------


@privacy_group.group("consent")
def consent_group() -> None:
    """Grant, withdraw and show lawful bases (the consent ledger)."""


@consent_group.command("grant")
@click.argument("party")
@click.argument("purpose")
@click.option("--basis", default="consent", show_default=True, help="The lawful basis.")
@click.option("--channel", default=None, help="email, phone, post ... (default: every channel).")
@at_option
@click.option("--expires", "expires", default=None, help="When the basis lapses.")
@click.option("--source", default=None, help="Where it was collected (web form ...).")
@click.option("--evidence", default=None, help="Evidence kept (form id, recording ...).")
@click.option(
    "--given-by", "given_by", default=None, help="The guardian who consented for a minor."
)
@click.option("--verification", default=None, help="How the guardian was verified.")
@click.option("--jurisdiction", default=None, help="GDPR or CCPA.")
@click.option("--note", default=None, help="A note; the balancing test for legitimate interests.")
@pass_toolkit
def consent_grant(
    toolkit: Toolkit,
    party: str,
    purpose: str,
    basis: str,
    channel: str | None,
    at: str | None,
    expires: str | None,
    source: str | None,
    evidence: str | None,
    given_by: str | None,
    verification: str | None,
    jurisdiction: str | None,
    note: str | None,
) -> None:
    """Record a lawful basis (consent by default) of PARTY for PURPOSE."""
    key = _key(toolkit, party)
    _plugin(toolkit).grant(
        key,
        purpose,
        basis=basis,
        channel=channel,
        at=at,
        expires_at=expires,
        source=source,
        evidence=evidence,
        given_by=_key(toolkit, given_by) if given_by else None,
        verification=verification,
        jurisdiction=jurisdiction,
        note=note,
        context=_CONTEXT,
    )
    where = f" on {channel}" if channel else ""
    click.echo(f"granted {basis} for {purpose}{where} to {key}")


@consent_group.command("withdraw")
@click.argument("party")
@click.argument("purpose")
@click.option("--channel", default=None, help="email, phone, post ... (default: every channel).")
@at_option
@pass_toolkit
def consent_withdraw(
    toolkit: Toolkit, party: str, purpose: str, channel: str | None, at: str | None
) -> None:
    """Withdraw PARTY's consent for PURPOSE (as easy as granting it)."""
    key = _key(toolkit, party)
    _plugin(toolkit).withdraw(key, purpose, channel=channel, at=at, context=_CONTEXT)
    where = f" on {channel}" if channel else ""
    click.echo(f"withdrew consent for {purpose}{where} of {key}")


@consent_group.command("show")
@click.argument("party")
@json_option
@pass_toolkit
def consent_show(toolkit: Toolkit, party: str, as_json: bool) -> None:
    """Every ledger entry of PARTY, oldest first."""
    entries = _plugin(toolkit).ledger_history(_key(toolkit, party))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("no ledger entries")
        return
    for entry in entries:
        channel = f" [{entry['channel']}]" if entry.get("channel") else ""
        basis = f" ({entry['basis']})" if entry.get("basis") else ""
        until = f" until {entry['expires_at']}" if entry.get("expires_at") else ""
        click.echo(f"{entry['at']}  {entry['action']} {entry['purpose']}{channel}{basis}{until}")


@privacy_group.command("can-contact")
@click.argument("party")
@click.argument("channel")
@click.argument("purpose")
@at_option
@json_option
@pass_toolkit
def can_contact(
    toolkit: Toolkit, party: str, channel: str, purpose: str, at: str | None, as_json: bool
) -> None:
    """May we contact PARTY on CHANNEL for PURPOSE? With the basis relied on."""
    decision = _plugin(toolkit).can_contact(_key(toolkit, party), channel, purpose, at)
    data = {
        "allowed": bool(decision.allowed),
        "basis": decision.basis,
        "reason": decision.reason,
    }
    if as_json:
        emit_json(data)
        return
    verdict = "yes" if data["allowed"] else "no"
    basis = f" (basis: {data['basis']})" if data["basis"] else ""
    click.echo(f"{verdict}{basis}: {data['reason']}")


@privacy_group.command("object")
@click.argument("party")
@click.argument("purpose")
@click.option("--channel", default=None, help="Only this channel (default: every channel).")
@at_option
@click.option("--note", default=None, help="A note.")
@pass_toolkit
def object_(
    toolkit: Toolkit,
    party: str,
    purpose: str,
    channel: str | None,
    at: str | None,
    note: str | None,
) -> None:
    """Record PARTY's objection to PURPOSE (direct marketing, profiling): effective at once."""
    key = _key(toolkit, party)
    _plugin(toolkit).object(key, purpose, channel=channel, at=at, note=note, context=_CONTEXT)
    click.echo(f"recorded {key}'s objection to {purpose}")


@privacy_group.command("opt-out")
@click.argument("party")
@click.option("--gpc", is_flag=True, help="Recorded from a Global Privacy Control signal.")
@at_option
@pass_toolkit
def opt_out(toolkit: Toolkit, party: str, gpc: bool, at: str | None) -> None:
    """Record PARTY's opt-out of the sale or sharing of personal data (CCPA)."""
    key = _key(toolkit, party)
    _plugin(toolkit).opt_out(key, gpc=gpc, at=at, context=_CONTEXT)
    signal = " (Global Privacy Control)" if gpc else ""
    click.echo(f"recorded {key}'s opt-out of sale or sharing{signal}")


@privacy_group.command("limit-sensitive")
@click.argument("party")
@at_option
@pass_toolkit
def limit_sensitive(toolkit: Toolkit, party: str, at: str | None) -> None:
    """Limit the use of PARTY's sensitive data to the expected service (CCPA)."""
    key = _key(toolkit, party)
    _plugin(toolkit).limit_sensitive(key, at=at, context=_CONTEXT)
    click.echo(f"limited the use of {key}'s sensitive data")


@privacy_group.command("restrict")
@click.argument("party")
@click.option("--reason", default=None, help="Why (accuracy contested, objection pending ...).")
@at_option
@pass_toolkit
def restrict(toolkit: Toolkit, party: str, reason: str | None, at: str | None) -> None:
    """Restrict processing of PARTY's data to storage."""
    key = _key(toolkit, party)
    _plugin(toolkit).restrict(key, reason=reason, at=at, context=_CONTEXT)
    click.echo(f"restricted processing of {key}'s data to storage")


@privacy_group.command("lift-restriction")
@click.argument("party")
@click.option("--notice", required=True, help="How and when the subject was told first.")
@at_option
@pass_toolkit
def lift_restriction(toolkit: Toolkit, party: str, notice: str, at: str | None) -> None:
    """Lift the restriction of PARTY, recording the notice given to the subject."""
    key = _key(toolkit, party)
    _plugin(toolkit).lift_restriction(key, notice, at=at, context=_CONTEXT)
    click.echo(f"lifted the restriction of {key}")


@privacy_group.command("rectify")
@click.argument("party")
@click.option("--name", default=None, help="The corrected name.")
@click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Correct an attribute."
)
@json_option
@pass_toolkit
def rectify(
    toolkit: Toolkit, party: str, name: str | None, assignments: tuple[str, ...], as_json: bool
) -> None:
    """Correct PARTY's name or attributes."""
    key = _key(toolkit, party)
    corrected = _plugin(toolkit).rectify(
        key, name=name, attributes=_assignments(assignments), context=_CONTEXT
    )
    if as_json:
        emit_json(converter.unstructure(corrected))
        return
    click.echo(f"rectified {key}")


# -- data-subject requests ------------------------------------------------------------------


def _request_line(item: Mapping[str, Any]) -> str:
    flags = []
    if item.get("overdue"):
        flags.append("OVERDUE")
    if item.get("confirmation_overdue"):
        flags.append("confirmation overdue")
    if not item.get("verified") and item.get("status") not in ("completed", "refused"):
        flags.append("unverified")
    extra = f" [{', '.join(flags)}]" if flags else ""
    party = f"party {item['party_id']}" if item.get("party_id") is not None else "erased subject"
    return (
        f"#{item['id']} {item['kind']} ({item['jurisdiction']}) {party}: {item['status']}, "
        f"received {item['received_at']}, due {item['due_at']}{extra}"
    )


@privacy_group.group("request")
def request_group() -> None:
    """Data-subject requests: receive, verify, extend, fulfil, list."""


@request_group.command("receive")
@click.argument("party")
@click.argument("kind")
@click.option("--received-at", "received_at", default=None, help="When it was received.")
@click.option("--jurisdiction", default=None, help="GDPR or CCPA (default: the party's).")
@json_option
@pass_toolkit
def request_receive(
    toolkit: Toolkit,
    party: str,
    kind: str,
    received_at: str | None,
    jurisdiction: str | None,
    as_json: bool,
) -> None:
    """Log a request of KIND (access, erasure, rectification ...) from PARTY."""
    item = _plugin(toolkit).receive_request(
        _key(toolkit, party),
        kind,
        received_at=received_at,
        jurisdiction=jurisdiction,
        context=_CONTEXT,
    )
    if as_json:
        emit_json(item)
        return
    confirm = f"; confirm receipt by {item['confirm_by']}" if item.get("confirm_by") else ""
    click.echo(
        f"request #{item['id']} ({kind}, {item['jurisdiction']}) due {item['due_at']}{confirm}"
    )


@request_group.command("confirm")
@click.argument("request_id", metavar="ID")
@at_option
@json_option
@pass_toolkit
def request_confirm(toolkit: Toolkit, request_id: str, at: str | None, as_json: bool) -> None:
    """Record that receipt of request ID was confirmed to the subject."""
    item = _plugin(toolkit).confirm_request(_request_id(request_id), at)
    if as_json:
        emit_json(item)
        return
    click.echo(f"request #{item['id']}: receipt confirmed {item['confirmed_at']}")


@request_group.command("verify")
@click.argument("request_id", metavar="ID")
@click.option("--evidence", required=True, help="How the requester's identity was verified.")
@at_option
@json_option
@pass_toolkit
def request_verify(
    toolkit: Toolkit, request_id: str, evidence: str, at: str | None, as_json: bool
) -> None:
    """Record how the requester of request ID was verified."""
    item = _plugin(toolkit).verify_request(_request_id(request_id), evidence, at)
    if as_json:
        emit_json(item)
        return
    click.echo(f"request #{item['id']} verified; due {item['due_at']}")


@request_group.command("extend")
@click.argument("request_id", metavar="ID")
@click.option("--notice-at", "notice_at", default=None, help="When the subject was told.")
@json_option
@pass_toolkit
def request_extend(toolkit: Toolkit, request_id: str, notice_at: str | None, as_json: bool) -> None:
    """Extend the deadline of request ID (notice within the original period)."""
    item = _plugin(toolkit).extend_request(_request_id(request_id), notice_at)
    if as_json:
        emit_json(item)
        return
    click.echo(f"request #{item['id']} extended; now due {item['due_at']}")


@request_group.command("refuse")
@click.argument("request_id", metavar="ID")
@click.option("--reason", required=True, help="The reason given to the subject.")
@json_option
@pass_toolkit
def request_refuse(toolkit: Toolkit, request_id: str, reason: str, as_json: bool) -> None:
    """Refuse request ID, with the reason given to the subject."""
    item = _plugin(toolkit).refuse_request(_request_id(request_id), reason)
    if as_json:
        emit_json(item)
        return
    click.echo(f"request #{item['id']} refused")


@request_group.command("list")
@click.argument("party", required=False)
@json_option
@pass_toolkit
def request_list(toolkit: Toolkit, party: str | None, as_json: bool) -> None:
    """Requests (of PARTY, or all), with deadlines; overdue ones are flagged."""
    items = _plugin(toolkit).requests(_key(toolkit, party) if party else None)
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo("no requests")
        return
    for item in items:
        click.echo(_request_line(item))


@request_group.command("fulfil")
@click.argument("request_id", metavar="ID")
@click.option("--output", default=None, type=click.Path(dir_okay=False), help="Access: write here.")
@click.option("--name", default=None, help="Rectification: the corrected name.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Rectification.")
@click.option("--reason", default=None, help="Restriction: why.")
@click.option("--purpose", default=None, help="Objection: the purpose (default marketing).")
@click.option("--gpc", is_flag=True, help="Opt-out: from a Global Privacy Control signal.")
@json_option
@pass_toolkit
def request_fulfil(
    toolkit: Toolkit,
    request_id: str,
    output: str | None,
    name: str | None,
    assignments: tuple[str, ...],
    reason: str | None,
    purpose: str | None,
    gpc: bool,
    as_json: bool,
) -> None:
    """Carry out verified request ID (an unverified one releases nothing)."""
    fields: dict[str, Any] = {"context": _CONTEXT}
    if output:
        fields["path"] = output
    if name is not None:
        fields["name"] = name
    if assignments:
        fields["attributes"] = _assignments(assignments)
    if reason is not None:
        fields["reason"] = reason
    if purpose is not None:
        fields["purpose"] = purpose
    if gpc:
        fields["gpc"] = True
    done = _plugin(toolkit).fulfil_request(_request_id(request_id), **fields)
    item, result = done["request"], done["result"]
    if as_json:
        shown = converter.unstructure(result) if result is not None else None
        if item["kind"] in ("access", "portability") and output:
            shown = {"written_to": str(Path(output).resolve())}
        emit_json({"request": item, "result": shown})
        return
    if item["kind"] in ("access", "portability") and not output:
        emit_json(result)
        return
    if item["kind"] == "erasure":
        _print_erasure(result)
    click.echo(f"request #{item['id']} completed: {item['outcome']}")


# -- access export and erasure ----------------------------------------------------------------


@privacy_group.command("export")
@click.argument("party")
@click.option("--output", default=None, type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option(
    "--viewer-role", "viewer_role", default=None, help="Export as this viewer role sees it."
)
@json_option
@pass_toolkit
def export(
    toolkit: Toolkit, party: str, output: str | None, viewer_role: str | None, as_json: bool
) -> None:
    """Everything about PARTY, machine-readable (data-subject access, portability).

    Without --output the document is printed. A file written with --output is
    remembered, and removed again if the subject is erased.
    """
    context = Context(source="cli", purpose="access_request", viewer_role=viewer_role)
    document = _plugin(toolkit).export(_key(toolkit, party), context=context, path=output)
    if output is None or as_json:
        emit_json(document)
    if output is not None and not as_json:
        click.echo(f"wrote {output} (an erasure of the subject removes it)")


def _counts(values: Mapping[str, int]) -> str:
    return ", ".join(f"{field} ({count})" for field, count in values.items()) or "nothing"


def _print_erasure(report: Mapping[str, Any]) -> None:
    click.echo(f"erased subject {report['party']}")
    click.echo(f"  deleted: {_counts(report['deleted'])}")
    click.echo(f"  pseudonymised: {_counts(report['pseudonymised'])}")
    click.echo(f"  anonymised: {_counts(report['anonymised'])}")
    for plugin, section in report["plugins"].items():
        click.echo(f"  plugin {plugin}: {json.dumps(section, default=str)}")
    hits = report["residual_hits"]
    file_hits = report["file_residual_hits"]
    click.echo(
        f"  scanned for: {', '.join(report['identifier_kinds'])} "
        f"({report['verify_scan_ms']} ms; erasure {report['erase_ms']} ms)"
    )
    click.echo(f"  residual hits in tables: {sum(hit['rows'] for hit in hits)}")
    for hit in hits:
        click.echo(f"    {hit['table']}.{hit['column']}: {hit['identifier_kind']} ({hit['rows']})")
    if file_hits is None:
        click.echo(f"  database file: {report['file_scan']}")
    else:
        click.echo(f"  residual hits in the database file and WAL: {file_hits}")
    if report["passed"]:
        click.echo("  completeness: PASS (zero residual hits)")
    else:
        click.echo(
            "  completeness: FAIL: the identifiers above are still stored; erase them by hand"
        )


@privacy_group.command("erase")
@click.argument("party")
@json_option
@pass_toolkit
def erase(toolkit: Toolkit, party: str, as_json: bool) -> None:
    """Erase PARTY everywhere and print the completeness report.

    Records that must be kept (interaction types with a retention period) are
    pseudonymised; everything else is deleted; the database is compacted and
    scanned for the subject's identifiers.
    """
    report = _plugin(toolkit).erase(
        _key(toolkit, party), context=Context(source="cli", purpose="erasure")
    )
    if as_json:
        emit_json(report)
        return
    _print_erasure(report)


# -- audit, retention, records of processing ---------------------------------------------------


def _read_anchor(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: not an audit anchor ({error})") from None
    if not isinstance(data, dict) or not {"head", "length"} <= set(data):
        raise UserError(f"{path}: not an audit anchor (expected keys head and length)")
    return data


@privacy_group.command("verify-audit")
@click.option("--anchor", "anchor_file", default=None, type=click.Path(dir_okay=False),
              help="An anchor from audit-anchor: catches a truncated tail.")  # fmt: skip
@json_option
@pass_toolkit
def verify_audit(toolkit: Toolkit, anchor_file: str | None, as_json: bool) -> None:
    """Check the audit log's hash chain; exit 2 if an entry was edited, deleted,
    reordered or the tail truncated."""
    anchor = _read_anchor(anchor_file) if anchor_file else None
    result = _plugin(toolkit).verify_audit(anchor)
    if as_json:
        emit_json(result)
    elif result["ok"]:
        click.echo(f"audit log intact: {result['entries']} entries")
    if not result["ok"]:
        click.echo(
            f"audit log tampered with ({result.get('kind')}) at entry "
            f"{result.get('first_bad_seq')}: {result.get('problem')}",
            err=True,
        )
        raise SystemExit(2)


@privacy_group.command("audit-anchor")
@click.option("--output", default=None, type=click.Path(dir_okay=False), help="Write to FILE.")
@pass_toolkit
def audit_anchor(toolkit: Toolkit, output: str | None) -> None:
    """Print (or write) the audit chain's head and length; keep it elsewhere."""
    anchor = _plugin(toolkit).audit_anchor()
    if output:
        Path(output).write_text(json.dumps(anchor, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {output} ({anchor['length']} entries)")
        return
    emit_json(anchor)


@privacy_group.command("purge")
@click.option("--dry-run/--apply", "dry_run", default=True, show_default=True,
              help="Only count (default), or delete.")  # fmt: skip
@at_option
@json_option
@pass_toolkit
def purge(toolkit: Toolkit, dry_run: bool, at: str | None, as_json: bool) -> None:
    """Apply the retention periods (and expire quarantined records)."""
    result = _plugin(toolkit).purge(dry_run=dry_run, at=at)
    if as_json:
        emit_json(result)
        return
    verb = "would delete" if dry_run else "deleted"
    for type_name, item in result.get("interactions", {}).items():
        click.echo(
            f"{type_name} (kept {item['retention']}, before {item['cutoff']}): "
            f"{verb} {item['count']}"
        )
    click.echo(f"quarantined records expired: {result.get('quarantine', 0)}")
    click.echo(f"total: {verb} {result.get('total', 0)}" + (" (dry run)" if dry_run else ""))


@privacy_group.command("ropa")
@json_option
@pass_toolkit
def ropa(toolkit: Toolkit, as_json: bool) -> None:
    """Records of processing (GDPR article 30): purposes, bases, data, retention, recipients."""
    records = _plugin(toolkit).ropa()
    if as_json:
        emit_json(records)
        return
    for entry in records.get("purposes", []):
        bases = ", ".join(entry.get("lawful_bases", [])) or "-"
        click.echo(f"{entry['purpose']}: {entry.get('description') or ''}".rstrip())
        click.echo(f"  lawful bases: {bases}")
        categories = ", ".join(entry.get("data_categories", [])) or "-"
        click.echo(f"  data categories: {categories}")
        subjects = ", ".join(entry.get("data_subjects", [])) or "-"
        click.echo(f"  data subjects: {subjects}")
        retention = entry.get("retention", {}).get("interaction_types", {})
        if retention:
            click.echo("  retention: " + ", ".join(f"{k} {v}" for k, v in retention.items()))
        recipients = ", ".join(entry.get("recipients", [])) or "-"
        click.echo(f"  recipients: {recipients}")
