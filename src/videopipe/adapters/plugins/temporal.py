"""Stateful plugins that compare a frame with the previous processed one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from videopipe.adapters.plugins.image import luminance
from videopipe.adapters.summaries import MotionIntervals, SceneList
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer


class Motion(Plugin):
    """Frame difference against the previous processed frame.

    A pixel moved when its luma changed by more than ``threshold``; the frame has
    motion when more than ``min_fraction`` of its pixels moved. ``box`` is the
    bounding box ``[x1, y1, x2, y2]`` (x2/y2 exclusive) of the moved pixels.
    The first frame has no previous frame: no motion.
    """

    name = "motion"
    description = "Frame difference with the previous processed frame: score, flag and box."
    history = 1
    recurrent = False  # reads history[-1].inputs only
    outputs = {
        "score": "fraction of pixels whose luma changed by more than threshold",
        "moving": "score > min_fraction",
        "box": "[x1, y1, x2, y2] around the changed pixels, or null",
    }
    pixel_outputs = frozenset({"box"})
    params = {
        "threshold": Param(float, 25.0, "luma change (0..255) that counts as a moved pixel"),
        "min_fraction": Param(float, 0.001, "fraction of moved pixels that counts as motion"),
    }

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: motion intervals."""
        return MotionIntervals(max_gap)

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The motion between the previous processed frame and this one."""
        image = inputs["image"]
        if not history or history[-1].inputs["image"].shape != image.shape:
            return {"score": 0.0, "moving": False, "box": None}
        changed = np.abs(luminance(image) - luminance(history[-1].inputs["image"]))
        moved = changed > self.config["threshold"]
        score = float(moved.mean())
        box = None
        if moved.any():
            rows = np.flatnonzero(moved.any(axis=1))
            cols = np.flatnonzero(moved.any(axis=0))
            box = [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]
        return {
            "score": round(score, 6),
            "moving": score > self.config["min_fraction"],
            "box": box,
        }


class SceneChange(Plugin):
    """A cut between the previous processed frame and this one, from luma histograms.

    ``score`` is half the L1 distance between the two normalised 64-bin histograms
    (0: identical, 1: disjoint); a cut is a score above ``threshold``.
    """

    name = "scene_change"
    description = "Detect cuts: histogram distance to the previous processed frame."
    history = 1
    recurrent = False  # reads history[-1].inputs only
    outputs = {"score": "0 (same) .. 1 (disjoint) histogram distance", "cut": "score > threshold"}
    params = {"threshold": Param(float, 0.4, "score above which the frame starts a new scene")}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: scene list."""
        return SceneList()

    @staticmethod
    def _histogram(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        counts, _ = np.histogram(luminance(image), bins=64, range=(0.0, 256.0))
        normalised: np.ndarray[Any, Any] = counts / max(1, counts.sum())
        return normalised

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The cut score against the previous processed frame (0 on the first)."""
        if not history:
            return {"score": 0.0, "cut": False}
        score = 0.5 * float(
            np.abs(
                self._histogram(inputs["image"]) - self._histogram(history[-1].inputs["image"])
            ).sum()
        )
        return {"score": round(score, 6), "cut": score > self.config["threshold"]}
