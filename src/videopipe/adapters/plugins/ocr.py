"""Text recognition (OCR) with RapidOCR: PP-OCR detection and recognition models in ONNX.

The models are the ones the ``rapidocr`` wheel ships inside its package; they are
passed to RapidOCR by path, so nothing is ever downloaded (no network at run time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from videopipe.adapters.quiet import quiet_if_asked
from videopipe.adapters.summaries import text_intervals
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.summaries import Reducer

MODEL_TASKS = ("det", "rec", "cls")


def bundled_models() -> dict[str, Path]:
    """The ONNX models the installed ``rapidocr`` ships: task (det, rec, cls) -> path.

    A model's task is the ``_det``/``_rec``/``_cls`` part of its file name (RapidOCR
    names them so, e.g. ``PP-OCRv6_det_small.onnx``); when a task has several files
    (models downloaded next to the shipped ones), the one of the OCR version RapidOCR
    is configured for wins.
    """
    # An optional dependency (extra ``ocr``), imported on use.
    import rapidocr  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    package = Path(rapidocr.__file__).resolve().parent
    preferred = _configured_versions(package)
    found: dict[str, Path] = {}
    files = sorted((package / "models").glob("*.onnx"))
    for task in MODEL_TASKS:
        candidates = [path for path in files if f"_{task}" in path.stem.lower()]
        if not candidates:
            continue
        version = preferred.get(task)
        matching = [path for path in candidates if version and version in path.stem]
        found[task] = (matching or candidates)[0]
    return found


def _configured_versions(package: Path) -> dict[str, str]:
    """Task -> ``ocr_version`` in RapidOCR's own default configuration (if readable)."""
    try:
        config = yaml.safe_load((package / "config.yaml").read_text(encoding="utf-8"))
        sections = {"det": config["Det"], "rec": config["Rec"], "cls": config["Cls"]}
        return {task: str(section["ocr_version"]) for task, section in sections.items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}


