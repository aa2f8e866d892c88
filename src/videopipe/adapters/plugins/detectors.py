"""Classic OpenCV detectors: frontal faces (Haar cascade) and upright people (HOG + SVM).

Both ship with OpenCV itself (no model file to download) and give the detector
result shape the other detectors give::

    {"detections": [{"box": [x1, y1, x2, y2], "score": 5.83, "label": "face"}, ...]}

``box`` is in integer pixel coordinates of the frame, x2/y2 exclusive, clipped to the
frame; detections come best score first. Their ``score`` is the detector's own
confidence, **not** a probability in 0..1: see each class.

Over 300 lines because its two plugins share the detector result shape, the box
clipping and the non-maximum suppression; one module keeps that shape in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, Field

from videopipe.adapters.summaries import label_intervals
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer

FACE_CASCADE = "haarcascade_frontalface_default.xml"
"""The frontal-face cascade in ``cv2.data.haarcascades``."""

HOG_WINDOW = (64, 128)
"""Width and height of the people detector's window, in pixels of the scaled image."""

HOG_CELL = 8
"""The people detector's block stride: its window step must be a multiple of it."""

TIGHT_MARGIN_X = 0.25
TIGHT_MARGIN_Y = 0.125
"""What ``tight`` takes off each side of a people-detector window, as fractions of its
width and height: the 64x128 windows the detector was trained on (Dalal and Triggs,
2005) hold the person with about 16 pixels of margin on all four sides."""


def _multiple_of_cell(value: int) -> int:
    if value % HOG_CELL:
        raise ValueError(f"must be a multiple of {HOG_CELL} (the detector's block stride)")
    return value


ScaleStep = Annotated[float, Field(gt=1.0)]
"""A pyramid step: each level is this much smaller than the previous one (> 1)."""
ImageScale = Annotated[float, Field(gt=0.0, le=8.0)]
PixelSize = Annotated[int, Field(ge=1)]
Overlap = Annotated[float, Field(ge=0.0, le=1.0)]
WindowStride = Annotated[int, Field(ge=HOG_CELL), AfterValidator(_multiple_of_cell)]

IMAGE_SCALE_HELP = (
    "resize the frame by this factor (0 < factor <= 8) before detecting; boxes stay in "
    "frame pixels. 2.0 finds objects half as big at about 4x the time; 0.5 is about 4x "
    "faster on large frames and misses small ones"
)
DETECTIONS_OUT = {
    "detections": "[{box: [x1, y1, x2, y2] frame pixels, score, label}], best score first"
}

Image = npt.NDArray[np.uint8]
Boxes = npt.NDArray[np.float64]
Scores = npt.NDArray[np.float64]


def _opencv() -> Any:
    """The ``cv2`` module (the ``opencv`` extra), imported when a node is set up."""
    import cv2  # noqa: PLC0415 - optional extra, imported only by setup()

    module: Any = cv2
    return module


def _scaled(cv2: Any, image: Image, scale: float) -> Image:
    """``image`` resized by ``scale`` (area averaging down, bilinear up)."""
    if scale == 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized: Image = cv2.resize(image, size, interpolation=interpolation)
    return resized


def _pixels(image: Any) -> Image:
    """The frame as a contiguous uint8 array: gray (H, W) or RGB (H, W, 3)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"the image must be uint8, got {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 4:  # RGBA: drop alpha
        array = array[..., :3]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(f"the image must be (H, W) or (H, W, 3), got shape {array.shape}")
    return np.ascontiguousarray(array)


def non_max_suppression(boxes: Boxes, scores: Scores, overlap: float) -> list[int]:
    """Indices of the boxes (x1, y1, x2, y2) that greedy NMS keeps, best score first.

    A box is dropped when its IoU with a better-scoring kept box is above ``overlap``.
    """
    values = [float(score) for score in scores.tolist()]
    order = sorted(range(len(values)), key=lambda index: (-values[index], index))
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep: list[int] = []
    for index in order:
        if keep:
            kept = boxes[keep]
            width = (
                np.minimum(kept[:, 2], boxes[index, 2]) - np.maximum(kept[:, 0], boxes[index, 0])
            ).clip(0)
            height = (
                np.minimum(kept[:, 3], boxes[index, 3]) - np.maximum(kept[:, 1], boxes[index, 1])
            ).clip(0)
            inter = width * height
            iou = inter / np.maximum(areas[keep] + areas[index] - inter, 1e-9)
            if bool((iou > overlap).any()):
                continue
        keep.append(index)
    return keep


def _detections(
    boxes: Boxes, scores: Scores, label: str, width: int, height: int
) -> list[dict[str, Any]]:
    """Plain-Python detections, frame boxes clipped and rounded, best score first."""
    found: list[tuple[float, list[int]]] = []
    for box, score in zip(boxes.tolist(), scores.tolist(), strict=True):
        x1 = min(max(round(box[0]), 0), width)
        y1 = min(max(round(box[1]), 0), height)
        x2 = min(max(round(box[2]), x1), width)
        y2 = min(max(round(box[3]), y1), height)
        if x2 > x1 and y2 > y1:
            found.append((round(float(score), 6), [x1, y1, x2, y2]))
    found.sort(key=lambda item: (-item[0], item[1]))
    return [{"box": box, "score": score, "label": label} for score, box in found]


def _as_boxes(rects: Any) -> Boxes:
    """OpenCV's (N, 4) x, y, w, h rectangles (or an empty tuple) as x1, y1, x2, y2."""
    xywh = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    return np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])


