"""Bounds on input, so that one bad file or call cannot exhaust memory.

The ``[import]`` section of the config sets them: the longest record
(``max_record_bytes``, one JSON line or CSV row), the deepest nesting of
objects and lists in a record (``max_depth``), the most records in one batch
(``max_batch_size``, which also bounds ``batch_size``) and the most bytes of
records held in one batch (``max_batch_bytes``). A record over a limit is
rejected with its line number and the limit's name, like any invalid record;
a batch size over the limit is refused before anything is read. A value that
one of the two databases cannot store as it is (a NUL character, an integer
beyond 64 bits, an infinite number) is rejected the same way on both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import orjson

from partygraph.errors import ValidationError

__all__ = ["InputLimits", "cut_batches", "nesting_depth", "record_problem"]

Numbered = tuple[int, str, Any]


@attrs.frozen
class InputLimits:
    """The input bounds of one toolkit (``import.*`` in the config)."""

    max_record_bytes: int = 1 << 20
    max_depth: int = 64
    max_batch_size: int = 100_000
    max_batch_bytes: int = 64 << 20

    def check_batch_size(self, size: int, field: str = "batch_size") -> int:
        """*size* if it is a usable batch size; a :class:`ValidationError` otherwise."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValidationError(field, f"must be a positive integer, got {size!r}", size)
        if size > self.max_batch_size:
            raise ValidationError(
                field,
                f"{size} records per batch is over the limit of {self.max_batch_size} "
                "(import.max_batch_size)",
                size,
            )
        return size


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply objects and lists nest in *value* (a scalar is 1); stops past *limit*.

    Iterative, so a pathological value cannot exhaust the interpreter's stack.
    """
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((child, level + 1) for child in item)
    return deepest


#: Integers both databases' JSON columns and the payload encoder hold exactly.
_INT_RANGE = (-(1 << 63), (1 << 63) - 1)


def _unstorable(value: Any) -> str | None:
    """Why a scalar cannot be stored the same way on SQLite and PostgreSQL, or None."""
    if isinstance(value, str):
        return (
            "contains the NUL character (\\u0000), which cannot be stored"
            if "\x00" in value
            else None
        )
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        low, high = _INT_RANGE
        return None if low <= value <= high else "integer out of the 64-bit range"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a JSON number"
    return None


def _first_unstorable(value: Any, path: str) -> str | None:
    """The path to the first value that cannot be stored, with the reason."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                place = f"{where}/{key}"
                problem = _unstorable(key)
                if problem is not None:
                    return f"{place!r}: the name {problem}"
                stack.append((child, place))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}/{index}") for index, child in enumerate(item))
        else:
            problem = _unstorable(item)
            if problem is not None:
                return f"{where}: {problem}"
    return None


def _plainly_storable(body: Any, max_depth: int) -> bool:
    """True when one pass of orjson's encoder shows *body* breaks no limit.

    Sound, not complete: every integer is within 53 bits (orjson refuses
    others), the encoding has no ``\\u0000`` escape, no ``null`` (where orjson
    writes an infinity) and fewer brackets than the depth limit; anything
    else, a false alarm included, gets the full walk. About 1 µs a record
    against 10 µs for the walk.
    """
    try:
        text = orjson.dumps(body, option=orjson.OPT_STRICT_INTEGER)
    except (TypeError, ValueError):
        return False
    if b"null" in text or b"\\u0000" in text:
        return False
    return text.count(b"{") + text.count(b"[") < max_depth


def record_problem(kind: str, body: Any, limits: InputLimits) -> str | None:
    """Why a record body breaks a limit or cannot be stored faithfully, or None.

    Checks nesting depth (``import.max_depth``), and that every string and
    name is free of NUL characters, every integer fits in 64 bits and every
    number is finite: PostgreSQL refuses the former, JSON has no infinity,
    and SQLite would store what PostgreSQL refuses, so both reject alike.
    Most bodies are cleared by one pass of orjson's encoder; the rest are
    walked.
    """
    if _plainly_storable(body, limits.max_depth):
        return None
    stack = [(body, 1)]
    deepest = 0
    suspect = False
    while stack:
        item, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > limits.max_depth:
                return f"{kind}: nested deeper than {limits.max_depth} levels (import.max_depth)"
        if isinstance(item, dict):
            for key, child in item.items():
                suspect = suspect or (isinstance(key, str) and "\x00" in key)
                stack.append((child, level + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, level + 1) for child in item)
        elif not suspect and _unstorable(item) is not None:
            suspect = True
    if suspect:
        return _first_unstorable(body, kind)
    return None


def cut_batches(
    records: Iterable[Numbered],
    size: int,
    max_bytes: int | None = None,
    weigh: Callable[[], int] | None = None,
) -> Iterator[list[Numbered]]:
    """Cut records into lists of at most *size*, and of at most *max_bytes* by *weigh*.

    *weigh* returns the size in bytes of the record just read (a reader's
    count); a batch is cut as soon as it holds *max_bytes* or more.
    """
    batch: list[Numbered] = []
    held = 0
    for record in records:
        batch.append(record)
        if weigh is not None:
            held += weigh()
        if len(batch) >= size or (max_bytes is not None and held >= max_bytes):
            yield batch
            batch = []
            held = 0
    if batch:
        yield batch
