"""FFmpeg's libraries through PyAV: stream choice, expected frame counts, opening a file.

A pipe from ffmpeg and OpenCV both stop quietly where a file ends early; the
container's index (MP4/MOV sample tables; for AVI, the chunks that hold data: see
:mod:`.packets`) says how many frames there should be. Edit lists can hide frames on
purpose (a cut made without re-encoding): those packets are flagged for discard, so
the expected count is the declared count less the discarded packets, which
:func:`expected_frame_count` counts by demuxing (reading packets, not decoding them)
only when a read came up short.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import av
import av.error

from videopipe.adapters.ffmpeg.files import ffmpeg_input
from videopipe.domain.errors import VideoReadError

TIMEOUT = 30.0
"""Seconds libav may block on one read, unless told otherwise."""


def first_video_stream(container: Any) -> Any | None:
    """The container's first video stream that is not an attached picture (cover art)."""
    attached = av.stream.Disposition.attached_pic
    for stream in container.streams.video:
        if not stream.disposition & attached:
            return stream
    return None


def other_stream_kinds(container: Any) -> list[str]:
    """The kinds of the container's non-video streams (for "no video stream" messages)."""
    kinds = (
        ("audio", container.streams.audio),
        ("subtitle", container.streams.subtitles),
        ("data", container.streams.data),
    )
    return [kind for kind, streams in kinds if streams]


def describe_error(exc: BaseException) -> str:
    """An FFmpeg error's message without the internal file name PyAV appends."""
    text = exc.strerror if isinstance(exc, OSError | av.error.FFmpegError) else None
    return str(text or exc or type(exc).__name__).rstrip(".")


def open_container(path: str, abspath: str, timeout: float) -> Any:
    """``av.open`` on the checked file (through its descriptor, see :func:`ffmpeg_input`).

    A file FFmpeg cannot open is a :class:`VideoReadError`.
    """
    with ffmpeg_input(path, abspath) as (url, _):
        try:
            return av.open(url, mode="r", timeout=timeout)
        except av.error.FFmpegError as exc:
            raise VideoReadError(path, describe_error(exc)) from exc
        except (OSError, ValueError) as exc:
            raise VideoReadError(path, str(exc) or type(exc).__name__) from exc


def _count_packets(abspath: str, timeout: float, counted: Callable[[Any], bool]) -> int | None:
    """The first video stream's packets for which ``counted`` holds, counted by demuxing.

    None when the file cannot be opened or holds no video stream; a read that fails
    half-way gives the count so far.
    """
    count: int | None = None
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = first_video_stream(container)
        if stream is None:
            return None
        count = 0
        for packet in container.demux(stream):
            if counted(packet):
                count += 1
    return count


def expected_frame_count(abspath: str, declared: int, timeout: float = TIMEOUT) -> int:
    """``declared`` less the packets an edit list discards (``declared`` if unreadable)."""
    discarded = _count_packets(abspath, timeout, lambda packet: packet.size and packet.is_discard)
    return declared - (discarded or 0)


def expected_frames(
    abspath: str, declared: int | None, decoded: int, timeout: float = TIMEOUT
) -> int | None:
    """The frames a full read gives by the file's index (edit lists counted only if short)."""
    if declared is None or decoded >= declared:
        return declared
    return expected_frame_count(abspath, declared, timeout)


def count_video_packets(abspath: str, timeout: float = TIMEOUT) -> int | None:
    """The packets of the first video stream, counted by demuxing (None if unreadable)."""
    return _count_packets(abspath, timeout, lambda packet: packet.size > 0) or None


def first_frame_rgb(abspath: str, timeout: float = TIMEOUT) -> Any | None:
    """The first video frame as PyAV decodes it (RGB uint8 array), or None."""
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = first_video_stream(container)
        if stream is None:
            return None
        for frame in container.decode(stream):
            return frame.to_ndarray(format="rgb24")
    return None
