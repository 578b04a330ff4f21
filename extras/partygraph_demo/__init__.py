"""The partygraph demo world: every scenario of the source documents, and a guided tour.

``partygraph demo`` loads the world into a SQLite file with every first-party
plugin enabled and prints, for each scenario, who is the customer and why.
"""

from partygraph_demo.loading import DemoFiles, PrivacyOutcomes, is_demo_database, load_demo
from partygraph_demo.world import AS_OF, world_records

__all__ = [
    "AS_OF",
    "DemoFiles",
    "PrivacyOutcomes",
    "is_demo_database",
    "load_demo",
    "world_records",
]
