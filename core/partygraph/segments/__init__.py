"""Segments: audiences declared in the config, compiled to one SQL statement each.

Declare a segment under ``[segments.<name>]`` with a purpose and a condition;
ask ``toolkit.segment(name)`` for its members. Plugins add what only they can
say in SQL through ``partygraph_segment_predicates`` and
``partygraph_segment_metrics``. See docs/segments.md.
"""

from partygraph.segments.catalog import SegmentCatalog
from partygraph.segments.compiler import SegmentCompiler
from partygraph.segments.model import (
    Condition,
    SegmentDefinition,
    SegmentMetric,
    SegmentPredicate,
    SegmentResult,
    SegmentScope,
)

__all__ = [
    "Condition",
    "SegmentCatalog",
    "SegmentCompiler",
    "SegmentDefinition",
    "SegmentMetric",
    "SegmentPredicate",
    "SegmentResult",
    "SegmentScope",
]
