"""Decoder adapter: the ffmpeg binary that imageio-ffmpeg bundles, read through a pipe.

imageio-ffmpeg provides the binary (``get_ffmpeg_exe``); the process is driven here, not
through ``imageio_ffmpeg.read_frames`` (no per-frame timestamps, hides ffmpeg's exit
status, copies each frame twice). Timestamps come from ffmpeg's ``showinfo`` filter on
stderr; frames are read straight into numpy arrays.

Over 300 lines because one decode run is one state machine: the process, its two
non-blocking pipes read from one thread, and the log that times each frame; what it
shares with the other backends (probe, input, checks, counts) is in
:mod:`videopipe.adapters.ffmpeg`.
"""

from __future__ import annotations

import collections
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction

import numpy as np

from videopipe.adapters.decoders._base import SCALE_INTERPOLATION, RunReader
from videopipe.adapters.ffmpeg import binary, log, riff
from videopipe.adapters.ffmpeg.checks import DEFAULT_MAX_FRAME_PIXELS, check_frame_pixels
from videopipe.adapters.ffmpeg.files import check_local_video_file, ffmpeg_input
from videopipe.adapters.ffmpeg.libav import expected_frames
from videopipe.adapters.ffmpeg.packets import PacketSurvey, survey_packets
from videopipe.adapters.ffmpeg.timestamps import IncreasingTimestamps, frame_seconds
from videopipe.domain.errors import DecoderTimeoutError, VideoDecodeError, VideoReadError
from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo


class ImageioFfmpegFrameSource:
    """Opens videos with the bundled ffmpeg binary; frames arrive as RGB24 through a pipe.

    ``probe_timeout`` bounds the header probe; ``stall_timeout`` is how long a read may
    wait for ffmpeg's next frame before the process is killed and
    :class:`DecoderTimeoutError` is raised; a video whose frames have more than
    ``max_frame_pixels`` pixels is refused from its header (:class:`FrameTooLargeError`).
    """

    name = "imageio_ffmpeg"

    def __init__(
        self,
        *,
        ffmpeg_exe: str | None = None,
        probe_timeout: float = 30.0,
        stall_timeout: float = 30.0,
        max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS,
    ) -> None:
        self.ffmpeg_exe = ffmpeg_exe or binary.bundled_ffmpeg()
        self.probe_timeout = probe_timeout
        self.stall_timeout = stall_timeout
        self.max_frame_pixels = max_frame_pixels

    def open(self, path: str, *, size: FrameSize | None = None) -> ImageioFfmpegVideoReader:
        """Check and probe ``path``; the returned reader owns every process it starts.

        With ``size``, ffmpeg's ``scale`` filter makes the smaller frames (RGB, or
        full-range ``gray`` when the size's format asks for it).
        """
        abspath = check_local_video_file(path)
        info = binary.probe(self.ffmpeg_exe, path, abspath, self.probe_timeout)
        check_frame_pixels(path, info.width, info.height, self.max_frame_pixels)
        survey = survey_packets(abspath, self.probe_timeout)
        declared = survey.declared if survey is not None else None
        info = replace(info, frame_count=declared)
        return ImageioFfmpegVideoReader(self, path, abspath, info, survey=survey, size=size)


class ImageioFfmpegVideoReader(RunReader):
    """One opened file. Each call to :meth:`frames` runs one ffmpeg process."""

    def __init__(
        self,
        source: ImageioFfmpegFrameSource,
        path: str,
        abspath: str,
        info: VideoInfo,
        *,
        survey: PacketSurvey | None = None,
        size: FrameSize | None = None,
    ) -> None:
        super().__init__(path, info, size)
        self._source = source
        self._abspath = abspath
        self._survey = survey

    def _start(self, selection: FrameSelection) -> _DecodeRun:
        return _DecodeRun(
            self._source,
            self._path,
            self._abspath,
            self._info,
            selection,
            survey=self._survey,
            output_size=self._output_size,
            frame_format=self._format,
        )


