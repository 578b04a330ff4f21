"""The JSON Lines interchange format: one record per line, its type the only key.

::

    {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau"}}
    {"relationship": {"type": "stakeholder_of", "source": "alice", "target": "acme"}}
    {"interaction": {"type": "meeting", "occurred_at": "2026-02-01T10:00:00Z",
                     "participants": [{"party": "alice", "role": "attendee"}]}}

Reading is streaming and bounded: a line longer than the configured limit, or
nested deeper than :data:`MAX_DEPTH`, is rejected with its line number
instead of being loaded into memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import orjson

from partygraph.errors import UserError

__all__ = ["MAX_DEPTH", "JsonlReader", "Unreadable", "read_jsonl"]

#: Deepest accepted nesting of objects and lists in one record.
MAX_DEPTH = 64


@attrs.frozen
class Unreadable:
    """A line that is not a record; the pipeline rejects it with ``reason``."""

    reason: str


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


@attrs.define
class JsonlReader:
    """Streams ``(line number, record type, body)`` from a JSON Lines source."""

    stream: IO[bytes]
    max_record_bytes: int
    close_stream: bool = False
    bytes_read: int = 0
    total_bytes: int | None = None

    def records(self) -> Iterator[tuple[int, str, Any]]:
        """Every non-blank line as a record, or as :class:`Unreadable` with the reason."""
        try:
            for number, raw in enumerate(self._lines(), start=1):
                self.bytes_read += len(raw)
                if len(raw) > self.max_record_bytes:
                    yield (
                        number,
                        "<unreadable>",
                        Unreadable(
                            f"record is {len(raw)} bytes; the limit is {self.max_record_bytes} "
                            "(import.max_record_bytes)"
                        ),
                    )
                    continue
                line = raw.strip()
                if not line:
                    continue
                yield number, *self._parse(line)
        finally:
            if self.close_stream:
                self.stream.close()

    def _lines(self) -> Iterator[bytes]:
        limit = self.max_record_bytes + 2
        while True:
            raw = self.stream.readline(limit)
            if not raw:
                return
            if len(raw) >= limit and not raw.endswith(b"\n"):
                # Too long: skip the rest of this line without holding it in memory.
                skipped = len(raw)
                while True:
                    rest = self.stream.readline(1 << 20)
                    skipped += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield bytes(skipped)  # only its length matters
                continue
            yield raw

    @staticmethod
    def _parse(line: bytes) -> tuple[str, Any]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            return "<unreadable>", Unreadable(f"not valid JSON: {error}")
        if not isinstance(record, dict) or len(record) != 1:
            return "<unreadable>", Unreadable(
                'a record is an object with exactly one key, its type (e.g. {"party": {...}})'
            )
        ((kind, body),) = record.items()
        if not isinstance(body, dict):
            return "<unreadable>", Unreadable(f"{kind}: must be an object")
        if _depth(body, MAX_DEPTH) > MAX_DEPTH:
            return "<unreadable>", Unreadable(f"{kind}: nested deeper than {MAX_DEPTH} levels")
        return kind, body


def read_jsonl(source: str | Path | IO[bytes], max_record_bytes: int = 1 << 20) -> JsonlReader:
    """A reader over a file path or a binary stream."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            stream: IO[bytes] = path.open("rb")
        except OSError as error:
            raise UserError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
        return JsonlReader(stream, max_record_bytes, True, 0, path.stat().st_size)
    return JsonlReader(source, max_record_bytes)
