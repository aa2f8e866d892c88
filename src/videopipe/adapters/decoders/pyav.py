"""Decoder adapter: PyAV, FFmpeg's own libraries in this process (no pipe, no copy).

Frames are decoded by libavcodec and converted to RGB24 by one reused swscale context
(PyAV's ``VideoReformatter``), which honours each frame's colour matrix and range
exactly as the ffmpeg command line does: the pixels equal the ffmpeg pipe's (checked by
the contract suite). Unselected frames are never converted.

Strides and ranges that do not start at 0 take a fast path when the file's packets can
be trusted to map one-to-one onto its frames: one demux pass (no decoding) indexes
every packet's presentation timestamp, so a frame's index is the position of its
timestamp in presentation order; frames nothing needs are skipped inside the decoder
(non-reference frames that are not selected) or not read at all (a seek to the keyframe
before the next selected frame when that is further than ``seek_threshold`` packets
ahead). Every decoded frame's timestamp is checked against the index; any surprise
(and any file whose index cannot be trusted: missing or duplicate timestamps, an edit
list that discards packets, a frame count that is not the packet count, interlaced or
unlisted codecs) falls back to plain sequential decoding from the first frame, which
never yields a frame twice.

Memory: a consumer's ``for frame in reader.frames()`` keeps the previous frame alive
while the next is converted, and glibc's default, self-adjusting thresholds can then
return each freed frame-sized buffer to the system and fault the next one in page by
page (measured: 430 minor page faults and +1.1 ms of CPU per 1280x720 frame, about a
third of the decoding cost). Unless told otherwise (``tune_malloc=False``, or the
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` environment variables), the
first PyAV frame source fixes them at 32 MiB / 128 MiB with ``mallopt``: buffers up to
32 MiB are reused from the heap, and at most 128 MiB of free heap is kept.
"""

from __future__ import annotations

import contextlib
import os
import threading
from array import array
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from videopipe.adapters._malloc import tune_glibc_malloc
from videopipe.adapters.decoders._base import RunReader
from videopipe.adapters.decoders._index import expected_frame_count
from videopipe.adapters.decoders._paths import (
    check_frame_pixels,
    check_local_video_file,
    open_video_file,
)
from videopipe.adapters.decoders.imageio_ffmpeg import (
    DEFAULT_MAX_FRAME_PIXELS,
    TEXT_DEMUXERS,
    bundled_ffmpeg,
    demux_problems,
)
from videopipe.domain.errors import VideoDecodeError, VideoReadError
from videopipe.domain.model import Frame, FrameSelection, RGBImage, VideoInfo

THREAD_TYPES = ("AUTO", "FRAME", "SLICE", "NONE")
"""libavcodec threading modes (``thread_type``): ``AUTO`` is frame and slice threads."""

INDEXED_CODECS = frozenset(
    {
        "h264",
        "hevc",
        "vp9",
        "av1",
        "mpeg1video",
        "mpeg2video",
        "mjpeg",
        "ffv1",
        "prores",
        "dnxhd",
        "rawvideo",
        "png",
    }
)
"""Codecs whose every packet is exactly one displayed frame (progressive streams only).

Others (VP8's hidden alt-ref packets, MPEG-4 part 2's packed B-frames, field-coded
pictures) can hold packets that are no frame or frames that span two packets: they are
always decoded sequentially.
"""

MAX_REORDER = 16
"""Packets may leave decode order by at most this many places (H.264's largest DPB)."""

_SEEK_RETREATS = (0, 1, 3)
"""After a seek lands past its keyframe, aim this many keyframes earlier (in turn)."""
_SEEK_UNKNOWN_PACKETS = 64
"""Packets of unknown timestamp tolerated after a seek before trying an earlier aim."""

_PEEK_PACKETS = 64
"""Packets read at open to decode the first frame (for its rotation)."""

_PROC_FD = "/proc/self/fd"


class _UntrustedIndexError(Exception):
    """The fast path met something its index did not predict: decode sequentially."""


def _first_video_stream(container: Any) -> Any | None:
    attached = av.stream.Disposition.attached_pic
    for stream in container.streams.video:
        if not stream.disposition & attached:
            return stream
    return None


