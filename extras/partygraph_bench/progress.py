"""How measurements tell the command line what they are doing (or nobody)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol

__all__ = ["Advance", "Progress", "Silent"]

#: Called with how many units of a task were just done.
Advance = Callable[[int], None]


class Progress(Protocol):
    """Shows one task at a time: a description, and a total when one is known."""

    def task(
        self, description: str, total: int | None = None
    ) -> contextlib.AbstractContextManager[Advance]:
        """A task that lasts as long as the block; the block calls the advance function."""
        ...


class Silent:
    """Progress that shows nothing (library use, tests)."""

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Advance]:
        """A task nobody sees."""
        yield lambda _count: None