class _DecodeRun:
    """One ffmpeg process, read from the calling thread: no helper thread is started.

    Both pipes are non-blocking and watched with one selector, so stderr (showinfo's
    per-frame timestamps, error messages) is drained while frames are read, and a
    ``select`` timeout is the stall watchdog.
    """

    def __init__(
        self,
        source: ImageioFfmpegFrameSource,
        path: str,
        abspath: str,
        info: VideoInfo,
        selection: FrameSelection,
        *,
        survey: PacketSurvey | None = None,
        output_size: tuple[int, int] | None = None,
        frame_format: str = "rgb24",
    ) -> None:
        self._path = path
        self._format = frame_format  # "gray": ffmpeg's full-range gray, one byte a pixel
        self._abspath = abspath
        self._info = info
        self._selection = selection
        self._survey = survey
        # A file that lost frames may lose more on the way: its frames are then selected
        # here, by their position in the stream (see _take_line), not by ffmpeg's count.
        self._select_here = survey is not None and survey.frames_lost
        self._order = IncreasingTimestamps(path, info.frame_count)
        self._source_size = None if output_size is None else (info.width, info.height)
        self._stall_timeout = source.stall_timeout
        self._ffmpeg_exe = source.ffmpeg_exe
        self._spliced = False  # a message landed inside a showinfo line (see _finish)
        self._max_frame_pixels = source.max_frame_pixels
        self._records: collections.deque[tuple[int, int, int | None]] = collections.deque()
        self._size: tuple[int, int] | None = None
        self._time_base: Fraction | None = None
        self._first_pts: int | None = None
        self.decoded = 0
        self._log: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr_rest = b""
        self._closed = False
        with ffmpeg_input(path, abspath) as (input_argument, inherited):
            self._process = subprocess.Popen(
                binary.rgb24_command(
                    source.ffmpeg_exe,
                    input_argument,
                    FrameSelection() if self._select_here else selection,
                    output_size,
                    SCALE_INTERPOLATION,
                    pixel_format=frame_format,
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                pass_fds=inherited,
                start_new_session=True,  # Ctrl-C reaches Python, which stops ffmpeg itself
            )
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._out = self._process.stdout.fileno()
        self._err = self._process.stderr.fileno()
        for fd in (self._out, self._err):
            os.set_blocking(fd, False)
        binary.grow_pipe(self._out)
        self._both = selectors.DefaultSelector()
        self._both.register(self._out, selectors.EVENT_READ)
        self._both.register(self._err, selectors.EVENT_READ)
        self._err_only = selectors.DefaultSelector()
        self._err_only.register(self._err, selectors.EVENT_READ)

    # -- pipes -----------------------------------------------------------------------

    def _wait(self, selector: selectors.BaseSelector) -> list[int]:
        """The readable pipes among ``selector``'s; a stall kills ffmpeg and raises."""
        if not selector.get_map():
            return []
        events = selector.select(self._stall_timeout)
        if not events:
            self._kill()
            raise DecoderTimeoutError(self._path, self._stall_timeout, self.decoded)
        return [key.fd for key, _ in events]

    def _read_stderr(self) -> None:
        try:
            chunk = os.read(self._err, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self._forget(self._err)
            if self._stderr_rest:
                self._take_line(self._stderr_rest)
                self._stderr_rest = b""
            return
        lines = (self._stderr_rest + chunk).split(b"\n")
        self._stderr_rest = lines.pop()
        for line in lines:
            self._take_line(line)

    def _forget(self, fd: int) -> None:
        for selector in (self._both, self._err_only):
            if fd in selector.get_map():
                selector.unregister(fd)

    def _take_line(self, raw: bytes) -> None:
        if b"Parsed_showinfo" in raw:
            match = log.SHOWINFO_FRAME_BYTES.search(raw)
            self._spliced = self._spliced or log.spliced_into_showinfo(raw, match)
            if match:
                counted = int(match.group(1))
                pts = None if match.group(2) == b"NOPTS" else int(match.group(2))
                if counted == 0:
                    self._first_pts = pts
                self.decoded = counted + 1
                index = counted
                if pts is not None:
                    self._order.note(counted, pts)
                    # showinfo does not count a frame the decoder dropped; the position
                    # of the timestamp among the packets does.
                    found = self._survey.position(pts) if self._survey else None
                    index = counted if found is None else found
                if self._select_here or self._selection.contains(counted):
                    self._records.append((counted, index, pts))
            elif self._time_base is None:
                self._time_base = log.time_base(raw.decode("utf-8", "replace"))
            return
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if self._size is None and (size := log.output_size(line)):
            self._size = size
        self._log.append(line)

    def _read_frame(self, view: memoryview) -> int:
        """Fill ``view`` from stdout; fewer bytes only at the end of the output."""
        filled, total = 0, len(view)
        while filled < total and self._out in self._both.get_map():
            for fd in self._wait(self._both):
                if fd == self._err:
                    self._read_stderr()
                    continue
                try:
                    got = os.readv(self._out, [view[filled:]])
                except BlockingIOError:
                    continue
                if not got:
                    self._forget(self._out)
                filled += got
        return filled

    def _drain_stderr_until(self, done: Callable[[], bool], within: float | None = None) -> None:
        """Read stderr until ``done()`` or it closes; give up after ``within`` seconds.

        Without ``within``, a stall longer than the stall timeout kills ffmpeg and raises.
        """
        settle = None if within is None else time.monotonic() + within
        while not done() and self._err in self._err_only.get_map():
            if settle is None:
                self._wait(self._err_only)
            else:
                remaining = settle - time.monotonic()
                if remaining <= 0 or not self._err_only.select(remaining):
                    return
            self._read_stderr()

    # -- frames ----------------------------------------------------------------------

    def _read_header(self) -> None:
        """Read ffmpeg's log up to the output stream's frame size."""
        while self._size is None and self._err in self._both.get_map():
            ready = self._wait(self._both)
            if self._err in ready:
                self._read_stderr()
            if self._out in ready and self._size is None:
                # Frames are coming (ffmpeg then has written the size line already) or
                # ffmpeg ended (its stderr closes too): read what stderr holds; frames of
                # a size not understood fail at once rather than at the stall timeout.
                self._drain_stderr_until(lambda: self._size is not None, within=2.0)
                if self._size is None and self._err in self._err_only.get_map():
                    raise VideoDecodeError(
                        self._path,
                        "could not read the output frame size from ffmpeg's log",
                        frames_read=0,
                    )

    def frames(self) -> Iterator[Frame]:
        self._read_header()
        if self._size is None:
            self._finish(frames_yielded=0)
            return
        width, height = self._size
        check_frame_pixels(self._path, width, height, self._max_frame_pixels)
        shape = (height, width) if self._format == "gray" else (height, width, 3)
        frame_bytes = width * height * (1 if len(shape) == 2 else 3)
        wanted = self._selection.count
        yielded = 0
        while wanted is None or yielded < wanted:
            image = np.empty(shape, dtype=np.uint8)
            got = self._read_frame(image.data.cast("B"))
            if not got:
                break
            if got < frame_bytes:
                self._finish(frames_yielded=yielded, torn=True)
                return
            self._drain_stderr_until(lambda: bool(self._records))
            if not self._records:
                raise VideoDecodeError(
                    self._path, "ffmpeg sent a frame it did not report", frames_read=yielded
                )
            counted, index, pts = self._records.popleft()
            self._raise_if_broken(counted + 1)
            if self._select_here and not self._selection.contains(index):
                if self._selection.is_past(index):
                    return  # every selected frame was read: stop without reading further
                continue
            stamp = frame_seconds(index, pts, self._first_pts, self._time_base, self._info.fps)
            yield Frame(index, stamp, image, self._source_size, self._format)
            yielded += 1
        else:
            return  # every selected frame was read: stop without reading further
        self._finish(frames_yielded=yielded)

    def _finish(self, *, frames_yielded: int, torn: bool = False) -> None:
        """After ffmpeg's output ended: decide between a clean end and an error."""
        self._drain_stderr_until(lambda: False)
        try:
            returncode = self._process.wait(timeout=self._stall_timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise DecoderTimeoutError(self._path, self._stall_timeout, self.decoded) from None
        lines = list(self._log)
        expected = self._expected_frames()
        if returncode != 0 or torn:
            cause = log.problem_lines(lines) or f"ffmpeg exited with status {returncode}"
            if frames_yielded == 0 and self.decoded == 0 and expected is None:
                raise VideoReadError(self._path, cause)
            raise VideoDecodeError(
                self._path, cause, frames_read=self.decoded, frames_expected=expected
            )
        self._raise_if_broken(self.decoded)
        riff.check_avi_complete(self._path, self._abspath, self.decoded)  # ffmpeg says nothing
        if self.decoded == 0 and expected is None:
            problems = log.problem_lines(lines)
            detail = f" ({problems})" if problems else ""
            raise VideoReadError(self._path, f"it holds no decodable video frames{detail}")
        # ffmpeg skips what it cannot demux or decode and still exits 0: a truncated or
        # damaged file must not look like a shorter, healthy one; but a log line is
        # evidence of damage only when frames are missing (docs/errors.md).
        survey = self._survey
        missing = survey is None or self.decoded < survey.stored or survey.damaged > 0
        cause = log.damage(lines, self._info.container, frames_missing=missing)
        if expected is not None and self.decoded < expected:
            cause = "the video ends before the frames its index declares"
        if not cause and self._spliced:
            # The log lost a message's level and origin inside a showinfo line: ask the
            # demuxer again, alone (no showinfo), as the other decoders do.
            cause = binary.demux_problems(
                self._ffmpeg_exe, self._path, self._abspath, self._stall_timeout, self.decoded
            )
        if cause:
            raise VideoDecodeError(
                self._path, cause, frames_read=self.decoded, frames_expected=expected
            )

    def _raise_if_broken(self, before: int) -> None:
        """Raise :class:`TimestampOrderError` if a frame counted before ``before`` went back."""
        self._order.raise_if_broken(before, self._time_base or Fraction(1), self._first_pts or 0)

    def _expected_frames(self) -> int | None:
        """The frames the file's index says a full read gives (only when it came up short)."""
        return expected_frames(
            self._abspath, self._info.frame_count, self.decoded, self._stall_timeout
        )

    def _kill(self) -> None:
        """Kill ffmpeg and anything it started (its own process group)."""
        binary.kill_group(self._process)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._kill()  # also when ffmpeg exited unreaped: nothing it started may outlive us
        self._process.wait()
        self._both.close()
        self._err_only.close()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