class FaceDetect(Plugin):
    """Frontal faces, with the Haar cascade OpenCV ships (``haarcascade_frontalface_default``).

    Output: ``{"detections": [{"box": [x1, y1, x2, y2], "score": float, "label":
    "face"}, ...]}``; ``box`` in integer frame pixels, x2/y2 exclusive, clipped to the
    frame, sorted by ``score``, highest first, plain Python values only. ``score`` is
    the cascade's confidence in its last stage (OpenCV's ``levelWeights``, the best of
    the windows grouped into the face): unbounded (it can be negative), about 4-8 for
    clear faces, not a probability.

    The frame is converted to gray (and histogram-equalised when ``equalize``),
    resized by ``image_scale``, and scanned at sizes from ``min_size`` to ``max_size``
    (frame pixels) in steps of ``scale_factor``; a face needs more than
    ``min_neighbors`` overlapping hits. The cascade is loaded once, in :meth:`setup`.
    """

    name = "face_detect"
    description = "Frontal faces with OpenCV's Haar cascade: boxes, scores, label 'face'."
    outputs = DETECTIONS_OUT
    pixel_outputs = frozenset({"detections"})
    params = {
        "scale_factor": Param(ScaleStep, 1.1, "pyramid step between scanned face sizes (> 1)"),
        "min_neighbors": Param(
            Annotated[int, Field(ge=0)], 5, "a face needs more overlapping hits than this"
        ),
        "min_size": Param(PixelSize, 30, "smallest face side, in frame pixels"),
        "max_size": Param(PixelSize | None, None, "largest face side, in frame pixels"),
        "score_threshold": Param(
            float | None, None, "drop faces whose score is below this (default: keep all)"
        ),
        "equalize": Param(
            bool, False, "equalise the gray histogram first (for low-contrast video)"
        ),
        "image_scale": Param(ImageScale, 1.0, IMAGE_SCALE_HELP),
    }
    requires = {"cv2": "opencv"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: per label counts and intervals."""
        return label_intervals(max_gap)

    def setup(self) -> None:
        """Load the cascade (once per run)."""
        cv2 = _opencv()
        path = cv2.data.haarcascades + FACE_CASCADE
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV could not load the face cascade {path}")
        self._cv2: Any = cv2
        self._cascade: Any = cascade

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The faces in this frame, best score first."""
        cv2 = self._cv2
        image = _pixels(inputs["image"])
        height, width = image.shape[:2]
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if self.config["equalize"]:
            gray = cv2.equalizeHist(gray)
        scale = float(self.config["image_scale"])
        gray = _scaled(cv2, gray, scale)
        min_side = max(1, round(self.config["min_size"] * scale))
        max_size = self.config["max_size"]
        max_side = 0 if max_size is None else max(min_side, round(max_size * scale))
        rects, _levels, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=self.config["scale_factor"],
            minNeighbors=self.config["min_neighbors"],
            minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
            outputRejectLevels=True,
        )
        boxes = _as_boxes(rects) / scale
        scores = np.asarray(weights, dtype=np.float64).reshape(-1)
        threshold = self.config["score_threshold"]
        if threshold is not None:
            chosen = scores >= threshold
            boxes, scores = boxes[chosen], scores[chosen]
        return {"detections": _detections(boxes, scores, "face", width, height)}

    def close(self) -> None:
        """Drop the cascade."""
        self._cascade = None


