"""An AVI file cut short: its RIFF chunks claim more bytes than the file holds.

FFmpeg's AVI demuxer reads a truncated AVI to where its data stops and reports nothing
(no error, exit status 0), and the count of frames its chunks hold (the declared count
of :mod:`.packets`) is then the count of what is left: every decoder would read a
healthy, shorter video. The file's own layout tells: a RIFF file is a series of
top-level ``RIFF`` chunks (``RIFF AVI``, then ``RIFF AVIX`` chunks in an OpenDML file
over 1 GiB), each giving its size, padded to an even size. A chunk that ends past the
end of the file, or an OpenDML super index (``indx``) naming index chunks past it,
means the file was cut.

The header's frame count (the video stream header's ``dwLength``; else the main
header's ``dwTotalFrames``) counts ticks of the stream's clock, dropped-frame
placeholders included (some complete files declare more than they store): it is
only reported as the frames expected of a file found cut short, never a reason to
fail a complete one.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from videopipe.domain.errors import VideoDecodeError

_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})
"""RIFF sizes a writer that could not seek back leaves: no claim about the length."""

_HEADER_BYTES = 1 << 20
"""The most of the ``hdrl`` list read for the headers (real ones are a few KiB)."""


@dataclass(frozen=True)
class AviLayout:
    """What an AVI file's chunks claim against what it holds (``videopipe probe`` shows it).

    ``claimed_bytes``: where its chunks say the file ends (at least); ``file_bytes``:
    its size; ``header_frames``: the frame count its headers declare (clock ticks).
    """

    file_bytes: int
    claimed_bytes: int
    header_frames: int | None

    @property
    def cut_short(self) -> bool:
        """Whether the chunks claim more bytes than the file holds."""
        return self.claimed_bytes > self.file_bytes


def avi_layout(abspath: str) -> AviLayout | None:
    """The layout of the AVI file at ``abspath``; None if it is not a RIFF AVI or unreadable."""
    try:
        with open(abspath, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
                return None
            claimed = _claimed_end(handle, size)
            frames, index_end = _headers(handle, size)
    except OSError:
        return None
    return AviLayout(size, max(claimed, index_end), frames)


def _claimed_end(handle: BinaryIO, size: int) -> int:
    """Where the top-level RIFF chunks claim the file ends (``size`` if they make no claim)."""
    offset = 0
    while offset < size:
        handle.seek(offset)
        header = handle.read(8)
        if len(header) < 8:
            # A few bytes after the last chunk: the start of a chunk header cut short.
            return offset + 8 if b"RIFF".startswith(header[:4]) else size
        tag, length = header[:4], int.from_bytes(header[4:], "little")
        if tag != b"RIFF" or length in _UNKNOWN_SIZES:
            return size  # data after the RIFF chunks, or a size never written: no claim
        end = offset + 8 + length
        if end > size:
            return end
        offset = end + (length & 1)  # the pad byte of an odd size (may be missing at the end)
    return size


def _chunks(data: bytes, start: int, stop: int) -> Iterator[tuple[bytes, int, int]]:
    """The ``(tag, payload start, payload end)`` of the chunks in ``data[start:stop]``."""
    offset = start
    while offset + 8 <= stop:
        tag = data[offset : offset + 4]
        (length,) = struct.unpack_from("<I", data, offset + 4)
        end = min(offset + 8 + length, stop)
        yield tag, offset + 8, end
        offset = offset + 8 + length + (length & 1)


def _headers(handle: BinaryIO, size: int) -> tuple[int | None, int]:
    """The declared frame count, and the end of the last index an OpenDML super index names."""
    handle.seek(12)
    data = handle.read(_HEADER_BYTES)
    total: int | None = None
    video_length: int | None = None
    index_end = 0
    for tag, start, end in _chunks(data, 0, len(data)):
        if tag != b"LIST" or data[start : start + 4] != b"hdrl":
            continue
        for inner, payload, stop in _chunks(data, start + 4, end):
            if inner == b"avih" and stop - payload >= 20:
                total = struct.unpack_from("<I", data, payload + 16)[0]
            if inner != b"LIST" or data[payload : payload + 4] != b"strl":
                continue
            for part, body, finish in _chunks(data, payload + 4, stop):
                if part == b"strh" and finish - body >= 36 and data[body : body + 4] == b"vids":
                    if video_length is None:
                        video_length = struct.unpack_from("<I", data, body + 32)[0]
                elif part == b"indx":
                    index_end = max(index_end, _super_index_end(data, body, finish))
        break
    frames = video_length or total
    return frames or None, index_end


def _super_index_end(data: bytes, start: int, stop: int) -> int:
    """The end of the last index chunk an OpenDML super index (``indx``) names (0: none)."""
    if stop - start < 24 or data[start + 3] != 0:  # bIndexType 0: AVI_INDEX_OF_INDEXES
        return 0
    longs, in_use = data[start], struct.unpack_from("<I", data, start + 4)[0]
    if longs != 4:
        return 0
    end = 0
    for entry in range(in_use):
        at = start + 24 + 16 * entry
        if at + 16 > stop:
            break
        offset, length = struct.unpack_from("<QI", data, at)
        if offset and length:
            end = max(end, offset + length)
    return end


def check_avi_complete(path: str, abspath: str, frames_read: int) -> None:
    """Raise :class:`VideoDecodeError` if the file is an AVI cut short (after its frames).

    ``frames_expected`` is the header's count when it exceeds ``frames_read``.
    """
    layout = avi_layout(abspath)
    if layout is None or not layout.cut_short:
        return
    declared = layout.header_frames
    raise VideoDecodeError(
        path,
        f"the AVI file is cut short: its chunks claim {layout.claimed_bytes} bytes, "
        f"the file holds {layout.file_bytes}",
        frames_read=frames_read,
        frames_expected=declared if declared is not None and declared > frames_read else None,
    )
