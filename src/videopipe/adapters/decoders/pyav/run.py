"""What one pass over a file holds, whichever path it takes: its container, conversion, checks."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
from av.video.reformatter import VideoReformatter

from videopipe.adapters.decoders._base import SCALE_INTERPOLATION
from videopipe.adapters.ffmpeg.binary import demux_problems
from videopipe.adapters.ffmpeg.checks import check_frame_pixels
from videopipe.adapters.ffmpeg.libav import (
    expected_frames,
    first_video_stream,
    open_container,
)
from videopipe.adapters.ffmpeg.riff import check_avi_complete
from videopipe.domain.errors import VideoDecodeError, VideoReadError
from videopipe.domain.model import (
    FULL_RANGE,
    LIMITED_RANGE,
    Frame,
    FrameSelection,
    RGBImage,
    VideoInfo,
)

if TYPE_CHECKING:
    from videopipe.adapters.decoders.pyav.source import PyAVFrameSource

Y_PLANE_FORMATS = frozenset((
    *("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"),
    *("yuv440p", "yuvj440p", "yuv411p", "yuv410p", "yuva420p", "yuva422p", "yuva444p"),
    *("nv12", "nv21", "nv16", "nv24"),
))  # fmt: skip
"""Pixel formats whose first plane is the 8-bit luma (Y) plane, handed out as it is."""


@dataclass
class DecodeStats:
    """How one call to :meth:`PyAVVideoReader.frames` went (for tests and benchmarks).

    ``path``: ``"sequential"``, ``"indexed"`` (the fast path) or ``"fallback"`` (the
    fast path gave up and the rest was decoded sequentially); ``untrusted``: why the
    fast path gave up; ``seeks``: seeks made; ``packets``: packets sent to the decoder;
    ``decoded``: frames the decoder returned; ``converted``: frames handed out (RGB or luma).
    """

    path: str = "sequential"
    untrusted: str | None = None
    seeks: int = 0
    packets: int = 0
    decoded: int = 0
    converted: int = 0


class RunState:
    """One pass over the file for one selection; owns one container at a time."""

    def __init__(
        self,
        source: PyAVFrameSource,
        path: str,
        abspath: str,
        info: VideoInfo,
        selection: FrameSelection,
        *,
        output_size: tuple[int, int] | None = None,
        frame_format: str = "rgb24",
        source_size: tuple[int, int] | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.abspath = abspath
        self.info = info
        self.selection = selection
        self.lock = threading.Lock()
        self._container: Any | None = None
        self._closed = False
        self._reformatter = VideoReformatter()
        self._threads = source.conversion_threads
        self._steps = (info.rotation // 90) % 4
        # swscale scales before the rotation: a quarter turn swaps the sides it makes.
        self._scaled: tuple[int, int] | None = None
        self._scaler = VideoReformatter()
        if output_size is not None:
            width, height = output_size
            self._scaled = (height, width) if self._steps % 2 else (width, height)
        self._gray = frame_format == "gray"
        self._source_size = source_size
        self._pixels = (info.width * info.height) if info.width and info.height else 0
        self.last_yielded = -1
        self.stats = DecodeStats()

    # -- resources ---------------------------------------------------------------------

    def open(self) -> tuple[Any, Any]:
        """A fresh container and its first video stream, decoder threads configured."""
        self.close_container()
        self.check_open()
        container = open_container(self.path, self.abspath, self.source.timeout)
        self._container = container
        stream = first_video_stream(container)
        if stream is None:
            raise VideoReadError(self.path, "no video stream")
        codec = stream.codec_context
        codec.thread_type = self.source.thread_type
        codec.thread_count = self.source.threads
        return container, stream

    def close_container(self) -> None:
        """Close the container in use, if any."""
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def check_open(self) -> None:
        """Raise ``ValueError`` once the run (its reader) is closed."""
        if self._closed:
            raise ValueError(f"reader for {self.path!r} is closed")

    def close(self) -> None:
        """Close the container; waits while another thread is inside a decode step."""
        with self.lock:
            self._closed = True
            self.close_container()

    # -- frames ------------------------------------------------------------------------

    def make_frame(self, index: int, timestamp: float, frame: Any) -> Frame:
        """The :class:`Frame` handed out for a decoded ``frame``, in the run's format.

        RGB (:meth:`convert`) or luma (:meth:`luma`), with the run's source size.
        """
        if self._gray:
            image, luma_range = self.luma(frame)
            return Frame(index, timestamp, image, self._source_size, "gray", luma_range)
        return Frame(index, timestamp, self.convert(frame), self._source_size)

    def luma(self, frame: Any) -> tuple[RGBImage, tuple[int, int]]:
        """The frame's luma as a C-contiguous ``(H, W)`` array and its black/white levels.

        A frame in a planar YUV format with 8-bit samples gives its own Y plane (no
        conversion: a copy at most); any other format (10-bit, RGB, paletted) is
        converted to FFmpeg's full-range ``gray`` by swscale. Scaled and turned upright
        as :meth:`convert` does.
        """
        frame = self._prepare(frame)
        if frame.format.name in Y_PLANE_FORMATS:
            plane = frame.planes[0]
            rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            image: RGBImage = rows[:, : plane.width]
            full = frame.format.name.startswith("yuvj") or int(frame.color_range or 0) == 2
            luma_range = FULL_RANGE if full else LIMITED_RANGE
        else:
            gray = self._reformatter.reformat(frame, format="gray", threads=self._threads)
            image, luma_range = cast(RGBImage, gray.to_ndarray()), FULL_RANGE
        return self._upright(image), luma_range

    def _prepare(self, frame: Any) -> Any:
        """The decoded frame checked for its size and scaled down if the run scales."""
        if frame.width * frame.height > self._pixels:
            check_frame_pixels(self.path, frame.width, frame.height, self.source.max_frame_pixels)
        if self._scaled is not None:
            # Scaled in the stream's own (planar YUV) format, then converted unscaled:
            # swscale scaling straight to packed rgb24 measured 13-19 % more CPU per
            # decoded 720p frame (docs/decoders.md, "Decoding at a smaller size").
            frame = self._scaler.reformat(
                frame,
                width=self._scaled[0],
                height=self._scaled[1],
                interpolation=SCALE_INTERPOLATION.upper(),
                threads=self._threads,
            )
        return frame

    def convert(self, frame: Any) -> RGBImage:
        """The frame as a C-contiguous RGB24 array, turned upright (and scaled, if asked).

        The rotation is the stream's (read from its first frame when the file was
        opened), as ffmpeg's autorotation applies it to every frame. A scaled run has
        swscale scale the frame first, then convert it as an unscaled one.
        """
        frame = self._prepare(frame)
        rgb = self._reformatter.reformat(frame, format="rgb24", threads=self._threads)
        return self._upright(cast(RGBImage, rgb.to_ndarray()))

    def _upright(self, image: RGBImage) -> RGBImage:
        """``image`` turned by the stream's rotation, C-contiguous."""
        if self._steps:
            image = np.rot90(image, k=self._steps)
        if not image.flags.c_contiguous:
            image = np.ascontiguousarray(image)
        self.stats.converted += 1
        return image

    # -- the end -----------------------------------------------------------------------

    def fail(self, cause: str, decoded: int, exc: BaseException | None = None) -> NoReturn:
        """Raise the error for a read that failed after ``decoded`` frames.

        In an AVI cut short, the damaged last frame is the cut: that is the error given.
        """
        try:
            check_avi_complete(self.path, self.abspath, decoded)
        except VideoDecodeError as cut:
            raise cut from exc
        expected = self.expected_frames(decoded)
        if decoded == 0 and expected is None:
            raise VideoReadError(self.path, cause) from exc
        raise VideoDecodeError(
            self.path, cause, frames_read=decoded, frames_expected=expected
        ) from exc

    def expected_frames(self, decoded: int) -> int | None:
        """The frames the file's index says a full read gives (only when it came up short)."""
        return expected_frames(self.abspath, self.info.frame_count, decoded, self.source.timeout)

    def check_end(self, decoded: int) -> None:
        """After the last frame: a short or damaged read is an error, never a shorter video.

        The count the file's index declares (less what an edit list hides) is the
        reference. A container that declares none (Matroska, MPEG-TS) has its packets
        read once more by the bundled ffmpeg (no decoding), whose error messages reveal
        a file cut short or a damaged element that FFmpeg's libraries skip quietly. An
        AVI whose chunks claim more bytes than it holds is cut short (:mod:`.riff`).
        """
        check_avi_complete(self.path, self.abspath, decoded)
        expected = self.expected_frames(decoded)
        if expected is None:
            problems = self.demux_problems(decoded)
            if problems:
                raise VideoDecodeError(self.path, problems, frames_read=decoded)
        elif decoded < expected:
            raise VideoDecodeError(
                self.path,
                "the video ends before the frames its index declares",
                frames_read=decoded,
                frames_expected=expected,
            )
        if decoded == 0:
            raise VideoReadError(self.path, "it holds no decodable video frames")

    def demux_problems(self, decoded: int) -> str:
        """Evidence of damage from the bundled ffmpeg's read of every packet of the file."""
        source = self.source
        return demux_problems(source.ffmpeg_exe, self.path, self.abspath, source.timeout, decoded)
