"""Plugins over boxes: cut detections out of the frame, and draw results onto it.

Boxes are ``[x1, y1, x2, y2]`` in integer pixel coordinates of the frame, x2/y2
exclusive, as every detector gives them (``{"detections": [{"box", "score",
"label"}]}``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin


@cache
def _opencv() -> Any:
    """OpenCV (draws faster), or None: Pillow is the fallback.

    Imported on first drawing, not with the module: the CLI imports this module on
    every run (for the annotated-video writer's errors), most runs draw nothing.
    """
    try:
        import cv2  # noqa: PLC0415
    except ImportError:  # pragma: no cover - opencv is an optional extra
        return None
    return cv2


PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 56, 56),
    (72, 249, 10),
    (0, 148, 255),
    (255, 178, 29),
    (207, 61, 255),
    (26, 230, 211),
    (255, 112, 31),
    (146, 204, 23),
)
"""RGB colours of the boxes; a caption's label picks one (the same label, the same colour)."""


def clip_box(box: Sequence[float], width: int, height: int, padding: int = 0) -> list[int]:
    """``box`` grown by ``padding`` on each side and clipped to a ``width`` x ``height`` frame."""
    x1, y1, x2, y2 = (round(float(value)) for value in box[:4])
    return [
        min(max(x1 - padding, 0), width),
        min(max(y1 - padding, 0), height),
        min(max(x2 + padding, 0), width),
        min(max(y2 + padding, 0), height),
    ]


class CropBoxes(Plugin):
    """Cut each detection's box (grown by ``padding``, clipped to the frame) out of the image.

    Detections whose box, clipped to the frame, is narrower or shorter than
    ``min_size`` pixels are left out, and so are those whose label is not in
    ``labels`` when it is given. Each crop is ``{"box": [x1, y1, x2, y2], "label",
    "score", "image"}``: ``box`` is the region cut out (padding included), so a point
    ``(x, y)`` of the crop is ``(box[0] + x, box[1] + y)`` in the frame.
    """

    name = "crop_boxes"
    description = "Cut the detections' boxes out of the frame (with padding)."
    inputs = {
        "image": "the frame, RGB uint8 (H, W, 3)",
        "detections": "[{box, score, label}] from a detector",
    }
    outputs = {"crops": "[{box, label, score, image}] in detection order"}
    pixel_outputs = frozenset({"crops"})
    params = {
        "padding": Param(int, 0, "pixels added on each side of a box (clipped to the frame)"),
        "min_size": Param(int, 1, "boxes narrower or shorter than this (pixels) are skipped"),
        "labels": Param(list[str] | None, None, "crop only detections with these labels"),
    }

    def setup(self) -> None:
        """Check the parameters."""
        if self.config["padding"] < 0:
            raise ValueError(f"padding must be >= 0, got {self.config['padding']}")

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The crops of this frame's detections."""
        image = inputs["image"]
        height, width = image.shape[:2]
        wanted = self.config["labels"]
        crops = []
        for detection in inputs["detections"] or ():
            label = str(detection.get("label", ""))
            if wanted is not None and label not in wanted:
                continue
            x1, y1, x2, y2 = clip_box(detection["box"], width, height)
            if min(x2 - x1, y2 - y1) < max(1, self.config["min_size"]):
                continue
            box = clip_box(detection["box"], width, height, self.config["padding"])
            crops.append(
                {
                    "box": box,
                    "label": label,
                    "score": float(detection.get("score", 1.0)),
                    "image": np.ascontiguousarray(image[box[1] : box[3], box[0] : box[2]]),
                }
            )
        return {"crops": crops}


@dataclass(frozen=True, slots=True)
class Shape:
    """One thing to draw: a box, an optional outline polygon and a caption."""

    box: list[int]
    polygon: list[tuple[int, int]] | None
    caption: str
    colour: tuple[int, int, int]


_CAPTION_KEYS = ("label", "text", "data", "id")
_POLYGON_KEYS = ("points", "corners", "polygon")


def shapes_of(items: Iterable[Mapping[str, Any]], *, scores: bool = True) -> list[Shape]:
    """What to draw for result items (detections, codes, texts, markers).

    An item's outline is its ``points``/``corners``/``polygon`` (a list of ``[x, y]``)
    when it has one, and its box is ``box`` or the bounds of that outline; its
    caption is its ``label``, ``text``, ``data`` or ``id`` (the first present), with
    its ``score`` when ``scores`` is true. Items with neither box nor outline are skipped.
    """
    shapes = []
    for item in items:
        polygon = next(
            (
                [(round(float(x)), round(float(y))) for x, y, *_ in item[key]]
                for key in _POLYGON_KEYS
                if item.get(key) is not None and len(item[key]) >= 2
            ),
            None,
        )
        if item.get("box") is not None:
            box = [round(float(value)) for value in item["box"][:4]]
        elif polygon is not None:
            xs, ys = [x for x, _ in polygon], [y for _, y in polygon]
            box = [min(xs), min(ys), max(xs) + 1, max(ys) + 1]
        else:
            continue
        caption = next(
            (str(item[key]) for key in _CAPTION_KEYS if item.get(key) not in (None, "")), ""
        )
        if scores and isinstance(item.get("score"), int | float):
            caption = f"{caption} {float(item['score']):.2f}".strip()
        colour = PALETTE[zlib.crc32(caption.split(" ")[0].encode()) % len(PALETTE)]
        shapes.append(Shape(box, polygon, caption, colour))
    return shapes


def caption_box(
    box: Sequence[int], size: tuple[int, int], frame: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Where a caption of ``size`` (width, height) goes for ``box`` in a ``frame`` (w, h).

    ``(left, top, right, bottom)``, right and bottom exclusive, always inside the frame
    (as much of the caption as fits, for a caption wider or taller than the frame): on
    the box's top edge, outside above it when there is room, else just inside it; its
    left edge on the box's, moved left so that it does not run off the right side.
    """
    width, height = size
    frame_width, frame_height = frame
    x1, y1 = int(box[0]), int(box[1])
    top = y1 - height if y1 - height >= 0 else y1
    top = max(0, min(top, frame_height - height))
    left = max(0, min(x1, frame_width - width))
    return left, top, min(left + width, frame_width), min(top + height, frame_height)


def _draw_opencv(image: npt.NDArray[np.uint8], shapes: list[Shape], thickness: int) -> None:
    _CV2 = _opencv()  # noqa: N806 - the module
    for shape in shapes:
        x1, y1, x2, y2 = shape.box
        _CV2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), shape.colour, thickness)
        if shape.polygon is not None:
            points = np.asarray(shape.polygon, dtype=np.int32).reshape(-1, 1, 2)
            _CV2.polylines(image, [points], True, shape.colour, max(1, thickness // 2))
        if shape.caption:
            font, scale = _CV2.FONT_HERSHEY_SIMPLEX, 0.5
            (text_width, text_height), baseline = _CV2.getTextSize(shape.caption, font, scale, 1)
            left, top, right, bottom = caption_box(
                shape.box, (text_width + 3, text_height + baseline + 3), image.shape[1::-1]
            )
            _CV2.rectangle(image, (left, top), (right - 1, bottom - 1), shape.colour, -1)
            _CV2.putText(
                image, shape.caption, (left + 1, bottom - baseline - 2), font, scale, (0, 0, 0), 1
            )


def _draw_pillow(image: npt.NDArray[np.uint8], shapes: list[Shape], thickness: int) -> None:
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415 - only when drawing

    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for shape in shapes:
        x1, y1, x2, y2 = shape.box
        draw.rectangle((x1, y1, x2 - 1, y2 - 1), outline=shape.colour, width=thickness)
        if shape.polygon is not None:
            draw.polygon(shape.polygon, outline=shape.colour, width=max(1, thickness // 2))
        if shape.caption:
            left, top, right, bottom = draw.textbbox((0, 0), shape.caption, font=font)
            x, y, x_end, y_end = caption_box(
                shape.box, (round(right - left) + 4, round(bottom - top) + 4), canvas.size
            )
            draw.rectangle((x, y, x_end - 1, y_end - 1), fill=shape.colour)
            draw.text((x + 2 - left, y + 2 - top), shape.caption, fill=(0, 0, 0), font=font)
    image[...] = np.asarray(canvas)


class Annotate(Plugin):
    """Draw boxes, outlines and captions of other nodes' results onto a copy of the frame.

    Each input but ``image`` is optional; bind those you have, e.g.
    ``detections: objects.detections``, ``texts: text.texts``. Items are drawn as
    :func:`shapes_of` describes (so any list of dicts with a ``box`` or ``points``
    works), with OpenCV when it is installed, else with Pillow.
    """

    name = "annotate"
    description = "Draw detections, codes, texts and markers onto the frame."
    inputs = {
        "image": "the frame, RGB uint8 (H, W, 3)",
        "detections": "[{box, score, label}] (optional)",
        "codes": "[{box or points, data}] (optional)",
        "texts": "[{box, points, text, score}] (optional)",
        "markers": "[{corners or box, id}] (optional)",
    }
    optional_inputs = frozenset({"detections", "codes", "texts", "markers"})
    outputs = {"image": "the annotated frame, RGB uint8 (H, W, 3)"}
    params = {
        "thickness": Param(int, 2, "line width of the boxes, in pixels"),
        "scores": Param(bool, True, "add each item's score to its caption"),
    }

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """A copy of the frame with every bound input drawn on it."""
        image = np.array(inputs["image"], dtype=np.uint8, copy=True, order="C")
        shapes = []
        for name in ("detections", "codes", "texts", "markers"):
            shapes += shapes_of(inputs.get(name) or (), scores=self.config["scores"])
        thickness = max(1, self.config["thickness"])
        if _opencv() is not None:
            _draw_opencv(image, shapes, thickness)
        else:
            _draw_pillow(image, shapes, thickness)
        return {"image": image}
