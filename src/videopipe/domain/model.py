"""Value objects: what a frame, a video and a result are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]
"""An RGB image: a ``uint8`` array of shape ``(height, width, 3)``."""


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

    @property
    def height(self) -> int:
        """Rows in the image."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Columns in the image."""
        return int(self.image.shape[1])


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
