"""Decoder adapter: the ffmpeg binary that imageio-ffmpeg bundles, read through a pipe.

imageio-ffmpeg provides the binary (``get_ffmpeg_exe``); the process is driven here
rather than through ``imageio_ffmpeg.read_frames`` because that generator cannot
report per-frame timestamps, hides ffmpeg's exit status (a decode failure looks like
the end of the video) and copies each frame twice. Per-frame timestamps come from
ffmpeg's ``showinfo`` filter on stderr; frames are read straight into numpy arrays.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction

import numpy as np

from videopipe.adapters.decoders import _ffmpeg_log as log
from videopipe.adapters.decoders._base import RunReader
from videopipe.adapters.decoders._index import declared_frame_count, expected_frame_count
from videopipe.adapters.decoders._paths import (
    check_frame_pixels,
    check_local_video_file,
    open_video_file,
)
from videopipe.domain.errors import (
    DecoderTimeoutError,
    VideoDecodeError,
    VideoReadError,
)
from videopipe.domain.model import Frame, FrameSelection, VideoInfo


def bundled_ffmpeg() -> str:
    """Path of the ffmpeg binary shipped with imageio-ffmpeg (or ``IMAGEIO_FFMPEG_EXE``)."""
    import imageio_ffmpeg  # noqa: PLC0415 - imported when the binary is first needed

    return str(imageio_ffmpeg.get_ffmpeg_exe())


DEFAULT_MAX_FRAME_PIXELS = 1 << 26
"""67,108,864 pixels (8192 x 8192): larger frames are refused unless configured."""

TEXT_DEMUXERS = frozenset({"tty", "bin", "xbin", "adf", "idf"})
"""ffmpeg demuxers that turn text or text-mode art into frames: never a video here."""


def as_ffmpeg_input(abspath: str) -> str:
    """The ``-i`` argument for a local file."""
    # "file:" makes ffmpeg treat the path as a local file, never as a protocol
    # ("concat:a|b", "http://...", "pipe:0", "-").
    return "file:" + abspath


_PROC_FD = "/proc/self/fd"


@contextlib.contextmanager
def ffmpeg_input(path: str, abspath: str) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The ``-i`` argument and the descriptors the ffmpeg process must inherit.

    Where ``/proc/self/fd`` exists (Linux), ffmpeg reads an inherited descriptor of the
    checked file (``file:/proc/self/fd/N``): the file name never reaches ffmpeg, so it
    cannot be echoed into the log this adapter parses (a name holding a newline and a
    fake ``Stream`` or ``showinfo`` line could otherwise forge what is parsed), and the
    file read is the one that was checked. Elsewhere: ``file:<absolute path>``.
    """
    if not os.path.isdir(_PROC_FD):
        yield as_ffmpeg_input(abspath), ()
        return
    descriptor = open_video_file(path, abspath)
    try:
        yield f"file:{_PROC_FD}/{descriptor}", (descriptor,)
    finally:
        os.close(descriptor)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session and everything it started."""
    if process.returncode is not None:
        return  # already reaped: its pid may belong to someone else by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _run_on_file(
    ffmpeg_exe: str, path: str, abspath: str, output: list[str], timeout: float
) -> str:
    """Run ffmpeg on the file with ``output`` arguments; return its log (stderr).

    On ``timeout`` the process and anything it started are killed and
    :class:`DecoderTimeoutError` is raised.
    """
    with ffmpeg_input(path, abspath) as (source, inherited):
        command = [ffmpeg_exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"]
        command += ["-i", source, *output]
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=inherited,
            start_new_session=True,
        ) as process:
            try:
                _, errors = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                _kill_group(process)
                process.communicate()
                raise DecoderTimeoutError(path, timeout, 0) from exc
            finally:
                _kill_group(process)
    return errors.decode("utf-8", "replace")


def demux_problems(ffmpeg_exe: str, path: str, abspath: str, timeout: float) -> str:
    """Error messages from reading every video packet of the file (nothing is decoded).

    Catches damage and truncation in containers that declare no frame count (a
    Matroska file cut short, a broken element) for decoders that report none.
    """
    text = _run_on_file(
        ffmpeg_exe, path, abspath, ["-map", "0:V:0", "-c", "copy", "-f", "null", "-"], timeout
    )
    return log.problem_lines(text.splitlines())


def probe(ffmpeg_exe: str, path: str, abspath: str, timeout: float) -> VideoInfo:
    """What ffmpeg says of the file's first video stream (no frame is decoded).

    Raises :class:`VideoReadError` when ffmpeg cannot open the file or it holds no
    video stream, and :class:`DecoderTimeoutError` after ``timeout`` seconds (the
    probe and anything it started are killed).
    """
    text = _run_on_file(ffmpeg_exe, path, abspath, [], timeout)
    lines = text.splitlines()
    facts = log.parse_header(path, lines)
    if facts.container is None:
        problem = log.problem_lines(
            [line for line in lines if "output file must be specified" not in line]
        )
        raise VideoReadError(path, problem or "ffmpeg does not recognise it as a video")
    if facts.container in TEXT_DEMUXERS:
        # ffmpeg renders text files (*.txt, *.nfo, *.ans, ...) as "ANSI art" video.
        raise VideoReadError(
            path, f"it is a text file, not a video (ffmpeg format {facts.container!r})"
        )
    if facts.video is None:
        if facts.unreadable_video:
            problem = log.problem_lines(lines)
            raise VideoReadError(
                path, f"its video stream cannot be decoded ({problem or facts.unreadable_video})"
            )
        kinds = [kind for kind in ("Audio", "Subtitle", "Data") if f": {kind}:" in text]
        holds = f" (it holds only {', '.join(kinds).lower()} streams)" if kinds else ""
        raise VideoReadError(path, f"no video stream{holds}")
    return facts.video


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
        self.ffmpeg_exe = ffmpeg_exe or bundled_ffmpeg()
        self.probe_timeout = probe_timeout
        self.stall_timeout = stall_timeout
        self.max_frame_pixels = max_frame_pixels

    def open(self, path: str) -> ImageioFfmpegVideoReader:
        """Check and probe ``path``; the returned reader owns every process it starts."""
        abspath = check_local_video_file(path)
        info = probe(self.ffmpeg_exe, path, abspath, self.probe_timeout)
        check_frame_pixels(path, info.width, info.height, self.max_frame_pixels)
        declared = declared_frame_count(abspath, self.probe_timeout)
        return ImageioFfmpegVideoReader(self, path, abspath, replace(info, frame_count=declared))


class ImageioFfmpegVideoReader(RunReader):
    """One opened file. Each call to :meth:`frames` runs one ffmpeg process."""

    def __init__(
        self, source: ImageioFfmpegFrameSource, path: str, abspath: str, info: VideoInfo
    ) -> None:
        super().__init__(path, info)
        self._source = source
        self._abspath = abspath

    def _start(self, selection: FrameSelection) -> _DecodeRun:
        return _DecodeRun(self._source, self._path, self._abspath, self._info, selection)


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
    ) -> None:
        self._path = path
        self._abspath = abspath
        self._info = info
        self._selection = selection
        self._stall_timeout = source.stall_timeout
        self._max_frame_pixels = source.max_frame_pixels
        self._records: collections.deque[tuple[int, int | None]] = collections.deque()
        self._size: tuple[int, int] | None = None
        self._time_base: Fraction | None = None
        self._first_pts: int | None = None
        self.decoded = 0
        self._log: collections.deque[str] = collections.deque(maxlen=200)
        self._stderr_rest = b""
        self._closed = False
        with ffmpeg_input(path, abspath) as (input_argument, inherited):
            self._process = subprocess.Popen(
                self._command(source.ffmpeg_exe, input_argument, selection),
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
        _grow_pipe(self._out)
        self._both = selectors.DefaultSelector()
        self._both.register(self._out, selectors.EVENT_READ)
        self._both.register(self._err, selectors.EVENT_READ)
        self._err_only = selectors.DefaultSelector()
        self._err_only.register(self._err, selectors.EVENT_READ)

    @staticmethod
    def _command(exe: str, input_argument: str, selection: FrameSelection) -> list[str]:
        filters = ["showinfo=checksum=0"]
        if selection.start or selection.step > 1:
            # Unselected frames are dropped inside ffmpeg: never converted nor piped.
            start, step = selection.start, selection.step
            filters.append(f"select='gte(n\\,{start})*not(mod(n-{start}\\,{step}))'")
        command = [exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"]
        command += ["-copyts", "-i", input_argument, "-map", "0:V:0", "-an", "-sn", "-dn"]
        command += ["-vf", ",".join(filters), "-fps_mode", "passthrough"]
        if selection.count is not None:
            command += ["-frames:v", str(selection.count)]
        command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
        return command

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
            if match := log.SHOWINFO_FRAME_BYTES.search(raw):
                index = int(match.group(1))
                pts = None if match.group(2) == b"NOPTS" else int(match.group(2))
                if index == 0:
                    self._first_pts = pts
                self.decoded = index + 1
                if self._selection.contains(index):
                    self._records.append((index, pts))
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
        frame_bytes = width * height * 3
        wanted = self._selection.count
        yielded = 0
        while wanted is None or yielded < wanted:
            image = np.empty((height, width, 3), dtype=np.uint8)
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
            index, pts = self._records.popleft()
            yield Frame(index, self._timestamp(index, pts), image)
            yielded += 1
        else:
            return  # every selected frame was read: stop without reading further
        self._finish(frames_yielded=yielded)

    def _timestamp(self, index: int, pts: int | None) -> float:
        if pts is None or self._first_pts is None or self._time_base is None:
            fps = self._info.fps
            return round(index / fps, 6) if fps else float("nan")
        # int / int is correctly rounded: the same float as Fraction arithmetic, faster.
        ticks = (pts - self._first_pts) * self._time_base.numerator
        return round(ticks / self._time_base.denominator, 6)

    def _finish(self, *, frames_yielded: int, torn: bool = False) -> None:
        """After ffmpeg's output ended: decide between a clean end and an error."""
        self._drain_stderr_until(lambda: False)
        try:
            returncode = self._process.wait(timeout=self._stall_timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise DecoderTimeoutError(self._path, self._stall_timeout, self.decoded) from None
        problems = log.problem_lines(list(self._log))
        expected = self._expected_frames()
        if returncode != 0 or torn:
            cause = problems or f"ffmpeg exited with status {returncode}"
            if frames_yielded == 0 and self.decoded == 0 and expected is None:
                raise VideoReadError(self._path, cause)
            raise VideoDecodeError(
                self._path, cause, frames_read=self.decoded, frames_expected=expected
            )
        if self.decoded == 0 and expected is None:
            detail = f" ({problems})" if problems else ""
            raise VideoReadError(self._path, f"it holds no decodable video frames{detail}")
        if problems or (expected is not None and self.decoded < expected):
            # ffmpeg skips what it cannot demux or decode and still exits 0: a damaged
            # or truncated file would otherwise look like a shorter, healthy one.
            cause = problems or "the video ends before the frames its index declares"
            raise VideoDecodeError(
                self._path, cause, frames_read=self.decoded, frames_expected=expected
            )

    def _expected_frames(self) -> int | None:
        """The frames the file's index says a full read gives (only when it came up short)."""
        declared = self._info.frame_count
        if declared is None or self.decoded >= declared:
            return declared
        return expected_frame_count(self._abspath, declared, self._stall_timeout)

    def _kill(self) -> None:
        """Kill ffmpeg and anything it started (its own process group)."""
        _kill_group(self._process)

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


def _grow_pipe(fd: int, size: int = 1 << 20) -> None:
    """Let a whole frame sit in the pipe (Linux): fewer wake-ups per frame."""
    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_pipe_size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, set_pipe_size, size)
