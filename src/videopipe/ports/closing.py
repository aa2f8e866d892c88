"""The closing capability: what holds resources and releases them with ``close()``.

Runners, executors, readers and the iterators they return may have it; code that is
handed any of them closes it through :func:`close_if_closeable`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


@runtime_checkable
class Closeable(Protocol):
    """Holds something (a decoder, a thread, a process) until :meth:`close`."""

    def close(self) -> None:
        """Release what it holds; safe to call more than once."""
        ...


def close_if_closeable(thing: object) -> None:
    """``thing.close()`` when it has one (a generator, a reader); nothing otherwise."""
    if isinstance(thing, Closeable):
        thing.close()


@contextlib.contextmanager
def closed_after(thing: T) -> Iterator[T]:
    """Yield ``thing``, then close it if it can be closed (a generator, a reader)."""
    try:
        yield thing
    finally:
        close_if_closeable(thing)
