"""Intervals of visibility, built frame after frame: what is open, what has closed.

:class:`IntervalTracker` is told, on each processed frame, which keys (a QR payload, a
marker id, a label, a text, or one key for "there was motion") were seen on it. A key's
interval stays open while it is seen, and across up to ``max_gap`` processed frames on
which it is not; then it closes. Only the open intervals and the closed ones are kept,
never the frames: memory grows with the answer, not with the video.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from videopipe.domain.report import Interval


@dataclass(slots=True)
class _Run:
    """One key's open interval (mutable while it grows)."""

    number: int  # the order intervals opened in: ties on first_frame keep it
    first_frame: int
    start_time: float
    last_frame: int
    end_time: float
    last_position: int  # the processed frame (0, 1, 2, ...) it was last seen on


def check_max_gap(max_gap: object) -> int:
    """``max_gap`` as an int >= 0, or ``ValueError``."""
    if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
        raise ValueError(f"max_gap must be an integer >= 0, got {max_gap!r}")
    return max_gap


class IntervalTracker:
    """Per key, the intervals of processed frames on which it was seen.

    Processed frames are counted in the order they are fed: with a frame stride,
    consecutive processed frames are adjacent, and a frame that was not fed (skipped
    under the ``skip`` policy) neither breaks nor extends an interval.
    """

    def __init__(self, max_gap: int = 0) -> None:
        self.max_gap = check_max_gap(max_gap)
        self._position = -1
        self._opened = 0
        self._open: dict[Hashable, _Run] = {}
        self._closed: list[tuple[int, Hashable, Interval]] = []

    def step(self, frame_index: int, timestamp: float, seen: Iterable[Hashable]) -> None:
        """The keys seen on the next processed frame (repeats count once)."""
        self._position += 1
        position = self._position
        for key in seen:
            run = self._open.get(key)
            if run is None:
                self._open[key] = _Run(
                    self._opened, frame_index, timestamp, frame_index, timestamp, position
                )
                self._opened += 1
            else:
                run.last_frame, run.end_time, run.last_position = (
                    frame_index,
                    timestamp,
                    position,
                )
        stale = [
            key for key, run in self._open.items() if position - run.last_position > self.max_gap
        ]
        for key in stale:
            run = self._open.pop(key)
            self._closed.append((run.number, key, _interval(run)))

    def intervals(self) -> list[tuple[Hashable, Interval]]:
        """Every interval so far (open ones end on their last frame), by start, then key."""
        found = list(self._closed)
        found.extend((run.number, key, _interval(run)) for key, run in self._open.items())
        found.sort(key=lambda item: (item[2].first_frame, item[0]))
        return [(key, interval) for _, key, interval in found]


def _interval(run: _Run) -> Interval:
    return Interval(run.first_frame, run.last_frame, run.start_time, run.end_time)
