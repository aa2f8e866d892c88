"""The built-in reducers: scene lists, motion intervals, and per key intervals and counts.

Every interval is a :class:`~videopipe.domain.report.Interval` (``first_frame``,
``last_frame``, ``start_time``, ``end_time``, plus what it is about); every summary made
of intervals says the ``max_gap`` its intervals were joined with. The schemas are in
docs/plugins.md ("Summaries").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from typing import Any

from videopipe.adapters.summaries.intervals import IntervalTracker
from videopipe.domain.report import Interval


class SceneList:
    """The scenes of a video from a node whose output has ``cut`` (a new scene starts).

    A scene starts on the first processed frame and on every frame with ``cut`` true,
    and ends on the processed frame before the next one starts (``last_frame``
    inclusive; ``end_time`` is that frame's timestamp). Summary:
    ``{"scenes": [interval, ...]}``, in order.
    """

    def __init__(self, field: str = "cut") -> None:
        self.field = field
        self._scenes: list[Interval] = []
        self._first: tuple[int, float] | None = None
        self._last: tuple[int, float] | None = None

    def add(self, frame_index: int, timestamp: float, output: Mapping[str, Any]) -> None:
        """Take one processed frame's output."""
        current = self._current()
        if current is not None and output.get(self.field):
            self._scenes.append(current)
            self._first = None
        if self._first is None:
            self._first = (frame_index, timestamp)
        self._last = (frame_index, timestamp)

    def _current(self) -> Interval | None:
        if self._first is None or self._last is None:
            return None
        return Interval(self._first[0], self._last[0], self._first[1], self._last[1])

    def summary(self) -> dict[str, Any]:
        """``{"scenes": [{first_frame, last_frame, start_time, end_time}, ...]}``."""
        current = self._current()
        scenes = self._scenes if current is None else [*self._scenes, current]
        return {"scenes": [scene.to_dict() for scene in scenes]}


class MotionIntervals:
    """When there was motion: intervals of frames whose ``moving`` is true.

    Summary: ``{"max_gap": g, "frames": n, "intervals": [interval, ...]}``, ``frames``
    being how many processed frames had motion.
    """

    def __init__(self, max_gap: int = 0, field: str = "moving") -> None:
        self.field = field
        self._tracker = IntervalTracker(max_gap)
        self._frames = 0

    def add(self, frame_index: int, timestamp: float, output: Mapping[str, Any]) -> None:
        """Take one processed frame's output."""
        moving = bool(output.get(self.field))
        self._frames += moving
        self._tracker.step(frame_index, timestamp, (True,) if moving else ())

    def summary(self) -> dict[str, Any]:
        """The motion intervals so far."""
        return {
            "max_gap": self._tracker.max_gap,
            "frames": self._frames,
            "intervals": [interval.to_dict() for _, interval in self._tracker.intervals()],
        }


@dataclasses.dataclass(slots=True)
class _KeyStats:
    frames: int = 0
    items: int = 0
    max_per_frame: int = 0


class KeyedIntervals:
    """Per key (a payload, an id, a label, a text) its counts and intervals of visibility.

    ``output[items]`` is a list of dicts; each one's ``item[key]`` is what it is about.
    Summary: ``{"max_gap": g, group: [{key: value, "frames": n, "intervals": [...]}]}``
    in the order the keys first appeared (``counts`` adds ``"detections"``, the items
    seen in all, and ``"max_per_frame"``). Each interval carries ``key`` too.
    """

    def __init__(
        self, items: str, key: str, group: str, *, max_gap: int = 0, counts: bool = False
    ) -> None:
        self.items, self.key, self.group, self.counts = items, key, group, counts
        self._tracker = IntervalTracker(max_gap)
        self._stats: dict[Hashable, _KeyStats] = {}

    def add(self, frame_index: int, timestamp: float, output: Mapping[str, Any]) -> None:
        """Take one processed frame's output."""
        on_frame: dict[Hashable, int] = {}
        for item in output.get(self.items) or ():
            value = item.get(self.key) if isinstance(item, Mapping) else None
            if isinstance(value, Hashable) and value is not None:
                on_frame[value] = on_frame.get(value, 0) + 1
        for value, count in on_frame.items():
            stats = self._stats.get(value)
            if stats is None:
                stats = self._stats[value] = _KeyStats()
            stats.frames += 1
            stats.items += count
            stats.max_per_frame = max(stats.max_per_frame, count)
        self._tracker.step(frame_index, timestamp, on_frame)

    def summary(self) -> dict[str, Any]:
        """Per key its counts and intervals so far."""
        intervals: dict[Hashable, list[dict[str, Any]]] = {value: [] for value in self._stats}
        for value, interval in self._tracker.intervals():
            about = dataclasses.replace(interval, about={self.key: value})
            intervals[value].append(about.to_dict())
        entries = []
        for value, stats in self._stats.items():
            entry: dict[str, Any] = {self.key: value, "frames": stats.frames}
            if self.counts:
                entry["detections"] = stats.items
                entry["max_per_frame"] = stats.max_per_frame
            entry["intervals"] = intervals[value]
            entries.append(entry)
        return {"max_gap": self._tracker.max_gap, self.group: entries}


def code_intervals(max_gap: int = 0) -> KeyedIntervals:
    """``qr_decode``: per payload (``text``) its intervals; group ``codes``."""
    return KeyedIntervals("codes", "text", "codes", max_gap=max_gap)


def marker_intervals(max_gap: int = 0) -> KeyedIntervals:
    """``aruco_markers``: per marker ``id`` its intervals; group ``markers``."""
    return KeyedIntervals("markers", "id", "markers", max_gap=max_gap)


def label_intervals(max_gap: int = 0) -> KeyedIntervals:
    """Detectors: per ``label`` its counts and intervals; group ``labels``."""
    return KeyedIntervals("detections", "label", "labels", max_gap=max_gap, counts=True)


def text_intervals(max_gap: int = 0) -> KeyedIntervals:
    """``ocr``: per distinct ``text`` its intervals; group ``texts``."""
    return KeyedIntervals("texts", "text", "texts", max_gap=max_gap)