def reading_order(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``texts`` sorted top to bottom, then left to right within a line.

    Texts belong to one line when their vertical centres are closer than half the
    height of the line's first text.
    """
    remaining = sorted(texts, key=lambda item: (item["box"][1] + item["box"][3], item["box"][0]))
    ordered: list[dict[str, Any]] = []
    while remaining:
        first = remaining[0]
        centre = (first["box"][1] + first["box"][3]) / 2
        tolerance = max(1.0, (first["box"][3] - first["box"][1]) / 2)
        line = [
            item
            for item in remaining
            if abs((item["box"][1] + item["box"][3]) / 2 - centre) < tolerance
        ]
        ordered += sorted(line, key=lambda item: (item["box"][0], item["box"][1]))
        remaining = [item for item in remaining if all(item is not other for other in line)]
    return ordered


class Ocr(Plugin):
    """Read the text in the frame, or in each crop of a ``crop_boxes`` node.

    Each text found is ``{"text", "score", "box": [x1, y1, x2, y2], "points": [[x, y]
    x 4]}`` in frame pixels (x2/y2 exclusive; ``points`` the corners of its possibly
    rotated quadrilateral, clockwise from the top left), sorted top to bottom, then
    left to right. With ``crops`` bound, each crop is read on its own and its texts are
    mapped back to the frame; they also carry ``crop``, the index of their crop.

    Text is detected at the image's own size, scaled down when its longer side is over
    ``max_side`` pixels. Texts recognised with a score under ``text_score`` are left out.
    """

    name = "ocr"
    description = "Read text (RapidOCR, PP-OCR ONNX models) in the frame or in crops."
    inputs = {
        "image": "the frame, RGB uint8 (H, W, 3)",
        "crops": "[{box, image}] from crop_boxes (optional): read these instead of the frame",
    }
    optional_inputs = frozenset({"crops"})
    outputs = {
        "texts": "[{text, score, box: [x1, y1, x2, y2], points: [[x, y] x 4]}] in reading "
        "order (and crop: the crop's index, when crops are bound)"
    }
    pixel_outputs = frozenset({"texts"})
    params = {
        "text_score": Param(float, 0.5, "smallest recognition score kept (0..1)"),
        "box_threshold": Param(float, 0.5, "smallest text-region detection score (0..1)"),
        "max_side": Param(int, 1920, "longer side (pixels) above which images are scaled down"),
        "angle_classifier": Param(bool, False, "also read upside-down text (slower)"),
        "threads": Param(int | None, None, "onnxruntime intra-op threads; default: all cores"),
    }
    requires = {"rapidocr": "ocr", "onnxruntime": "ocr"}

    @classmethod
    def reducer(cls, params: Mapping[str, Any], *, max_gap: int = 0) -> Reducer:
        """The node's summary: distinct texts with their intervals."""
        return text_intervals(max_gap)

    def setup(self) -> None:
        """Create the RapidOCR engine from the shipped models and load them."""
        # An optional dependency (extra ``ocr``), imported on use.
        from rapidocr import RapidOCR  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

        quiet_if_asked()  # RapidOCR's logger (a warning per frame without text)
        models = bundled_models()
        needed = ("det", "rec", "cls") if self.config["angle_classifier"] else ("det", "rec")
        missing = [task for task in needed if task not in models]
        if missing:
            raise FileNotFoundError(
                f"the installed rapidocr package ships no {'/'.join(missing)} model; "
                "reinstall it: pip install --force-reinstall --no-deps rapidocr"
            )
        # Every shipped model goes by path, even the unused classifier: some RapidOCR
        # versions open it anyway, and a model left to RapidOCR may be looked up online.
        self.model_paths: dict[str, Path] = models
        max_side = self.config["max_side"]
        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "Global.use_cls": self.config["angle_classifier"],
            "Global.text_score": self.config["text_score"],
            "Global.max_side_len": max_side,
            "Det.limit_type": "max",
            "Det.limit_side_len": max_side,
            "Det.box_thresh": self.config["box_threshold"],
        }
        for task, path in self.model_paths.items():
            params[f"{task.capitalize()}.model_path"] = str(path)
        if self.config["threads"] is not None:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.config["threads"]
        self.engine = RapidOCR(params=params)
        # Recent RapidOCR versions load each model on first use: load them now, once.
        for task in needed:
            loader = getattr(self.engine, f"_load_{task}_model", None)
            if callable(loader):
                loader()

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The texts of the frame (or of its crops), in reading order."""
        image = np.asarray(inputs["image"], dtype=np.uint8)
        height, width = image.shape[:2]
        crops = inputs.get("crops")
        if crops is None:
            regions: list[tuple[int | None, int, int, npt.NDArray[np.uint8]]] = [
                (None, 0, 0, image)
            ]
        else:
            regions = [
                (
                    index,
                    int(crop["box"][0]),
                    int(crop["box"][1]),
                    np.asarray(crop["image"], np.uint8),
                )
                for index, crop in enumerate(crops)
            ]
        texts = []
        for index, left, top, region in regions:
            for text, score, quad in self._read(region):
                corners = np.clip(quad + np.array([left, top]), 0, [width, height])
                box = [
                    math.floor(float(corners[:, 0].min())),
                    math.floor(float(corners[:, 1].min())),
                    math.ceil(float(corners[:, 0].max())),
                    math.ceil(float(corners[:, 1].max())),
                ]
                if box[2] <= box[0] or box[3] <= box[1]:
                    continue
                item: dict[str, Any] = {
                    "text": text,
                    "score": round(score, 6),
                    "box": box,
                    "points": [[round(float(x)), round(float(y))] for x, y in corners],
                }
                if index is not None:
                    item["crop"] = index
                texts.append(item)
        return {"texts": reading_order(texts)}

    def close(self) -> None:
        """Drop the RapidOCR engine (and its onnxruntime sessions)."""
        self.__dict__.pop("engine", None)

    def _read(
        self, region: npt.NDArray[np.uint8]
    ) -> list[tuple[str, float, npt.NDArray[np.float64]]]:
        """(text, score, corners (4, 2)) of each text RapidOCR finds in ``region`` (RGB)."""
        if region.ndim != 3 or min(region.shape[:2]) < 2:
            return []
        result = self.engine(np.ascontiguousarray(region[..., ::-1]))  # RapidOCR takes BGR
        boxes, txts, scores = (getattr(result, key, None) for key in ("boxes", "txts", "scores"))
        if boxes is None or txts is None or scores is None:
            return []
        return [
            (str(text), float(score), np.asarray(quad, dtype=np.float64).reshape(-1, 2))
            for quad, text, score in zip(boxes, txts, scores, strict=True)
            if str(text).strip()
        ]
