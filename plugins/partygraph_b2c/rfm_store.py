"""The stored RFM scale: kept in the database so every process scores views alike.

A view scores one customer against the boundaries of the last population
scoring (:class:`~partygraph_b2c.analytics.RfmScale`). They are kept in
``b2c_rfm_scale``, one row per analytics purpose, rather than in memory. So
opening a toolkit costs nothing, a command-line view reads them with one
primary-key lookup, and a refresh made by one process (``refresh_rfm``, the
population analytics) serves every other.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, bindparam, delete, insert, select

from partygraph.storage.prepared import Prepared
from partygraph_b2c.analytics import RfmScale
from partygraph_b2c.tables import rfm_scale

__all__ = ["load_scale", "store_scale"]

_table = rfm_scale
_load = Prepared(select(_table).where(_table.c.purpose == bindparam("purpose")))
_drop = Prepared(delete(_table).where(_table.c.purpose == bindparam("purpose")))
_add = Prepared(insert(_table))


def load_scale(connection: Connection, purpose: str | None) -> RfmScale | None:
    """The stored scale for *purpose*, or None when no population scoring was stored."""
    row = _load.first(connection, {"purpose": purpose or ""})
    if row is None:
        return None
    return RfmScale(
        row.cut,
        purpose,
        int(row.population),
        tuple(date.fromisoformat(day) for day in row.recency),
        tuple(int(value) for value in row.frequency),
        tuple(float(value) for value in row.monetary),
    )


def store_scale(connection: Connection, scale: RfmScale) -> None:
    """Replace the stored scale of *scale*'s purpose (inside the caller's transaction)."""
    purpose = scale.purpose or ""
    _drop.execute(connection, {"purpose": purpose})
    _add.execute(
        connection,
        {
            "purpose": purpose,
            "cut": scale.cut,
            "population": scale.population,
            "recency": [day.isoformat() for day in scale.recency],
            "frequency": list(scale.frequency),
            "monetary": list(scale.monetary),
        },
    )
