"""How many frames a file's own index declares, read with PyAV (no frame is decoded).

A pipe from ffmpeg and OpenCV both stop quietly where a file ends early; the
container's index (MP4/MOV sample tables, AVI headers) says how many frames there
should be. Edit lists can hide frames on purpose (a cut made without re-encoding):
those packets are flagged for discard, so the expected count is the declared count
less the discarded packets, which :func:`expected_frame_count` counts by demuxing
(reading packets, not decoding them) only when a read came up short.
"""

from __future__ import annotations

import contextlib
from typing import Any

import av

_TIMEOUT = 30.0


def _first_video_stream(container: Any) -> Any | None:
    attached = av.stream.Disposition.attached_pic
    for stream in container.streams.video:
        if not stream.disposition & attached:
            return stream
    return None


def declared_frame_count(abspath: str, timeout: float = _TIMEOUT) -> int | None:
    """The frame count the container declares for its first video stream, if any."""
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = _first_video_stream(container)
        if stream is not None and stream.frames > 0:
            return int(stream.frames)
    return None


def expected_frame_count(abspath: str, declared: int, timeout: float = _TIMEOUT) -> int:
    """``declared`` less the packets an edit list discards (``declared`` if unreadable)."""
    discarded = 0
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = _first_video_stream(container)
        if stream is None:
            return declared
        for packet in container.demux(stream):
            if packet.size and packet.is_discard:
                discarded += 1
    return declared - discarded


def first_frame_rgb(abspath: str, timeout: float = _TIMEOUT) -> Any | None:
    """The first video frame as PyAV decodes it (RGB uint8 array), or None."""
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = _first_video_stream(container)
        if stream is None:
            return None
        for frame in container.decode(stream):
            return frame.to_ndarray(format="rgb24")
    return None
