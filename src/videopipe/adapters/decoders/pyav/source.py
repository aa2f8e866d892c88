"""The PyAV frame source and reader: a file's header and first frame, then one run per read.

Frames are decoded by libavcodec and converted to RGB24 by one reused swscale context
(PyAV's ``VideoReformatter``), which honours each frame's colour matrix and range
exactly as the ffmpeg command line does: the pixels equal the ffmpeg pipe's (checked by
the contract suite). Unselected frames are never converted. A strided or ranged read
tries the indexed fast path (:mod:`.indexed`) and falls back to the sequential pass
(:mod:`.sequential`), which never yields a frame twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import av.error

from videopipe.adapters._malloc import tune_glibc_malloc
from videopipe.adapters.decoders._base import RunReader
from videopipe.adapters.decoders.pyav.indexed import IndexedPass, UntrustedIndexError
from videopipe.adapters.decoders.pyav.run import DecodeStats, RunState
from videopipe.adapters.decoders.pyav.sequential import sequential_frames
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.adapters.ffmpeg.checks import (
    DEFAULT_MAX_FRAME_PIXELS,
    check_frame_pixels,
    check_not_text,
    no_video_stream,
)
from videopipe.adapters.ffmpeg.files import check_local_video_file
from videopipe.adapters.ffmpeg.libav import first_video_stream, open_container, other_stream_kinds
from videopipe.adapters.ffmpeg.packets import declared_frames
from videopipe.domain.errors import VideoReadError
from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo

THREAD_TYPES = ("AUTO", "FRAME", "SLICE", "NONE")
"""libavcodec threading modes (``thread_type``): ``AUTO`` is frame and slice threads."""

_PEEK_PACKETS = 64
"""Packets read at open to decode the first frame (for its rotation)."""


def _rotation_steps(rotation: float) -> int:
    """Quarter turns counter-clockwise for a display-matrix rotation (0 if not a multiple)."""
    quarter = round(rotation / 90.0)
    if abs(rotation - quarter * 90.0) > 1.0:
        return 0  # like ffmpeg's autorotate: only multiples of 90 degrees are applied
    return quarter % 4


def _peek_first_frame(container: Any, stream: Any) -> Any | None:
    """The first decoded frame (single-threaded), or None if none comes quickly."""
    codec = stream.codec_context
    codec.thread_count = 1
    sent = 0
    with contextlib.suppress(av.error.FFmpegError, ValueError, OSError):
        for packet in container.demux(stream):
            frames = codec.decode(packet)
            if frames:
                return frames[0]
            sent += 1
            if sent >= _PEEK_PACKETS:
                break
    return None


class PyAVFrameSource:
    """Opens videos with PyAV and decodes them in this process.

    ``threads`` decoder threads (0: FFmpeg's choice) of ``thread_type`` (``AUTO``,
    ``FRAME``, ``SLICE``, ``NONE``); ``conversion_threads`` for swscale's RGB
    conversion (1 by default: why in ``docs/decoders.md``);
    ``seek_threshold``: a strided or ranged read seeks to a keyframe only when that
    skips more than this many packets; ``fast_seek=False`` always decodes sequentially.
    ``timeout`` bounds FFmpeg's blocking reads and the bundled ffmpeg's check of
    containers that declare no frame count; a video whose frames have more than
    ``max_frame_pixels`` pixels is refused from its header. ``tune_malloc`` fixes
    glibc's allocation thresholds for frame-sized buffers (:mod:`videopipe.adapters._malloc`).
    """

    name = "pyav"

    def __init__(
        self,
        *,
        threads: int = 0,
        thread_type: str = "AUTO",
        conversion_threads: int = 1,
        seek_threshold: int = 3,
        fast_seek: bool = True,
        timeout: float = 30.0,
        max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS,
        ffmpeg_exe: str | None = None,
        tune_malloc: bool = True,
    ) -> None:
        if thread_type.upper() not in THREAD_TYPES:
            raise ValueError(f"thread_type must be one of {', '.join(THREAD_TYPES)}")
        if threads < 0 or conversion_threads < 0 or seek_threshold < 0:
            raise ValueError("threads, conversion_threads and seek_threshold must be >= 0")
        self.threads = threads
        self.thread_type = thread_type.upper()
        self.conversion_threads = conversion_threads
        self.seek_threshold = seek_threshold
        self.fast_seek = fast_seek
        self.timeout = timeout
        self.max_frame_pixels = max_frame_pixels
        self._ffmpeg_exe = ffmpeg_exe
        self.malloc_tuned = tune_malloc and tune_glibc_malloc()

    @property
    def ffmpeg_exe(self) -> str:
        """The ffmpeg binary that checks the packets of containers declaring no count."""
        if self._ffmpeg_exe is None:
            self._ffmpeg_exe = bundled_ffmpeg()
        return self._ffmpeg_exe

    def open(self, path: str, *, size: FrameSize | None = None) -> PyAVVideoReader:
        """Check ``path`` and read its header and first frame; no descriptor stays open.

        With ``size``, swscale scales each frame down in its RGB conversion.
        """
        abspath = check_local_video_file(path)
        container = open_container(path, abspath, self.timeout)
        with container:
            info = self._info(path, abspath, container)
        return PyAVVideoReader(self, path, abspath, info, size)

    def _info(self, path: str, abspath: str, container: Any) -> VideoInfo:
        format_name = container.format.name
        check_not_text(path, format_name)
        stream = first_video_stream(container)
        if stream is None:
            raise no_video_stream(path, other_stream_kinds(container))
        codec = stream.codec_context
        if codec is None:
            raise VideoReadError(path, "its video stream cannot be decoded (no decoder)")
        width, height = int(codec.width), int(codec.height)
        if width <= 0 or height <= 0:
            raise VideoReadError(
                path, f"its video stream cannot be decoded ({codec.name} without a frame size)"
            )
        check_frame_pixels(path, width, height, self.max_frame_pixels)
        rate = stream.average_rate or stream.guessed_rate
        duration = container.duration / 1_000_000 if container.duration else None
        first = _peek_first_frame(container, stream)
        steps = _rotation_steps(first.rotation) if first is not None else 0
        if steps % 2:
            width, height = height, width
        return VideoInfo(
            path=path,
            width=width,
            height=height,
            codec=str(codec.name),
            fps=float(rate) if rate else None,
            duration=duration,
            frame_count=declared_frames(container, stream, abspath, self.timeout),
            rotation=(90 * steps) % 360,  # counter-clockwise, as ffmpeg prints it
            container=format_name,
            interlaced=int(codec.field_order or 0) >= 2,
        )


class PyAVVideoReader(RunReader):
    """One opened file. Each call to :meth:`frames` opens it anew and reads it once.

    ``last_stats`` describes the latest call to :meth:`frames` (:class:`DecodeStats`).
    """

    def __init__(
        self,
        source: PyAVFrameSource,
        path: str,
        abspath: str,
        info: VideoInfo,
        size: FrameSize | None = None,
    ) -> None:
        super().__init__(path, info, size)
        self._source = source
        self._abspath = abspath
        self.last_stats: DecodeStats | None = None

    def _start(self, selection: FrameSelection) -> _DecodeRun:
        run = _DecodeRun(
            self._source,
            self._path,
            self._abspath,
            self._info,
            selection,
            output_size=self._output_size,
            frame_format=self._format,
            source_size=self.source_size,
        )
        self.last_stats = run.stats
        return run


class _DecodeRun(RunState):
    """One read: the fast path when it applies, else (or from where it gave up) sequential."""

    def frames(self) -> Iterator[Frame]:
        """The selected frames; each decode step runs under the run's lock."""
        selection = self.selection
        if self.source.fast_seek and (selection.start > 0 or selection.step > 1):
            self.stats.path = "indexed"
            fast = IndexedPass(self).frames()
            try:
                yield from self._locked(fast)
                return
            except UntrustedIndexError as untrusted:
                self.stats.path = "fallback"
                self.stats.untrusted = str(untrusted)
            finally:
                fast.close()
        steps = sequential_frames(self)
        try:
            yield from self._locked(steps)
        finally:
            steps.close()

    def _locked(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        while True:
            with self.lock:
                self.check_open()
                item = next(frames, None)
            if item is None:
                return
            self.last_yielded = item.index
            box = [item]
            del item  # no local name keeps a yielded frame alive while the next is made
            yield box.pop()
