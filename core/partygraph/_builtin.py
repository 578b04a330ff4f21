"""The core's own hook implementations: the two universal party kinds and its tables.

Registered on every toolkit before any plugin, under the name ``core``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table

from partygraph.hookspecs import hookimpl
from partygraph.storage.migrations import CORE_MIGRATIONS, MigrationSource
from partygraph.storage.tables import core_tables
from partygraph.vocabulary import DataDeclaration, PartyKind

__all__ = ["CorePlugin"]

PERSON_ATTRIBUTES = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "maxLength": 320},
        "phone": {"type": "string", "maxLength": 64},
        "birth_date": {"type": "string", "format": "date"},
    },
}
ORGANIZATION_ATTRIBUTES = {
    "type": "object",
    "properties": {
        "domain": {"type": "string", "maxLength": 255},
        "industry": {"type": "string", "maxLength": 255},
    },
}


class CorePlugin:
    """Person and organization, the core tables and the core migrations."""

    @hookimpl
    def partygraph_party_kinds(self) -> Iterable[PartyKind]:
        """A natural person (a data subject) and an organisation."""
        return [
            PartyKind(
                "person",
                label="Person",
                description="A natural person: a buyer, a user, an employee, a driver ...",
                attributes=PERSON_ATTRIBUTES,
                personal=True,
            ),
            PartyKind(
                "organization",
                label="Organization",
                description="A company, a public body, a non-profit ...",
                attributes=ORGANIZATION_ATTRIBUTES,
            ),
        ]

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        """What the core's tables hold about people (fideslang data categories)."""
        people = ("customer", "prospect", "employee")
        return [
            DataDeclaration("party", "key", "user.unique_id", subjects=people),
            DataDeclaration("party", "name", "user.name", subjects=people),
            DataDeclaration("party", "attributes.email", "user.contact.email", subjects=people),
            DataDeclaration(
                "party", "attributes.phone", "user.contact.phone_number", subjects=people
            ),
            DataDeclaration(
                "party", "attributes.birth_date", "user.demographic.date_of_birth", subjects=people
            ),
            DataDeclaration(
                "relationship",
                "source_id",
                "user.social",
                subjects=people,
                description="Who is related to whom (household, employer, account).",
            ),
            DataDeclaration(
                "interaction",
                "payload",
                "user.behavior",
                subjects=people,
                description="What happened; each interaction type declares its purposes.",
            ),
            DataDeclaration(
                "participant",
                "party_id",
                "user.behavior",
                subjects=people,
                description="Who took part in an interaction, in which role.",
            ),
        ]

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        """The core's four tables."""
        return core_tables()

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource:
        """The core's revisions."""
        return CORE_MIGRATIONS