def _describe(exc: BaseException) -> str:
    """An FFmpeg error's message without the internal file name PyAV appends."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).rstrip(".")


def _open_container(path: str, abspath: str, timeout: float) -> Any:
    """``av.open`` on the checked file; a file FFmpeg cannot open is a VideoReadError.

    Where ``/proc/self/fd`` exists, FFmpeg opens the descriptor of the file that was
    checked (no check-to-open race); the descriptor is closed once FFmpeg holds its own.
    """
    if os.path.isdir(_PROC_FD):
        descriptor = open_video_file(path, abspath)
        target = f"file:{_PROC_FD}/{descriptor}"
    else:
        descriptor, target = -1, "file:" + abspath
    try:
        return av.open(target, mode="r", timeout=timeout)
    except av.error.FFmpegError as exc:
        raise VideoReadError(path, _describe(exc)) from exc
    except (OSError, ValueError) as exc:
        raise VideoReadError(path, str(exc) or type(exc).__name__) from exc
    finally:
        if descriptor >= 0:
            os.close(descriptor)


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
    conversion (1: measured fastest next to a multi-threaded decoder on 2 cores);
    ``seek_threshold``: a strided or ranged read seeks to a keyframe only when that
    skips more than this many packets; ``fast_seek=False`` always decodes sequentially.
    ``timeout`` bounds FFmpeg's blocking reads and the bundled ffmpeg's check of
    containers that declare no frame count; a video whose frames have more than
    ``max_frame_pixels`` pixels is refused from its header. ``tune_malloc`` fixes
    glibc's allocation thresholds for frame-sized buffers (see the module docstring).
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

    def open(self, path: str) -> PyAVVideoReader:
        """Check ``path`` and read its header and first frame; no descriptor stays open."""
        abspath = check_local_video_file(path)
        container = _open_container(path, abspath, self.timeout)
        with container:
            info = self._info(path, container)
        return PyAVVideoReader(self, path, abspath, info)

    def _info(self, path: str, container: Any) -> VideoInfo:
        format_name = container.format.name
        if format_name in TEXT_DEMUXERS:
            raise VideoReadError(
                path, f"it is a text file, not a video (ffmpeg format {format_name!r})"
            )
        stream = _first_video_stream(container)
        if stream is None:
            kinds = [
                kind
                for kind, streams in (
                    ("audio", container.streams.audio),
                    ("subtitle", container.streams.subtitles),
                    ("data", container.streams.data),
                )
                if streams
            ]
            holds = f" (it holds only {', '.join(kinds)} streams)" if kinds else ""
            raise VideoReadError(path, f"no video stream{holds}")
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
            frame_count=int(stream.frames) if stream.frames > 0 else None,
            rotation=(90 * steps) % 360,  # counter-clockwise, as ffmpeg prints it
            container=format_name,
            interlaced=int(codec.field_order or 0) >= 2,
        )


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


class PyAVVideoReader(RunReader):
    """One opened file. Each call to :meth:`frames` opens it anew and reads it once.

    ``last_stats`` describes the latest call to :meth:`frames` (:class:`DecodeStats`).
    """

    def __init__(self, source: PyAVFrameSource, path: str, abspath: str, info: VideoInfo) -> None:
        super().__init__(path, info)
        self._source = source
        self._abspath = abspath
        self.last_stats: DecodeStats | None = None

    def _start(self, selection: FrameSelection) -> _DecodeRun:
        run = _DecodeRun(self._source, self._path, self._abspath, self._info, selection)
        self.last_stats = run.stats
        return run


@dataclass(frozen=True)
class PacketIndex:
    """Every packet of the video stream, from one demux pass (nothing decoded).

    ``pts`` in decode order; ``sorted_pts`` is presentation order, so a frame's index is
    the position of its timestamp there; ``index_of_packet[p]`` is the frame index of
    the ``p``-th packet; ``keyframes`` the decode positions of keyframe packets.
    """

    pts: npt.NDArray[np.int64]
    sorted_pts: npt.NDArray[np.int64]
    index_of_packet: npt.NDArray[np.int64]
    packet_of_index: npt.NDArray[np.int64]
    keyframes: npt.NDArray[np.int64]

    @property
    def count(self) -> int:
        """Frames (= packets) in the stream."""
        return len(self.pts)

    def frame_index(self, pts: int | None) -> int | None:
        """The index of the frame with this timestamp, or None if no packet has it."""
        if pts is None:
            return None
        position = int(np.searchsorted(self.sorted_pts, pts))
        if position < self.count and int(self.sorted_pts[position]) == pts:
            return position
        return None

    def is_keyframe(self, position: int) -> bool:
        """Whether the packet at decode ``position`` is a keyframe."""
        slot = int(np.searchsorted(self.keyframes, position))
        return slot < len(self.keyframes) and int(self.keyframes[slot]) == position

    def seek_point(self, index: int) -> int:
        """Decode position of the last keyframe from which frame ``index`` decodes.

        A keyframe before the frame in decode order and not after it in presentation
        order (a frame shown before its keyframe may need the previous group).
        """
        packet = int(self.packet_of_index[index])
        target_pts = int(self.sorted_pts[index])
        last = int(np.searchsorted(self.keyframes, packet, side="right")) - 1
        while last >= 0:
            position = int(self.keyframes[last])
            if int(self.pts[position]) <= target_pts:
                return position
            last -= 1
        return 0


def build_index(  # noqa: PLR0911, PLR0912 - one reason to refuse per check
    container: Any, stream: Any, declared: int | None
) -> PacketIndex | str:
    """Index the stream's packets, or say why they cannot be trusted to be its frames."""
    codec = stream.codec_context
    if codec.name not in INDEXED_CODECS:
        return f"codec {codec.name} is not indexed"
    if int(codec.field_order or 0) >= 2:
        return "interlaced video"
    pts_list = array("q")
    keys = array("q")
    for packet in container.demux(stream):
        if not packet.size:
            continue
        if packet.pts is None:
            return "a packet without a timestamp"
        if packet.is_discard or packet.is_corrupt:
            return "a discarded or damaged packet"
        if packet.is_keyframe:
            keys.append(len(pts_list))
        pts_list.append(packet.pts)
    count = len(pts_list)
    if count == 0:
        return "no packets"
    if declared is not None and declared != count:
        return f"{count} packets where the container declares {declared} frames"
    pts = np.frombuffer(pts_list, dtype=np.int64).copy()
    keyframes = np.frombuffer(keys, dtype=np.int64).copy() if keys else np.zeros(0, np.int64)
    if not len(keyframes) or keyframes[0] != 0:
        return "the first packet is not a keyframe"
    packet_of_index = np.argsort(pts, kind="stable")
    sorted_pts = pts[packet_of_index]
    if count > 1 and bool(np.any(sorted_pts[1:] == sorted_pts[:-1])):
        return "duplicate timestamps"
    if int(sorted_pts[0]) != int(pts[0]):
        return "frames shown before the first keyframe"  # open GOP: may be dropped
    index_of_packet = np.empty(count, dtype=np.int64)
    index_of_packet[packet_of_index] = np.arange(count, dtype=np.int64)
    if int(np.abs(index_of_packet - np.arange(count)).max()) > MAX_REORDER:
        return "timestamps far out of decode order"  # wrapped or jumping timestamps
    return PacketIndex(pts, sorted_pts, index_of_packet, packet_of_index, keyframes)


