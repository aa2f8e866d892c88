"""Value objects: what a frame, a video and a result are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]
"""An RGB image: a ``uint8`` array of shape ``(height, width, 3)`` (or, in a frame whose
``format`` is ``"gray"``, a luma image of shape ``(height, width)``)."""

FRAME_FORMATS = ("rgb24", "gray")
"""The pixel formats a decoder hands frames out in: ``rgb24`` (RGB, ``(H, W, 3)``, the
default) and ``gray`` (the luma plane, ``(H, W)``: what a pipeline that only reads
brightness asks for, so the decoder skips its RGB conversion)."""
FULL_RANGE = (0, 255)
LIMITED_RANGE = (16, 235)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    ``index`` counts every frame stored in the video stream from 0 in presentation
    order, whether or not it was selected; ``timestamp`` is its presentation time in
    seconds from the start of the video stream, taken from the stream's own
    timestamps and rounded to the microsecond.
    """

    index: int
    timestamp: float
    image: RGBImage
    source_size: tuple[int, int] | None = None
    """``(width, height)`` of the frame in the video when the decoder scaled it down
    (:class:`FrameSize`); ``None``: the image is at the video's own size."""
    format: str = "rgb24"
    """What ``image`` holds (:data:`FRAME_FORMATS`): ``rgb24`` unless the pipeline asked
    for ``gray`` (:attr:`FrameSize.format`)."""
    luma_range: tuple[int, int] = FULL_RANGE
    """In a ``gray`` frame, the values of black and white: ``(16, 235)`` when the decoder
    handed out the video's own (limited-range) luma plane unconverted, ``(0, 255)`` for
    full-range luma (FFmpeg's ``gray``)."""

    @property
    def scale(self) -> tuple[float, float]:
        """``(sx, sy)``: multiply an image x by ``sx`` (y by ``sy``) to get source pixels."""
        if self.source_size is None:
            return (1.0, 1.0)
        return (self.source_size[0] / self.width, self.source_size[1] / self.height)

    @property
    def height(self) -> int:
        """Rows in the image."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Columns in the image."""
        return int(self.image.shape[1])


def _even(value: float) -> int:
    """``value`` rounded to the nearest even number, at least 2 (chroma-subsampling safe)."""
    return max(2, 2 * round(value / 2))


def _even_floor(*bounds: int | None) -> int:
    """The largest even number within every bound given (at least 2)."""
    smallest = min(bound for bound in bounds if bound is not None)
    return max(2, smallest - smallest % 2)


