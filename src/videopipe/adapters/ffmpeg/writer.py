"""The one video writer: RGB frames (or a libavfilter source) encoded in process by PyAV.

Every frame's presentation timestamp is set here (``pts`` in ``time_base`` units; by
default the frame's number), so a variable frame rate needs no filter and no process.
``--annotate``, the test media helpers and ``videopipe bench`` write through it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from typing import Any

import av
import av.error
import av.logging
import numpy as np

from videopipe.adapters._closing import Closing
from videopipe.domain.errors import VideoPipeError
from videopipe.domain.model import RGBImage


class VideoWriteError(VideoPipeError, RuntimeError):
    """A video could not be written: FFmpeg refused an option, a size or the file."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"ffmpeg could not make {path}: {cause}")
        self.path = path
        self.cause = cause


@contextlib.contextmanager
def _libav_errors(path: str, *, logged: bool = True) -> Iterator[None]:
    """Turn an FFmpeg failure inside the block into :class:`VideoWriteError`.

    ``logged``: libav's error messages are kept while the block runs, captured (never
    printed): they are what says why an encoder refused to open.
    """
    if not logged:
        try:
            yield
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoWriteError(path, str(exc)) from exc
        return
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=False) as logs:
            try:
                yield
            except (av.error.FFmpegError, ValueError, OSError) as exc:
                said = "; ".join(message.strip() for _, _, message in logs if message.strip())
                raise VideoWriteError(path, said or str(exc)) from exc
    finally:
        av.logging.set_level(previous)


class VideoWriter(Closing):
    """Writes frames of one size to ``path``; the container follows the file extension.

    ``codec`` and ``pix_fmt`` (``None``: RGB24 when the codec takes it, else its first
    format) choose the encoder; ``rate`` is the nominal frame rate and ``time_base``
    the unit of each frame's ``pts`` (default ``1 / rate``). ``options`` go to the
    encoder (``{"crf": "23", "g": "12", "x264-params": ...}``), ``container_options``
    to the muxer (``{"movflags": "+faststart"}``). What FFmpeg refuses (an option the
    encoder does not take, an odd width for 4:2:0) is a :class:`VideoWriteError`.
    ``rotation`` stores a display rotation (degrees) in the metadata.
    Closing flushes the encoder and finishes the file; :meth:`discard` removes it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        rate: Fraction | float = 25,
        time_base: Fraction | None = None,
        codec: str = "libx264",
        pix_fmt: str | None = "yuv420p",
        options: Mapping[str, str] | None = None,
        container_options: Mapping[str, str] | None = None,
        rotation: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.width = width
        self.height = height
        self.frames_written = 0
        rate = Fraction(rate).limit_denominator(1_000_000)
        self.time_base = time_base or 1 / rate
        with _libav_errors(self.path):
            self._container: Any = av.open(
                self.path, mode="w", container_options=dict(container_options or {})
            )
            try:
                self._stream = self._open_stream(codec, pix_fmt, rate, options, rotation)
            except BaseException:
                self._container.close()
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path)
                raise
        self._closed = False

    def _open_stream(
        self,
        codec: str,
        pix_fmt: str | None,
        rate: Fraction,
        options: Mapping[str, str] | None,
        rotation: int | None,
    ) -> Any:
        formats = [f.name for f in av.codec.Codec(codec, "w").video_formats or ()]
        chosen = pix_fmt or ("rgb24" if "rgb24" in formats or not formats else formats[0])
        stream = self._container.add_stream(
            codec, rate=rate, width=self.width, height=self.height, time_base=self.time_base
        )
        stream.pix_fmt = chosen
        # Threads as the ffmpeg command line sets them (frame threads, the encoder's count):
        # PyAV's slice threads would make other bitstreams from the same frames.
        stream.thread_type = "AUTO"
        stream.thread_count = 0
        if rotation is not None:
            stream.set_display_rotation(rotation)
        context = stream.codec_context
        context.options = dict(options or {})
        context.open()
        if context.options:
            refused = ", ".join(sorted(context.options))
            raise VideoWriteError(
                self.path, f"options the {codec} encoder does not take: {refused}"
            )
        return stream

    def write(self, image: RGBImage, pts: int | None = None) -> None:
        """Append one RGB uint8 frame (``height`` x ``width``), shown at ``pts``."""
        if image.shape != (self.height, self.width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"frames must be uint8 arrays of shape {(self.height, self.width, 3)}, "
                f"got {image.dtype} {image.shape}"
            )
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        self._encode(frame, pts)

    def write_source(
        self, description: str, count: int, pts: Callable[[int], int] | None = None
    ) -> None:
        """Append the first ``count`` frames of a libavfilter source (``testsrc2=...``)."""
        with _libav_errors(self.path), av.open(description, format="lavfi") as source:
            for number, frame in enumerate(source.decode(video=0)):
                if number >= count:
                    break
                self._encode(frame, None if pts is None else pts(self.frames_written))

    def _encode(self, frame: Any, pts: int | None) -> None:
        if self._closed:
            raise ValueError(f"the writer of {self.path!r} is closed")
        stream = self._stream
        if (frame.format.name, frame.width, frame.height) != (
            stream.pix_fmt,
            self.width,
            self.height,
        ):
            frame = frame.reformat(
                width=self.width,
                height=self.height,
                format=stream.pix_fmt,
                interpolation="BICUBIC",  # what the ffmpeg command line scales with
            )
        frame.pts = self.frames_written if pts is None else pts
        frame.time_base = self.time_base
        with _libav_errors(self.path, logged=False):
            self._container.mux(stream.encode(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            with _libav_errors(self.path):
                self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()

    def discard(self) -> None:
        """Close and remove the file (nothing half-written is left)."""
        with contextlib.suppress(Exception):
            self.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
