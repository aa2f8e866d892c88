"""Reducers: how a node's per-frame outputs fold into its per-video summary.

The built-in plugins declare theirs (``Plugin.reducer``) from here; a third-party
plugin may reuse them (:class:`KeyedIntervals` for anything with a list of labelled
items, :class:`MotionIntervals` for a boolean flag, :class:`SceneList` for cuts).
"""

from videopipe.adapters.summaries.builtin import (
    KeyedIntervals,
    MotionIntervals,
    SceneList,
    code_intervals,
    label_intervals,
    marker_intervals,
    text_intervals,
)
from videopipe.adapters.summaries.intervals import IntervalTracker, check_max_gap

__all__ = [
    "IntervalTracker",
    "KeyedIntervals",
    "MotionIntervals",
    "SceneList",
    "check_max_gap",
    "code_intervals",
    "label_intervals",
    "marker_intervals",
    "text_intervals",
]
