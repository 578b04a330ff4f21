"""Read-access audit entries held in the toolkit and appended to the chain in batches.

Writing each read's audit entry in a transaction of its own costs a write
transaction per view (``BEGIN IMMEDIATE``, the chain head, an insert, a
commit): about as much as the rest of a view. With ``audit.reads =
"buffered"`` (the default) a read's entry is made at once -- its time, actor,
subject and purpose, all as keyed references -- and kept in memory; the
pending entries are appended to the chain, in the order of the reads and
each with the time of its read:

- when ``audit.read_batch`` entries are pending, or the oldest has waited
  ``audit.read_seconds`` (checked at the next read);
- before any other audit entry, in the same transaction: every write,
  refused write, request step and erasure therefore appears in the chain
  after the reads that preceded it. If that transaction rolls back, the
  entries return to the buffer and go with the next append;
- when the toolkit closes, and at interpreter exit;
- before :func:`~partygraph_privacy.audit.verify`, ``anchor`` and ``entries``
  read the chain.

The durability window is what a crash can lose: at most ``read_batch - 1``
read entries of a process killed without closing its toolkit. With
``audit.reads = "immediate"`` every read is appended in its own transaction
before the read returns, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["PendingRead", "ReadLog"]


class PendingRead(NamedTuple):
    """One read's audit entry as given, before its place in the chain.

    The actor and the subject are kept as given (an actor name, a party id) and
    turned into keyed references when the entry is appended: a read pays for a
    tuple, the append for the hashing, in batches. A named tuple, because one is
    made per read.
    """

    at: datetime
    actor: str | None
    action: str
    subject_id: int | None
    purpose: str | None
    detail: Mapping[str, Any] | None


class ReadLog:
    """The pending read entries of one toolkit (thread-safe)."""

    def __init__(self, batch: int, seconds: float) -> None:
        self.batch = batch
        self.seconds = seconds
        self._lock = threading.Lock()
        self._pending: list[PendingRead] = []
        self._since = 0.0  # monotonic time the oldest pending entry was added

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, entry: PendingRead) -> bool:
        """Keep *entry*; True when the pending entries are due to be appended."""
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._since = now
            self._pending.append(entry)
            return len(self._pending) >= self.batch or now - self._since >= self.seconds

    def take(self) -> list[PendingRead]:
        """Every pending entry, oldest first; the buffer is empty after."""
        if not self._pending:  # nothing to hand over: no lock needed to say so
            return []
        with self._lock:
            taken, self._pending = self._pending, []
            return taken

    def restore(self, entries: Sequence[PendingRead]) -> None:
        """Put back entries whose transaction rolled back, ahead of newer ones."""
        if not entries:
            return
        with self._lock:
            if not self._pending:
                self._since = time.monotonic()
            self._pending[:0] = entries
