"""Records of processing activities (GDPR art. 30), from the config and the declarations.

One entry per purpose: every purpose configured in ``[plugins.privacy.purposes]``,
this plugin's own (``privacy_compliance``: consent records, requests and the
audit log, under a legal obligation), and any purpose a type or declaration
names without it being configured (flagged ``configured: false``). Each entry
gives the description, the lawful bases, the interaction and record types
processed for it (with their plugins), the data categories and subjects (of
the declarations that name the purpose, and of the core's interaction tables
when an interaction type is processed for it), the retention periods (per
interaction type from ``[plugins.privacy.retention]``, per field from the
declarations) and the recipients (``[plugins.privacy.recipients]``).

Fields declared without a purpose (the core's party data: key, name, contact
details ...) serve every purpose concerning the party; they are listed once,
under ``common`` (the core's interaction tables are described per purpose,
through the types processed for it). This plugin's own record types serve
``privacy_compliance``. Everything is sorted, so the same setup gives the same
document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partygraph import DataDeclaration
from partygraph_privacy.declarations import (
    PRIVACY_PURPOSE,
    all_declarations,
    effective_purposes,
    plugin_name,
)

if TYPE_CHECKING:
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = ["records_of_processing"]

#: The core's tables that hold interactions (their declarations describe every type).
_INTERACTION_TABLES = ("interaction", "participant")
_OWN_DESCRIPTION = (
    "Demonstrating compliance: consent and objection records, data-subject requests, "
    "erased identifiers and the audit log."
)


def _field(owner: str, declaration: DataDeclaration) -> dict[str, Any]:
    return {
        "plugin": owner,
        "table": declaration.table,
        "field": declaration.field,
        "category": declaration.category,
        "personal": declaration.personal,
        "subjects": sorted(declaration.subjects),
        "retention": declaration.retention,
    }


def records_of_processing(plugin: PrivacyPlugin) -> dict[str, Any]:
    """The records of processing, JSON-ready and deterministic."""
    settings = plugin.settings
    toolkit = plugin.toolkit
    me = plugin_name(plugin)
    declarations = sorted(
        all_declarations(plugin), key=lambda item: (item[1].table, item[1].field, item[0])
    )
    types: list[tuple[str, str, str, tuple[str, ...]]] = [
        (owner, "interaction_type", item.name, effective_purposes(plugin, item.name, item.purposes))
        for owner, item in toolkit.hooks.interaction_types()
    ]
    # This plugin's own record types (consent, objection ...) serve compliance itself.
    types += [
        (
            owner,
            "record_type",
            item.name,
            effective_purposes(plugin, item.name, item.purposes)
            or ((PRIVACY_PURPOSE,) if owner == me else ()),
        )
        for owner, item in toolkit.hooks.record_types()
    ]
    interaction_data = [
        declaration
        for _, declaration in declarations
        if declaration.table in _INTERACTION_TABLES and declaration.personal
    ]

    names = {*settings.purposes, PRIVACY_PURPOSE}
    names.update(purpose for *_, purposes in types for purpose in purposes)
    names.update(purpose for _, d in declarations for purpose in d.purposes)

    entries = []
    for name in sorted(names):
        configured = settings.purposes.get(name)
        if configured is not None:
            description = configured.description
            bases = list(configured.bases)
        elif name == PRIVACY_PURPOSE:
            description, bases = _OWN_DESCRIPTION, ["legal_obligation"]
        else:
            description, bases = "", []
        processed_by = sorted(
            (
                {"plugin": owner, what: type_name}
                for owner, what, type_name, purposes in types
                if name in purposes
            ),
            key=lambda item: (item["plugin"], sorted(item.items())),
        )
        relevant = [d for _, d in declarations if name in d.purposes]
        if any(what == "interaction_type" and name in purposes for _, what, _n, purposes in types):
            relevant += interaction_data
        retention_types = {
            type_name: settings.retention[type_name]
            for _, what, type_name, purposes in types
            if what == "interaction_type" and name in purposes and type_name in settings.retention
        }
        retention_fields = {
            f"{d.table}.{d.field}": d.retention for d in relevant if d.retention is not None
        }
        entries.append(
            {
                "purpose": name,
                "description": description,
                "configured": configured is not None or name == PRIVACY_PURPOSE,
                "lawful_bases": bases,
                "implicit": bool(configured and configured.implicit),
                "workplace": bool(configured and configured.workplace),
                "requires_note": bool(configured and configured.requires_note),
                "processed_by": processed_by,
                "data_categories": sorted({d.category for d in relevant if d.personal}),
                "data_subjects": sorted({s for d in relevant for s in d.subjects}),
                "retention": {
                    "interaction_types": dict(sorted(retention_types.items())),
                    "fields": dict(sorted(retention_fields.items())),
                },
                "recipients": sorted(settings.recipients.get(name, ())),
            }
        )

    common = [
        (owner, d)
        for owner, d in declarations
        if not d.purposes and d.personal and d.table not in _INTERACTION_TABLES
    ]
    return {
        "plugins": sorted(info.name for info in toolkit.plugins),
        "purposes": entries,
        "common": {
            "description": "Fields declared without a purpose serve every purpose "
            "concerning the party.",
            "data_categories": sorted({d.category for _, d in common}),
            "data_subjects": sorted({s for _, d in common for s in d.subjects}),
            "fields": [_field(owner, d) for owner, d in common],
        },
        "data_subjects": sorted({s for _, d in declarations for s in d.subjects}),
    }
