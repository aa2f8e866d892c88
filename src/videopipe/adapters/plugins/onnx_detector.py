"""Object detection with a user-supplied YOLO model in ONNX format (onnxruntime, CPU).

Every detector plugin gives the same shape of result::

    {"detections": [{"box": [x1, y1, x2, y2], "score": 0.91, "label": "person"}, ...]}

``box`` is in integer pixel coordinates of the *frame* (x2/y2 exclusive, clipped to
the frame), ``score`` a float in 0..1, ``label`` the class name (or the class index
as a string when no names are known). Detections come best score first.

Over 300 lines because pre-processing (letterbox), the model's output layouts and the
post-processing (decode, non-maximum suppression, un-letterbox) must agree on one
geometry; one module keeps it in one place.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image
from pydantic import AfterValidator

from videopipe.adapters.quiet import quiet_if_asked
from videopipe.adapters.summaries import label_intervals
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer

try:  # OpenCV resizes faster; Pillow is the fallback
    import cv2 as _cv2_module

    _CV2: Any = _cv2_module
except ImportError:  # pragma: no cover - opencv is an optional extra
    _CV2 = None

FloatArray = npt.NDArray[np.float32]
PAD_VALUE = 114
"""Grey of the letterbox borders (the value YOLO models are trained with)."""
DEFAULT_INPUT_SIZE = (640, 640)


def _existing_file(path: str) -> str:
    if not Path(path).expanduser().is_file():
        raise ValueError(
            "no ONNX model file at this path (give the path of an exported .onnx model)"
        )
    return path


ModelPath = Annotated[str, AfterValidator(_existing_file)]
"""A path that must name an existing file when the pipeline loads."""


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the model input: ``input = frame * scale + pad``."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes: FloatArray, width: int, height: int) -> npt.NDArray[np.int64]:
        """``boxes`` (N, 4) x1, y1, x2, y2 in input pixels -> integer frame pixels, clipped."""
        frame = np.empty_like(boxes)
        frame[:, [0, 2]] = (boxes[:, [0, 2]] - self.pad_x) / self.scale_x
        frame[:, [1, 3]] = (boxes[:, [1, 3]] - self.pad_y) / self.scale_y
        frame[:, [0, 2]] = np.clip(frame[:, [0, 2]], 0, width)
        frame[:, [1, 3]] = np.clip(frame[:, [1, 3]], 0, height)
        return np.rint(frame).astype(np.int64)


def resize_rgb(image: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """``image`` resized to ``width`` x ``height`` (bilinear)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    if _CV2 is not None:
        resized: npt.NDArray[np.uint8] = _CV2.resize(
            image, (width, height), interpolation=_CV2.INTER_LINEAR
        )
        return resized
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def letterbox(
    image: npt.NDArray[np.uint8], width: int, height: int, *, keep_ratio: bool = True
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """``image`` fitted into ``width`` x ``height``: scaled, and padded when the ratio is kept."""
    frame_height, frame_width = image.shape[:2]
    if not keep_ratio:
        transform = Letterbox(width / frame_width, height / frame_height, 0.0, 0.0)
        return resize_rgb(image, width, height), transform
    scale = min(width / frame_width, height / frame_height)
    new_width = max(1, round(frame_width * scale))
    new_height = max(1, round(frame_height * scale))
    left = (width - new_width) // 2
    top = (height - new_height) // 2
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_height, left : left + new_width] = resize_rgb(
        image, new_width, new_height
    )
    return canvas, Letterbox(new_width / frame_width, new_height / frame_height, left, top)


