"""A base class for plugins: the registration hooks every plugin otherwise repeats.

A plugin that stores data writes the same six hooks every time: load the
config schema from a JSON file next to its code, keep its validated settings,
remember the toolkit once it is ready, list the tables of its own metadata,
point at its folder of migrations and return its data declarations.
:class:`PluginBase` implements them from a few class attributes::

    class NotesPlugin(PluginBase):
        name = "notes"
        schema_file = "schema.json"  # next to the module defining the class
        metadata = tables.metadata  # the plugin's own SQLAlchemy MetaData
        migrations_folder = "migrations"  # Alembic revisions, next to the module

        def declarations(self) -> Iterable[DataDeclaration]:
            return [DataDeclaration("notes_note", "text", "user.content")]

        @hookimpl
        def partygraph_roles(self, party, as_of, graph): ...

pluggy collects hook implementations by attribute lookup, so the base class's
hooks are found on every subclass. A subclass customises them through plain
methods (:meth:`PluginBase.configure`, :meth:`PluginBase.ready`,
:meth:`PluginBase.declarations`); a subclass that overrides a hook method
itself must mark the override with ``@hookimpl`` again.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData, Table

from partygraph.errors import PluginError
from partygraph.hookspecs import hookimpl
from partygraph.storage.migrations import MigrationSource
from partygraph.vocabulary import DataDeclaration

if TYPE_CHECKING:
    from partygraph.toolkit import Toolkit

__all__ = ["PluginBase"]


class PluginBase:
    """Configuration, tables, migrations and data declarations from class attributes.

    The toolkit makes one instance per toolkit, so settings and the toolkit
    reference never leak between two toolkits in one process.
    """

    #: The plugin's name: its config section, migration track and table prefix.
    name: ClassVar[str] = ""
    #: The config JSON Schema file, relative to the folder of the subclass's module, or
    #: absolute (None: the plugin takes no settings and registers no schema).
    schema_file: ClassVar[str | None] = None
    #: The plugin's own tables (None: it stores nothing of its own).
    metadata: ClassVar[MetaData | None] = None
    #: The folder of Alembic revision scripts, relative to the subclass's module.
    migrations_folder: ClassVar[str | None] = None

    def __init__(self) -> None:
        #: The validated settings, defaults filled in (empty until configured).
        self.settings: Mapping[str, Any] = {}
        self._toolkit: Toolkit | None = None

    def __dir__(self) -> list[str]:
        # pluggy inspects every name dir() lists; leave out the property that raises.
        return [name for name in super().__dir__() if name != "toolkit"]

    @property
    def toolkit(self) -> Toolkit:
        """The toolkit this plugin serves, once it is open."""
        if self._toolkit is None:
            raise PluginError(f"the {self.name or type(self).__name__} plugin is not open yet")
        return self._toolkit

    @classmethod
    def package_path(cls, relative: str, attribute: str | None = None) -> Path:
        """A path relative to the folder of the module that defines this class.

        With *attribute*, the module of the class in the hierarchy that sets that
        attribute: a subclass defined elsewhere (a test's) keeps its parent's files.
        """
        owner: type = cls
        if attribute is not None:
            owner = next((k for k in cls.__mro__ if attribute in vars(k)), cls)
        module = sys.modules.get(owner.__module__)
        source = inspect.getfile(module) if module is not None else inspect.getfile(owner)
        return Path(source).resolve().parent / relative

    # -- plain methods a subclass overrides --------------------------------------------------

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Check or digest the validated settings (kept on ``self.settings`` already)."""

    def ready(self, toolkit: Toolkit) -> None:
        """Called when the toolkit is open (``self.toolkit`` is set already)."""

    def declarations(self) -> Iterable[DataDeclaration]:
        """What the plugin's tables and attributes hold about people."""
        return ()

    # -- the hooks ------------------------------------------------------------------------------

    @hookimpl
    def partygraph_config_schema(self) -> Mapping[str, Any] | None:
        if self.schema_file is None:
            return None
        path = self.package_path(self.schema_file, "schema_file")
        try:
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise PluginError(
                f"plugin {self.name!r} cannot read its config schema {path}: {error}"
            ) from error
        return loaded

    @hookimpl
    def partygraph_configure(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.configure(settings)

    @hookimpl
    def partygraph_toolkit_ready(self, toolkit: Toolkit) -> None:
        self._toolkit = toolkit
        self.ready(toolkit)

    @hookimpl
    def partygraph_tables(self) -> Iterable[Table]:
        return list(self.metadata.sorted_tables) if self.metadata is not None else []

    @hookimpl
    def partygraph_migrations(self) -> MigrationSource | None:
        if self.migrations_folder is None:
            return None
        if not self.name:
            raise PluginError(f"{type(self).__name__} has migrations but no name")
        return MigrationSource(
            self.name, self.package_path(self.migrations_folder, "migrations_folder")
        )

    @hookimpl
    def partygraph_data_declarations(self) -> Iterable[DataDeclaration]:
        return list(self.declarations())
