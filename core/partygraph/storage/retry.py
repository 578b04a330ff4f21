"""Bounded retry, with backoff, of a whole write transaction that lost a race.

Concurrent writers can make a transaction fail through no fault of its own:
SQLite answers "database is locked" when another process held the write lock
for longer than the busy timeout, and PostgreSQL aborts a transaction with a
serialization failure, a deadlock, or a unique violation when a concurrent
transaction inserted the same key first. Such a transaction was rolled back
whole -- nothing of it was committed -- so running it again from the start is
safe, as long as its input can be read again. Everything else is raised at
once: retrying a real error only delays it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs
from sqlalchemy.exc import DBAPIError

__all__ = ["RetryPolicy", "is_transient", "run_with_retry"]

T = TypeVar("T")

# SQLite result codes (the low byte of an extended code): SQLITE_BUSY, SQLITE_LOCKED.
_SQLITE_BUSY_CODES = frozenset({5, 6})
_SQLITE_BUSY_TEXT = ("database is locked", "database table is locked", "database is busy")
# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available,
# unique_violation (another transaction committed the same new key first; a retry
# sees that row and updates it instead of inserting it).
_POSTGRES_TRANSIENT = frozenset({"40001", "40P01", "55P03", "23505"})


def is_transient(error: BaseException) -> bool:
    """Whether *error* says the transaction lost a race with a concurrent writer."""
    original = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in _POSTGRES_TRANSIENT
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES:
        return True
    if type(original).__module__ == "sqlite3":
        text = str(original).lower()
        return any(phrase in text for phrase in _SQLITE_BUSY_TEXT)
    return False


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a transaction that lost a race is run again.

    The wait before retry *n* (1-based) is ``first_delay * 2 ** (n - 1)``, at
    most ``max_delay``, scaled by a random factor in [0.5, 1] so that writers
    that collided do not collide again in step.
    """

    attempts: int = 8
    first_delay: float = 0.02
    max_delay: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number *retry* (1-based)."""
        base = min(self.max_delay, self.first_delay * 2.0 ** (retry - 1))
        return base * (0.5 + random.random() / 2)  # jitter, not secrecy


def run_with_retry(
    attempt: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    can_retry: Callable[[], bool] = lambda: True,
) -> T:
    """Run *attempt* (one whole transaction); run it again while it fails transiently.

    *can_retry* says whether the attempt may run again: false once it has
    consumed input that cannot be read a second time. At most
    ``policy.attempts`` runs; the last error is raised as it is.
    """
    policy = policy or RetryPolicy()
    retry = 0
    while True:
        try:
            return attempt()
        except Exception as error:
            retry += 1
            if retry >= policy.attempts or not is_transient(error) or not can_retry():
                raise
        policy.sleep(policy.delay(retry))