@dataclass(frozen=True, slots=True)
class FrameSize:
    """The frame a pipeline works on: the size and pixel format the decoder hands out.

    Each key given is a bound, and the smallest factor any of them asks for wins:
    ``max_side`` (the longer side at most that many pixels), ``width`` / ``height``
    (at most that wide / high), ``scale`` (a factor in ``(0, 1]``). The aspect ratio is
    kept, both sides are rounded to the nearest even number within the bounds, and a
    frame is never enlarged: a video already within every bound is decoded at its own
    size. ``format`` (:data:`FRAME_FORMATS`) is ``rgb24`` unless the pipeline reads only
    brightness: ``gray`` has the decoder hand out the luma plane without an RGB
    conversion (a size without bounds, ``FrameSize(format="gray")``, keeps the video's).
    """

    max_side: int | None = None
    width: int | None = None
    height: int | None = None
    scale: float | None = None
    format: str = "rgb24"

    def __post_init__(self) -> None:
        for name in ("max_side", "width", "height"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 2
            ):
                raise ValueError(f"frame {name} must be an integer >= 2, got {value!r}")
        if self.scale is not None and (
            isinstance(self.scale, bool)
            or not isinstance(self.scale, int | float)
            or not 0 < self.scale <= 1
        ):
            raise ValueError(f"frame scale must be a number in (0, 1], got {self.scale!r}")
        if self.format not in FRAME_FORMATS:
            raise ValueError(
                f"frame format must be one of {', '.join(FRAME_FORMATS)}, got {self.format!r}"
            )
        bounds = (self.max_side, self.width, self.height, self.scale)
        if bounds == (None, None, None, None) and self.format == "rgb24":
            raise ValueError("a frame size needs max_side, width, height, scale or format")

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The ``(width, height)`` a ``width`` x ``height`` frame is decoded at."""
        factor = 1.0 if self.scale is None else float(self.scale)
        if self.max_side is not None:
            factor = min(factor, self.max_side / max(width, height))
        if self.width is not None:
            factor = min(factor, self.width / width)
        if self.height is not None:
            factor = min(factor, self.height / height)
        if factor >= 1.0:
            return (width, height)
        widest = _even_floor(width, self.width, self.max_side)
        highest = _even_floor(height, self.height, self.max_side)
        out_width, out_height = _even(width * factor), _even(height * factor)
        if out_width > widest or out_height > highest:
            # Rounding up broke a bound: shrink to the side that fits, keeping the aspect.
            factor = min(widest / width, highest / height)
            out_width, out_height = _even(width * factor), _even(height * factor)
        return (min(out_width, widest), min(out_height, highest))


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a decoder learned about a video before its first frame.

    ``width`` and ``height`` are those of the decoded frames, after the rotation
    stored in the file's metadata has been applied. ``frame_count`` is the number
    the container declares, when it declares one; it is not a promise (a truncated
    file holds fewer frames), which is why decoders check it at the end.
    """

    path: str
    width: int
    height: int
    codec: str
    fps: float | None = None
    duration: float | None = None
    frame_count: int | None = None
    rotation: int = 0
    container: str | None = None
    interlaced: bool = False


@dataclass(frozen=True, slots=True)
class FrameSelection:
    """Which frames to decode: ``start``, ``start + step``, ... below ``stop``.

    ``stop`` is exclusive and ``None`` means the end of the video. Decoders use it to
    skip work on frames nobody asked for.
    """

    start: int = 0
    stop: int | None = None
    step: int = 1

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError(f"start must be >= 0, got {self.start}")
        if self.step < 1:
            raise ValueError(f"step must be >= 1, got {self.step}")
        if self.stop is not None and self.stop < self.start:
            raise ValueError(f"stop must be >= start, got {self.stop} < {self.start}")

    @classmethod
    def every(cls, step: int = 1, max_count: int | None = None) -> FrameSelection:
        """Every ``step``-th frame from 0, at most ``max_count`` of them."""
        stop = None if max_count is None else max_count * step - (step - 1)
        return cls(0, None if stop is None else max(stop, 0), step)

    def contains(self, index: int) -> bool:
        """Whether frame ``index`` is selected."""
        if index < self.start or (self.stop is not None and index >= self.stop):
            return False
        return (index - self.start) % self.step == 0

    def is_past(self, index: int) -> bool:
        """Whether no frame at or after ``index`` is selected."""
        return self.stop is not None and index >= self.stop

    @property
    def count(self) -> int | None:
        """How many frames are selected, if ``stop`` is known."""
        if self.stop is None:
            return None
        return max(0, -(-(self.stop - self.start) // self.step))


@dataclass(frozen=True, slots=True)
class FrameResult:
    """The runner's output for one frame.

    ``error`` is set (and ``result`` is ``None``) only for a frame skipped under the
    ``skip`` error policy: ``{"type": ..., "message": ..., "attempts": ...}``.
    """

    frame_index: int
    timestamp: float
    result: dict[str, Any] | None
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The seed contract's shape: ``{"frame_index": i, "result": output}``.

        A skipped frame also has ``"error"``.
        """
        item: dict[str, Any] = {"frame_index": self.frame_index, "result": self.result}
        if self.error is not None:
            item["error"] = self.error
        return item
