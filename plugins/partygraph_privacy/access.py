"""Field-level access by viewer role.

Each stored field about a party falls into an *access category* -- identity,
contact, business, usage, financial, location, sensitive, children,
employment -- derived from its data declaration's fideslang category by the
longest matching prefix of :data:`CATEGORY_PREFIXES` (``user.contact.email``
-> contact; ``user.demographic.religious_belief`` -> sensitive;
``user.demographic.date_of_birth`` -> identity). A personal category that no
prefix covers counts as sensitive; non-personal declarations (and categories
outside ``user.``) count as business. ``viewer_roles`` in the config says which
categories each role may see.

What a reader with ``Context(viewer_role=...)`` gets, in the 360-degree view
and in the access export alike:

- the party's attributes: for a kind of natural persons (``personal`` kinds),
  an attribute is kept when the role may see every category declared for it
  (``table="party"``, ``field="attributes.<name>"``, or ``"x-data-category"``
  in the attribute's schema). An attribute nobody declared is hidden from
  every role -- the safe default. For other kinds (organisations,
  households) every attribute is business data;
- the name of a person (``party.name``, declared by the core as
  ``user.name``: identity), the party's own and that of persons it is related
  to or a role refers to, is blanked (None) unless the role may see it; keys
  stay, since they are how the reader asked for the party;
- interaction payloads of a person are usage data: dropped (``{}``) unless
  the role may see usage. The interactions themselves (type, time,
  participants by id) stay;
- everything else -- role assignments and their reasons, relationship
  attributes, metrics, the plugins' view sections and exports -- is left as
  it is: plugins decide what they show there.

Without a viewer role (``viewer_role=None``: system use, or the data subject's
own access export) nothing is redacted. An unknown viewer role is an error
naming the configured ones.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import bindparam, select

from partygraph import Context, Party, PartySummary, PartyView, ValidationError
from partygraph.storage.prepared import Prepared
from partygraph.times import to_storage
from partygraph_privacy import tables
from partygraph_privacy.declarations import all_declarations
from partygraph_privacy.ledger import ALL_PURPOSES

if TYPE_CHECKING:
    from partygraph import Toolkit
    from partygraph_privacy.plugin import PrivacyPlugin

__all__ = [
    "ACCESS_CATEGORIES",
    "CATEGORY_PREFIXES",
    "access_category",
    "allowed_categories",
    "attribute_categories",
    "redact_export",
    "redact_view",
]

#: Every access category a viewer role may be given.
ACCESS_CATEGORIES = (
    "identity",
    "contact",
    "business",
    "usage",
    "financial",
    "location",
    "sensitive",
    "children",
    "employment",
)

#: fideslang data category prefix -> access category (the longest prefix wins).
CATEGORY_PREFIXES: Mapping[str, str] = {
    "user.contact": "contact",
    "user.name": "identity",
    "user.unique_id": "identity",
    "user.account": "identity",
    "user.demographic": "identity",
    "user.demographic.race_ethnicity": "sensitive",
    "user.demographic.religious_belief": "sensitive",
    "user.demographic.sexual_orientation": "sensitive",
    "user.demographic.political_opinion": "sensitive",
    "user.health_and_medical": "sensitive",
    "user.biometric": "sensitive",
    "user.genetic": "sensitive",
    "user.criminal_history": "sensitive",
    "user.government_id": "sensitive",
    "user.authorization": "sensitive",
    "user.financial": "financial",
    "user.payment": "financial",
    "user.location": "location",
    "user.behavior": "usage",
    "user.device": "usage",
    "user.telemetry": "usage",
    "user.content": "usage",
    "user.social": "usage",
    "user.childrens": "children",
    "user.workplace": "employment",
    "user.job_title": "employment",
}

#: What a personal category no prefix covers counts as.
UNMAPPED_PERSONAL = "sensitive"


def access_category(category: str, personal: bool = True) -> str:
    """The access category of a fideslang data category."""
    if not personal or not (category == "user" or category.startswith("user.")):
        return "business"
    best: str | None = None
    for prefix in CATEGORY_PREFIXES:
        if (category == prefix or category.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return CATEGORY_PREFIXES[best] if best is not None else UNMAPPED_PERSONAL


@attrs.frozen
class _Policy:
    """The access categories of the party fields, from one toolkit's declarations."""

    fields: Mapping[str, frozenset[str]]
    personal_kinds: frozenset[str]
    known_kinds: frozenset[str]

    def personal(self, kind: str) -> bool:
        """Natural persons -- and, to be safe, kinds no enabled plugin registers."""
        return kind in self.personal_kinds or kind not in self.known_kinds


