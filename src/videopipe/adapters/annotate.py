"""Annotated videos: a pipeline's boxes and labels drawn on each processed frame.

:func:`drawable_items` finds what to draw in any result, :func:`draw_result` draws it
(with the ``annotate`` plugin's look), and :class:`AnnotatedVideoWriter` encodes the
frames with the one video writer (:mod:`videopipe.adapters.ffmpeg.writer`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from fractions import Fraction
from types import TracebackType
from typing import Any

import numpy as np

from videopipe.adapters.ffmpeg.writer import VideoWriteError, VideoWriter
from videopipe.adapters.plugins.boxes import Annotate
from videopipe.adapters.signals import signals_deferred
from videopipe.domain.errors import VideoPipeError
from videopipe.domain.model import RGBImage
from videopipe.ports.plugins import FrameContext

_SHAPE_KEYS = ("box", "points", "corners", "polygon")
_CAPTION_KEYS = ("label", "text", "data", "id")


class AnnotatedVideoWriteError(VideoPipeError, OSError):
    """The annotated video could not be written (bad path, encoder failure, disk full)."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"Unable to write annotated video {path!r}: {cause}")
        self.path = path
        self.cause = cause


def _is_drawable(value: Mapping[str, Any]) -> bool:
    return any(isinstance(value.get(key), list | tuple) and value.get(key) for key in _SHAPE_KEYS)


def drawable_items(result: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every item of ``result`` that has a ``box`` or an outline, wherever it is nested.

    A dict with a non-empty ``box``, ``points``, ``corners`` or ``polygon`` is an item
    (a detection, a QR code, an OCR text, a marker, a motion box); items are found in
    lists and dicts at any depth, in order. An item with no caption of its own
    (``label``, ``text``, ``data``, ``id``) is labelled with the output node's name
    (``motion``), so every box says where it came from.
    """
    found: list[dict[str, Any]] = []
    for node, value in (result or {}).items():
        for item in _walk(value):
            captioned = any(item.get(key) not in (None, "") for key in _CAPTION_KEYS)
            found.append(item if captioned else {**item, "label": str(node)})
    return found


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, Mapping):
        if _is_drawable(value):
            yield dict(value)
            return
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def draw_result(
    image: RGBImage, result: Mapping[str, Any] | None, *, thickness: int = 2, scores: bool = True
) -> RGBImage:
    """A copy of ``image`` with the boxes, outlines and captions of ``result`` drawn on it.

    Drawn as the ``annotate`` plugin draws (:func:`videopipe.adapters.plugins.boxes.shapes_of`):
    a rectangle over each box (x2, y2 exclusive), the outline polygon when there is
    one, and a caption in the box's colour (one colour per label).
    """
    items = drawable_items(result)
    if not items:
        return np.array(image, dtype=np.uint8, copy=True, order="C")
    plugin = Annotate(thickness=thickness, scores=scores)
    context = FrameContext("annotate", "annotate", 0, 0.0)
    drawn: RGBImage = plugin.process({"image": image, "detections": items}, context)["image"]
    return drawn


def annotation_fps(source_fps: float | None, stride: int) -> Fraction:
    """The frame rate of an annotated video: the source's rate divided by the stride.

    With stride N every N-th frame is processed, so showing the processed frames at
    ``fps / N`` keeps the annotated video as long as the source (real time). A source
    that declares no rate is taken as 25 frames/s.
    """
    rate = Fraction(source_fps).limit_denominator(1001) if source_fps and source_fps > 0 else None
    return (rate or Fraction(25)) / max(1, stride)


class AnnotatedVideoWriter:
    """Writes RGB frames of one size to an H.264 video through the one video writer.

    ``libx264`` at CRF 10, ``yuv420p`` (``yuv444p`` when the width or height is odd, so
    the video keeps the source's exact size), at ``fps``, the index at the front of
    the file. Use as a context manager: leaving it normally or through an exception
    (Ctrl-C included) finishes the file with the frames written so far; with no frame
    written, no file is left. Failures are :class:`AnnotatedVideoWriteError`.
    """

    def __init__(
        self, path: str | os.PathLike[str], width: int, height: int, fps: Fraction | float
    ) -> None:
        self.path = os.fspath(path)
        self.width = width
        self.height = height
        self.fps = fps
        self._writer: VideoWriter | None = None

    @property
    def frames_written(self) -> int:
        """Frames appended so far."""
        return self._writer.frames_written if self._writer is not None else 0

    def open(self) -> AnnotatedVideoWriter:
        """Open the file and the encoder (the output file's directory must exist)."""
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise AnnotatedVideoWriteError(self.path, f"no directory {directory!r}")
        odd = self.width % 2 or self.height % 2
        try:
            self._writer = VideoWriter(
                self.path,
                width=self.width,
                height=self.height,
                rate=Fraction(self.fps),
                codec="libx264",
                pix_fmt="yuv444p" if odd else "yuv420p",
                options={"crf": "10"},
                container_options={"movflags": "+faststart"},
            )
        except VideoWriteError as exc:
            raise AnnotatedVideoWriteError(self.path, f"ffmpeg failed: {exc.cause}") from exc
        return self

    def write(self, image: RGBImage) -> None:
        """Append one frame (RGB uint8, ``height`` x ``width``)."""
        if self._writer is None:
            raise ValueError("the writer is not open")
        if image.shape != (self.height, self.width, 3):
            raise AnnotatedVideoWriteError(
                self.path,
                f"frame of shape {image.shape} in a {self.width}x{self.height} video",
            )
        try:
            with signals_deferred():  # a frame is encoded and muxed whole, or not at all
                self._writer.write(np.ascontiguousarray(image, dtype=np.uint8))
        except VideoWriteError as exc:
            self._writer.discard()
            raise AnnotatedVideoWriteError(self.path, f"ffmpeg failed: {exc.cause}") from exc

    def close(self) -> None:
        """Finish the file (the encoder is flushed); with no frame written, remove it."""
        writer = self._writer
        if writer is None:
            return
        try:
            if writer.frames_written:
                writer.close()
            else:
                writer.discard()  # no frame, no (invalid) video
        except VideoWriteError as exc:
            raise AnnotatedVideoWriteError(self.path, f"ffmpeg failed: {exc.cause}") from exc
        except OSError as exc:
            raise AnnotatedVideoWriteError(self.path, str(exc)) from exc

    def __enter__(self) -> AnnotatedVideoWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "AnnotatedVideoWriteError",
    "AnnotatedVideoWriter",
    "annotation_fps",
    "draw_result",
    "drawable_items",
]
