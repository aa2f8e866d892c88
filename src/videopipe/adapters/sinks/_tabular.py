"""What the tabular sinks (CSV, Parquet) share: rows held, parts written, one commit.

A frame's rows are held until ``rows_per_part`` of them are (at a frame's end); then
they become one complete part file (``_parts``). ``close`` writes the rows still held
and commits the parts into the output. A format says how a part is written and how
the parts are merged; CSV also streams to stdout (no parts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from videopipe.adapters.signals import signals_deferred
from videopipe.adapters.sinks._parts import PartStore, kept_parts
from videopipe.adapters.sinks._rows import Row, rows_of
from videopipe.domain.model import FrameResult


class TabularSink:
    """A sink of rows in parts, committed at ``close``; a format fills in the hooks.

    ``path=None`` (where a format allows it) streams instead: :meth:`_stream` is called
    after every frame and once more at ``close``. ``rows`` counts the rows this sink
    was given.
    """

    format = ""
    suffix = ""

    def __init__(
        self, path: str | None, *, resume: bool = False, rows_per_part: int = 10_000
    ) -> None:
        self.path = path
        self.rows_per_part = rows_per_part
        self.buffer: list[Row] = []
        self.rows = 0
        self.store = None if path is None else PartStore(path, self.suffix, resume=resume)
        self.closed = False

    @property
    def location(self) -> str:
        """The file's path, or ``<stdout>``."""
        return "<stdout>" if self.path is None else self.path

    def write(self, video: str, item: FrameResult) -> None:
        """Take one frame's rows (a part is written when enough rows are held)."""
        rows = rows_of(video, item)
        self.buffer.extend(rows)
        self.rows += len(rows)
        if self.store is None:
            self._stream()
        elif len(self.buffer) >= self.rows_per_part:
            self._flush()

    def _flush(self) -> None:
        if self.store is None or not self.buffer:
            return
        write = self._part(self.buffer)
        self.buffer.clear()
        with signals_deferred():
            self.store.add(write)

    def close(self) -> None:
        """Write the rows held and commit the file (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self.store is None:
            self._stream()
            return
        self._flush()
        with signals_deferred():
            self._committing(self.store.path)
            self.store.commit(self._merge)

    def _part(self, rows: Sequence[Row]) -> Callable[[str], None]:
        """What writes ``rows`` as one part file (given its path); ``rows`` is reused after."""
        raise NotImplementedError

    def _merge(self, parts: Sequence[str], target: str) -> None:
        """Write the output ``target`` from the complete ``parts``, in order."""
        raise NotImplementedError

    def _stream(self) -> None:
        """Send the rows held to the stream (a sink with no path)."""
        raise NotImplementedError

    def _committing(self, path: str) -> None:
        """What goes beside ``path`` before it is committed (nothing, by default)."""


def kept_frames(
    path: str, suffix: str, read_frames: Callable[[str], Iterator[tuple[str, FrameResult]]]
) -> Iterator[tuple[str, FrameResult]]:
    """What a resumed output continues (its complete parts, else the committed file), read."""
    for part in kept_parts(path, suffix):
        yield from read_frames(part)


__all__ = ["TabularSink", "kept_frames"]
