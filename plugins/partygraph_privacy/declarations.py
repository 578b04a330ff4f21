"""Privacy metadata is mandatory: the plugin's own declarations, and the check of everyone's.

With this plugin enabled, a toolkit opens only when

(a) every table any plugin contributes has at least one data declaration (a
    table that holds nothing about people says so with ``personal=False``);
(b) every attribute of a kind of natural persons has a declaration
    (``table="party"``, ``field="attributes.<name>"``) -- attributes a plugin
    registers and custom attributes from the config alike. A config cannot
    run plugin code, so a custom attribute is declared in its own schema:
    ``"x-data-category": "user.contact.email"`` (optionally
    ``"x-data-subjects"``, ``"x-purposes"``, ``"x-retention"``,
    ``"x-personal"``); see :func:`config_declarations`;
(c) every interaction type and record type has purposes (declared by its
    plugin, or set in ``[plugins.privacy.purpose_overrides]``) and each of them
    is configured in ``[plugins.privacy.purposes]``. This plugin's own record
    types (consent, objection ...) are exempt: they *are* the lawful bases.

Otherwise :func:`check_declarations` raises :class:`partygraph.PluginError`
listing every problem, each with the plugin it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from partygraph import DataDeclaration, PluginError

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "PRIVACY_PURPOSE",
    "SUBJECTS",
    "all_declarations",
    "check_declarations",
    "config_declarations",
    "effective_purposes",
    "own_declarations",
    "plugin_name",
]

#: fideslang's data subjects, with those the source documents need.
SUBJECTS = (
    "customer",
    "prospect",
    "employee",
    "household_member",
    "child",
    "driver",
    "rider",
    "b2b_contact",
)

#: The purpose of this plugin's own processing: demonstrating compliance
#: (consent records, data-subject requests, the audit log), a legal obligation.
PRIVACY_PURPOSE = "privacy_compliance"

_PSEUDONYMOUS = "user.unique_id.pseudonymous"


def _own(
    table: str, field: str, category: str, description: str, *, personal: bool = True
) -> DataDeclaration:
    return DataDeclaration(
        table,
        field,
        category,
        personal=personal,
        subjects=SUBJECTS if personal else (),
        purposes=(PRIVACY_PURPOSE,),
        description=description,
    )


def own_declarations() -> list[DataDeclaration]:
    """What the privacy plugin's own tables hold about people."""
    prefs = "user.privacy_preferences"
    return [
        _own("privacy_ledger", "party_id", prefs, "Whose consent, objection or restriction."),
        _own("privacy_ledger", "purpose", prefs, "The purpose a ledger entry is about."),
        _own("privacy_ledger", "channel", prefs, "The channel (email, phone ...)."),
        _own("privacy_ledger", "basis", prefs, "The lawful basis granted."),
        _own("privacy_ledger", "source", prefs, "Where the consent was collected."),
        _own("privacy_ledger", "evidence", prefs, "Evidence of the consent (form, recording)."),
        _own("privacy_ledger", "given_by_id", prefs, "The guardian who consented for a minor."),
        _own("privacy_ledger", "verification", prefs, "How the guardian was verified."),
        _own("privacy_ledger", "note", prefs, "Balancing note, restriction reason, notice."),
        _own("privacy_quarantine", "record", "user.behavior", "A withheld record, as received."),
        _own("privacy_quarantine", "reason", "user.behavior", "Why it was withheld."),
        _own(
            "privacy_quarantine_subject",
            "party_id",
            "user.behavior",
            "Whom a withheld record is about.",
        ),
        _own("privacy_request", "subject_ref", _PSEUDONYMOUS, "The requester, pseudonymous."),
        _own("privacy_request", "party_id", "user.unique_id", "The requester while they exist."),
        _own("privacy_request", "verification", prefs, "How the requester was verified."),
        _own("privacy_request", "outcome", prefs, "What was done, or why it was refused."),
        _own("privacy_audit", "actor_ref", _PSEUDONYMOUS, "Who acted (keyed reference)."),
        _own("privacy_audit", "subject_ref", _PSEUDONYMOUS, "Whose data (keyed reference)."),
        _own("privacy_audit", "detail", _PSEUDONYMOUS, "Counts and keyed references only."),
        _own("privacy_erased", "identifier_hash", _PSEUDONYMOUS, "Keyed hash of an erased key."),
        _own("privacy_export_file", "party_id", prefs, "Whose access export was written."),
        _own("privacy_export_file", "path", prefs, "Where an access export was written."),
        _own("privacy_device", "key", "user.device.device_id", "A device's identifier."),
        _own("privacy_device", "household_id", "user.device.device_id", "Who shares it."),
        _own(
            "privacy_secret",
            "value",
            "system.authentication",
            "The database's key for keyed hashes (no personal data).",
            personal=False,
        ),
    ]


def plugin_name(plugin: PrivacyPlugin) -> str:
    """The name this plugin is enabled under (``privacy`` unless renamed)."""
    for name, found in plugin.toolkit.plugin_objects.items():
        if found is plugin:
            return name
    return "privacy"


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return ()


