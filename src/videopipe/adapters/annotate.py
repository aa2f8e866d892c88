"""Annotated videos: a pipeline's boxes and labels drawn on each processed frame.

:func:`drawable_items` finds what to draw in any result, :func:`draw_result` draws it
(with the ``annotate`` plugin's look), and :class:`AnnotatedVideoWriter` encodes the
frames with the ffmpeg binary bundled by imageio-ffmpeg (``write_frames``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Generator, Iterator, Mapping
from fractions import Fraction
from types import TracebackType
from typing import Any

import numpy as np

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


@contextlib.contextmanager
def _stderr_to(target: int) -> Iterator[None]:
    """Point file descriptor 2 at ``target`` while a child process is started.

    ``write_frames`` gives ffmpeg our stderr; its messages are captured instead and
    reported in one error when writing fails.
    """
    saved = os.dup(2)
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _quiet_imageio_ffmpeg() -> Iterator[None]:
    """Keep imageio-ffmpeg's "no frames have been written" warning off stderr."""
    logger = logging.getLogger("imageio_ffmpeg")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


class AnnotatedVideoWriter:
    """Writes RGB frames of one size to a video file through imageio-ffmpeg's ffmpeg.

    H.264 (``libx264``, ``yuv420p``; ``yuv444p`` when the width or height is odd, so
    the video keeps the source's exact size) at ``fps``. Use as a context manager:
    leaving it normally or through an exception (Ctrl-C included) finishes the file
    with the frames written so far; with no frame written, no file is left. Failures
    are :class:`AnnotatedVideoWriteError`.
    """

    def __init__(
        self, path: str | os.PathLike[str], width: int, height: int, fps: Fraction | float
    ) -> None:
        self.path = os.fspath(path)
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_written = 0
        self._generator: Generator[None, Any, None] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()

    def open(self) -> AnnotatedVideoWriter:
        """Start ffmpeg (the output file's directory must exist)."""
        import imageio_ffmpeg  # noqa: PLC0415 - only an annotating run needs it

        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise AnnotatedVideoWriteError(self.path, f"no directory {directory!r}")
        odd = self.width % 2 or self.height % 2
        generator = imageio_ffmpeg.write_frames(
            self.path,
            (self.width, self.height),
            fps=Fraction(self.fps),
            codec="libx264",
            pix_fmt_out="yuv444p" if odd else "yuv420p",
            quality=8,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        with _stderr_to(self._log.fileno()):
            generator.send(None)  # starts ffmpeg, which inherits the captured stderr
        self._generator = generator
        return self

    def write(self, image: RGBImage) -> None:
        """Append one frame (RGB uint8, ``height`` x ``width``)."""
        if self._generator is None:
            raise ValueError("the writer is not open")
        if image.shape != (self.height, self.width, 3):
            raise AnnotatedVideoWriteError(
                self.path,
                f"frame of shape {image.shape} in a {self.width}x{self.height} video",
            )
        try:
            with signals_deferred():  # imageio-ffmpeg kills ffmpeg on an interrupt mid-send
                self._generator.send(np.ascontiguousarray(image, dtype=np.uint8))
        except OSError as exc:
            self._fail(exc)
        self.frames_written += 1

    def _ffmpeg_log(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    def _fail(self, exc: BaseException) -> None:
        generator, self._generator = self._generator, None
        if generator is not None:
            with contextlib.suppress(Exception):
                generator.close()
        cause = self._ffmpeg_log() or str(exc).splitlines()[0]
        raise AnnotatedVideoWriteError(self.path, f"ffmpeg failed: {cause}") from exc

    def close(self) -> None:
        """Finish the file (ffmpeg flushes its encoder and exits)."""
        generator, self._generator = self._generator, None
        try:
            if generator is not None:
                with _quiet_imageio_ffmpeg():
                    generator.close()  # closes ffmpeg's stdin and waits for it to exit
                if not self.frames_written:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(self.path)  # no frame, no (invalid) video
                elif not os.path.getsize(self.path):
                    raise AnnotatedVideoWriteError(
                        self.path, f"ffmpeg wrote nothing: {self._ffmpeg_log()}"
                    )
        except OSError as exc:
            if isinstance(exc, AnnotatedVideoWriteError):
                raise
            raise AnnotatedVideoWriteError(self.path, str(exc)) from exc
        finally:
            self._log.close()

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