def non_max_suppression(
    boxes: FloatArray, scores: FloatArray, iou_threshold: float
) -> npt.NDArray[np.int64]:
    """Indices of the boxes (x1, y1, x2, y2) kept by greedy NMS, best score first."""
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        width = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]),
            0,
            None,
        )
        height = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]),
            0,
            None,
        )
        overlap = width * height
        iou = overlap / np.maximum(areas[best] + areas[rest] - overlap, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def decode_predictions(
    output: npt.NDArray[Any], output_format: str
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64], int]:
    """Boxes (N, 4: x1, y1, x2, y2 in input pixels), scores, class ids and class count.

    ``yolov8``: (1, 4 + C, N) rows cx, cy, w, h, then C class scores.
    ``yolov5``: (1, N, 5 + C) columns cx, cy, w, h, objectness, then C class scores
    (the score is objectness * class score).
    """
    predictions = np.asarray(output, dtype=np.float32)
    if predictions.ndim == 3 and predictions.shape[0] == 1:
        predictions = predictions[0]
    if predictions.ndim != 2:
        expected = "(1, 4 + classes, N)" if output_format == "yolov8" else "(1, N, 5 + classes)"
        raise ValueError(
            f"the model's output has shape {tuple(np.shape(output))}; "
            f"a {output_format} model gives {expected}"
        )
    if output_format == "yolov8":
        predictions = predictions.T
        first_class = 4
    else:
        first_class = 5
    if predictions.shape[1] <= first_class:
        raise ValueError(
            f"the model's output has shape {tuple(np.shape(output))}: no class scores "
            f"for the {output_format} format"
        )
    class_scores = predictions[:, first_class:]
    if output_format == "yolov5":
        class_scores = class_scores * predictions[:, 4:5]
    class_ids = np.argmax(class_scores, axis=1).astype(np.int64)
    scores = class_scores[np.arange(len(class_ids)), class_ids].astype(np.float32)
    centre_x, centre_y, width, height = (predictions[:, index] for index in range(4))
    boxes = np.stack(
        [centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2],
        axis=1,
    ).astype(np.float32)
    return boxes, scores, class_ids, class_scores.shape[1]


def _labels_from_metadata(metadata: Mapping[str, str]) -> list[str] | None:
    """Class names an Ultralytics export stores as ``names: {0: 'person', ...}``."""
    try:
        names = ast.literal_eval(metadata["names"])
    except (KeyError, ValueError, SyntaxError):
        return None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        return [str(names[index]) for index in range(len(names))]
    if isinstance(names, list):
        return [str(name) for name in names]
    return None


