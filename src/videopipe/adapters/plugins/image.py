"""Image plugins: resize, crop, grayscale and frame statistics (numpy and Pillow)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin

IMAGE_OUT = {"image": "the transformed image, RGB uint8 (H, W, 3)"}


class Resize(Plugin):
    """Resize the image to ``width`` x ``height``, or by ``scale`` (bilinear)."""

    name = "resize"
    description = "Resize the frame to width x height, or by a scale factor."
    outputs = IMAGE_OUT
    params = {
        "width": Param(int | None, None, "target width in pixels"),
        "height": Param(int | None, None, "target height in pixels"),
        "scale": Param(float | None, None, "scale factor, used when width/height are not given"),
    }

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        """Exactly one way of sizing: width and height, or scale (> 0)."""
        sized = params.get("width") is not None and params.get("height") is not None
        scaled = params.get("scale") is not None
        if sized == scaled:
            raise ValueError("give either width and height, or scale")
        if scaled and params["scale"] <= 0:
            raise ValueError(f"scale must be > 0, got {params['scale']}")
        if sized and min(params["width"], params["height"]) < 1:
            raise ValueError("width and height must be >= 1")

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The resized image."""
        image = inputs["image"]
        if self.config["scale"] is not None:
            scale = self.config["scale"]
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        else:
            size = (self.config["width"], self.config["height"])
        resized = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR)
        return {"image": np.asarray(resized)}


class Crop(Plugin):
    """Cut the box ``x1, y1, x2, y2`` (pixels, x2/y2 exclusive) out of the image."""

    name = "crop"
    description = "Cut a fixed box (x1, y1, x2, y2 in pixels) out of the frame."
    outputs = IMAGE_OUT
    params = {
        "x1": Param(int, 0, "left edge"),
        "y1": Param(int, 0, "top edge"),
        "x2": Param(int | None, None, "right edge (exclusive); default: the image's width"),
        "y2": Param(int | None, None, "bottom edge (exclusive); default: the image's height"),
    }

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The cropped image (clipped to the frame)."""
        image = inputs["image"]
        height, width = image.shape[:2]
        x1 = min(max(self.config["x1"], 0), width)
        y1 = min(max(self.config["y1"], 0), height)
        x2 = width if self.config["x2"] is None else min(max(self.config["x2"], x1), width)
        y2 = height if self.config["y2"] is None else min(max(self.config["y2"], y1), height)
        if x2 <= x1 or y2 <= y1:
            raise ValueError(
                f"the crop box ({x1}, {y1}, {x2}, {y2}) is empty on a {width}x{height} frame"
            )
        return {"image": image[y1:y2, x1:x2]}


def luminance(image: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """ITU-R BT.601 luma of an RGB image, float32 in 0..255."""
    rgb = image.astype(np.float32)
    return np.asarray(0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2], np.float32)


class Grayscale(Plugin):
    """Convert to gray (BT.601 luma), kept as 3 equal channels so RGB plugins accept it."""

    name = "grayscale"
    description = "Convert the frame to gray (BT.601 luma), as three equal channels."
    outputs = {**IMAGE_OUT, "gray": "the luma plane, uint8 (H, W)"}

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The gray image (3 channels) and the luma plane."""
        gray = np.clip(np.rint(luminance(inputs["image"])), 0, 255).astype(np.uint8)
        return {"image": np.repeat(gray[..., None], 3, axis=2), "gray": gray}


class FrameStats(Plugin):
    """Per-channel mean and standard deviation, brightness, minimum and maximum."""

    name = "frame_stats"
    description = "Per-channel mean/std, mean brightness (luma), min and max of the frame."
    outputs = {
        "mean": "[r, g, b] channel means",
        "std": "[r, g, b] channel standard deviations",
        "brightness": "mean luma, 0..255",
        "min": "smallest channel value",
        "max": "largest channel value",
    }

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        """The statistics of the image."""
        image = inputs["image"]
        pixels = image.reshape(-1, image.shape[2]).astype(np.float64)
        return {
            "mean": [round(float(value), 4) for value in pixels.mean(axis=0)],
            "std": [round(float(value), 4) for value in pixels.std(axis=0)],
            "brightness": round(float(luminance(image).mean()), 4),
            "min": int(image.min()),
            "max": int(image.max()),
        }
