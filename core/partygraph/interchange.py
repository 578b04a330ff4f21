"""The JSON Lines interchange format: one record per line, its type the only key.

::

    {"party": {"key": "alice", "kind": "person", "name": "Alice Moreau"}}
    {"relationship": {"type": "stakeholder_of", "source": "alice", "target": "acme"}}
    {"interaction": {"type": "meeting", "occurred_at": "2026-02-01T10:00:00Z",
                     "participants": [{"party": "alice", "role": "attendee"}]}}

Reading is streaming and bounded (:mod:`partygraph.limits`): a line longer
than ``import.max_record_bytes``, or nested deeper than ``import.max_depth``
(:data:`MAX_DEPTH` by default), is rejected with its line number instead of
being loaded into memory. CSV files of parties (``partygraph import --kind``)
are read with the same bounds by :func:`read_csv_parties`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import orjson

from partygraph.errors import UserError
from partygraph.limits import InputLimits, record_problem

__all__ = ["MAX_DEPTH", "JsonlReader", "Unreadable", "read_csv_parties", "read_jsonl"]

#: Deepest accepted nesting of objects and lists in one record, by default.
MAX_DEPTH = InputLimits().max_depth


@attrs.frozen
class Unreadable:
    """A line that is not a record; the pipeline rejects it with ``reason``."""

    reason: str


@attrs.define
class JsonlReader:
    """Streams ``(line number, record type, body)`` from a JSON Lines source."""

    stream: IO[bytes]
    max_record_bytes: int
    close_stream: bool = False
    bytes_read: int = 0
    total_bytes: int | None = None
    max_depth: int = MAX_DEPTH
    #: Size in bytes of the line last read (what a batch of records holds).
    last_record_bytes: int = 0

    def records(self) -> Iterator[tuple[int, str, Any]]:
        """Every non-blank line as a record, or as :class:`Unreadable` with the reason."""
        limits = InputLimits(max_depth=self.max_depth)
        try:
            for number, (size, raw) in enumerate(self._lines(), start=1):
                self.bytes_read += size
                self.last_record_bytes = size
                if raw is None or size > self.max_record_bytes:
                    yield (
                        number,
                        "<unreadable>",
                        Unreadable(
                            f"record is {size} bytes; the limit is {self.max_record_bytes} "
                            "(import.max_record_bytes)"
                        ),
                    )
                    continue
                line = raw.strip()
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:].strip()  # a UTF-8 byte order mark, as some editors write
                if not line:
                    continue
                yield number, *self._parse(line, limits)
        finally:
            if self.close_stream:
                self.stream.close()

    def _lines(self) -> Iterator[tuple[int, bytes | None]]:
        """``(size, line)`` for each line; ``(size, None)`` for one too long to hold."""
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
                yield skipped, None
                continue
            yield len(raw), raw

    @staticmethod
    def _parse(line: bytes, limits: InputLimits) -> tuple[str, Any]:
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
        problem = record_problem(str(kind), body, limits)
        if problem is not None:
            return "<unreadable>", Unreadable(problem)
        return kind, body


def read_jsonl(
    source: str | Path | IO[bytes],
    max_record_bytes: int = 1 << 20,
    max_depth: int = MAX_DEPTH,
) -> JsonlReader:
    """A reader over a file path or a binary stream."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            stream: IO[bytes] = path.open("rb")
        except OSError as error:
            raise UserError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
        return JsonlReader(stream, max_record_bytes, True, 0, path.stat().st_size, max_depth)
    return JsonlReader(source, max_record_bytes, max_depth=max_depth)


def read_csv_parties(
    path: str | Path, kind: str, max_record_bytes: int = 1 << 20
) -> Iterator[tuple[int, str, Any]]:
    """``(line, "party", body)`` for every row of a CSV file with a ``key`` column.

    Columns other than ``key`` and ``name`` become attributes (empty cells are
    left out). A CSV row may span lines, so a damaged file cannot be resumed
    after the damage: a row over ``max_record_bytes``, text that is not UTF-8 or
    a malformed row stops the import with a :class:`UserError` naming the line.
    """
    where = str(path)
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 -- closed by the with below
    except OSError as error:
        raise UserError(f"cannot read {where!r}: {error.strerror or error}") from None
    with handle:
        lines = _bounded_text_lines(handle, where, max_record_bytes)
        reader = csv.DictReader(lines, strict=True)
        row_start = 1  # the line the row being read starts on
        try:
            if reader.fieldnames is None or "key" not in reader.fieldnames:
                raise UserError(f"{where}: a CSV import needs a header row with a 'key' column")
            row_start = reader.line_num + 1
            for row in reader:
                attributes = {
                    column: value
                    for column, value in row.items()
                    if column not in {"key", "name"}
                    and isinstance(column, str)
                    and value not in ("", None)
                }
                body = {
                    "key": row["key"],
                    "kind": kind,
                    "name": row.get("name") or None,
                    "attributes": attributes,
                }
                yield row_start, "party", body
                row_start = reader.line_num + 1
        except csv.Error as error:
            raise UserError(f"{where}: line {row_start}: not valid CSV: {error}") from None


def _bounded_text_lines(handle: IO[bytes], where: str, limit: int) -> Iterator[str]:
    """Decoded lines of a binary file, none of them longer than *limit* bytes."""
    for number, raw in enumerate(iter(lambda: handle.readline(limit + 2), b""), start=1):
        if len(raw) > limit:
            raise UserError(
                f"{where}: line {number}: longer than {limit} bytes (import.max_record_bytes)"
            )
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise UserError(
                f"{where}: line {number}: not UTF-8 text (byte {error.start + 1})"
            ) from None
