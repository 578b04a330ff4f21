"""Bounds on input, so that one bad file or call cannot exhaust memory.

The ``[import]`` section of the config sets them: the longest record
(``max_record_bytes``, one JSON line or CSV row), the deepest nesting of
objects and lists in a record (``max_depth``), the most records in one batch
(``max_batch_size``, which also bounds ``batch_size``) and the most bytes of
records held in one batch (``max_batch_bytes``). A record over a limit is
rejected with its line number and the limit's name, like any invalid record;
a batch size over the limit is refused before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

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


def record_problem(kind: str, body: Any, limits: InputLimits) -> str | None:
    """Why an in-memory record body breaks a limit (nesting depth), or None."""
    if nesting_depth(body, limits.max_depth) > limits.max_depth:
        return f"{kind}: nested deeper than {limits.max_depth} levels (import.max_depth)"
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
