"""Shot boundaries: hard cuts, dissolves and fades, as three small plugins and a scene list.

``shot_signature`` (stateless) shrinks each frame to a :class:`Signature`;
``shot_evidence`` (history 32) judges whether a boundary ends on this frame from the
signatures before it; ``shot_boundary`` (history 10) keeps the first frame of each
dissolve. None reads its own earlier outputs: every result depends on the 42 frames
before it at most (``history_frames``), so executors may split a video anywhere (even
inside a dissolve) and warm each part up. :func:`scene_list` turns per-frame results into scenes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from videopipe.adapters.plugins import shot_evidence as evidence
from videopipe.adapters.plugins.shot_features import signature
from videopipe.adapters.summaries import SceneList
from videopipe.domain.model import FrameResult, FrameSize
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer

DISSOLVE_LAGS = (3, 4, 5, 6, 8, 10, 13, 17, 22, 28)
"""How far back a dissolve's first frame may be (frames), shortest first."""
KINDS = ("cut", "dissolve", "fade")


class ShotSignature(Plugin):
    """A frame's shot signature: a small luma grid of its picture area (bars cut off).

    The frame is sampled with a stride (no full-size conversion): a frame that arrives
    small is not shrunk again. It declares the ``gray`` frame format: in a pipeline
    where no other node reads the image, the decoder hands out the luma plane and
    skips its RGB conversion (an RGB frame works the same).
    """

    name = "shot_signature"
    description = "Shrink the frame to the small signature shot_evidence compares."
    inputs = {
        "image": "the frame: luma (H, W) or RGB (H, W, 3), uint8",
        "luma_range": "black and white of a luma image (frame.luma_range)",
    }
    outputs = {"signature": "the frame's Signature (luma grids, picture area, level)"}

    @classmethod
    def frame_size(cls, params: Mapping[str, Any]) -> FrameSize | None:
        """The luma plane at the video's size: no RGB conversion."""
        return FrameSize(format="gray")

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The signature of this frame."""
        return {"signature": signature(inputs["image"], luma_range=inputs["luma_range"])}


class ShotEvidence(Plugin):
    """Whether a shot boundary ends on this frame, judged from the 32 frames before it.

    A **cut**: the picture's content (an 18x32 luma grid, brightness and contrast
    removed, letterbox bars cut off) differs from the previous frame's by more than
    ``threshold``, even once a camera move of up to 4x2 grid cells is undone, and this
    is neither the end of an interruption (the frame matches one 2-4 frames back: a
    flash, a strobe) nor a flash starting (brighter, darker nowhere: judged on the next
    frame, so such a cut is reported one frame late). A **fade**: the first frame with
    content after featureless ones (black, white), unlike the last one with content
    before them. A **dissolve**: the frames between an earlier frame (3..28 back) and
    this one are blends of the two, each within ``residual`` of the line between them,
    with blend weights rising steadily.

    Defaults were chosen on the evaluation set (``tests/scenes/evalset.py``, 640x360):
    hard cuts measured content distances of 0.5 and more, steps inside shots (fast
    pans, handheld shake, flashes, dark scenes) 0.32 and less once the move is undone;
    dissolves fitted blends within 0.03-0.36, while at 0.33 a zoom passed as a dissolve.
    """

    name = "shot_evidence"
    description = "Judge whether a cut, dissolve or fade ends on this frame."
    inputs = {"signature": "the frame's signature (shot_signature.signature)"}
    outputs = {
        "kind": "cut, dissolve or fade ending here, or null",
        "score": "the boundary's content distance (0 same .. 2), or the step from the last frame",
    }
    params = {
        "threshold": Param(
            float,
            0.4,
            "content distance (1 - correlation, 0..2) between two shots; lower finds cuts "
            "between similar shots, and calls fast motion a cut sooner",
        ),
        "residual": Param(
            float,
            0.3,
            "how far a dissolve's frames may be from a pure blend of its ends (relative); "
            "higher finds dissolves over moving shots, and calls camera moves dissolves",
        ),
        "dissolves": Param(
            bool, True, "look for dissolves (off: cuts and fades only, a little cheaper)"
        ),
    }
    history = 32
    recurrent = False  # reads the signatures (inputs) of the entries it is shown only

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The boundary (if any) that ends on this frame."""
        window = [entry.inputs["signature"] for entry in history]
        window.append(inputs["signature"])
        if len(window) < 2:
            return {"kind": None, "score": 0.0}
        threshold = self.config["threshold"]
        found = evidence.fade(window, threshold, full=len(history) == self.history)
        step = evidence.hard_cut(window, threshold)
        if found.kind is None:
            found = step
        if found.kind is None and self.config["dissolves"]:
            found = evidence.dissolve(window, DISSOLVE_LAGS, threshold, self.config["residual"])
        score = found.score if found.kind else step.distance
        return {"kind": found.kind, "score": round(score, 4)}


