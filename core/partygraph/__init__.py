"""partygraph: relationship management where "customer" is a role, not a record.

A minimal core of parties, relationships and interactions; plugins (found
through the ``partygraph.plugins`` entry-point group) compute who plays which
role -- customer, consumer, economic buyer, rider, internal customer -- and
say why. Start with :func:`open`.
"""

from importlib.metadata import PackageNotFoundError, version

from partygraph.config import Config, ConfigWarning
from partygraph.errors import (
    ConfigError,
    ConfigViolation,
    NotFoundError,
    PartygraphError,
    PluginError,
    RecordError,
    StorageError,
    UserError,
    ValidationError,
    WriteRefused,
    WriteWithheld,
)
from partygraph.hookspecs import hookimpl
from partygraph.kit import PluginBase
from partygraph.model import (
    Context,
    Interaction,
    Participant,
    Party,
    PartyRef,
    PartySummary,
    Relationship,
    RelationshipView,
    RoleAssignment,
    RoleKind,
    WriteContext,
    converter,
)
from partygraph.plugins import PluginInfo
from partygraph.reading import GraphReader, once_per_read
from partygraph.segments import SegmentMetric, SegmentPredicate, SegmentResult, SegmentScope
from partygraph.storage.migrations import MigrationSource
from partygraph.toolkit import PartyView, RecordsRejected, Toolkit, check_config, open
from partygraph.vocabulary import (
    Cardinality,
    DataDeclaration,
    InteractionType,
    PartyKind,
    RecordType,
    RelationshipType,
    Vocabulary,
)
from partygraph.writing import Rejection, WriteBatch, WriteReport, WriteSession

try:
    __version__ = version("partygraph")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

__all__ = [
    "Cardinality",
    "Config",
    "ConfigError",
    "ConfigViolation",
    "ConfigWarning",
    "Context",
    "DataDeclaration",
    "GraphReader",
    "Interaction",
    "InteractionType",
    "MigrationSource",
    "NotFoundError",
    "Participant",
    "Party",
    "PartyKind",
    "PartyRef",
    "PartySummary",
    "PartyView",
    "PartygraphError",
    "PluginBase",
    "PluginError",
    "PluginInfo",
    "RecordError",
    "RecordType",
    "RecordsRejected",
    "Rejection",
    "Relationship",
    "RelationshipType",
    "RelationshipView",
    "RoleAssignment",
    "RoleKind",
    "SegmentMetric",
    "SegmentPredicate",
    "SegmentResult",
    "SegmentScope",
    "StorageError",
    "Toolkit",
    "UserError",
    "ValidationError",
    "Vocabulary",
    "WriteBatch",
    "WriteContext",
    "WriteRefused",
    "WriteReport",
    "WriteSession",
    "WriteWithheld",
    "__version__",
    "check_config",
    "converter",
    "hookimpl",
    "once_per_read",
    "open",
]