class OnnxDetect(Plugin):
    """Detect objects with a YOLO model exported to ONNX, run by onnxruntime on the CPU.

    The frame is letterboxed into the model's input (scaled to fit, centred on grey
    borders; ``letterbox: false`` stretches it instead), normalised to 0..1 and fed as
    NCHW float32 RGB. The output is read as ``yolov8`` (Ultralytics YOLOv8/v11:
    (1, 4 + C, N)) or ``yolov5`` ((1, N, 5 + C), with objectness). Candidates under
    ``score_threshold`` are dropped, overlapping ones of the same class (or of any
    class, with ``agnostic_nms``) merged by non-maximum suppression, and boxes mapped
    back to frame pixels: ``{"detections": [{"box", "score", "label"}]}`` (see the
    module docstring). Class names come from ``labels``, else from the model's
    metadata (``names``, as Ultralytics writes it), else the class index. Models exported
    with NMS built in (end-to-end outputs such as (1, 300, 6)) are not read. ``model``
    is a path (relative to the working directory) checked when the pipeline loads.
    """

    name = "onnx_detect"
    description = "Detect objects with a YOLO (v5/v8) ONNX model on the CPU (onnxruntime)."
    outputs = {"detections": "[{box: [x1, y1, x2, y2] frame pixels, score, label}], best first"}
    pixel_outputs = frozenset({"detections"})
    params = {
        "model": Param(ModelPath, help="path of the .onnx model file"),
        "format": Param(
            Literal["yolov8", "yolov5"],
            "yolov8",
            "output layout: yolov8 (1, 4+C, N) or yolov5 (1, N, 5+C) with objectness",
        ),
        "input_size": Param(
            tuple[int, int] | None,
            None,
            "model input [width, height]; default: the model's own, else 640 x 640",
        ),
        "letterbox": Param(bool, True, "keep the aspect ratio (grey borders) or stretch"),
        "labels": Param(list[str] | None, None, "class names, by class index"),
        "score_threshold": Param(float, 0.25, "smallest score kept (0..1)"),
        "iou_threshold": Param(float, 0.45, "overlap (IoU) above which NMS drops a box"),
        "agnostic_nms": Param(bool, False, "suppress overlaps across classes too"),
        "max_detections": Param(int, 300, "most detections returned per frame"),
        "threads": Param(int | None, None, "onnxruntime intra-op threads; default: all cores"),
    }
    requires = {"onnxruntime": "onnx"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: per label counts and intervals."""
        return label_intervals(max_gap)

    def setup(self) -> None:
        """Open the model in an onnxruntime CPU session and read its input."""
        # An optional dependency, imported on use; it has no type information.
        import onnxruntime  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: PLC0415

        path = Path(self.config["model"]).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"ONNX model not found: {str(path)!r} (parameter 'model' of {self.name})"
            )
        quiet_if_asked()  # onnxruntime's own default logger, now that it is imported
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if self.config["threads"] is not None:
            options.intra_op_num_threads = self.config["threads"]
        self.session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        model_input = self.session.get_inputs()[0]
        if len(model_input.shape) != 4:
            raise ValueError(
                f"{path.name}: the model's input {model_input.name!r} has shape "
                f"{model_input.shape}, not NCHW (1, 3, height, width)"
            )
        self.input_name: str = model_input.name
        self.input_dtype = np.float16 if model_input.type == "tensor(float16)" else np.float32
        if self.config["input_size"] is not None:
            width, height = self.config["input_size"]
            self.input_size: tuple[int, int] = (int(width), int(height))
        else:
            height, width = model_input.shape[2:]
            static = isinstance(width, int) and isinstance(height, int)
            self.input_size = (width, height) if static else DEFAULT_INPUT_SIZE
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.labels: list[str] | None = self.config["labels"] or _labels_from_metadata(metadata)

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The detections on this frame, best score first."""
        image = np.asarray(inputs["image"], dtype=np.uint8)
        height, width = image.shape[:2]
        fitted, transform = letterbox(image, *self.input_size, keep_ratio=self.config["letterbox"])
        tensor = (fitted.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        output = self.session.run(
            None, {self.input_name: np.ascontiguousarray(tensor, dtype=self.input_dtype)}
        )[0]
        boxes, scores, class_ids, classes = decode_predictions(output, self.config["format"])
        if self.labels is not None and len(self.labels) != classes:
            raise ValueError(
                f"the model scores {classes} classes but {len(self.labels)} labels were given"
            )
        chosen = scores >= self.config["score_threshold"]
        boxes, scores, class_ids = boxes[chosen], scores[chosen], class_ids[chosen]
        if not self.config["agnostic_nms"] and len(boxes):
            # Shift each class to its own region so NMS only compares boxes of one class.
            offsets = class_ids.astype(np.float32)[:, None] * (float(np.abs(boxes).max()) + 1.0)
            keep = non_max_suppression(boxes + offsets, scores, self.config["iou_threshold"])
        else:
            keep = non_max_suppression(boxes, scores, self.config["iou_threshold"])
        keep = keep[: self.config["max_detections"]]
        frame_boxes = transform.to_frame(boxes[keep], width, height)
        detections = []
        for box, score, class_id in zip(frame_boxes, scores[keep], class_ids[keep], strict=True):
            if box[2] <= box[0] or box[3] <= box[1]:
                continue  # entirely outside the frame (in the letterbox border)
            label = self.labels[class_id] if self.labels is not None else str(int(class_id))
            detections.append(
                {
                    "box": [int(value) for value in box],
                    "score": round(float(score), 6),
                    "label": label,
                }
            )
        return {"detections": detections}

    def close(self) -> None:
        """Drop the onnxruntime session."""
        self.__dict__.pop("session", None)
