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
from videopipe.domain.errors import VideoDecodeError, VideoReadError
from videopipe.domain.model import FrameSelection, RGBImage, VideoInfo

if TYPE_CHECKING:
    from videopipe.adapters.decoders.pyav.source import PyAVFrameSource


@dataclass
class DecodeStats:
    """How one call to :meth:`PyAVVideoReader.frames` went (for tests and benchmarks).

    ``path``: ``"sequential"``, ``"indexed"`` (the fast path) or ``"fallback"`` (the
    fast path gave up and the rest was decoded sequentially); ``untrusted``: why the
    fast path gave up; ``seeks``: seeks made; ``packets``: packets sent to the decoder;
    ``decoded``: frames the decoder returned; ``converted``: frames converted to RGB.
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

    def convert(self, frame: Any) -> RGBImage:
        """The frame as a C-contiguous RGB24 array, turned upright (and scaled, if asked).

        The rotation is the stream's (read from its first frame when the file was
        opened), as ffmpeg's autorotation applies it to every frame. A scaled run has
        swscale scale the frame first, then convert it as an unscaled one.
        """
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
        rgb = self._reformatter.reformat(frame, format="rgb24", threads=self._threads)
        image = cast(RGBImage, rgb.to_ndarray())
        if self._steps:
            image = np.rot90(image, k=self._steps)
        if not image.flags.c_contiguous:
            image = np.ascontiguousarray(image)
        self.stats.converted += 1
        return image

    # -- the end -----------------------------------------------------------------------

    def fail(self, cause: str, decoded: int, exc: BaseException | None = None) -> NoReturn:
        """Raise the error for a read that failed after ``decoded`` frames."""
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
        a file cut short or a damaged element that FFmpeg's libraries skip quietly.
        """
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