_POLICIES: weakref.WeakKeyDictionary[Toolkit, _Policy] = weakref.WeakKeyDictionary()


def _policy(plugin: PrivacyPlugin) -> _Policy:
    toolkit = plugin.toolkit
    found = _POLICIES.get(toolkit)
    if found is None:
        fields: dict[str, set[str]] = {}
        for _owner, declaration in all_declarations(plugin):
            if declaration.table == "party":
                fields.setdefault(declaration.field, set()).add(
                    access_category(declaration.category, declaration.personal)
                )
        kinds = toolkit.vocabulary.party_kinds
        found = _Policy(
            {field: frozenset(values) for field, values in fields.items()},
            frozenset(name for name, kind in kinds.items() if kind.personal),
            frozenset(kinds),
        )
        _POLICIES[toolkit] = found
    return found


def allowed_categories(plugin: PrivacyPlugin, viewer_role: str) -> frozenset[str]:
    """The access categories *viewer_role* may see; an error for an unknown role."""
    roles = plugin.settings.viewer_roles
    if viewer_role not in roles:
        configured = ", ".join(sorted(roles)) or "none"
        raise ValidationError(
            "viewer_role",
            f"unknown viewer role {viewer_role!r}; configured viewer roles: {configured} "
            "([plugins.privacy.viewer_roles])",
            viewer_role,
        )
    return frozenset(roles[viewer_role])


def attribute_categories(plugin: PrivacyPlugin, kind: str, name: str) -> frozenset[str] | None:
    """The access categories of attribute *name* of a party of *kind* (None: undeclared)."""
    policy = _policy(plugin)
    if not policy.personal(kind):
        return frozenset({"business"})
    return policy.fields.get(f"attributes.{name}")


# -- the redaction itself ---------------------------------------------------------------