def config_declarations(toolkit: Toolkit) -> list[DataDeclaration]:
    """Declarations written into attribute schemas (``"x-data-category"``).

    Custom attributes from the config (and any plugin that prefers to) declare
    themselves this way::

        [attributes.parties.person.properties.nickname]
        type = "string"
        x-data-category = "user.name"
        x-data-subjects = ["customer"]
    """
    found = []
    vocabulary = toolkit.vocabulary
    for kind in sorted(vocabulary.party_kinds):
        properties = vocabulary.party_schema(kind).schema.get("properties") or {}
        for name in sorted(properties):
            schema = properties[name]
            if not isinstance(schema, Mapping) or "x-data-category" not in schema:
                continue
            found.append(
                DataDeclaration(
                    "party",
                    f"attributes.{name}",
                    str(schema["x-data-category"]),
                    personal=bool(schema.get("x-personal", True)),
                    subjects=_str_tuple(schema.get("x-data-subjects")),
                    purposes=_str_tuple(schema.get("x-purposes")),
                    retention=schema.get("x-retention"),
                    description=str(schema.get("description", "")),
                )
            )
    return found


def all_declarations(plugin: PrivacyPlugin) -> list[tuple[str, DataDeclaration]]:
    """Every declaration, with its owner: the plugins' and those in attribute schemas."""
    toolkit = plugin.toolkit
    found = list(toolkit.data_declarations())
    known = {declaration for _, declaration in found}
    found.extend(
        ("config", declaration)
        for declaration in config_declarations(toolkit)
        if declaration not in known
    )
    return found


def effective_purposes(
    plugin: PrivacyPlugin, type_name: str, declared: tuple[str, ...]
) -> tuple[str, ...]:
    """The purposes of an interaction or record type: the config's override, else its own."""
    override = plugin.settings.purpose_overrides.get(type_name)
    return tuple(override) if override else tuple(declared)


def check_declarations(plugin: PrivacyPlugin) -> None:
    """Refuse to run beside personal data without declarations, or types without purposes."""
    toolkit = plugin.toolkit
    me = plugin_name(plugin)
    problems: list[str] = []
    declarations = all_declarations(plugin)

    # (a) every table has a declaration
    declared_tables = {declaration.table for _, declaration in declarations}
    for owner, table in toolkit.tables():
        if table.name not in declared_tables:
            problems.append(
                f"plugin {owner!r}: table {table.name!r} has no data declaration (declare "
                "what each column holds about people with partygraph_data_declarations, "
                "or personal=False)"
            )

    # (b) every attribute of a personal party kind has a declaration
    declared_attributes = {
        declaration.field
        for _, declaration in declarations
        if declaration.table == "party" and declaration.field.startswith("attributes.")
    }
    owners = dict((kind.name, owner) for owner, kind in toolkit.hooks.party_kinds())
    vocabulary = toolkit.vocabulary
    for kind_name in sorted(vocabulary.party_kinds):
        kind = vocabulary.party_kinds[kind_name]
        if not kind.personal:
            continue
        own = set((kind.attributes.get("properties") or {}).keys())
        composed = vocabulary.party_schema(kind_name).schema.get("properties") or {}
        for name in sorted({*own, *composed}):
            if f"attributes.{name}" in declared_attributes:
                continue
            if name in own:
                problems.append(
                    f"plugin {owners.get(kind_name, '?')!r}: attribute {name!r} of party kind "
                    f"{kind_name!r} has no data declaration (table 'party', field "
                    f"'attributes.{name}')"
                )
            else:
                problems.append(
                    f"config: custom attribute {name!r} of party kind {kind_name!r} "
                    f"([attributes.parties.{kind_name}.properties.{name}]) has no data "
                    'declaration; add "x-data-category" (a fideslang data category such as '
                    '"user.contact.email") to its schema'
                )

    # (c) every interaction type and record type has configured purposes
    configured = plugin.settings.purposes
    known = ", ".join(sorted(configured)) or "none"
    typed: list[tuple[str, str, str, tuple[str, ...]]] = [
        (owner, "interaction type", item.name, item.purposes)
        for owner, item in toolkit.hooks.interaction_types()
    ]
    typed += [
        (owner, "record type", item.name, item.purposes)
        for owner, item in toolkit.hooks.record_types()
        if owner != me
    ]
    for owner, what, name, declared in typed:
        purposes = effective_purposes(plugin, name, declared)
        if not purposes:
            problems.append(
                f"plugin {owner!r}: {what} {name!r} declares no purposes (declare them in "
                f"the plugin, or set [plugins.{me}.purpose_overrides] {name} = [...])"
            )
            continue
        for purpose in purposes:
            if purpose not in configured:
                problems.append(
                    f"plugin {owner!r}: {what} {name!r} has purpose {purpose!r}, which is not "
                    f"configured in [plugins.{me}.purposes] (configured: {known})"
                )

    if problems:
        raise PluginError(
            f"plugin {me!r} cannot run: {len(problems)} problem(s) with privacy metadata:\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )
