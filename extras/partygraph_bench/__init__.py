"""partygraph's benchmark: ``partygraph bench``.

Generates a seeded synthetic world that exercises every first-party plugin and
measures ingest, single writes, reads, analytics and privacy requests, each
against a baseline measured in the same run (the standard library's
``sqlite3`` or psycopg's ``COPY``, a naive SQLModel ORM, the raw SQL). Figures
that matter are ratios: absolute times on a shared machine are noise.
"""

from __future__ import annotations