class _Redactor:
    def __init__(self, plugin: PrivacyPlugin, viewer_role: str) -> None:
        self.allowed = allowed_categories(plugin, viewer_role)
        self.policy = _policy(plugin)

    def _may_see(self, categories: frozenset[str] | None) -> bool:
        return categories is not None and categories <= self.allowed

    def attributes(self, kind: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        if not self.policy.personal(kind):
            return dict(attributes) if "business" in self.allowed else {}
        fields = self.policy.fields
        return {
            name: value
            for name, value in attributes.items()
            if self._may_see(fields.get(f"attributes.{name}"))
        }

    def name(self, kind: str, name: str | None) -> str | None:
        if name is None:
            return None
        if not self.policy.personal(kind):
            return name
        return name if self._may_see(self.policy.fields.get("name")) else None

    def payloads(self, kind: str) -> bool:
        """May the reader see the interaction payloads of a party of *kind*?"""
        return not self.policy.personal(kind) or "usage" in self.allowed

    def summary(self, summary: PartySummary) -> PartySummary:
        name = self.name(summary.kind, summary.name)
        return summary if name == summary.name else attrs.evolve(summary, name=name)

    def summary_dict(self, summary: Any) -> Any:
        if not isinstance(summary, Mapping) or "kind" not in summary:
            return summary
        return {**summary, "name": self.name(str(summary["kind"]), summary.get("name"))}


#: Purposes a CCPA "limit the use of my sensitive personal information" request still
#: allows sensitive data to serve: performing the service the person expects.
EXPECTED_SERVICE = frozenset(
    {"service", "billing", "support", "security", "legal_obligation", "access_request"}
)


#: Is there a limit on the use of sensitive data recorded for a party by a time? The
#: ledger never lifts one (``limit_sensitive`` entries concern every purpose).
_LIMITED = Prepared(
    select(tables.ledger.c.id)
    .where(
        tables.ledger.c.party_id == bindparam("party"),
        tables.ledger.c.purpose == ALL_PURPOSES,
        tables.ledger.c.action == "limit_sensitive",
        tables.ledger.c.at <= bindparam("at", type_=tables.ledger.c.at.type),
    )
    .limit(1)
)


def _sensitive_limited(plugin: PrivacyPlugin, party: Party, at: datetime) -> bool:
    """Whether the party's limit on the use of sensitive data is in force at *at*."""
    if party.id is None:
        return False
    with plugin.toolkit.engine.connect() as connection:
        found = _LIMITED.first(connection, {"party": party.id, "at": to_storage(at)})
    return found is not None


def _without_sensitive(plugin: PrivacyPlugin, party: Party) -> Party | None:
    """The party without its sensitive attributes; None when it has none."""
    kept = {
        name: value
        for name, value in party.attributes.items()
        if "sensitive" not in (attribute_categories(plugin, party.kind, name) or frozenset())
    }
    if len(kept) == len(party.attributes):
        return None
    return attrs.evolve(party, attributes=kept)


def limit_sensitive_view(
    plugin: PrivacyPlugin, view: PartyView, context: Context
) -> PartyView | None:
    """After a limit request, sensitive attributes serve only the expected service.

    A party with no sensitive attribute is shown as it is without a look at the
    ledger: the limit would remove nothing.
    """
    if context.purpose in EXPECTED_SERVICE:
        return None
    without = _without_sensitive(plugin, view.party)
    if without is None or not _sensitive_limited(plugin, view.party, view.as_of):
        return None
    return attrs.evolve(view, party=without)


def redact_view(plugin: PrivacyPlugin, view: PartyView, context: Context) -> PartyView | None:
    """``partygraph_review_view``: keep what ``context.viewer_role`` may see (None: all),
    and, after a limit request, sensitive data only for the expected service."""
    limited = limit_sensitive_view(plugin, view, context)
    view = limited or view
    if context.viewer_role is None:
        return limited
    redactor = _Redactor(plugin, context.viewer_role)
    party = view.party
    redacted_party = attrs.evolve(
        party,
        name=redactor.name(party.kind, party.name),
        attributes=redactor.attributes(party.kind, party.attributes),
    )
    interactions = view.interactions
    if not redactor.payloads(party.kind):
        interactions = tuple(attrs.evolve(item, payload={}) for item in interactions)
    return attrs.evolve(
        view,
        party=redacted_party,
        relationships=tuple(
            attrs.evolve(item, other=redactor.summary(item.other)) for item in view.relationships
        ),
        history=tuple(
            attrs.evolve(item, other=redactor.summary(item.other)) for item in view.history
        ),
        roles=tuple(
            attrs.evolve(role, context=redactor.summary(role.context))
            if role.context is not None
            else role
            for role in view.roles
        ),
        interactions=interactions,
    )


def _each(items: Any) -> Iterable[Any]:
    return items if isinstance(items, list | tuple) else ()


def redact_export(
    plugin: PrivacyPlugin, document: Mapping[str, Any], context: Context
) -> Mapping[str, Any] | None:
    """``partygraph_review_export``: the access export as ``context.viewer_role`` may see it.

    Without a viewer role (the data subject's own request) the document is
    returned unchanged (None).
    """
    if context.viewer_role is None:
        return None
    redactor = _Redactor(plugin, context.viewer_role)
    revised = dict(document)
    party = document.get("party")
    kind = ""
    if isinstance(party, Mapping):
        kind = str(party.get("kind", ""))
        revised["party"] = {
            **party,
            "name": redactor.name(kind, party.get("name")),
            "attributes": redactor.attributes(kind, party.get("attributes") or {}),
        }
    if "relationships" in document:
        revised["relationships"] = [
            {**item, "other": redactor.summary_dict(item.get("other"))}
            if isinstance(item, Mapping)
            else item
            for item in _each(document["relationships"])
        ]
    if "roles" in document:
        revised["roles"] = [
            {**item, "context": redactor.summary_dict(item.get("context"))}
            if isinstance(item, Mapping)
            else item
            for item in _each(document["roles"])
        ]
    if "interactions" in document and not redactor.payloads(kind):
        revised["interactions"] = [
            {**item, "payload": {}} if isinstance(item, Mapping) else item
            for item in _each(document["interactions"])
        ]
    return revised