class PersonDetect(Plugin):
    """Upright, whole people, with OpenCV's HOG descriptor and its default people SVM.

    Output: ``{"detections": [{"box": [x1, y1, x2, y2], "score": float, "label":
    "person"}, ...]}``; ``box`` in integer frame pixels, x2/y2 exclusive, clipped to
    the frame, sorted by ``score``, highest first, plain Python values only. ``score``
    is the SVM margin of the best window grouped into the person (how far past the
    decision boundary): unbounded, about 0.5-5, not a probability.

    The detector's window is 64x128 pixels, so at ``image_scale: 1`` it finds people
    about 100 pixels tall or more; ``image_scale: 2`` finds them from about 50 pixels.
    Windows scoring above ``hit_threshold`` are grouped (a person needs more than
    ``min_neighbors`` similar windows; 0 keeps every window). A window holds margins
    around the person; ``tight`` trims them (a quarter of the width off each side, an
    eighth of the height off the top and the bottom: the margins of the detector's
    training windows). Then, of two detections overlapping by more than
    ``nms_overlap`` (IoU), the lower-scoring one is dropped. The HOG descriptor is
    built once, in :meth:`setup`.
    """

    name = "person_detect"
    description = "Upright people with OpenCV's HOG people detector: boxes, scores, 'person'."
    outputs = DETECTIONS_OUT
    pixel_outputs = frozenset({"detections"})
    params = {
        "hit_threshold": Param(float, 0.0, "SVM margin a window must exceed to count as a hit"),
        "min_neighbors": Param(
            Annotated[int, Field(ge=0)], 2, "a person needs more hits than this (0: no grouping)"
        ),
        "scale_factor": Param(ScaleStep, 1.05, "pyramid step between scanned sizes (> 1)"),
        "win_stride": Param(
            WindowStride, 8, "window step in pixels of the scaled image (a multiple of 8)"
        ),
        "nms_overlap": Param(
            Overlap, 0.3, "IoU above which the lower-scoring of two detections is dropped"
        ),
        "score_threshold": Param(
            float | None, None, "drop people whose score is below this (default: keep all)"
        ),
        "tight": Param(bool, True, "trim the detector window's margins off each box"),
        "image_scale": Param(ImageScale, 1.0, IMAGE_SCALE_HELP),
    }
    requires = {"cv2": "opencv"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: per label counts and intervals."""
        return label_intervals(max_gap)

    def setup(self) -> None:
        """Build the HOG descriptor with OpenCV's default people detector (once per run)."""
        cv2 = _opencv()
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._cv2: Any = cv2
        self._hog: Any = hog

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The people in this frame, best score first."""
        image = _pixels(inputs["image"])
        height, width = image.shape[:2]
        scale = float(self.config["image_scale"])
        scaled = _scaled(self._cv2, image, scale)
        if scaled.shape[0] < HOG_WINDOW[1] or scaled.shape[1] < HOG_WINDOW[0]:
            return {"detections": []}  # smaller than one window: nothing can be found
        stride = self.config["win_stride"]
        rects, weights = self._hog.detectMultiScale(
            scaled,
            hitThreshold=self.config["hit_threshold"],
            winStride=(stride, stride),
            padding=(HOG_CELL, HOG_CELL),
            scale=self.config["scale_factor"],
            groupThreshold=self.config["min_neighbors"],
        )
        boxes = _as_boxes(rects) / scale
        scores = np.asarray(weights, dtype=np.float64).reshape(-1)
        threshold = self.config["score_threshold"]
        if threshold is not None:
            chosen = scores >= threshold
            boxes, scores = boxes[chosen], scores[chosen]
        if self.config["tight"] and len(boxes):
            margin_x = (boxes[:, 2] - boxes[:, 0]) * TIGHT_MARGIN_X
            margin_y = (boxes[:, 3] - boxes[:, 1]) * TIGHT_MARGIN_Y
            boxes = boxes + np.column_stack([margin_x, margin_y, -margin_x, -margin_y])
        keep = non_max_suppression(boxes, scores, self.config["nms_overlap"])
        boxes, scores = boxes[keep].reshape(-1, 4), scores[keep]
        return {"detections": _detections(boxes, scores, "person", width, height)}

    def close(self) -> None:
        """Drop the HOG descriptor."""
        self._hog = None