class ShotBoundary(Plugin):
    """The shot boundaries: every cut and fade, and the first frame of each dissolve.

    A dissolve is reported on the first frame that shows it, unless the 10 frames
    before showed a boundary already (a dissolve is seen on several frames in a row).
    """

    name = "shot_boundary"
    description = "Report each shot boundary once: score, cut flag and kind."
    inputs = {
        "kind": "the evidence on this frame (shot_evidence.kind)",
        "score": "its score (shot_evidence.score)",
    }
    outputs = {
        "score": "content distance: to the previous frame, or across the boundary",
        "cut": "a new shot starts on this frame",
        "kind": "cut, dissolve or fade when a new shot starts here, else null",
    }
    history = 10
    recurrent = False  # reads the evidence (inputs) of the entries it is shown only

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: scene list."""
        return SceneList()

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """Whether a new shot starts on this frame."""
        kind = inputs["kind"]
        if kind == "dissolve" and any(entry.inputs["kind"] for entry in history):
            kind = None
        return {"score": inputs["score"], "cut": kind is not None, "kind": kind}


def scene_list(
    results: Iterable[Mapping[str, Any] | FrameResult],
    *,
    node: str = "scene",
    fps: float | None = None,
) -> list[dict[str, Any]]:
    """The scenes of a video from its per-frame results of the ``scenes`` pipeline.

    ``results`` are :class:`FrameResult` values or dicts with ``frame_index``,
    ``result`` and ``timestamp`` (without timestamps, give ``fps``). A scene starts
    on the first frame and on every frame whose ``result[node]["cut"]`` is true; it
    ends on the frame before the next one starts (``end_frame`` inclusive) and at the
    next scene's start time (the last one: one frame after its last frame).
    Returns ``[{"start_frame", "end_frame", "start_time", "end_time"}]``.
    """
    frames: list[tuple[int, float, bool]] = []
    for item in results:
        if isinstance(item, FrameResult):
            index, stamp, result = item.frame_index, item.timestamp, item.result
        else:
            index, result = int(item["frame_index"]), item.get("result")
            given = item.get("timestamp")
            if given is None and fps is None:
                raise ValueError("results without timestamps need fps= to time the scenes")
            stamp = float(given) if given is not None else index / (fps or 1.0)
        cut = bool(result and result.get(node, {}).get("cut"))
        frames.append((index, float(stamp), cut))
    if not frames:
        return []
    starts = [position for position, (_, _, cut) in enumerate(frames) if cut or position == 0]
    step = (frames[-1][1] - frames[0][1]) / max(1, len(frames) - 1) if len(frames) > 1 else 0.0
    scenes = []
    for number, position in enumerate(starts):
        following = starts[number + 1] if number + 1 < len(starts) else None
        last = frames[(following if following is not None else len(frames)) - 1]
        end_time = frames[following][1] if following is not None else last[1] + step
        scenes.append(
            {
                "start_frame": frames[position][0],
                "end_frame": last[0],
                "start_time": round(frames[position][1], 6),
                "end_time": round(end_time, 6),
            }
        )
    return scenes