@dataclass
class _Walk:
    """The fast path's next selected frame (``None``: every selected frame was yielded)."""

    target: int | None


class _DecodeRun:
    """One pass over the file for one selection; owns one container at a time."""

    def __init__(
        self,
        source: PyAVFrameSource,
        path: str,
        abspath: str,
        info: VideoInfo,
        selection: FrameSelection,
    ) -> None:
        self._source = source
        self._path = path
        self._abspath = abspath
        self._info = info
        self._selection = selection
        self._lock = threading.Lock()
        self._container: Any | None = None
        self._closed = False
        self._reformatter = VideoReformatter()
        self._threads = source.conversion_threads
        self._steps = (info.rotation // 90) % 4
        self._pixels = (info.width * info.height) if info.width and info.height else 0
        self._last_yielded = -1
        self.stats = DecodeStats()

    # -- resources ---------------------------------------------------------------------

    def _open(self) -> tuple[Any, Any]:
        """A fresh container and its first video stream, decoder threads configured."""
        self._close_container()
        self._check_open()
        container = _open_container(self._path, self._abspath, self._source.timeout)
        self._container = container
        stream = _first_video_stream(container)
        if stream is None:
            raise VideoReadError(self._path, "no video stream")
        codec = stream.codec_context
        codec.thread_type = self._source.thread_type
        codec.thread_count = self._source.threads
        return container, stream

    def _close_container(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"reader for {self._path!r} is closed")

    def close(self) -> None:
        """Close the container; waits while another thread is inside a decode step."""
        with self._lock:
            self._closed = True
            self._close_container()

    # -- frames ------------------------------------------------------------------------

    def frames(self) -> Iterator[Frame]:
        """The selected frames; each decode step runs under the run's lock."""
        selection = self._selection
        if self._source.fast_seek and (selection.start > 0 or selection.step > 1):
            self.stats.path = "indexed"
            fast = self._fast_frames()
            try:
                yield from self._locked(fast)
                return
            except _UntrustedIndexError as untrusted:
                self.stats.path = "fallback"
                self.stats.untrusted = str(untrusted)
            finally:
                fast.close()
        steps = self._sequential_frames()
        try:
            yield from self._locked(steps)
        finally:
            steps.close()

    def _locked(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        while True:
            with self._lock:
                self._check_open()
                item = next(frames, None)
            if item is None:
                return
            self._last_yielded = item.index
            box = [item]
            del item  # no local name keeps a yielded frame alive while the next is made
            yield box.pop()

    def _convert(self, frame: Any) -> RGBImage:
        """The frame as a C-contiguous RGB24 array, turned upright.

        The rotation is the stream's (read from its first frame when the file was
        opened), as ffmpeg's autorotation applies it to every frame.
        """
        if frame.width * frame.height > self._pixels:
            check_frame_pixels(self._path, frame.width, frame.height, self._source.max_frame_pixels)
        rgb = self._reformatter.reformat(frame, format="rgb24", threads=self._threads)
        image = cast(RGBImage, rgb.to_ndarray())
        if self._steps:
            image = np.rot90(image, k=self._steps)
        if not image.flags.c_contiguous:
            image = np.ascontiguousarray(image)
        self.stats.converted += 1
        return image

    def _timestamp(self, index: int, pts: int | None, first_pts: int | None, base: Any) -> float:
        """Seconds from the first frame: ``(pts - first_pts) * base`` rounded to 1 us.

        ``base`` is the stream's time base, read once per run (PyAV builds a new
        ``Fraction`` on every read).
        """
        if pts is None or first_pts is None or base is None:
            fps = self._info.fps
            return round(index / fps, 6) if fps else float("nan")
        # int / int is correctly rounded: the same float as Fraction arithmetic, faster.
        ticks: int = (pts - first_pts) * int(base.numerator)
        return round(ticks / int(base.denominator), 6)

    # -- sequential --------------------------------------------------------------------

    def _sequential_frames(self) -> Generator[Frame, None, None]:
        """Every frame from the first, counted in output order; selected ones converted."""
        container, stream = self._open()
        codec = stream.codec_context
        selection = self._selection
        skip_through = self._last_yielded
        stats = self.stats
        base = stream.time_base
        first_pts: int | None = None
        decoded = 0
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets, None)
                if packet is None:
                    break
                stats.packets += 1
                decoded_frames = codec.decode(packet)
            except av.error.FFmpegError as exc:
                self._fail(_describe(exc), decoded, exc)
            for frame in decoded_frames:
                index = decoded
                if frame.is_corrupt:
                    self._fail(f"frame {index} is damaged (the decoder concealed errors)", index)
                decoded += 1
                stats.decoded += 1
                if index == 0:
                    first_pts = frame.pts
                if index > skip_through and selection.contains(index):
                    timestamp = self._timestamp(index, frame.pts, first_pts, base)
                    yield Frame(index, timestamp, self._convert(frame))
                if selection.is_past(decoded):
                    return  # every selected frame was read: stop without reading further
        self._close_container()
        self._check_end(decoded)

    def _fail(self, cause: str, decoded: int, exc: BaseException | None = None) -> NoReturn:
        expected = self._expected_frames(decoded)
        if decoded == 0 and expected is None:
            raise VideoReadError(self._path, cause) from exc
        raise VideoDecodeError(
            self._path, cause, frames_read=decoded, frames_expected=expected
        ) from exc

    def _expected_frames(self, decoded: int) -> int | None:
        """The frames the file's index says a full read gives (only when it came up short)."""
        declared = self._info.frame_count
        if declared is None or decoded >= declared:
            return declared
        return expected_frame_count(self._abspath, declared, self._source.timeout)

    def _check_end(self, decoded: int) -> None:
        """After the last frame: a short or damaged read is an error, never a shorter video.

        The count the file's index declares (less what an edit list hides) is the
        reference. A container that declares none (Matroska, MPEG-TS) has its packets
        read once more by the bundled ffmpeg (no decoding), whose error messages reveal
        a file cut short or a damaged element that FFmpeg's libraries skip quietly.
        """
        expected = self._expected_frames(decoded)
        if expected is None:
            problems = self._demux_problems()
            if problems:
                raise VideoDecodeError(self._path, problems, frames_read=decoded)
        elif decoded < expected:
            raise VideoDecodeError(
                self._path,
                "the video ends before the frames its index declares",
                frames_read=decoded,
                frames_expected=expected,
            )
        if decoded == 0:
            raise VideoReadError(self._path, "it holds no decodable video frames")

    def _demux_problems(self) -> str:
        source = self._source
        return demux_problems(source.ffmpeg_exe, self._path, self._abspath, source.timeout)

    # -- the fast path -----------------------------------------------------------------

    def _index(self) -> PacketIndex:
        container, stream = self._open()
        try:
            index = build_index(container, stream, self._info.frame_count)
        except (av.error.FFmpegError, OSError) as exc:
            raise _UntrustedIndexError(f"demuxing failed: {_describe(exc)}") from exc
        finally:
            self._close_container()
        if isinstance(index, str):
            raise _UntrustedIndexError(index)
        return index

    def _fast_frames(self) -> Generator[Frame, None, None]:
        """The selected frames, decoding only what they need; raises on any doubt.

        :class:`_UntrustedIndexError` means: decode sequentially instead.
        """
        index = self._index()
        selection = self._selection
        stop = index.count if selection.stop is None else min(selection.stop, index.count)
        wanted = iter(range(selection.start, stop, selection.step))
        walk = _Walk(next(wanted, None))
        if walk.target is None:
            return  # nothing selected inside the stream: zero frames
        container, stream = self._open()
        codec = stream.codec_context
        first_pts = int(index.sorted_pts[0])
        base = stream.time_base
        try:
            for packet in self._feed(container, stream, index, walk):
                before = walk.target
                for frame in codec.decode(packet):  # None: drain the decoder
                    found = self._check_frame(index, frame, walk.target)
                    if found == walk.target:
                        timestamp = self._timestamp(found, frame.pts, first_pts, base)
                        yield Frame(found, timestamp, self._convert(frame))
                        walk.target = next(wanted, None)
                        if walk.target is None:
                            break
                if packet is None and walk.target == before:
                    raise _UntrustedIndexError(f"frame {before} missing after a drain")
                if packet is not None and not packet.size and walk.target is not None:
                    raise _UntrustedIndexError(f"frame {walk.target} missing at the end")
        except av.error.FFmpegError as exc:
            raise _UntrustedIndexError(f"decoding failed: {_describe(exc)}") from exc
        if selection.stop is None or selection.stop > index.count:
            # The selection reached the end of the stream: check it as a full read would.
            self._close_container()
            if self._info.frame_count is None and self._demux_problems():
                raise _UntrustedIndexError("damaged packets")  # the sequential path says where

    def _check_frame(self, index: PacketIndex, frame: Any, target: int | None) -> int:
        """The index of a decoded frame, checked: never damaged, known, not past the target."""
        self.stats.decoded += 1
        if frame.is_corrupt:
            raise _UntrustedIndexError("a damaged frame")  # the sequential path reports it
        found = index.frame_index(frame.pts)
        if found is None:
            raise _UntrustedIndexError(f"a frame with an unknown timestamp {frame.pts}")
        if target is not None and found > target:
            raise _UntrustedIndexError(f"frame {target} was not decoded (got {found})")
        return found

    def _drain_now(self, index: PacketIndex, target: int, position: int, aimed: int) -> bool:
        """Whether ``target``'s packet was sent and the target after it needs a seek."""
        if position < int(index.packet_of_index[target]):
            return False
        selection = self._selection
        following = target + selection.step
        if following >= index.count or selection.is_past(following):
            return True  # the last target: nothing after it is needed
        keyframe = index.seek_point(following)
        return keyframe > aimed and keyframe - (position + 1) > self._source.seek_threshold

    def _feed(
        self, container: Any, stream: Any, index: PacketIndex, walk: _Walk
    ) -> Iterator[Any | None]:
        """The packets to decode for ``walk.target`` and the targets after it.

        Seeks when the target's keyframe is more than ``seek_threshold`` packets ahead;
        unselected frames are sent with ``skip_frame=NONREF`` (a non-reference frame
        nobody asked for is not decoded). Each packet is checked against the index.
        """
        codec = stream.codec_context
        threshold = self._source.seek_threshold
        position = -1  # decode position of the last packet sent to the decoder
        aimed = -1  # the keyframe the latest seek aimed at
        skipping = False
        packets = container.demux(stream)
        drained = False
        while walk.target is not None:
            if not drained and self._drain_now(index, walk.target, position, aimed):
                # The target's packet is in the decoder and the next target needs a
                # seek: drain now rather than decode packets nobody needs while the
                # decoder's threads hand the target's frame out.
                drained = True
                yield None
                continue
            keyframe = index.seek_point(walk.target)
            if drained or (keyframe > aimed and keyframe - (position + 1) > threshold):
                drained = False
                # A seek may land on an earlier keyframe: never aim at one twice.
                packets, position, packet = self._seek(container, stream, index, keyframe)
                aimed = keyframe
                self.stats.seeks += 1
            else:
                packet = next(packets, None)
                if packet is None:
                    raise _UntrustedIndexError("the demuxer ended before the index did")
                if packet.size:
                    position = self._next_position(index, packet, position)
            if packet.size:
                selected = self._selection.contains(int(index.index_of_packet[position]))
                if selected == skipping:
                    skipping = not selected
                    codec.skip_frame = "NONREF" if skipping else "DEFAULT"
                self.stats.packets += 1
            yield packet

    @staticmethod
    def _next_position(index: PacketIndex, packet: Any, position: int) -> int:
        """The decode position of the packet after ``position``, checked against the index."""
        following = position + 1
        if following >= index.count or int(index.pts[following]) != packet.pts:
            raise _UntrustedIndexError(f"packet {following} is not the one indexed")
        return following

    @staticmethod
    def _seek(
        container: Any, stream: Any, index: PacketIndex, keyframe: int
    ) -> tuple[Any, int, Any]:
        """Seek so that decoding starts at ``keyframe`` or a keyframe before it.

        Demuxers land near, not on, the timestamp asked for (MPEG-TS lands a few packets
        late): packets are read (not decoded) until a keyframe of the index at or before
        ``keyframe``; landing past it aims at an earlier keyframe. Returns the packet
        iterator, the keyframe's decode position and its packet.
        """
        codec = stream.codec_context
        slot = int(np.searchsorted(index.keyframes, keyframe))
        for back in _SEEK_RETREATS:
            aim = int(index.keyframes[max(0, slot - back)])
            container.seek(int(index.pts[aim]), stream=stream, backward=True, any_frame=False)
            codec.flush_buffers()
            packets = container.demux(stream)
            unknown = 0
            for packet in packets:
                if not packet.size:
                    break  # the end of the file
                found = index.frame_index(packet.pts)
                if found is None:
                    unknown += 1
                    if unknown > _SEEK_UNKNOWN_PACKETS:
                        break
                    continue  # a partial packet where the demuxer resynchronised
                position = int(index.packet_of_index[found])
                if position > keyframe:
                    break  # landed past the keyframe: aim earlier
                if packet.is_keyframe and index.is_keyframe(position):
                    return packets, position, packet
        raise _UntrustedIndexError("no seek landed on a keyframe at or before the one aimed at")
