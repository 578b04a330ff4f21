"""Keyed hashes: pseudonymous references, the audit chain, erased identifiers.

One secret per database. It comes from the config (``secret``), else the
environment (``PARTYGRAPH_PRIVACY_KEY``), else it is generated once and
stored in the database -- the weakest choice, since whoever can edit the
database can then also recompute the audit chain; production deployments
keep the key elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _secrets

from sqlalchemy import Engine, select

from partygraph_privacy import tables

__all__ = ["ENV_VARIABLE", "Keyring", "load_secret"]

ENV_VARIABLE = "PARTYGRAPH_PRIVACY_KEY"


def load_secret(configured: str | None, engine: Engine) -> tuple[bytes, str]:
    """The key and where it came from: ``config``, ``environment`` or ``database``."""
    if configured:
        return configured.encode(), "config"
    from_env = os.environ.get(ENV_VARIABLE)
    if from_env:
        return from_env.encode(), "environment"
    with engine.begin() as connection:
        stored = connection.execute(select(tables.secret.c.value)).scalar()
        if stored is None:
            stored = _secrets.token_hex(32)
            connection.execute(tables.secret.insert(), {"id": 1, "value": stored})
    return str(stored).encode(), "database"


class Keyring:
    """HMAC-SHA256 under the database's privacy key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._refs: dict[tuple[str, str], str] = {}

    def digest(self, *parts: str) -> str:
        """A keyed hash of the parts (hex)."""
        message = "\x1f".join(parts).encode()
        return hmac.digest(self._key, message, hashlib.sha256).hex()

    def ref(self, kind: str, value: object) -> str:
        """A stable pseudonymous reference, e.g. ``ref("party", 42)``; not reversible."""
        key = (kind, str(value))
        found = self._refs.get(key)
        if found is None:
            if len(self._refs) > 500_000:  # bounded: references are cheap to recompute
                self._refs.clear()
            found = self._refs[key] = self.digest("ref", kind, str(value))[:32]
        return found

    def identifier(self, value: str) -> str:
        """The keyed hash of an identifier (a key, an email), normalised."""
        return self.digest("identifier", value.strip().casefold())
